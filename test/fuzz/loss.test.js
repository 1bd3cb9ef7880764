"use strict";
const assert = require("assert");
const { helper, NODES, useNodeRedServer } = require("../helpers/nodes");
const { defaultMaxValues } = require("../../dist/nodes/shared/messageBudget");
const { feed, printReport, assertClean, observers, withCatalogue, watchProcess, heapBeforeFuzzing, settledHeap, sleep, KNOWN_BUGS } = require("../helpers/fuzz");

const COUNT = 3000;
const LOSS = { type: "rnn-loss", loss: "huber", delta: 1 };

function flow() {
  return [
    { id: "f1", type: "tab", label: "fuzz" },
    { id: "loss", z: "f1", ...LOSS, wires: [["out"]] },
    // A twin that only ever sees the probes: what the fuzzed node must agree with afterwards.
    { id: "twin", z: "f1", ...LOSS, wires: [["twinOut"]] },
    { id: "out", z: "f1", type: "helper", wires: [] },
    { id: "twinOut", z: "f1", type: "helper", wires: [] },
    ...observers("loss"),
  ];
}

/** Targets shaped like `payload`, some entries null (no loss there). */
function targetsFor(fz, payload) {
  return payload.map((seq) => seq.map((step) => (fz.chance(0.2) ? null : step.map(() => fz.normal()))));
}

/**
 * Messages for the loss node. Run records are forged by the contract's rules: the node takes a
 * well-formed record that has passed a layer (one entry at least) and has no loss yet, and sets its
 * loss; every other msg.rnn is refused, whatever payload and target come with it. `passed` collects,
 * per tag, what a record the node takes must come out as.
 */
function maker(passed) {
  let tag = 0;
  const record = (fz, payload, target, topic) => {
    const forged = fz.runRecord({ layerIds: ["layer1", "layer2"], ids: ["loss", "twin", "out", "seq"], loss: 0.3 });
    const takes = forged.wellFormed && forged.rnn.loss === null && forged.rnn.layers.length > 0;
    const why = !forged.wellFormed ? /is not a run record/ : forged.rnn.loss !== null ? /already passed an rnn loss node/ : forged.rnn.layers.length === 0 ? /passed no rnn layer/ : null;
    const msg = { topic, payload, target, rnn: forged.rnn, tag: ++tag };
    if (takes) passed.set(msg.tag, { rnn: forged.rnn, layers: forged.rnn.layers, payload, target });
    return { msg, expect: takes ? "ok" : "error", note: forged.note, why };
  };
  return function make(fz) {
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
    // Run records: the payload and target beside them are not measured, whatever they are.
    if (r < 38) {
      const payload = fz.batch(2, 3, 1);
      return record(fz, payload, targetsFor(fz, payload), topic);
    }
    if (r < 42) return record(fz, fz.anyJunk(), fz.anyJunk(), topic);
    if (r < 44) return record(fz, undefined, undefined, topic);
    if (r < 47) return { msg: { topic, payload: fz.batch(2, 3, 1), target: fz.batch(2, 3, 1), rnn: fz.badRun() }, expect: "error", note: "msg.rnn of another kind", why: /is not a run record/ };
    if (r < 50) return { msg: { topic, target: fz.batch(1, 2, 1) }, expect: "error", note: "no payload" };
    if (r < 53) return { msg: { topic, payload: fz.batch(1, 2, 1) }, expect: "error", note: "no target" };
    if (r < 58) return { msg: { topic, payload: fz.batch(2, 3, 1), target: fz.batch(2, 4, 1) }, expect: "error", note: "target of another length" };
    if (r < 61) return { msg: { topic, payload: fz.batch(1, 3, 2), target: fz.batch(1, 3, 3) }, expect: "error", note: "target of another width" };
    if (r < 66) return { msg: { topic, payload: [0.5, 0.25], target: fz.anyJunk() }, expect: "either", note: "junk target for a flat payload (holes count as no target)" };
    if (r < 71) return { msg: { topic, payload: fz.batch(1, 2, 1), target: fz.anyJunk() }, expect: "either", note: "junk target" };
    if (r < 74) return { msg: { topic, payload: fz.ragged(), target: fz.ragged() }, expect: "either", note: "ragged" };
    if (r < 76) return { msg: JSON.parse('{"payload": [[[1]]], "target": [[[2]]], "__proto__": {"rnn": {"run": "x", "source": "s", "layers": [{"id": "l", "name": "", "settings": {}}], "loss": null}}}'), expect: "ok", note: "own __proto__ key" };
    if (r < 78) return { msg: { topic, payload: [["1"], ["2"]], target: [[1], [2]] }, expect: "error", note: "numbers as strings" };
    return { msg: { topic, payload: fz.anyJunk(), target: fz.anyJunk() }, expect: "error" };
  };
}

