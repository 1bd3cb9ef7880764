"use strict";
const assert = require("assert");
const { helper, NODES, useNodeRedServer } = require("../helpers/nodes");
const { feed, printReport, assertClean, observers, withCatalogue, watchProcess, heapBeforeFuzzing, settledHeap, sleep } = require("../helpers/fuzz");

const COUNT = 3000;

function flow() {
  return [
    { id: "f1", type: "tab", label: "fuzz" },
    { id: "loss", z: "f1", type: "rnn-loss", loss: "huber", delta: 1, wires: [["out"]] },
    { id: "out", z: "f1", type: "helper", wires: [] },
    ...observers("loss"),
  ];
}

/** Targets shaped like `payload`, some entries null (no loss there). */
function targetsFor(fz, payload) {
  return payload.map((seq) => seq.map((step) => (fz.chance(0.2) ? null : step.map(() => fz.normal()))));
}

function make(fz) {
  const topic = fz.topic([]);
  const r = fz.int(100);
  if (r < 25) {
    const O = 1 + fz.int(3);
    const payload = fz.batch(1 + fz.int(4), 1 + fz.int(6), O);
    return { msg: { topic, payload, target: targetsFor(fz, payload) }, expect: "ok" };
  }
  if (r < 30) {
    // A flat list of outputs with a flat list of targets (one output value per step).
    const T = 1 + fz.int(8);
    return { msg: { topic, payload: Array.from({ length: T }, () => fz.normal()), target: Array.from({ length: T }, () => (fz.chance(0.2) ? null : fz.normal())) }, expect: "ok" };
  }
  if (r < 35) {
    const payload = fz.batch(2, 3, 1);
    return { msg: { topic, payload, target: targetsFor(fz, payload), rnn: fz.forgedRun(["loss", "out", "no-layer"]) }, expect: "ok", note: "forged msg.rnn" };
  }
  if (r < 40) return { msg: { topic, target: fz.batch(1, 2, 1) }, expect: "error", note: "no payload" };
  if (r < 45) return { msg: { topic, payload: fz.batch(1, 2, 1) }, expect: "error", note: "no target" };
  if (r < 52) return { msg: { topic, payload: fz.batch(2, 3, 1), target: fz.batch(2, 4, 1) }, expect: "error", note: "target of another length" };
  if (r < 56) return { msg: { topic, payload: fz.batch(1, 3, 2), target: fz.batch(1, 3, 3) }, expect: "error", note: "target of another width" };
  if (r < 62) return { msg: { topic, payload: [0.5, 0.25], target: fz.anyJunk() }, expect: "either", note: "junk target for a flat payload (holes count as no target)" };
  if (r < 68) return { msg: { topic, payload: fz.batch(1, 2, 1), target: fz.anyJunk() }, expect: "either", note: "junk target" };
  if (r < 72) return { msg: { topic, payload: fz.ragged(), target: fz.ragged() }, expect: "either", note: "ragged" };
  if (r < 75) return { msg: JSON.parse('{"payload": [[[1]]], "target": [[[2]]], "__proto__": {"rnn": {"phase": "train"}}}'), expect: "ok", note: "own __proto__ key" };
  if (r < 78) return { msg: { topic, payload: [["1"], ["2"]], target: [[1], [2]] }, expect: "error", note: "numbers as strings" };
  return { msg: { topic, payload: fz.anyJunk(), target: fz.anyJunk() }, expect: "error" };
}

describe("fuzz: rnn loss", function () {
  this.timeout(60000);
  useNodeRedServer({ userDir: true });

  it("ends every malformed message with done() or a clear error, never throws, stays bounded, and computes the same loss afterwards", async function () {
    const watch = watchProcess();
    const probe = { payload: [[[0.5], [1.5]], [[-2], [0.1]]], target: [[[0], [2]], [[1], null]] };
    // Huber with delta 1 over the three targeted entries: |0.5| → 0.125, |−0.5| → 0.125, |−3| → 2.5.
    const expected = (0.125 + 0.125 + 2.5) / 3;
    try {
      await helper.load(withCatalogue(NODES), flow());
      const loss = helper.getNode("loss");
      const probes = [];
      helper.getNode("out").on("input", (m) => {
        if (m.topic === "probe") probes.push(m.loss);
      });
      loss.receive({ topic: "probe", ...JSON.parse(JSON.stringify(probe)) });
      await sleep(20);
      const heapBefore = heapBeforeFuzzing(helper);
      const report = await feed(helper, {
        target: "loss",
        count: COUNT,
        seed: 12,
        make,
        // The huge payloads compared with themselves: the numeric ones are valid (loss 0).
        huge: (h) => ({ msg: { payload: h.value, target: h.value }, expect: h.name === "2,000,000 numbers" || h.name === "1000×1000×3 nested" ? "ok" : "error" }),
      });
      const heapAfter = settledHeap(helper);
      loss.receive({ topic: "probe", ...JSON.parse(JSON.stringify(probe)) });
      await sleep(20);
      printReport("rnn-loss", report, watch.problems, heapBefore, heapAfter);
      assertClean(assert, report, watch.problems);
      assert.ok(report.tried >= COUNT);
      assert.ok(heapAfter.mb - heapBefore.mb < 64, `heap grew by ${(heapAfter.mb - heapBefore.mb).toFixed(1)} MB`);
      assert.strictEqual(probes.length, 2);
      assert.ok(Math.abs(probes[0] - expected) < 1e-12, `Huber loss ${probes[0]}, expected ${expected}`);
      assert.strictEqual(probes[1], probes[0], "the same loss for the same input after the fuzzing");
    } finally {
      watch.stop();
    }
  });
});
