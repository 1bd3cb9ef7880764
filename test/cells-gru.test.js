"use strict";

// The GRU cell beyond the Cell contract (test/cells.test.js): that it computes the GRU as Keras
// and TensorFlow.js define it, in their weight layout; that its model-file fields are checked;
// and that it learns a dependency far back in time that an Elman layer of the same size does not.

const assert = require("node:assert/strict");
const { Model, Random, RnnLayer, fastBackend, ModelFileError } = require("../dist/src");
const { addingProblem } = require("./helpers/adding");

const sigmoid = (a) => 1 / (1 + Math.exp(-a));
const hardSigmoid = (a) => Math.min(1, Math.max(0, 0.2 * a + 0.5));

/**
 * One sequence through a GRU written from the Keras definition, on Keras-shaped weights:
 * kernel I×3H, recurrentKernel H×3H, bias 3H (or 2×3H with the reset after: input bias, then
 * recurrent bias), columns in the gate order z, r, h. Returns h_1 … h_T.
 */
function kerasGru(w, xs, { H, resetAfter, recurrentActivation }) {
  const sig = recurrentActivation === "hardSigmoid" ? hardSigmoid : sigmoid;
  const inBias = resetAfter ? w.bias[0] : w.bias;
  const recBias = resetAfter ? w.bias[1] : new Array(3 * H).fill(0);
  // x·kernel + bias and h·recurrentKernel (+ recurrent bias), as row vectors.
  const xk = (x) => inBias.map((b0, c) => b0 + x.reduce((s, v, i) => s + v * w.kernel[i][c], 0));
  const hk = (h, cols) => cols.map((c) => recBias[c] + h.reduce((s, v, k) => s + v * w.recurrentKernel[k][c], 0));
  const range = (g) => Array.from({ length: H }, (_, j) => g * H + j);
  let h = new Array(H).fill(0);
  const out = [];
  for (const x of xs) {
    const ax = xk(x);
    const hz = hk(h, range(0)), hr = hk(h, range(1));
    const z = range(0).map((c, j) => sig(ax[c] + hz[j]));
    const r = range(1).map((c, j) => sig(ax[c] + hr[j]));
    let cand;
    if (resetAfter) {
      const hh = hk(h, range(2));
      cand = range(2).map((c, j) => Math.tanh(ax[c] + r[j] * hh[j]));
    } else {
      const rh = h.map((v, k) => r[k] * v);
      cand = range(2).map((c, j) => Math.tanh(ax[c] + rh.reduce((s, v, k) => s + v * w.recurrentKernel[k][c], 0)));
    }
    h = h.map((v, j) => z[j] * v + (1 - z[j]) * cand[j]);
    out.push(h);
  }
  return out;
}

/** Keras's arrays from ours: each fused matrix transposed, the biases stacked as Keras keeps them. */
function toKeras(layer, I, H) {
  const { W_x, W_h, bias, recurrentBias } = layer.params;
  const transpose = (flat, rows, cols) => Array.from({ length: cols }, (_, c) => Array.from({ length: rows }, (_, r) => flat[r * cols + c]));
  return {
    kernel: transpose(W_x, 3 * H, I),
    recurrentKernel: transpose(W_h, 3 * H, H),
    bias: recurrentBias ? [Array.from(bias), Array.from(recurrentBias)] : Array.from(bias),
  };
}

describe("GRU: the Keras / TensorFlow.js definition", function () {
  for (const form of [{}, { resetAfter: true }, { recurrentActivation: "hardSigmoid" }]) {
    it(`equals a GRU written from the Keras equations on Keras's kernel, recurrent kernel and bias (${JSON.stringify(form)})`, function () {
      const I = 2, H = 3, T = 5;
      const layer = RnnLayer.create({ cell: "gru", inputSize: I, hiddenSize: H, activation: "tanh", ...form }, { seed: 4 });
      const rng = new Random(12);
      for (const w of layer.list()) for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-0.9, 0.9);
      const xs = Array.from({ length: T }, () => Array.from({ length: I }, () => rng.uniform(-1, 1)));
      const expected = kerasGru(toKeras(layer, I, H), xs, { H, resetAfter: form.resetAfter === true, recurrentActivation: form.recurrentActivation });
      const got = fastBackend.forward(layer, Float64Array.from(xs.flat()), 1, T).y;
      for (let t = 0; t < T; t++) {
        for (let j = 0; j < H; j++) assert.ok(Math.abs(got[t * H + j] - expected[t][j]) < 1e-12, `h_${t + 1}[${j}]: ${got[t * H + j]} vs Keras ${expected[t][j]}`);
      }
    });
  }

  it("the two forms differ (the reset gate's place matters) and resetAfter adds the recurrent bias recurrentBias", function () {
    const before = RnnLayer.create({ cell: "gru", inputSize: 1, hiddenSize: 2, activation: "tanh" }, { seed: 1 });
    const after = RnnLayer.create({ cell: "gru", inputSize: 1, hiddenSize: 2, activation: "tanh", resetAfter: true }, { seed: 1 });
    assert.deepEqual(before.names(), ["W_x", "W_h", "bias"]);
    assert.deepEqual(after.names(), ["W_x", "W_h", "bias", "recurrentBias"]);
    const rng = new Random(3);
    for (const w of before.list()) for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-1, 1);
    ["W_x", "W_h", "bias"].forEach((n) => after.params[n].set(before.params[n]));
    const x = Float64Array.from([0.5, -1, 0.3, 0.8]);
    const diff = Math.max(...fastBackend.forward(before, x, 1, 4).y.map((v, i) => Math.abs(v - fastBackend.forward(after, x, 1, 4).y[i])));
    assert.ok(diff > 1e-3, `the forms gave the same outputs (max |Δ| ${diff})`);
  });

  it("initialises W_x glorot-uniform, each gate's block of W_h orthogonal, the biases zero", function () {
    const H = 4, I = 3;
    const layer = RnnLayer.create({ cell: "gru", inputSize: I, hiddenSize: H, activation: "tanh", resetAfter: true }, { seed: 2 });
    const { W_x, W_h, bias, recurrentBias } = layer.params;
    const limit = Math.sqrt(6 / (3 * H + I));
    assert.ok(W_x.every((v) => Math.abs(v) <= limit) && W_x.some((v) => v !== 0), "W_x within the glorot limit");
    for (let g = 0; g < 3; g++) {
      for (let r = 0; r < H; r++) {
        for (let s = 0; s < H; s++) {
          let dot = 0;
          for (let k = 0; k < H; k++) dot += W_h[(g * H + r) * H + k] * W_h[(g * H + s) * H + k];
          assert.ok(Math.abs(dot - (r === s ? 1 : 0)) < 1e-12, `gate ${g}: rows ${r}·${s} = ${dot}`);
        }
      }
    }
    assert.ok(bias.every((v) => v === 0) && recurrentBias.every((v) => v === 0), "zero biases");
  });
});

