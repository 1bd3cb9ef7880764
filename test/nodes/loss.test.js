"use strict";
// rnn loss alone: loss values against numbers worked out by hand, masked (null) targets, the
// metrics it adds, what it adds to the run message of a training run, and its errors.
const assert = require("assert");
const { helper, NODES, useNodeRedServer, withCatch, collect, lastStatus, waitFor } = require("../helpers/nodes");

function flowWith(config) {
  return withCatch([
    { id: "f1", type: "tab" },
    { id: "loss", z: "f1", type: "rnn-loss", loss: "mse", delta: 1, ...config, wires: [["out"]] },
    { id: "out", z: "f1", type: "helper", wires: [] },
  ]);
}

/** A run record as an rnn sequence node starts it, after one rnn layer has passed it. */
function run(extra = {}) {
  return { run: "run1", source: "seq", layers: [{ id: "layer1", name: "", settings: { hiddenSize: 4, activation: "tanh", projection: true, init: "orthogonal", seed: 1, outputSize: 1, outputActivation: "linear" } }], loss: null, ...extra };
}

// Outputs 1, 2, 4 against targets 0, 2, 1: errors 1, 0, 3.
const Y = [[[1], [2], [4]]];
const T = [[[0], [2], [1]]];

async function lossOf(config, msg) {
  await helper.load(NODES, flowWith(config));
  const out = collect(helper.getNode("out"));
  helper.getNode("loss").receive(msg);
  await waitFor(() => out.length === 1, 2000, "output");
  await helper.unload();
  return out[0];
}

