"use strict";
const assert = require("assert");
const { helper, NODES, useNodeRedServer, chain, nextMessage, collect, noisySineSeries } = require("../helpers/nodes");

describe("rnn nodes: a full training chain", function () {
  this.timeout(120000);
  useNodeRedServer({ userDir: true });

  it("trains on a noisy sine to validation MSE < 0.01, then the predictor forecasts within 0.2", async function () {
    const flow = chain({
      sequence: { windowLength: 24, epochs: 15, batchSize: 32 },
      layers: [{ hiddenSize: 32, projection: true }],
      trainer: { learningRate: 0.01 },
      predictor: {},
    });
    await helper.load(NODES, flow);
    const epochs = collect(helper.getNode("epochs"));
    const chart = collect(helper.getNode("chart"));
    const finished = nextMessage(helper.getNode("done"), 100000);
    const series = noisySineSeries(1200, 7);
    helper.getNode("seq").receive({ topic: "train", payload: series });
    const done = await finished;
    assert.strictEqual(done.topic, "done");
    assert.strictEqual(done.payload.reason, "completed");
    assert.strictEqual(epochs.length, 15);
    const last = epochs[epochs.length - 1].payload;
    for (const k of ["epoch", "loss", "valLoss", "lr", "gradNorm", "ms"]) assert.ok(k in last, `epoch message has ${k}`);
    assert.strictEqual(epochs[0].topic, "epoch");
    assert.ok(last.loss < epochs[0].payload.loss, "loss decreased");
    // validation metrics in real units (the sine's amplitude is 1, noise ±0.05)
    assert.ok(last.metrics.mse < 0.01, `validation MSE ${last.metrics.mse}`);
    assert.deepStrictEqual(chart.slice(0, 3).map((m) => m.topic), ["clear", "loss", "valLoss"]);

    // Predictor on the trainer's model: feed the last 24 values, then forecast the following ones.
    const pred = helper.getNode("pred");
    const forecasts = collect(helper.getNode("forecasts"));
    const future = noisySineSeries(1300, 7).slice(1176, 1300); // continues the training series' phase
    const truth = (i) => Math.sin((2 * Math.PI * i) / 50);
    for (let i = 1176; i < 1300; i++) pred.receive({ payload: future[i - 1176] });
    await new Promise((r) => setTimeout(r, 200));
    assert.strictEqual(forecasts.length, 1300 - 1176 - 23, "one forecast per reading once the window is full");
    let worst = 0;
    forecasts.forEach((m, j) => {
      const idx = 1176 + 23 + j + 1; // forecast of the next reading
      worst = Math.max(worst, Math.abs(m.payload - truth(idx)));
    });
    assert.ok(worst < 0.2, `largest forecast error ${worst}`);
    const withPrev = forecasts.filter((m) => m.forecast.previous);
    assert.ok(withPrev.length >= forecasts.length - 1);
    assert.ok(withPrev.every((m) => typeof m.forecast.previous.error === "number" && typeof m.forecast.previous.anomaly === "boolean"));
  });
});