describe("GRU: settings and the model file", function () {
  const fileOf = (layer = {}) => {
    const json = Model.create({ inputSize: 1, seed: 1, layers: [{ cell: "gru", hiddenSize: 2, resetAfter: true, recurrentActivation: "hardSigmoid", outputSize: 1 }] }).toJSON();
    Object.assign(json.layers[0], layer);
    return json;
  };

  it('writes type "gru" with activation, recurrentActivation and resetAfter, and reads them back', function () {
    const json = fileOf();
    const l = json.layers[0];
    assert.equal(l.type, "gru");
    assert.deepEqual([l.activation, l.recurrentActivation, l.resetAfter], ["tanh", "hardSigmoid", true]);
    assert.deepEqual(Object.keys(l.weights), ["W_x", "W_h", "bias", "recurrentBias", "W_hy", "b_y"]);
    const back = Model.fromJSON(JSON.parse(JSON.stringify(json)));
    assert.equal(back.layers[0].spec.resetAfter, true);
    assert.equal(back.layers[0].spec.recurrentActivation, "hardSigmoid");
    // The defaults are written out too: a file always says which form it holds.
    const plain = Model.create({ inputSize: 1, layers: [{ cell: "gru", hiddenSize: 2 }] }).toJSON().layers[0];
    assert.deepEqual([plain.recurrentActivation, plain.resetAfter], ["sigmoid", false]);
  });

  for (const [what, change, field] of [
    ["a resetAfter that is not a boolean", { resetAfter: "yes" }, "layers[0].resetAfter"],
    ["an unknown recurrentActivation", { recurrentActivation: "relu" }, "layers[0].recurrentActivation"],
    ["a missing resetAfter", { resetAfter: undefined }, "layers[0].resetAfter"],
  ]) {
    it(`refuses ${what} with the field named`, function () {
      const json = JSON.parse(JSON.stringify(fileOf(change)));
      assert.throws(() => Model.fromJSON(json), (err) => err instanceof ModelFileError && err.field === field);
    });
  }

  it("refuses weights of the other form (recurrentBias without resetAfter)", function () {
    const json = JSON.parse(JSON.stringify(fileOf({ resetAfter: false })));
    assert.throws(() => Model.fromJSON(json), (err) => err instanceof ModelFileError && err.field === "layers[0].weights.recurrentBias");
  });

  it("Model.create refuses an unknown recurrentActivation", function () {
    assert.throws(() => Model.create({ inputSize: 1, layers: [{ cell: "gru", hiddenSize: 2, recurrentActivation: "softsign" }] }), /recurrentActivation must be one of "sigmoid", "hardSigmoid"/);
  });
});

describe("GRU: learning a dependency far back", function () {
  this.timeout(60000);

  it("adding problem, T = 50, H = 16, 8 epochs of 1500 sequences: GRU validation MSE < 0.01 (the mean-sum rule ≈ 0.15), Elman of the same size and budget stays > 0.1", function () {
    const T = 50;
    const train = addingProblem(1500, T, 1).nested();
    const held = addingProblem(500, T, 2);
    const validation = held.nested();
    const options = { epochs: 8, batchSize: 32, optimizer: "adam", learningRate: 0.01, clipNorm: 1, seed: 3, backend: "fast" };
    const score = (cell) => {
      const model = Model.create({ inputSize: 2, seed: 1, layers: [{ cell, hiddenSize: 16, outputSize: 1 }] });
      model.fit(train, { ...options, validation });
      return model.evaluate(validation.inputs, validation.targets);
    };
    const meanRule = held.meanRule();
    const gru = score("gru");
    const elman = score("elman");
    const figures = `GRU ${gru.toFixed(4)}, Elman ${elman.toFixed(4)}, mean-sum rule ${meanRule.toFixed(4)}`;
    assert.ok(gru < 0.01, `GRU did not learn the sum: ${figures}`);
    assert.ok(elman > 0.1, `Elman learned it as well, so the task does not tell them apart: ${figures}`);
    console.log(`      adding problem T=${T}, validation MSE: ${figures}`);
  });
});
