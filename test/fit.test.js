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
