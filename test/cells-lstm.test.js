"use strict";

// The LSTM cell beyond the generic Cell contract (test/cells.test.js): its equations and gate
// order are Keras's, its initialisation is the documented one, its gates' activation survives the
// model file, and it learns a task whose signal lies far back where an Elman layer does not.

const assert = require("node:assert/strict");
const { Model } = require("../dist/src/model");
const { RnnLayer } = require("../dist/src/layer");
const { fastBackend } = require("../dist/src/backends/fast");
const { referenceBackend } = require("../dist/src/backends/reference");
const { Random } = require("../dist/src/random");
const { addingProblem } = require("./helpers/adding");

const sigmoid = (a) => 1 / (1 + Math.exp(-a));
const hardSigmoid = (a) => Math.min(1, Math.max(0, 0.2 * a + 0.5));

/**
 * One LSTM step written from Keras's definition, on the stacked layout (blocks i, f, c, o along
 * the rows of W_x, W_h and bias), for one sequence.
 */
function kerasStep(p, I, H, x, h, c, sigma) {
  const a = (gate, j) => {
    const r = gate * H + j;
    let s = p.bias[r];
    for (let k = 0; k < I; k++) s += p.W_x[r * I + k] * x[k];
    for (let k = 0; k < H; k++) s += p.W_h[r * H + k] * h[k];
    return s;
  };
  const hNext = [], cNext = [];
  for (let j = 0; j < H; j++) {
    const i = sigma(a(0, j)), f = sigma(a(1, j)), g = Math.tanh(a(2, j)), o = sigma(a(3, j));
    cNext.push(f * c[j] + i * g);
    hNext.push(o * Math.tanh(cNext[j]));
  }
  return { h: hNext, c: cNext };
}

function randomise(layer, seed) {
  const rng = new Random(seed);
  for (const w of layer.list()) for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-1.5, 1.5);
}

