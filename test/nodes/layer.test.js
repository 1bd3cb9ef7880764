"use strict";
// rnn layer alone: its forward pass against the core layer built with the same seed and a naive
// reference forward pass, the payload shapes it accepts, stateful mode, and its errors.
const assert = require("assert");
const { RnnLayer } = require("../../dist/src");
const plain = require("../helpers/plain-rnn");
const { helper, NODES, useNodeRedServer, withCatch, collect, lastStatus, waitFor } = require("../helpers/nodes");

const CONFIG = { hiddenSize: 5, activation: "tanh", projection: true, outputSize: 2, outputActivation: "linear", init: "orthogonal", seed: 11, stateful: false };

function flowWith(config) {
  return withCatch([
    { id: "f1", type: "tab" },
    { id: "layer", z: "f1", type: "rnn-layer", ...CONFIG, ...config, wires: [["out"]] },
    { id: "out", z: "f1", type: "helper", wires: [] },
  ]);
}

/** The core layer the node should build: same spec, same seed, same recurrent initialiser. */
function coreLayer(inputSize, config = {}) {
  const c = { ...CONFIG, ...config };
  const spec = { inputSize, hiddenSize: c.hiddenSize, activation: c.activation };
  if (c.projection) Object.assign(spec, { outputSize: c.outputSize, outputActivation: c.outputActivation });
  return RnnLayer.create(spec, { seed: c.seed, recurrent: c.init });
}

const reference = (layer, batch) => plain.forward(plain.describe({ layers: [layer] }), batch).outputs;

function assertClose(actual, expected, tol, path = "") {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual) && actual.length === expected.length, `${path}: length ${actual && actual.length} vs ${expected.length}`);
    expected.forEach((e, i) => assertClose(actual[i], e, tol, `${path}[${i}]`));
  } else {
    assert.ok(typeof actual === "number" && Math.abs(actual - expected) <= tol, `${path}: ${actual} vs ${expected}`);
  }
}

/** A training record as an rnn sequence node makes it (3 features, 2 targets). */
const RUN = {
  id: "run1", phase: "train", epoch: 1, epochs: 1, batch: 1, batches: 1, valBatches: 0, source: "seq", layers: [],
  window: { length: 4, horizon: 1, features: ["a", "b", "c"], targets: ["a", "b"] },
  scaler: { kind: "none", features: { offset: [0, 0, 0], scale: [1, 1, 1] }, targets: { offset: [0, 0], scale: [1, 1] } },
};

// Two sequences of 4 steps, 3 features each.
const BATCH = [
  [[0.1, -0.2, 0.3], [0.5, 0.1, -0.4], [-0.3, 0.2, 0.9], [0.0, 0.7, -0.1]],
  [[1.0, 0.0, -1.0], [0.2, 0.2, 0.2], [-0.6, 0.4, 0.1], [0.3, -0.8, 0.5]],
];

