"use strict";
// The trainer's gradient report: ‖∂L/∂h_t‖ per time step, each epoch. It must agree with the core's
// reference (mathjs) backend, and on a long window with tanh it must show the vanishing gradients
// the Elman RNN is known for.
const assert = require("assert");
const { Model, RnnLayer, prepareDataset } = require("../../dist/src");
const { helper, NODES, useNodeRedServer, chain, nextMessage, collect, noisySineSeries } = require("../helpers/nodes");

async function trainWithReport(config, series) {
  await helper.load(NODES, chain(config));
  const epochs = collect(helper.getNode("epochs"));
  const finished = nextMessage(helper.getNode("done"));
  helper.getNode("seq").receive({ topic: "train", payload: series });
  assert.strictEqual((await finished).payload.reason, "completed");
  return epochs.map((m) => m.payload);
}

describe("rnn trainer: gradient report", function () {
  this.timeout(60000);
  useNodeRedServer({ userDir: true });

  it("one batch per epoch: dhNorm per step equals the core's reference backend on the same windows and initial weights (1e-9)", async function () {
    const series = noisySineSeries(120, 4);
    const layerConfig = { hiddenSize: 6, activation: "tanh", projection: true, outputSize: 1, init: "orthogonal", seed: 3 };
    const epochs = await trainWithReport({
      sequence: { windowLength: 10, validationSplit: 0, batchSize: 4096, epochs: 1, shuffle: false },
      layers: [layerConfig],
      trainer: { gradientReport: true },
    }, series);
    const report = epochs[0].dhNorm;
    assert.strictEqual(report.length, 10);

    const data = prepareDataset(series, { length: 10, horizon: 1, scaling: "zscore", validationSplit: 0 });
    const layer = RnnLayer.create({ inputSize: 1, hiddenSize: 6, activation: "tanh", outputSize: 1, outputActivation: "linear" }, { seed: 3, recurrent: "orthogonal" });
    const expected = new Model(1, [layer]).gradients(data.train.inputs, data.train.targets, { loss: "mse", backend: "reference" }).dhNorm[0];
    report.forEach((v, t) => assert.ok(Math.abs(v - expected[t]) <= 1e-9 * Math.max(1, expected[t]), `step ${t}: ${v} vs ${expected[t]}`));
  });

  // Orthogonal recurrent weights (spectral radius 1) with tanh make the decay dependable; a random
  // Glorot matrix can have a radius above 1 for some seeds, and then the norms grow backwards instead.
  it("window 60, tanh, two layers: dhNorm has one finite value per step, and the first steps' are far smaller than the last's", async function () {
    const epochs = await trainWithReport({
      sequence: { windowLength: 60, epochs: 2, batchSize: 32 },
      layers: [{ hiddenSize: 16, activation: "tanh", init: "orthogonal" }, { hiddenSize: 8, activation: "tanh", projection: true, init: "orthogonal" }],
      trainer: { gradientReport: true },
    }, noisySineSeries(400, 2));
    for (const e of epochs) {
      assert.strictEqual(e.dhNorm.length, 60);
      assert.strictEqual(e.dhNormLayers.length, 2);
      assert.deepStrictEqual(e.dhNormLayers[0], e.dhNorm, "dhNorm is the first layer's");
      for (const per of e.dhNormLayers) {
        assert.strictEqual(per.length, 60);
        assert.ok(per.every((v) => Number.isFinite(v) && v >= 0));
      }
    }
    const d = epochs[0].dhNorm;
    const ratio = Math.max(...d.slice(0, 10)) / d[59];
    console.log(`      ‖∂L/∂h_t‖ of layer 1: t=1 ${d[0].toExponential(2)}, t=30 ${d[29].toExponential(2)}, t=60 ${d[59].toExponential(2)}`);
    assert.ok(ratio < 0.01, `first ten steps / last step = ${ratio}`);
  });
});
