"use strict";
const assert = require("assert");
const { isDeepStrictEqual } = require("util");
const { helper, NODES, useNodeRedServer } = require("../helpers/nodes");
const { defaultMaxValues } = require("../../dist/nodes/shared/messageBudget");
const { feed, printReport, assertClean, observers, withCatalogue, watchProcess, heapBeforeFuzzing, settledHeap, sleep, KNOWN_BUGS } = require("../helpers/fuzz");

const COUNT = 3000;
const LAYER = { type: "rnn-layer", hiddenSize: 6, activation: "tanh", projection: true, outputSize: 1, outputActivation: "linear", init: "orthogonal", seed: 3, stateful: true };
/** What the layer adds to a run message's chain description: its settings as deployed. */
const SETTINGS = { hiddenSize: 6, activation: "tanh", projection: true, init: "orthogonal", seed: 3, outputSize: 1, outputActivation: "linear" };

function flow() {
  return [
    { id: "f1", type: "tab", label: "fuzz" },
    { id: "layer", z: "f1", ...LAYER, wires: [["out"]] },
    // A twin that only ever sees the probes: what the fuzzed node must agree with afterwards.
    { id: "twin", z: "f1", ...LAYER, wires: [["twinOut"]] },
    { id: "out", z: "f1", type: "helper", wires: [] },
    { id: "twinOut", z: "f1", type: "helper", wires: [] },
    ...observers("layer"),
  ];
}

/**
 * Messages for the layer (built for one input feature by the first message). Run records are
 * forged by the contract's rules: the layer takes a well-formed record without a loss that it is
 * not already in, and appends itself; every other msg.rnn is refused, whatever the payload.
 * `passed` collects, per tag, what a record the layer takes must come out as.
 */
function maker(passed) {
  let tag = 0;
  const record = (fz, payload, topic) => {
    const forged = fz.runRecord({ layerIds: ["twin", "layer1", "layer2"], ids: ["out", "fuzz-catch", "seq", "loss"], loss: 0.3 });
    // Now and then a record that has passed this very layer already (a loop in the wires).
    if (fz.chance(0.1) && forged.wellFormed && forged.rnn.layers.length < 64) forged.rnn.layers.splice(fz.int(forged.rnn.layers.length + 1), 0, { id: "layer", name: "", settings: { ...SETTINGS } });
    const looped = forged.wellFormed && forged.rnn.layers.some((l) => l.id === "layer");
    const takes = forged.wellFormed && forged.rnn.loss === null && !looped;
    const why = !forged.wellFormed ? /is not a run record/ : forged.rnn.loss !== null ? /already passed an rnn loss node/ : looped ? /passed this rnn layer twice/ : null;
    const msg = { topic, payload, rnn: forged.rnn, tag: ++tag };
    if (takes) passed.set(msg.tag, { rnn: forged.rnn, layers: forged.rnn.layers.slice(), payload });
    return { msg, expect: takes ? "ok" : "error", note: forged.note + (looped ? " (passed this layer before)" : ""), why };
  };
  return function make(fz) {
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
    if (r < 33) return { msg: { topic }, expect: topic === "reset" ? "ok" : "error", note: "no payload" };
    // Run records: the payload beside them is never run forward, whatever it is.
    if (r < 43) return record(fz, fz.batch(2, 4, 1), topic);
    if (r < 48) return record(fz, fz.anyJunk(), topic);
    if (r < 50) return record(fz, undefined, topic);
    if (r < 53) return { msg: { topic, payload: fz.batch(1, 3, 1), rnn: fz.badRun() }, expect: "error", note: "msg.rnn of another kind", why: /is not a run record/ };
    if (r < 55) return { msg: JSON.parse(`{"payload": [1, 2, 3], "__proto__": {"topic": "reset", "rnn": {"run": "x", "source": "s", "layers": [], "loss": null}}}`), expect: "ok", note: "own __proto__ key" };
    if (r < 58) return { msg: { topic, payload: ["1", "2", "3"] }, expect: topic === "reset" ? "ok" : "error", note: "numbers as strings" };
    if (r < 72) return { msg: { topic, payload: fz.ragged() }, expect: "either", note: "ragged" };
    return { msg: { topic, payload: fz.anyJunk() }, expect: topic === "reset" ? "ok" : "error" };
  };
}

/** The huge values: as the payload, as a run message's layers, and as one layer's settings. */
function huge(h, fz) {
  const k = fz.int(3);
  if (k === 0) {
    // 2,000,000 numbers in and as many outputs: worked on when within the limit of one message
    // (set from this process's heap), else refused as too large; the others are not batches.
    if (h.name !== "2,000,000 numbers") return { msg: { topic: "huge", payload: h.value }, expect: "error" };
    const within = 2 * 2_000_000 <= defaultMaxValues();
    return { msg: { topic: "huge", payload: h.value }, expect: within ? "ok" : "error", why: within ? undefined : /carries \d+ numbers/ };
  }
  if (k === 1) return { msg: { topic: "huge", rnn: { run: "r", source: "s", layers: h.value, loss: null } }, expect: "error" };
  // A layer's settings are flat (docs/nodes.md): none of the huge values is, so each is refused
  // before the record can go on (nested ones once overflowed Node-RED's copy for Complete nodes).
  return { msg: { topic: "huge", rnn: { run: "r", source: "s", layers: [{ id: "layer1", name: "", settings: h.value }], loss: null } }, expect: "error" };
}

