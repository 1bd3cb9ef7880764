"use strict";
// Two rnn layers stacked with different hidden sizes (16 without projection → 8 with one) train end
// to end, and the trainer's model for the predictor chains both layers in order.
const assert = require("assert");
const { RnnLayer } = require("../../dist/src");
const plain = require("../helpers/plain-rnn");
const { helper, NODES, useNodeRedServer, chain, nextMessage, collect, noisySineSeries } = require("../helpers/nodes");

describe("rnn nodes: stacked layers", function () {
  this.timeout(60000);
  useNodeRedServer({ userDir: true });

  it("16 → 8 (projection to 1) trains: both layers learn, the loss falls, validation MSE is small in real units", async function () {
    await helper.load(NODES, chain({
      sequence: { windowLength: 24, epochs: 10, batchSize: 32 },
      layers: [{ hiddenSize: 16, projection: false, seed: 1 }, { hiddenSize: 8, projection: true, seed: 2 }],
      predictor: {},
    }));
    const epochs = collect(helper.getNode("epochs"));
    const finished = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(800, 11) });
    const done = (await finished).payload;
    assert.strictEqual(done.reason, "completed");

    const first = helper.getNode("layer1").rnnApi.getLayer();
    const second = helper.getNode("layer2").rnnApi.getLayer();
    assert.deepStrictEqual([first.inputSize, first.outputSize, second.inputSize, second.outputSize], [1, 16, 16, 1]);
    // Gradients reached the first layer through the second: its weights moved from their initialisation.
    const init = RnnLayer.create({ inputSize: 1, hiddenSize: 16, activation: "tanh" }, { seed: 1, recurrent: "orthogonal" });
    const moved = Math.hypot(...first.params.W_xh.map((w, i) => w - init.params.W_xh[i]));
    assert.ok(moved > 0.05, `layer 1 W_xh moved by ${moved}`);

    const losses = epochs.map((m) => m.payload.loss);
    assert.ok(losses[9] < 0.2 * losses[0], `training loss ${losses[0]} → ${losses[9]}`);
    const mse = epochs[9].payload.metrics.mse;
    console.log(`      training loss ${losses[0].toFixed(4)} → ${losses[9].toFixed(4)}; validation MSE ${mse.toFixed(5)} (noise variance 0.00083)`);
    assert.ok(mse < 0.005, `validation MSE ${mse}`);

    // The predictor on this trainer runs both layers: compare with a naive forward pass.
    const window = noisySineSeries(900, 11).slice(850, 874);
    const next = nextMessage(helper.getNode("forecasts"));
    helper.getNode("pred").receive({ payload: window });
    const forecast = (await next).payload;
    const scaler = helper.getNode("trainer").rnnApi.getModel().model.scaler;
    const scaled = window.map((v) => [(v - scaler.features.offset[0]) / scaler.features.scale[0]]);
    const out = plain.forward(plain.describe({ layers: [first, second] }), [scaled]).outputs[0];
    const expected = out[23][0] * scaler.targets.scale[0] + scaler.targets.offset[0];
    assert.ok(Math.abs(forecast - expected) < 1e-12, `${forecast} vs ${expected}`);
  });
});
