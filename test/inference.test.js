"use strict";
// The predictor's allocation-free path gives exactly what model.predict gives for the last step.
const assert = require("assert");
const { Model, Forecaster, Random } = require("../dist/src");

describe("Forecaster (single-window inference)", function () {
  const configs = {
    "one layer with projection": { inputSize: 1, layers: [{ hiddenSize: 12, outputSize: 1 }] },
    "three layers, projection in the middle, softmax out": {
      inputSize: 3,
      layers: [{ hiddenSize: 6, activation: "relu" }, { hiddenSize: 5, activation: "sigmoid", outputSize: 4, outputActivation: "sigmoid" }, { hiddenSize: 4, outputSize: 3, outputActivation: "softmax" }],
    },
    "no projection at the end": { inputSize: 2, layers: [{ hiddenSize: 7 }, { hiddenSize: 3, activation: "linear" }] },
  };
  for (const [name, cfg] of Object.entries(configs)) {
    it(`equals predict's last step: ${name}`, function () {
      const model = Model.create({ ...cfg, seed: 4 });
      const rng = new Random(8);
      const f = new Forecaster(model);
      for (const T of [1, 5, 24]) {
        const seq = Array.from({ length: T }, () => Array.from({ length: cfg.inputSize }, () => rng.uniform(-2, 2)));
        const want = model.predict([seq])[0][T - 1];
        const got = Array.from(f.run(Float64Array.from(seq.flat()), T));
        assert.strictEqual(got.length, want.length);
        got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-12, `${v} vs ${want[i]}`));
      }
    });
  }

  it("reads the weights live: a changed weight changes the next forecast", function () {
    const model = Model.create({ inputSize: 1, layers: [{ hiddenSize: 4, outputSize: 1 }], seed: 2 });
    const f = new Forecaster(model);
    const x = Float64Array.from([0.1, 0.2, 0.3]);
    const before = f.run(x, 3)[0];
    model.layers[0].params.b_y[0] += 1;
    assert.ok(Math.abs(f.run(x, 3)[0] - (before + 1)) < 1e-12);
  });

  it("rejects an input of the wrong size", function () {
    const f = new Forecaster(Model.create({ inputSize: 2, layers: [{ hiddenSize: 3, outputSize: 1 }] }));
    assert.throws(() => f.run(new Float64Array(5), 3), /expected 3×2 input values, got 5/);
  });
});
