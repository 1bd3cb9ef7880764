"use strict";
const assert = require("assert");
const { helper, NODES, useNodeRedServer } = require("../helpers/nodes");
const { feed, printReport, assertClean, observers, withCatalogue, watchProcess, heapBeforeFuzzing, settledHeap, sleep } = require("../helpers/fuzz");

const COUNT = 3000;

function flow() {
  return [
    { id: "f1", type: "tab", label: "fuzz" },
    { id: "layer", z: "f1", type: "rnn-layer", hiddenSize: 6, activation: "tanh", projection: true, outputSize: 1, outputActivation: "linear", init: "orthogonal", seed: 3, stateful: true, wires: [["out"]] },
    { id: "out", z: "f1", type: "helper", wires: [] },
    ...observers("layer"),
  ];
}

/** One message for the layer (built for one input feature by the first message). */
function make(fz) {
  const topic = fz.topic(["reset"]);
  const r = fz.int(100);
  if (r < 25) {
    // Valid: a flat list, T×1 or B×T×1 of finite numbers.
    const T = 1 + fz.int(12);
    const shape = fz.int(3);
    const payload = shape === 0 ? Array.from({ length: T }, () => fz.normal()) : shape === 1 ? fz.batch(1, T, 1)[0] : fz.batch(1 + fz.int(4), T, 1);
    return { msg: { topic, payload }, expect: "ok" };
  }
  if (r < 30) return { msg: { topic, payload: fz.batch(2, 3, 2) }, expect: topic === "reset" ? "ok" : "error", note: "two features for a one-feature layer" };
  if (r < 35) return { msg: { topic }, expect: topic === "reset" ? "ok" : "error", note: "no payload" };
  if (r < 40) return { msg: { topic, payload: fz.batch(2, 4, 1), rnn: fz.forgedRun(["layer", "out", "catch"]) }, expect: "ok", note: "forged msg.rnn" };
  if (r < 45) return { msg: { topic, payload: fz.anyJunk(), rnn: fz.forgedRun(["layer"]) }, expect: topic === "reset" ? "either" : "error", note: "forged msg.rnn, junk payload" };
  if (r < 48) return { msg: { topic, payload: fz.batch(1, 3, 1), rnn: fz.badRun() }, expect: "ok", note: "msg.rnn of another kind" };
  if (r < 51) return { msg: JSON.parse(`{"payload": [1, 2, 3], "__proto__": {"topic": "reset", "rnn": {"phase": "train"}}}`), expect: "ok", note: "own __proto__ key" };
  if (r < 54) return { msg: { topic, payload: ["1", "2", "3"] }, expect: topic === "reset" ? "ok" : "error", note: "numbers as strings" };
  if (r < 70) return { msg: { topic, payload: fz.ragged() }, expect: "either", note: "ragged" };
  return { msg: { topic, payload: fz.anyJunk() }, expect: topic === "reset" ? "ok" : "error" };
}

describe("fuzz: rnn layer", function () {
  this.timeout(60000);
  useNodeRedServer({ userDir: true });

  it("ends every malformed message with done() or a clear error, never throws, stays bounded, and computes the same outputs afterwards", async function () {
    const watch = watchProcess();
    let report;
    const probe = [[[0.1], [0.5], [-0.3], [0.9]], [[1.2], [-1], [0], [0.25]]];
    try {
      await helper.load(withCatalogue(NODES), flow());
      const layer = helper.getNode("layer");
      const outputs = [];
      helper.getNode("out").on("input", (m) => {
        if (m.topic === "probe-before" || m.topic === "probe-after") outputs.push(m.payload);
      });
      layer.receive({ topic: "probe-before", payload: probe });
      await sleep(20);
      const heapBefore = heapBeforeFuzzing(helper);

      report = await feed(helper, {
        target: "layer",
        count: COUNT,
        seed: 11,
        make,
        huge: (h) => ({ msg: { topic: "huge", payload: h.value }, expect: h.name === "2,000,000 numbers" ? "ok" : "error" }),
      });

      const heapAfter = settledHeap(helper);
      // A topic never used before starts from h = 0, exactly as the probe did before the fuzzing.
      layer.receive({ topic: "probe-after", payload: probe });
      await sleep(20);
      printReport("rnn-layer", report, watch.problems, heapBefore, heapAfter);
      assertClean(assert, report, watch.problems);
      assert.ok(report.tried >= COUNT);
      assert.ok(heapAfter.mb - heapBefore.mb < 64, `heap grew by ${(heapAfter.mb - heapBefore.mb).toFixed(1)} MB`);
      assert.strictEqual(outputs.length, 2);
      assert.deepStrictEqual(outputs[1], outputs[0], "the layer's outputs for a fixed input are unchanged by the fuzzing");
    } finally {
      watch.stop();
    }
  });
});
