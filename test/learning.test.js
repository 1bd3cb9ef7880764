"use strict";
// The model learns: seeded, so the figures are reproducible. Errors are measured in real units
// on the validation part (the last 20 % of the series, never seen in training).
const assert = require("assert");
const { Model, prepareDataset, Scaler } = require("../dist/src");
const { noisySine, seattleRows } = require("./helpers/series");

function lastStep(nested) {
  return nested.map((seq) => seq[seq.length - 1]);
}

/** Validation predictions and truths in real units, plus the persistence baseline. */
function evaluate(model, data) {
  const scaler = data.scaler;
  const preds = lastStep(model.predict(data.validation.inputs)).map((y) => scaler.inverseTargets(y)[0]);
  const truth = lastStep(data.validation.targets).map((y) => scaler.inverseTargets(y)[0]);
  // Persistence: tomorrow = today (the last input value of the target column; here feature 0).
  const persist = lastStep(data.validation.inputs).map((x) => scaler.inverseFeatures(x)[0]);
  const rmse = (a) => Math.sqrt(a.reduce((s, v, i) => s + (v - truth[i]) ** 2, 0) / a.length);
  return { rmse: rmse(preds), persistence: rmse(persist), mse: rmse(preds) ** 2, persistenceMse: rmse(persist) ** 2 };
}

describe("learning", function () {
  this.timeout(120000);

  it("noisy sine (window 24, H=32): validation MSE < 0.005, far below repeating the last value", function () {
    const data = prepareDataset(noisySine(2000, { seed: 3 }), { length: 24, horizon: 1, scaling: "zscore", validationSplit: 0.2 });
    const model = Model.create({ inputSize: 1, layers: [{ hiddenSize: 32, activation: "tanh", outputSize: 1 }], seed: 1 });
    const fit = model.fit(data.train, { epochs: 12, batchSize: 32, optimizer: "adam", learningRate: 0.005, clipNorm: 1, seed: 2, validation: data.validation });
    const r = evaluate(model, data);
    // The noise alone (uniform ±0.05) has variance 0.05²/3 ≈ 0.00083: the floor any model can reach.
    assert.ok(r.mse < 0.005, `validation MSE ${r.mse.toFixed(5)} (persistence ${r.persistenceMse.toFixed(5)})`);
    assert.ok(r.mse < r.persistenceMse / 3, `MSE ${r.mse.toFixed(5)} vs persistence ${r.persistenceMse.toFixed(5)}`);
    assert.ok(fit.history[fit.history.length - 1].loss < fit.history[0].loss, "training loss went down");
  });

  it("same seed, same run: two fits give identical weights", function () {
    const data = prepareDataset(noisySine(300, { seed: 4 }), { length: 12, horizon: 1, scaling: "minmax", validationSplit: 0.2 });
    const run = () => {
      const m = Model.create({ inputSize: 1, layers: [{ hiddenSize: 8, outputSize: 1 }], seed: 5 });
      m.fit(data.train, { epochs: 2, batchSize: 16, optimizer: "adam", seed: 6, validation: data.validation });
      return m.toJSON().layers;
    };
    assert.deepStrictEqual(run(), run());
  });

  it("Seattle weather: next-day temp_max RMSE beats persistence", function () {
    const rows = seattleRows();
    const data = prepareDataset(rows, {
      fields: ["temp_max", "temp_min", "precipitation", "wind"],
      features: ["temp_max", "temp_min", "precipitation", "wind"],
      targets: ["temp_max"],
      length: 14,
      horizon: 1,
      scaling: "zscore",
      validationSplit: 0.2,
    });
    const model = Model.create({ inputSize: 4, layers: [{ hiddenSize: 16, activation: "tanh", outputSize: 1 }], seed: 1 });
    model.fit(data.train, { epochs: 30, batchSize: 32, optimizer: "adam", learningRate: 0.003, weightDecay: 1e-4, clipNorm: 1, seed: 1, validation: data.validation, patience: 6 });
    const r = evaluate(model, data);
    assert.ok(r.rmse < r.persistence, `RNN RMSE ${r.rmse.toFixed(3)} °C vs persistence ${r.persistence.toFixed(3)} °C`);
    console.log(`      Seattle temp_max next day: RNN RMSE ${r.rmse.toFixed(3)} °C, persistence ${r.persistence.toFixed(3)} °C`);
  });
});
