"use strict";
// Model.fit's control flow: early stopping, best-weights restore, stop from onEpoch, divergence.
const assert = require("assert");
const { Model, prepareDataset } = require("../dist/src");
const { noisySine } = require("./helpers/series");

function setup(seed = 1) {
  const data = prepareDataset(noisySine(400, { seed }), { length: 12, horizon: 1, scaling: "zscore", validationSplit: 0.25 });
  const model = Model.create({ inputSize: 1, layers: [{ hiddenSize: 8, outputSize: 1 }], seed });
  return { data, model };
}

describe("Model.fit control flow", function () {
  it("stops early after `patience` epochs without a better validation loss", function () {
    const { data, model } = setup();
    // A learning rate so small the weights cannot change: no epoch beats the first.
    const r = model.fit(data.train, { epochs: 20, optimizer: "sgd", learningRate: 1e-300, validation: data.validation, patience: 3 });
    assert.strictEqual(r.reason, "early-stopped");
    assert.strictEqual(r.history.length, 4);
    assert.strictEqual(r.bestEpoch, 1);
    assert.strictEqual(r.bestValLoss, r.history[0].valLoss);
  });

  it("puts back the weights of the best epoch", function () {
    const { data, model } = setup(2);
    const snapshots = [];
    const r = model.fit(data.train, {
      epochs: 6, optimizer: "sgd", learningRate: 0.5, clipNorm: 0, validation: data.validation,
      onEpoch: () => void snapshots.push(JSON.stringify(model.toJSON().layers)),
    });
    const best = r.history.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
    assert.strictEqual(r.bestEpoch, best.epoch);
    assert.strictEqual(JSON.stringify(model.toJSON().layers), snapshots[best.epoch - 1]);
    assert.ok(Math.abs(model.evaluate(data.validation.inputs, data.validation.targets) - best.valLoss) < 1e-12);
  });

  it("onEpoch returning false ends the run with reason 'stopped'", function () {
    const { data, model } = setup();
    const r = model.fit(data.train, { epochs: 10, validation: data.validation, onEpoch: (e) => e.epoch < 2 });
    assert.strictEqual(r.reason, "stopped");
    assert.strictEqual(r.history.length, 2);
  });

  it("a diverging run refuses its steps, keeps finite weights and ends as 'diverged'", function () {
    const { data, model } = setup();
    // Inputs far outside the scaled range make every loss overflow: each step is refused.
    const huge = { inputs: data.train.inputs.map((s) => s.map(() => [1e300])), targets: data.train.targets.map((s) => s.map((t) => (t ? [1e300] : null))) };
    const r = model.fit(huge, { epochs: 5, optimizer: "sgd", learningRate: 0.1, clipNorm: 0 });
    assert.strictEqual(r.reason, "diverged");
    // 20 refused steps in a row, counted across epochs, end the run before its 5 epochs.
    assert.strictEqual(r.history.reduce((n, e) => n + e.skipped, 0), 20);
    assert.ok(r.history.length < 5);
    assert.ok(model.parameters().every((p) => p.every(Number.isFinite)));
  });
});

