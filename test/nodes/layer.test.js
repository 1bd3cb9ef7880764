"use strict";
// rnn layer alone: its forward pass against the core layer built with the same seed and a naive
// reference forward pass, the payload shapes it accepts, stateful mode, what it adds to the run
// message of a training run, the weights a trainer pushes into it, and its errors.
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

/** A run record as an rnn sequence node starts it, after one layer has passed it. */
const RUN = { run: "run1", source: "seq", layers: [{ id: "before", name: "first", settings: { hiddenSize: 3, activation: "tanh", projection: false, init: "orthogonal", seed: 1 } }], loss: null };

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

  it("stateful: a topic whose batch size changes starts from h0 = 0, and the node says so (no silent reset)", async function () {
    await helper.load(NODES, flowWith({ stateful: true }));
    const node = helper.getNode("layer");
    const out = collect(helper.getNode("out"));
    node.receive({ topic: "a", payload: [BATCH[0], BATCH[1]] });
    // One sequence instead of two: the state kept for two rows cannot continue it.
    node.receive({ topic: "a", payload: [BATCH[0]] });
    node.receive({ topic: "a", payload: [BATCH[0]] });
    await waitFor(() => out.length === 3, 2000, "three outputs");
    const core = coreLayer(3);
    assertClose(out[1].payload, reference(core, [BATCH[0]]), 1e-12, "the changed batch starts from zeros");
    assertClose(out[2].payload, [reference(core, [BATCH[0].concat(BATCH[0])])[0].slice(BATCH[0].length)], 1e-12, "and its state is kept from then on");
    const log = helper.log();
    const warned = log.args.map((a) => a[0]).filter((e) => e && e.level === log.WARN && e.id === "layer").map((e) => String(e.msg));
    assert.strictEqual(warned.length, 1, JSON.stringify(warned));
    assert.match(warned[0], /Topic a: the state kept for 2 sequence\(s\) cannot continue a batch of 1; this message starts from zeros/);
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

  it("the run message (msg.rnn): the layer appends {id, name, settings} to a new layers record and passes it on without a forward pass", async function () {
    await helper.load(NODES, flowWith({ name: "encoder", seed: -7, init: "identity", activation: "relu", outputSize: 3, stateful: true }));
    const node = helper.getNode("layer");
    const out = collect(helper.getNode("out"));
    const summary = { rows: 20, windows: 11 };
    const rnn = JSON.parse(JSON.stringify(RUN));
    node.receive({ topic: "train", payload: summary, rnn, flowName: "kitchen" });
    await waitFor(() => out.length === 1, 2000, "the run message passed on");
    const m = out[0];
    assert.strictEqual(rnn.layers.length, 1, "the incoming record is not changed in place (a fanned-out copy must not see this branch's entry)");
    assert.deepStrictEqual(m.rnn, {
      run: "run1", source: "seq", loss: null,
      layers: [RUN.layers[0], { id: "layer", name: "encoder", settings: { hiddenSize: 5, activation: "relu", projection: true, init: "identity", seed: -7, outputSize: 3, outputActivation: "linear" } }],
    });
    assert.deepStrictEqual(m.payload, summary, "no forward pass on the run message: the payload is the sequence's summary");
    assert.strictEqual(m.topic, "train");
    assert.strictEqual(m.flowName, "kitchen", "other properties pass through");
    assert.strictEqual(node.rnnApi.getLayer(), null, "the run message builds no weights");

    // Without a projection the settings carry no output size or activation.
    await helper.unload();
    await helper.load(NODES, flowWith({ projection: false, outputSize: 7 }));
    const out2 = collect(helper.getNode("out"));
    helper.getNode("layer").receive({ topic: "train", payload: summary, rnn: { ...RUN, layers: [] } });
    await waitFor(() => out2.length === 1, 2000, "the run message passed on");
    assert.deepStrictEqual(out2[0].rnn.layers, [{ id: "layer", name: "", settings: { hiddenSize: 5, activation: "tanh", projection: false, init: "orthogonal", seed: 11 } }]);
  });

  it("a run message that is not a run record, that passed a loss node already, or that passed this layer before is an error, not passed on", async function () {
    await helper.load(NODES, flowWith({}));
    const node = helper.getNode("layer");
    const out = collect(helper.getNode("out"));
    const caught = collect(helper.getNode("errors"));
    node.receive({ topic: "train", payload: {}, rnn: { id: "run1", phase: "train", epoch: 1, layers: [] } });
    node.receive({ topic: "train", payload: {}, rnn: { ...RUN, layers: [{ id: "x", name: "x", settings: [] }] } });
    node.receive({ topic: "train", payload: {}, rnn: { ...RUN, loss: { id: "loss", loss: "mse", delta: 1 } } });
    node.receive({ topic: "train", payload: {}, rnn: { ...RUN, layers: [{ id: "layer", name: "", settings: {} }] } });
    node.receive({ topic: "train", payload: {}, rnn: RUN });
    await waitFor(() => caught.length === 4 && out.length === 1, 2000, "four errors and one run message passed on");
    const messages = caught.map((m) => m.error.message);
    assert.match(messages[0], /msg.rnn is not a run record from an rnn sequence node/);
    assert.match(messages[1], /msg.rnn is not a run record from an rnn sequence node/);
    assert.match(messages[2], /already passed an rnn loss node: rnn layers go before rnn loss/);
    assert.match(messages[3], /passed this rnn layer twice: the chain must not loop/);
    assert.strictEqual(out[0].rnn.layers.length, 2);
  });

  it("weights pushed into the node (as a trainer does) are the ones its forward pass uses; weights that do not fit are refused", async function () {
    await helper.load(NODES, flowWith({}));
    const node = helper.getNode("layer");
    const out = collect(helper.getNode("out"));
    const trained = RnnLayer.create({ inputSize: 3, hiddenSize: 5, activation: "tanh", outputSize: 2, outputActivation: "linear" }, { seed: 99, recurrent: "glorotUniform" });
    assert.strictEqual(node.rnnApi.setWeights(trained), true);
    assert.notStrictEqual(node.rnnApi.getLayer(), trained, "the node keeps a copy");
    node.receive({ payload: BATCH });
    await waitFor(() => out.length === 1, 2000, "output");
    assertClose(out[0].payload, reference(trained, BATCH), 1e-12, "outputs of the pushed weights");
    assert.notDeepStrictEqual(out[0].payload, reference(coreLayer(3), BATCH), "not the node's own initialisation");
    // Another hidden size, or no projection where the node has one: refused, the weights stay.
    assert.strictEqual(node.rnnApi.setWeights(RnnLayer.create({ inputSize: 3, hiddenSize: 4, activation: "tanh", outputSize: 2 }, { seed: 1 })), false);
    assert.strictEqual(node.rnnApi.setWeights(RnnLayer.create({ inputSize: 3, hiddenSize: 5, activation: "tanh" }, { seed: 1 })), false);
    node.receive({ payload: BATCH });
    await waitFor(() => out.length === 2, 2000, "output");
    assert.deepStrictEqual(out[1].payload, out[0].payload);
    // resetWeights: the next message builds the node's own seeded initialisation again.
    node.rnnApi.resetWeights();
    assert.strictEqual(node.rnnApi.getLayer(), null);
    node.receive({ payload: BATCH });
    await waitFor(() => out.length === 3, 2000, "output");
    assertClose(out[2].payload, reference(coreLayer(3), BATCH), 1e-12, "fresh initialisation after resetWeights");
  });

  it("errors: missing or non-numeric payload, a msg.rnn that is not a run record, a changed input size; each is caught and the next valid message works", async function () {
    await helper.load(NODES, flowWith({}));
    const node = helper.getNode("layer");
    const out = collect(helper.getNode("out"));
    const caught = collect(helper.getNode("errors"));
    node.receive({ payload: BATCH });
    node.receive({});
    node.receive({ payload: "1,2,3" });
    node.receive({ payload: [["a", "b", "c"]] });
    // What a flow that copies msg.rnn of an old training batch, or sets its own, sends.
    node.receive({ payload: BATCH, rnn: { id: "run1", phase: "train" } });
    node.receive({ payload: [[[1, 2]]] });
    node.receive({ payload: BATCH });
    await waitFor(() => caught.length === 5 && out.length === 2, 2000, "five errors and two outputs");
    const messages = caught.map((m) => m.error.message);
    assert.match(messages[0], /msg.payload is missing/);
    assert.match(messages[1], /expected numbers/);
    assert.match(messages[2], /expected numbers/);
    assert.match(messages[3], /msg.rnn is not a run record from an rnn sequence node \(it must pass the rnn nodes unchanged\)/);
    assert.match(messages[4], /takes 3 input feature\(s\).*got 2/);
    assert.deepStrictEqual(out[1].payload, out[0].payload, "the layer is unchanged by the bad messages");
    await waitFor(() => lastStatus(node).fill === "green", 2000, "the status to leave red after a good message");
  });
});