describe("LSTM cell", function () {
  for (const [name, sigma] of [["sigmoid", sigmoid], ["hardSigmoid", hardSigmoid]]) {
    it(`computes Keras's LSTM step (gates i, f, c, o; recurrentActivation ${name}) on both backends, state = [h, c]`, function () {
      const I = 2, H = 3, T = 3;
      const spec = { cell: "lstm", inputSize: I, hiddenSize: H, activation: "tanh" };
      if (name !== "sigmoid") spec.recurrentActivation = name;
      const layer = RnnLayer.create(spec, { seed: 4 });
      randomise(layer, 12);
      const rng = new Random(5);
      const x = Float64Array.from({ length: T * I }, () => rng.uniform(-1, 1));
      const s0 = Float64Array.from({ length: 2 * H }, () => rng.uniform(-1, 1));
      let h = Array.from(s0.subarray(0, H)), c = Array.from(s0.subarray(H));
      const expected = [];
      for (let t = 0; t < T; t++) {
        ({ h, c } = kerasStep(layer.params, I, H, x.subarray(t * I, (t + 1) * I), h, c, sigma));
        expected.push(...h);
      }
      for (const backend of [fastBackend, referenceBackend]) {
        const fwd = backend.forward(layer, x, 1, T, s0);
        Array.from(fwd.y).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-12, `${backend.name} h[${i}]: ${v} vs ${expected[i]}`));
        Array.from(fwd.state).forEach((v, i) => assert.ok(Math.abs(v - [...h, ...c][i]) < 1e-12, `${backend.name} state[${i}]`));
      }
    });
  }

  it("initialises W_x glorot-uniform, each gate's W_h block orthogonal, the bias 0 but 1 on the forget gate", function () {
    const I = 3, H = 4;
    const { params } = RnnLayer.create({ cell: "lstm", inputSize: I, hiddenSize: H, activation: "tanh" }, { seed: 9 });
    const limit = Math.sqrt(6 / (4 * H + I));
    assert.ok(params.W_x.every((v) => Math.abs(v) <= limit) && params.W_x.some((v) => v !== 0), "W_x within ±√(6/(4H+I))");
    for (let g = 0; g < 4; g++) {
      for (let r = 0; r < H; r++) {
        for (let q = 0; q < H; q++) {
          let dot = 0;
          for (let k = 0; k < H; k++) dot += params.W_h[(g * H + r) * H + k] * params.W_h[(g * H + q) * H + k];
          assert.ok(Math.abs(dot - (r === q ? 1 : 0)) < 1e-12, `gate ${g}: rows ${r}·${q} = ${dot}`);
        }
      }
    }
    assert.deepEqual(Array.from(params.bias), [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("keeps recurrentActivation through the model file (written always, hardSigmoid read back as hardSigmoid)", function () {
    const model = Model.create({ inputSize: 2, seed: 1, layers: [{ cell: "lstm", hiddenSize: 3, recurrentActivation: "hardSigmoid", outputSize: 1 }] });
    assert.equal(model.layers[0].spec.recurrentActivation, "hardSigmoid");
    const json = JSON.parse(JSON.stringify(model.toJSON()));
    assert.equal(json.layers[0].type, "lstm");
    assert.equal(json.layers[0].recurrentActivation, "hardSigmoid");
    const back = Model.fromJSON(json);
    assert.deepEqual(back.layers[0].spec, model.layers[0].spec);
    const x = [[[0.3, -0.2], [0.9, 0.1], [-0.5, 0.7]]];
    assert.deepEqual(back.predict(x), model.predict(x));

    const plain = Model.create({ inputSize: 2, seed: 1, layers: [{ cell: "lstm", hiddenSize: 3 }] }).toJSON();
    assert.equal(plain.layers[0].recurrentActivation, "sigmoid", "the default is written out");
    delete plain.layers[0].recurrentActivation;
    assert.throws(() => Model.fromJSON(plain), /recurrentActivation/, "a file without it is refused (Keras and TF.js default differently)");
    plain.layers[0].recurrentActivation = "relu";
    assert.throws(() => Model.fromJSON(plain), /layers\[0\]\.recurrentActivation.*"sigmoid", "hardSigmoid"/);
    plain.layers[0].recurrentActivation = "sigmoid";
    plain.layers[0].weights.W_x.pop();
    assert.throws(() => Model.fromJSON(plain), /W_x.*expected 12 rows \(4 × hiddenSize: gates i, f, c, o\), got 11/);
  });

  it("refuses recurrentActivation on a cell without gates, and an unknown one", function () {
    assert.throws(() => Model.create({ inputSize: 1, layers: [{ hiddenSize: 2, recurrentActivation: "hardSigmoid" }] }), /gated cell only/);
    assert.throws(() => Model.create({ inputSize: 1, layers: [{ cell: "lstm", hiddenSize: 2, recurrentActivation: "relu" }] }), /recurrentActivation must be one of/);
  });

  describe("learning: the adding problem (T = 50, the sum of the two marked values, scored at the last step only)", function () {
    this.timeout(120000);
    const T = 50;

    const adding = (N, seed) => addingProblem(N, T, seed);

    /** Test MSE after the same budget: 10 epochs over 2000 sequences, Adam, H = 16. */
    function trained(cell) {
      const model = Model.create({ inputSize: 2, seed: 3, layers: [{ cell, hiddenSize: 16, outputSize: 1 }] });
      const test = adding(500, 2);
      const fit = model.fit(adding(2000, 1), { epochs: 10, batchSize: 32, optimizer: "adam", learningRate: 0.02, clipNorm: 1, seed: 4, backend: "fast", validation: test, restoreBest: false });
      return fit.history[fit.history.length - 1].valLoss;
    }

    // Always answering the mean (1) scores Var(U + U) = 1/6 ≈ 0.167.
    it("an LSTM layer reaches a test MSE below 0.01 (about 0.002), where an Elman layer of the same size stays above 0.1 (about 0.15)", function () {
      const lstm = trained("lstm");
      const elman = trained("elman");
      assert.ok(lstm < 0.01, `LSTM test MSE ${lstm.toFixed(4)} (guessing the mean: 0.167)`);
      assert.ok(elman > 0.1, `Elman test MSE ${elman.toFixed(4)}: the task no longer separates the cells`);
    });
  });
});