describe("Model.fit edge cases", function () {
  it("a validation set without any target gives valLoss null (not a perfect 0) and does not drive early stopping", function () {
    const { data, model } = setup(3);
    const blind = { inputs: data.validation.inputs, targets: data.validation.targets.map((s) => s.map(() => null)) };
    const r = model.fit(data.train, { epochs: 3, validation: blind, patience: 1 });
    assert.deepStrictEqual(r.history.map((e) => e.valLoss), [null, null, null]);
    assert.ok(Number.isNaN(model.evaluate(blind.inputs, blind.targets)));
  });

  it("after a run with no accepted step the model still makes a valid model file (loss null)", function () {
    const { data, model } = setup();
    const huge = { inputs: data.train.inputs.map((s) => s.map(() => [1e300])), targets: data.train.targets.map((s) => s.map((t) => (t ? [1e300] : null))) };
    model.fit(huge, { epochs: 1, optimizer: "sgd", learningRate: 0.1, clipNorm: 0 });
    assert.strictEqual(model.training.loss, null);
    assert.doesNotThrow(() => Model.fromJSON(JSON.parse(JSON.stringify(model.toJSON()))));
  });

  it("an empty validation set (validationSplit 0) means no validation, not an error", function () {
    const data = prepareDataset(noisySine(200, { seed: 3 }), { length: 12, horizon: 1, scaling: "zscore", validationSplit: 0 });
    assert.strictEqual(data.validation.inputs.length, 0);
    const model = Model.create({ inputSize: 1, layers: [{ hiddenSize: 4, outputSize: 1 }], seed: 3 });
    const r = model.fit(data.train, { epochs: 2, validation: data.validation });
    assert.strictEqual(r.history.length, 2);
    assert.ok(r.history.every((e) => e.valLoss === null || e.valLoss === undefined), "no validation loss without validation rows");
  });
});

