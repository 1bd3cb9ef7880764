"use strict";
// A direct multi-step chain in Node-RED: the sequence sends k steps per target, the layer projects
// to k outputs, the trainer calibrates k interval widths, the predictor gives all k steps at once.
const assert = require("assert");
const { helper, NODES, chain, useNodeRedServer, nextMessage, collect, waitFor, withCatch } = require("../helpers/nodes");

const K = 6;
const series = (n) => Array.from({ length: n }, (_, t) => 50 + 0.1 * t + 5 * Math.sin((2 * Math.PI * t) / 12) + 0.2 * Math.sin(t * 1.7));

describe("rnn nodes: direct multi-step", function () {
  this.timeout(60000);
  useNodeRedServer();

  it(`trains ${K} steps at once and the predictor forecasts all ${K} with their intervals`, async function () {
    await helper.load(NODES, chain({
      sequence: { windowLength: 12, horizon: K, multiStep: "direct", difference: "first", epochs: 5 },
      layers: [{ outputSize: K }],
      predictor: { steps: 1 },
    }));
    const finished = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: series(400) });
    const done = (await finished).payload;
    assert.strictEqual(done.reason, "completed");
    assert.strictEqual(done.intervals.steps, K, "one width per step ahead");
    const out = collect(helper.getNode("forecasts"));
    const pred = helper.getNode("pred");
    series(420).slice(380).forEach((v) => pred.receive({ payload: v }));
    await waitFor(() => out.length >= 2, 5000, "forecasts");
    const f = out[out.length - 1].forecast;
    assert.strictEqual(f.steps, K);
    assert.strictEqual(f.values.length, K);
    assert.ok(f.values.every((v, k) => f.lower[k][0] < v[0] && v[0] < f.upper[k][0]));
    // The error of the previous forecast is measured on its first step, one reading ahead.
    const prev = out[out.length - 1].forecast.previous;
    assert.strictEqual(prev.predicted, out[out.length - 2].forecast.values[0][0]);
  });

  it("a layer that does not emit targets × steps values is refused with the output size to set", async function () {
    await helper.load(NODES, withCatch(chain({ sequence: { windowLength: 12, horizon: K, multiStep: "direct", epochs: 1 }, layers: [{ outputSize: 1 }] })));
    const caught = collect(helper.getNode("errors"));
    helper.getNode("seq").receive({ topic: "train", payload: series(200) });
    await waitFor(() => caught.length > 0, 5000, "the error");
    assert.match(caught[0].error.message, /the last rnn layer "layer1" emits 1 value\(s\) per step but the series has 1 target\(s\) \(value\) × 6 steps ahead \(direct\): set its output size to 6/);
  });
});