const close = (a, b, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

describe("rnn loss node", function () {
  this.timeout(20000);
  useNodeRedServer();

  it("mse, mae and huber (δ = 1 and 2) give the hand-computed values", async function () {
    close((await lossOf({ loss: "mse" }, { payload: Y, target: T })).loss, (1 + 0 + 9) / 3);
    close((await lossOf({ loss: "mae" }, { payload: Y, target: T })).loss, (1 + 0 + 3) / 3);
    // huber: ½d² for |d| ≤ δ, else δ(|d| − ½δ)
    close((await lossOf({ loss: "huber", delta: 1 }, { payload: Y, target: T })).loss, (0.5 + 0 + 2.5) / 3);
    close((await lossOf({ loss: "huber", delta: 2 }, { payload: Y, target: T })).loss, (0.5 + 0 + 4) / 3);
    // two outputs per step: the mean is over every value
    close((await lossOf({ loss: "mse" }, { payload: [[[1, 2]]], target: [[[0, 0]]] })).loss, 2.5);
    // binary cross-entropy on one probability (no layer known: a single output is read as sigmoid)
    close((await lossOf({ loss: "crossentropy" }, { payload: [[[0.8], [0.3]]], target: [[[1], [0]]] })).loss, -(Math.log(0.8) + Math.log(0.7)) / 2);
  });

  it("T×O and flat-list payloads give the same loss as B×T×O", async function () {
    close((await lossOf({}, { payload: Y[0], target: T[0] })).loss, 10 / 3);
    close((await lossOf({}, { payload: [1, 2, 4], target: [0, 2, 1] })).loss, 10 / 3);
  });

  it("null targets carry no loss: the mean is over the others; all null gives msg.loss null", async function () {
    close((await lossOf({}, { payload: Y, target: [[null, null, [1]]] })).loss, 9);
    close((await lossOf({}, { payload: Y, target: [[[null], [2], [1]]] })).loss, 9 / 2);
    close((await lossOf({ loss: "mae" }, { payload: [1, 2, 4], target: [0, null, 1] })).loss, 2);
    assert.strictEqual((await lossOf({}, { payload: Y, target: [[null, null, null]] })).loss, null);
  });

  it("the run message (msg.rnn): the loss node sets msg.rnn.loss = {id, loss, delta} on a new record and passes it on without measuring", async function () {
    for (const [config, expected] of [[{ loss: "huber", delta: 0.25 }, { loss: "huber", delta: 0.25 }], [{ loss: "mae", delta: 5 }, { loss: "mae", delta: 1 }], [{ loss: "crossentropy" }, { loss: "crossentropy", delta: 1 }]]) {
      await helper.load(NODES, flowWith(config));
      const node = helper.getNode("loss");
      const out = collect(helper.getNode("out"));
      const rnn = run();
      const summary = { rows: 20, windows: 11 };
      node.receive({ topic: "train", payload: summary, rnn, flowName: "kitchen" });
      await waitFor(() => out.length === 1, 2000, "the run message passed on");
      const m = out[0];
      assert.deepStrictEqual(m.rnn, { ...run(), loss: { id: "loss", ...expected } }, JSON.stringify(config));
      assert.strictEqual(rnn.loss, null, "the incoming record is not changed in place");
      assert.deepStrictEqual(m.payload, summary);
      assert.strictEqual(m.flowName, "kitchen");
      assert.strictEqual(m.loss, undefined, "nothing is measured on the run message");
      assert.strictEqual(m.metrics, undefined);
      await helper.unload();
    }
  });

  it("a run message that is not a run record, that passed no rnn layer, or that passed a loss node already is an error, not passed on", async function () {
    await helper.load(NODES, flowWith({}));
    const node = helper.getNode("loss");
    const out = collect(helper.getNode("out"));
    const caught = collect(helper.getNode("errors"));
    node.receive({ topic: "train", payload: {}, rnn: { id: "run1", phase: "train", layers: [] } });
    node.receive({ topic: "train", payload: {}, rnn: run({ loss: { id: "x", loss: "hinge", delta: 1 } }) });
    node.receive({ topic: "train", payload: {}, rnn: run({ layers: [] }) });
    node.receive({ topic: "train", payload: {}, rnn: run({ loss: { id: "other", loss: "mse", delta: 1 } }) });
    node.receive({ topic: "train", payload: {}, rnn: run() });
    await waitFor(() => caught.length === 4 && out.length === 1, 2000, "four errors and one run message passed on");
    const messages = caught.map((m) => m.error.message);
    assert.match(messages[0], /msg.rnn is not a run record from an rnn sequence node/);
    assert.match(messages[1], /msg.rnn is not a run record from an rnn sequence node/);
    assert.match(messages[2], /passed no rnn layer: wire rnn sequence → rnn layer\(s\) → rnn loss → rnn trainer/);
    assert.match(messages[3], /already passed an rnn loss node: a chain has one/);
    assert.strictEqual(out[0].rnn.loss.id, "loss");
  });

  it("msg.metrics: mse, rmse, mae and mape of payload against target, in the payload's own units, over the non-null targets", async function () {
    await helper.load(NODES, flowWith({ loss: "mae" }));
    const node = helper.getNode("loss");
    const out = collect(helper.getNode("out"));
    // outputs 11 and 8 against targets 10 and 12: errors 1 and −4; a null target is left out
    node.receive({ payload: [[[11]], [[8]], [[50]]], target: [[[10]], [[12]], [null]] });
    await waitFor(() => out.length === 1, 2000, "an output");
    const m = out[0].metrics;
    close(m.mse, 8.5);
    close(m.rmse, Math.sqrt(8.5));
    close(m.mae, 2.5);
    close(m.mape, ((1 / 10 + 4 / 12) / 2) * 100);
    assert.strictEqual(m.count, 2);
    close(out[0].loss, 2.5);
    assert.strictEqual(lastStatus(node).text, "loss 2.5");
    // mape only over the true values that are not 0
    node.receive({ payload: [1, 3], target: [0, 2] });
    await waitFor(() => out.length === 2, 2000, "a second output");
    const m2 = out[1].metrics;
    close(m2.mse, 1);
    close(m2.mae, 1);
    close(m2.mape, 50);
  });

  it("errors: no payload, no target, shapes that differ (fewer steps, more outputs than targets), text instead of numbers; each is caught and the next message works", async function () {
    await helper.load(NODES, flowWith({}));
    const node = helper.getNode("loss");
    const out = collect(helper.getNode("out"));
    const caught = collect(helper.getNode("errors"));
    node.receive({ target: T });
    node.receive({ payload: Y });
    node.receive({ payload: Y, target: [[[0], [2]]] });
    node.receive({ payload: [["high"]], target: T });
    node.receive({ payload: Y, target: [[[0], ["two"], [1]]] });
    // What a last layer without projection sends: its hidden state, 2 values per step for 1 target.
    node.receive({ payload: [[[1, 2], [2, 3], [4, 5]]], target: T });
    node.receive({ payload: Y, target: T });
    await waitFor(() => caught.length === 6 && out.length === 1, 2000, "six errors and one output");
    const messages = caught.map((m) => m.error.message);
    assert.match(messages[0], /msg.payload is missing/);
    assert.match(messages[1], /msg.target is missing/);
    assert.match(messages[2], /msg.target\[0\]: expected 3 time steps/);
    assert.match(messages[3], /msg.payload cannot be used/);
    assert.match(messages[4], /msg.target\[0\]\[1\]\[0\]: not a finite number/);
    assert.match(messages[5], /msg.target\[0\]\[0\]: expected 2 values or null, got 1/);
    close(out[0].loss, 10 / 3);
    await waitFor(() => lastStatus(node).fill === "green", 2000, "the status to leave red after a good message");
  });
});
