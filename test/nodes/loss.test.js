"use strict";
// rnn loss alone: loss values against numbers worked out by hand, masked (null) targets, the
// gradient it keeps for the trainer, validation metrics in real units, and its errors.
const assert = require("assert");
const { helper, NODES, useNodeRedServer, withCatch, collect, lastStatus, waitFor } = require("../helpers/nodes");

function flowWith(config) {
  return withCatch([
    { id: "f1", type: "tab" },
    { id: "loss", z: "f1", type: "rnn-loss", loss: "mse", delta: 1, ...config, wires: [["out"]] },
    { id: "out", z: "f1", type: "helper", wires: [] },
  ]);
}

/** A training record as an rnn sequence node makes it (one feature, no scaling unless given). */
function run(phase, extra = {}) {
  return {
    id: "run1", phase, epoch: 1, epochs: 1, batch: 1, batches: 1, valBatches: 1, source: "seq", layers: [],
    window: { length: 3, horizon: 1, features: ["value"], targets: ["value"] },
    scaler: { kind: "none", features: { offset: [0], scale: [1] }, targets: { offset: [0], scale: [1] } },
    ...extra,
  };
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

  it("a training batch keeps ∂L/∂y for the trainer under a key in msg.rnn.loss (taken once)", async function () {
    await helper.load(NODES, flowWith({}));
    const node = helper.getNode("loss");
    const out = collect(helper.getNode("out"));
    node.receive({ payload: Y, target: [[null, [2], [1]]], rnn: run("train") });
    await waitFor(() => out.length === 1, 2000, "output");
    const ref = out[0].rnn.loss;
    assert.strictEqual(ref.id, "loss");
    const record = node.rnnApi.take(ref.key);
    assert.strictEqual(record.count, 2);
    close(record.loss, 4.5);
    // d/dy of mean((y−t)²) over the 2 targeted entries: 2(y−t)/2, and 0 where the target is null
    assert.deepStrictEqual(Array.from(record.dY), [0, 0, 3]);
    assert.strictEqual(node.rnnApi.take(ref.key), undefined);
    assert.strictEqual(out[0].metrics, undefined, "no metrics on training batches");
  });

  it("validation batches get msg.metrics in real units (the sequence's scaling undone), msg.loss stays in scaled units", async function () {
    await helper.load(NODES, flowWith({}));
    const node = helper.getNode("loss");
    const out = collect(helper.getNode("out"));
    const scaler = { kind: "zscore", features: { offset: [10], scale: [2] }, targets: { offset: [10], scale: [2] } };
    // scaled outputs 0.5 and −1 → 11 and 8; scaled targets 0 and 1 → 10 and 12: errors 1 and −4
    node.receive({ payload: [[[0.5]], [[-1]]], target: [[[0]], [[1]]], rnn: run("validate", { scaler }) });
    await waitFor(() => out.length === 1, 2000, "output");
    const m = out[0].metrics;
    close(m.mse, 8.5);
    close(m.rmse, Math.sqrt(8.5));
    close(m.mae, 2.5);
    close(m.mape, ((1 / 10 + 4 / 12) / 2) * 100);
    assert.strictEqual(m.count, 2);
    close(out[0].loss, (0.25 + 4) / 2);
    assert.strictEqual(lastStatus(node).text, "loss 2.125");
  });

  it("errors: no payload, no target, shapes that differ, text instead of numbers; each is caught and the next message works", async function () {
    await helper.load(NODES, flowWith({}));
    const node = helper.getNode("loss");
    const out = collect(helper.getNode("out"));
    const caught = collect(helper.getNode("errors"));
    node.receive({ target: T });
    node.receive({ payload: Y });
    node.receive({ payload: Y, target: [[[0], [2]]] });
    node.receive({ payload: [["high"]], target: T });
    node.receive({ payload: Y, target: [[[0], ["two"], [1]]] });
    node.receive({ payload: Y, target: T });
    await waitFor(() => caught.length === 5 && out.length === 1, 2000, "five errors and one output");
    const messages = caught.map((m) => m.error.message);
    assert.match(messages[0], /msg.payload is missing/);
    assert.match(messages[1], /msg.target is missing/);
    assert.match(messages[2], /msg.target\[0\]: expected 3 time steps/);
    assert.match(messages[3], /msg.payload cannot be used/);
    assert.match(messages[4], /msg.target\[0\]\[1\]\[0\]: not a finite number/);
    close(out[0].loss, 10 / 3);
  });

  it("a training batch whose outputs are wider than its targets is refused with the fix named (tick Projection)", async function () {
    await helper.load(NODES, flowWith({}));
    const caught = collect(helper.getNode("errors"));
    const out = collect(helper.getNode("out"));
    // What a last layer without projection sends: its hidden state, 2 values per step for 1 target.
    helper.getNode("loss").receive({ payload: [[[1, 2], [2, 3], [4, 5]]], target: T, rnn: run("train") });
    await waitFor(() => caught.length === 1, 2000, "the error at the Catch node");
    assert.match(caught[0].error.message, /emit 2 value\(s\) per step but the series has 1 target\(s\) \(value\): tick "Projection" on the last rnn layer, with output size 1/);
    assert.strictEqual(out.length, 0);
    assert.strictEqual(lastStatus(helper.getNode("loss")).fill, "red");
  });
});