/** The huge values: compared with themselves, and as a run message's layers or one layer's settings. */
function huge(h, fz) {
  const k = fz.int(3);
  // The numeric ones are valid (loss 0) when their numbers, payload and target, are within the
  // limit of one message, which is set from this process's heap; else refused as too large.
  if (k === 0) {
    const numbers = { "2,000,000 numbers": 2 * 2_000_000, "1000×1000×3 nested": 2 * 3_000_000 }[h.name];
    if (numbers === undefined) return { msg: { payload: h.value, target: h.value }, expect: "error" };
    const within = numbers <= defaultMaxValues();
    return { msg: { payload: h.value, target: h.value }, expect: within ? "ok" : "error", why: within ? undefined : /carries \d+ numbers/ };
  }
  if (k === 1) return { msg: { rnn: { run: "r", source: "s", layers: h.value, loss: null } }, expect: "error" };
  // A layer's settings are flat (docs/nodes.md): none of the huge values is, so each is refused.
  return { msg: { rnn: { run: "r", source: "s", layers: [{ id: "layer1", name: "", settings: h.value }], loss: null } }, expect: "error" };
}

describe("fuzz: rnn loss", function () {
  this.timeout(60000);
  useNodeRedServer({ userDir: true });

  it("ends every malformed message or forged run record with done() or a clear error, never throws, stays bounded, sets its loss on every record it takes, and computes what an untouched twin computes afterwards", async function () {
    const watch = watchProcess();
    const probe = { payload: [[[0.5], [1.5]], [[-2], [0.1]]], target: [[[0], [2]], [[1], null]] };
    // Huber with delta 1 over the three targeted entries: |0.5| → 0.125, |−0.5| → 0.125, |−3| → 2.5.
    const expected = (0.125 + 0.125 + 2.5) / 3;
    try {
      await helper.load(withCatalogue(NODES), flow());
      const loss = helper.getNode("loss");
      const twin = helper.getNode("twin");
      const probes = { loss: [], twin: [] };
      const passed = new Map();
      const came = new Map();
      helper.getNode("out").on("input", (m) => {
        if (typeof m.topic === "string" && m.topic.startsWith("probe")) probes.loss.push(m);
        else if (typeof m.tag === "number" && passed.has(m.tag)) came.set(m.tag, (came.get(m.tag) || []).concat([m]));
      });
      helper.getNode("twinOut").on("input", (m) => probes.twin.push(m));
      loss.receive({ topic: "probe-before", ...JSON.parse(JSON.stringify(probe)) });
      await sleep(20);
      const heapBefore = heapBeforeFuzzing(helper);
      const report = await feed(helper, { target: "loss", count: COUNT, seed: 12, make: maker(passed), huge });
      const heapAfter = settledHeap(helper);
      // Every record taken came out once with this node's loss, nothing else changed.
      const wrongRecords = [];
      for (const [tag, sent] of passed) {
        const got = came.get(tag) || [];
        const out = got[0] && got[0].rnn;
        const problem =
          got.length !== 1 ? `came out ${got.length} times` :
          sent.rnn.loss !== null ? "the record sent in was changed" :
          out.run !== sent.rnn.run || out.source !== sent.rnn.source || out.layers !== sent.layers ? "run, source or layers changed" :
          !(out.loss && out.loss.id === "loss" && out.loss.loss === "huber" && out.loss.delta === 1 && Object.keys(out.loss).length === 3) ? `set the loss ${JSON.stringify(out.loss)}` :
          !Object.is(got[0].payload, sent.payload) || !Object.is(got[0].target, sent.target) ? "the payload or target was changed" :
          got[0].loss !== undefined || got[0].metrics !== undefined ? "a run message was measured" : null;
        if (problem) wrongRecords.push(`tag ${tag}: ${problem}`);
      }
      for (const node of [loss, twin]) {
        node.receive({ topic: "probe-after", ...JSON.parse(JSON.stringify(probe)) });
        node.receive({ topic: "probe-record", rnn: { run: "probe", source: "seq", layers: [{ id: "layer1", name: "", settings: { hiddenSize: 2 } }], loss: null } });
      }
      await sleep(50);
      printReport("rnn-loss", report, watch.problems, heapBefore, heapAfter);
      console.log(`      rnn-loss: ${passed.size} forged records taken and passed on, each checked`);
      assertClean(assert, report, watch.problems);
      assert.ok(report.tried >= COUNT);
      assert.ok(heapAfter.mb - heapBefore.mb < 64, `heap grew by ${(heapAfter.mb - heapBefore.mb).toFixed(1)} MB`);
      assert.deepStrictEqual(wrongRecords.slice(0, 10), [], "every record taken comes out once, with this node's loss and nothing else changed");
      // Enough of them pass the record checks (flat settings, own fields…) for this to test something.
      assert.ok(passed.size > 60, `only ${passed.size} forged records were well-formed enough to be taken`);
      assert.deepStrictEqual(probes.loss.map((m) => m.topic), ["probe-before", "probe-after", "probe-record"]);
      assert.ok(Math.abs(probes.loss[0].loss - expected) < 1e-12, `Huber loss ${probes.loss[0].loss}, expected ${expected}`);
      assert.strictEqual(probes.loss[1].loss, probes.loss[0].loss, "the same loss for the same input after the fuzzing");
      assert.deepStrictEqual(probes.loss[1].metrics, probes.loss[0].metrics, "the same metrics for the same input after the fuzzing");
      const view = (m) => ({ topic: m.topic, payload: m.payload, target: m.target, loss: m.loss, metrics: m.metrics, rnn: m.rnn && { ...m.rnn, loss: { ...m.rnn.loss, id: "loss" } } });
      assert.deepStrictEqual(probes.loss.slice(1).map(view), probes.twin.map(view), "the same loss, metrics and chain entry as the untouched twin, bit for bit");
    } finally {
      watch.stop();
    }
  });
});