describe("rnn layer node", function () {
  this.timeout(20000);
  useNodeRedServer();

  it("B×T×I input: the weights are the core's for the same seed and the outputs match a naive forward pass to 1e-12", async function () {
    await helper.load(NODES, flowWith({}));
    const node = helper.getNode("layer");
    const out = collect(helper.getNode("out"));
    node.receive({ payload: BATCH, topic: "x", extra: 42 });
    await waitFor(() => out.length === 1, 2000, "output");
    const core = coreLayer(3);
    const built = node.rnnApi.getLayer();
    core.list().forEach((w, i) => assert.deepStrictEqual(Array.from(built.list()[i]), Array.from(w), `parameter ${core.names()[i]}`));
    assertClose(out[0].payload, reference(core, BATCH), 1e-12, "payload");
    assert.strictEqual(out[0].extra, 42, "other properties pass through");
    assert.strictEqual(out[0].payload[0][0].length, 2, "B×T×O with the projection");
    assert.match(lastStatus(node).text, /^5 tanh · \|W\| \d/);
  });

  it("T×I input gives the numbers of a batch of one, and a flat list is a single-feature sequence", async function () {
    await helper.load(NODES, flowWith({ projection: false, hiddenSize: 4, activation: "sigmoid", init: "glorotUniform" }));
    const node = helper.getNode("layer");
    const out = collect(helper.getNode("out"));
    node.receive({ payload: BATCH[1] });
    await waitFor(() => out.length === 1, 2000, "output");
    const core = coreLayer(3, { projection: false, hiddenSize: 4, activation: "sigmoid", init: "glorotUniform" });
    assertClose(out[0].payload, reference(core, [BATCH[1]])[0], 1e-12, "T×H");

    await helper.unload();
    await helper.load(NODES, flowWith({ outputSize: 1 }));
    const one = helper.getNode("layer");
    const out1 = collect(helper.getNode("out"));
    const list = [0.5, -0.25, 0.75, 1, 0];
    one.receive({ payload: list });
    one.receive({ payload: list.map((v) => [v]) });
    await waitFor(() => out1.length === 2, 2000, "two outputs");
    const expected = reference(coreLayer(1, { outputSize: 1 }), [list.map((v) => [v])])[0];
    assertClose(out1[0].payload, expected.map((step) => step[0]), 1e-12, "flat list in, flat list out");
    assertClose(out1[1].payload, expected, 1e-12, "T×1 in, T×1 out");
  });

  it("stateful: h carries over between messages of one topic, topics are independent, 'reset' clears them", async function () {
    await helper.load(NODES, flowWith({ stateful: true }));
    const node = helper.getNode("layer");
    const out = collect(helper.getNode("out"));
    const a1 = BATCH[0].slice(0, 2), a2 = BATCH[0].slice(2);
    node.receive({ topic: "a", payload: a1 });
    node.receive({ topic: "b", payload: BATCH[1] });
    node.receive({ topic: "a", payload: a2 });
    node.receive({ topic: "b", payload: a2 });
    node.receive({ topic: "reset" });
    node.receive({ topic: "a", payload: a2 });
    await waitFor(() => out.length === 5, 2000, "five outputs");
    const core = coreLayer(3);
    const whole = reference(core, [BATCH[0]])[0];
    assertClose(out[0].payload, whole.slice(0, 2), 1e-12, "a, first part");
    assertClose(out[2].payload, whole.slice(2), 1e-12, "a, second part continues from the first (b in between does not touch it)");
    const bWhole = reference(core, [BATCH[1].concat(a2)])[0];
    assertClose(out[3].payload, bWhole.slice(4), 1e-12, "b continues from b");
    assertClose(out[4].payload, reference(core, [a2])[0], 1e-12, "after reset: from h0 = 0");
    assert.strictEqual(out[4].topic, "a");
  });

  it("without stateful, every message starts from h0 = 0", async function () {
    await helper.load(NODES, flowWith({}));
    const node = helper.getNode("layer");
    const out = collect(helper.getNode("out"));
    node.receive({ topic: "a", payload: BATCH[0] });
    node.receive({ topic: "a", payload: BATCH[0] });
    await waitFor(() => out.length === 2, 2000, "two outputs");
    assert.deepStrictEqual(out[1].payload, out[0].payload);
  });

  it("a training batch (msg.rnn) is recorded for the trainer: a new layers record carrying its key", async function () {
    await helper.load(NODES, flowWith({}));
    const node = helper.getNode("layer");
    const out = collect(helper.getNode("out"));
    const rnn = { ...RUN, layers: [{ id: "before", key: "k0" }] };
    node.receive({ topic: "train", payload: BATCH, target: null, rnn });
    node.receive({ topic: "validate", payload: BATCH, target: null, rnn: { ...rnn, phase: "validate" } });
    await waitFor(() => out.length === 2, 2000, "two outputs");
    assert.strictEqual(rnn.layers.length, 1, "the incoming record is not changed in place");
    assert.strictEqual(out[0].rnn.layers.length, 2);
    assert.strictEqual(out[0].rnn.layers[1].id, "layer");
    assert.strictEqual(typeof out[0].rnn.layers[1].key, "string");
    assert.strictEqual(out[1].rnn.layers[1].key, null, "validation batches keep nothing");
    assertClose(out[0].payload, reference(coreLayer(3), BATCH), 1e-12, "same forward pass in training");
  });

  it("errors: missing or non-numeric payload, a training batch that is not B×T×I, a changed input size; each is caught and the next valid message works", async function () {
    await helper.load(NODES, flowWith({}));
    const node = helper.getNode("layer");
    const out = collect(helper.getNode("out"));
    const caught = collect(helper.getNode("errors"));
    const rnn = RUN;
    node.receive({ payload: BATCH });
    node.receive({});
    node.receive({ payload: "1,2,3" });
    node.receive({ payload: [["a", "b", "c"]] });
    node.receive({ payload: BATCH[0], rnn });
    node.receive({ payload: [[[1, 2]]] });
    node.receive({ payload: BATCH });
    await waitFor(() => caught.length === 5 && out.length === 2, 2000, "five errors and two outputs");
    const messages = caught.map((m) => m.error.message);
    assert.match(messages[0], /msg.payload is missing/);
    assert.match(messages[1], /expected numbers/);
    assert.match(messages[2], /expected numbers/);
    assert.match(messages[3], /training batch must be batch × time × features/);
    assert.match(messages[4], /takes 3 input feature\(s\).*got 2/);
    assert.deepStrictEqual(out[1].payload, out[0].payload, "the layer is unchanged by the bad messages");
    await waitFor(() => lastStatus(node).fill === "green", 2000, "the status to leave red after a good message");
  });
});