describe("fuzz: rnn layer", function () {
  this.timeout(60000);
  useNodeRedServer({ userDir: true });

  it("ends every malformed message or forged run record with done() or a clear error, never throws, stays bounded, appends itself to every record it takes, and computes what an untouched twin computes afterwards", async function () {
    const watch = watchProcess();
    let report;
    const probe = [[[0.1], [0.5], [-0.3], [0.9]], [[1.2], [-1], [0], [0.25]]];
    try {
      await helper.load(withCatalogue(NODES), flow());
      const layer = helper.getNode("layer");
      const twin = helper.getNode("twin");
      const outputs = { layer: [], twin: [] };
      const passed = new Map();
      const came = new Map();
      helper.getNode("out").on("input", (m) => {
        if (typeof m.topic === "string" && m.topic.startsWith("probe")) outputs.layer.push(m);
        else if (typeof m.tag === "number" && passed.has(m.tag)) came.set(m.tag, (came.get(m.tag) || []).concat([m]));
      });
      helper.getNode("twinOut").on("input", (m) => outputs.twin.push(m));
      layer.receive({ topic: "probe-before", payload: probe });
      twin.receive({ topic: "probe-before", payload: probe });
      await sleep(20);
      const heapBefore = heapBeforeFuzzing(helper);

      report = await feed(helper, { target: "layer", count: COUNT, seed: 11, make: maker(passed), huge });

      const heapAfter = settledHeap(helper);
      // Every record the layer took came out once, the chain description one entry longer (the
      // entries before untouched, the record sent in unchanged), the payload passed on as it was.
      const wrongRecords = [];
      for (const [tag, sent] of passed) {
        const got = came.get(tag) || [];
        const out = got[0] && got[0].rnn;
        const problem =
          got.length !== 1 ? `came out ${got.length} times` :
          sent.rnn.layers.length !== sent.layers.length || sent.rnn.layers.some((l, i) => l !== sent.layers[i]) ? "the record sent in was changed" :
          out.run !== sent.rnn.run || out.source !== sent.rnn.source || out.loss !== null ? "run, source or loss changed" :
          out.layers.length !== sent.layers.length + 1 || sent.layers.some((l, i) => out.layers[i] !== l) ? "the entries before were changed" :
          !isDeepStrictEqual(out.layers[out.layers.length - 1], { id: "layer", name: "", settings: SETTINGS }) ? `appended ${JSON.stringify(out.layers[out.layers.length - 1])}` :
          !Object.is(got[0].payload, sent.payload) ? "the payload was changed" : null;
        if (problem) wrongRecords.push(`tag ${tag}: ${problem}`);
      }
      // A topic never used before starts from h = 0, exactly as the probe did before the fuzzing;
      // a topic used twice carries its state the same way in both.
      for (const node of [layer, twin]) {
        node.receive({ topic: "probe-after", payload: probe });
        node.receive({ topic: "probe-state", payload: probe });
        node.receive({ topic: "probe-state", payload: probe });
        node.receive({ topic: "probe-record", rnn: { run: "probe", source: "seq", layers: [{ id: "layer1", name: "first", settings: { hiddenSize: 2 } }], loss: null } });
      }
      await sleep(50);
      printReport("rnn-layer", report, watch.problems, heapBefore, heapAfter);
      console.log(`      rnn-layer: ${passed.size} forged records taken and passed on, each checked`);
      assertClean(assert, report, watch.problems);
      assert.ok(report.tried >= COUNT);
      assert.ok(heapAfter.mb - heapBefore.mb < 64, `heap grew by ${(heapAfter.mb - heapBefore.mb).toFixed(1)} MB`);
      assert.deepStrictEqual(wrongRecords.slice(0, 10), [], "every record taken comes out once, with the layer appended and nothing else changed");
      // Enough of them pass the record checks (flat settings, own fields…) for this to test something.
      assert.ok(passed.size > 60, `only ${passed.size} forged records were well-formed enough to be taken`);
      const view = (list) => list.map((m) => ({ topic: m.topic, payload: m.payload, rnn: m.rnn && { ...m.rnn, layers: m.rnn.layers.map((l) => ({ ...l, id: l.id === "twin" ? "layer" : l.id })) } }));
      assert.deepStrictEqual(outputs.layer.map((m) => m.topic), ["probe-before", "probe-after", "probe-state", "probe-state", "probe-record"]);
      assert.deepStrictEqual(outputs.layer[1].payload, outputs.layer[0].payload, "the layer's outputs for a fixed input are unchanged by the fuzzing");
      assert.deepStrictEqual(view(outputs.layer), view(outputs.twin), "the same outputs, states and chain entry as the untouched twin, bit for bit");
      const weights = (node) => node.rnnApi.getLayer().list().map((w) => Array.from(w));
      assert.deepStrictEqual(weights(layer), weights(twin), "the same weights as the untouched twin");
    } finally {
      watch.stop();
    }
  });
});