describe("Model.fit data and reports", function () {
  const { toPackedData } = require("../dist/src");

  it("takes packed data for training and validation, with the same result as nested arrays", function () {
    const { data, model } = setup(4);
    const twin = model.clone();
    const options = { epochs: 3, batchSize: 16, gradientReport: true, seed: 2 };
    const nested = model.fit(data.train, { ...options, validation: data.validation });
    const packed = twin.fit(toPackedData(data.train, 1, 1, "data"), { ...options, validation: toPackedData(data.validation, 1, 1, "validation") });
    assert.deepStrictEqual(packed.history.map(({ ms, ...e }) => e), nested.history.map(({ ms, ...e }) => e));
    assert.deepStrictEqual(twin.toJSON().layers, model.toJSON().layers);
    // Missing targets are NaN in packed data, as packTargets makes null ones.
    const p = toPackedData(data.validation, 1, 1, "validation");
    assert.ok(Number.isNaN(p.target[0]) && data.validation.targets[0][0] === null);
  });

  it("packed validation with no rows (B = 0) means no validation", function () {
    const { data, model } = setup(4);
    const r = model.fit(data.train, { epochs: 2, validation: { x: new Float64Array(0), target: new Float64Array(0), B: 0, T: 0 } });
    assert.deepStrictEqual(r.history.map((e) => e.valLoss), [null, null]);
  });

  it("refuses packed data of the wrong shape, with non-finite inputs or infinite targets, saying where", function () {
    const { data, model } = setup(4);
    const good = toPackedData(data.train, 1, 1, "data");
    assert.throws(() => model.fit({ ...good, B: good.B + 1 }, { epochs: 1 }), /data\.x: expected/);
    assert.throws(() => model.fit({ ...good, target: good.target.subarray(1) }, { epochs: 1 }), /data\.target: expected/);
    const x = good.x.slice();
    x[5] = NaN;
    assert.throws(() => model.fit({ ...good, x }, { epochs: 1 }), /data\.x\[5\]: not a finite number/);
    const target = good.target.slice();
    target[11] = Infinity;
    assert.throws(() => model.fit({ ...good, target }, { epochs: 1 }), /data\.target\[11\]: not a finite number/);
  });

  it("measures validation metrics in real units, as an independent computation from the model's predictions does", function () {
    const { data, model } = setup(5);
    const units = { offset: [3], scale: [2.5], mape: true };
    const expected = [];
    const r = model.fit(data.train, {
      epochs: 3,
      validation: data.validation,
      realUnits: units,
      onEpoch: () => {
        // Here the model holds this epoch's weights: predict the validation windows and compare.
        const y = model.predict(data.validation.inputs);
        let se = 0, ae = 0, ape = 0, n = 0, na = 0;
        data.validation.targets.forEach((seq, b) => seq.forEach((t, s) => {
          if (t === null) return;
          const real = t[0] * 2.5 + 3;
          const e = y[b][s][0] * 2.5 + 3 - real;
          se += e * e;
          ae += Math.abs(e);
          n++;
          if (real !== 0) {
            ape += Math.abs(e) / Math.abs(real);
            na++;
          }
        }));
        expected.push({ mse: se / n, rmse: Math.sqrt(se / n), mae: ae / n, mape: (100 * ape) / na });
      },
    });
    assert.strictEqual(r.history.length, 3);
    r.history.forEach((e, i) => {
      for (const k of ["mse", "rmse", "mae", "mape"]) assert.ok(Math.abs(e.metrics[k] - expected[i][k]) <= 1e-12 * Math.max(1, expected[i][k]), `epoch ${i + 1} ${k}: ${e.metrics[k]} vs ${expected[i][k]}`);
    });
    const noMape = model.clone().fit(data.train, { epochs: 1, validation: data.validation, realUnits: { ...units, mape: false } });
    assert.strictEqual(noMape.history[0].metrics.mape, null, "mape: false gives no percentage error");
    assert.ok(noMape.history[0].metrics.mse > 0);
    assert.strictEqual(model.clone().fit(data.train, { epochs: 1, validation: data.validation }).history[0].metrics, null, "no metrics unless asked");
    assert.throws(() => model.fit(data.train, { epochs: 1, validation: data.validation, realUnits: { offset: [0], scale: [1, 2], mape: true } }), /realUnits needs one offset and one scale per output column \(1\)/);
  });

  it("a refused step leaves ‖∂L/∂h_t‖ out of the epoch's report (it would be infinite), every layer reported", function () {
    const { data } = setup(6);
    const model = Model.create({ inputSize: 1, layers: [{ hiddenSize: 4 }, { hiddenSize: 3, outputSize: 1 }], seed: 6 });
    // One training window with a target of 1e200: its minibatch's loss overflows and is refused.
    const targets = data.train.targets.map((s, b) => (b === 3 ? s.map((t) => (t ? [1e200] : null)) : s));
    const r = model.fit({ inputs: data.train.inputs, targets }, { epochs: 2, batchSize: 32, gradientReport: true });
    assert.ok(r.history.every((e) => e.skipped === 1), `skipped ${r.history.map((e) => e.skipped)}`);
    for (const e of r.history) {
      assert.strictEqual(e.dhNormLayers.length, 2);
      assert.ok(e.dhNormLayers.every((l) => l.length === 12 && l.every((v) => Number.isFinite(v) && v > 0)), "finite, from the accepted steps");
      assert.deepStrictEqual(e.dhNorm, e.dhNormLayers[0]);
    }
  });

  it("the epoch that diverges is reported to onEpoch like any other, and is in the history", function () {
    const { data, model } = setup();
    const huge = { inputs: data.train.inputs.map((s) => s.map(() => [1e300])), targets: data.train.targets.map((s) => s.map((t) => (t ? [1e300] : null))) };
    const seen = [];
    const r = model.fit(huge, { epochs: 5, batchSize: 4, validation: data.validation, onEpoch: (e) => void seen.push(e) });
    assert.strictEqual(r.reason, "diverged");
    assert.deepStrictEqual(seen, r.history);
    assert.strictEqual(r.history[r.history.length - 1].skipped, 20);
    assert.ok(r.history[0].best, "the weights were never changed: the first epoch scores on validation");
  });

  it("with validation that has no targets there is no best validation loss", function () {
    const { data, model } = setup(3);
    const blind = { inputs: data.validation.inputs, targets: data.validation.targets.map((s) => s.map(() => null)) };
    const r = model.fit(data.train, { epochs: 2, validation: blind });
    assert.strictEqual(r.bestValLoss, null);
    assert.ok(r.bestEpoch >= 1, "the training loss chose the best epoch");
  });
});
