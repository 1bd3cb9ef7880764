"use strict";
// Exact BPTT: every parameter's gradient of a 2-layer model against central finite differences
// of an independent plain-JS forward pass and loss, for every activation, every loss, with masked
// (null) targets, variable-length sequences and truncation.
const assert = require("assert");
const { Model, Random } = require("../dist/src");
const { forward, describe: describeLayers } = require("./helpers/plain-rnn");
const { plainLoss } = require("./helpers/plain-loss");

// Five-point central differences (error O(h⁴)) with h = 1e-4: accurate to ~1e-12 in float64,
// so the comparison below can be tight.
const EPS = 1e-4;
// Relative error |analytic − numeric| / max(|analytic|, |numeric|); entries where both are below
// 1e-7 are compared absolutely (1e-9), since relative error is meaningless near zero.
const REL_TOL = 1e-6;

function randomTensor(rng, B, T, F, lengths) {
  return Array.from({ length: B }, (_, b) => Array.from({ length: lengths ? lengths[b] : T }, () => Array.from({ length: F }, () => rng.uniform(-1, 1))));
}

function check(analytic, numeric, where) {
  const a = analytic, n = numeric;
  const scale = Math.max(Math.abs(a), Math.abs(n));
  if (scale < 1e-7) {
    assert.ok(Math.abs(a - n) < 1e-9, `${where}: analytic ${a} vs numeric ${n}`);
    return 0;
  }
  const rel = Math.abs(a - n) / scale;
  assert.ok(rel < REL_TOL, `${where}: analytic ${a} vs numeric ${n} (relative error ${rel.toExponential(2)})`);
  return rel;
}

function flatGrad(grad, name) {
  const g = grad[name];
  return Array.isArray(g[0]) ? g.flat() : g;
}

/**
 * Compares model.gradients with central differences of `lossOf()` for every entry of every
 * parameter; returns the worst relative error seen.
 */
function gradientCheck(model, inputs, targets, options, lossOf) {
  const { grads } = model.gradients(inputs, targets, options);
  let worst = 0;
  model.layers.forEach((layer, k) => {
    for (const name of layer.names()) {
      const w = layer.params[name];
      const analytic = flatGrad(grads[k], name);
      assert.strictEqual(analytic.length, w.length, `grads[${k}].${name} has the parameter's size`);
      for (let i = 0; i < w.length; i++) {
        const keep = w[i];
        const at = (d) => {
          w[i] = keep + d;
          return lossOf();
        };
        const numeric = (-at(2 * EPS) + 8 * at(EPS) - 8 * at(-EPS) + at(-2 * EPS)) / (12 * EPS);
        w[i] = keep;
        worst = Math.max(worst, check(analytic[i], numeric, `layers[${k}].${name}[${i}]`));
      }
    }
  });
  return worst;
}

function twoLayer(f, g, O, seed = 7) {
  const model = Model.create({
    inputSize: 2,
    layers: [
      { hiddenSize: 4, activation: f },
      { hiddenSize: 3, activation: f, outputSize: O, outputActivation: g },
    ],
    seed,
    // Gains above 1 make the recurrent path matter, so errors in dh_next would show.
    recurrentGain: 1.2,
  });
  // Non-zero biases: with zero biases a relu unit fed only zeros sits exactly on its kink, where
  // finite differences see half a slope.
  const rng = new Random(seed + 100);
  for (const layer of model.layers) for (const b of [layer.params.b_h, layer.params.b_y]) if (b) for (let i = 0; i < b.length; i++) b[i] = rng.uniform(-0.5, 0.5);
  return model;
}

function randomTargets(rng, B, T, O, { nullStepP = 0, nullEntryP = 0, onehot = false, prob = false, lengths } = {}) {
  return Array.from({ length: B }, (_, b) => Array.from({ length: lengths ? lengths[b] : T }, () => {
    if (rng.next() < nullStepP) return null;
    if (onehot) {
      const c = rng.int(O);
      return Array.from({ length: O }, (_, o) => (o === c ? 1 : 0));
    }
    return Array.from({ length: O }, () => (rng.next() < nullEntryP ? null : prob ? rng.uniform(0.05, 0.95) : rng.uniform(-1.5, 1.5)));
  }));
}

describe("BPTT gradients against finite differences (2 layers, float64)", function () {
  const B = 3, T = 5;

  for (const f of ["tanh", "relu", "sigmoid", "linear"]) {
    for (const loss of ["mse", "mae", "huber"]) {
      it(`${f} hidden, linear output, ${loss}, masked targets: every parameter within ${REL_TOL}`, function () {
        const rng = new Random(11);
        const model = twoLayer(f, "linear", 2);
        const inputs = randomTensor(rng, B, T, 2);
        const targets = randomTargets(rng, B, T, 2, { nullStepP: 0.3, nullEntryP: 0.2 });
        const opts = { loss, delta: 0.4 };
        const worst = gradientCheck(model, inputs, targets, opts, () => plainLoss(loss, forward(describeLayers(model), inputs).outputs, targets, 0.4));
        assert.ok(worst < REL_TOL);
      });
    }
  }

  for (const g of ["sigmoid", "softmax"]) {
    it(`mse through a ${g} output: exact`, function () {
      const rng = new Random(12);
      const model = twoLayer("tanh", g, 3);
      const inputs = randomTensor(rng, B, T, 2);
      const targets = randomTargets(rng, B, T, 3, { nullStepP: 0.2, prob: true });
      gradientCheck(model, inputs, targets, { loss: "mse" }, () => plainLoss("mse", forward(describeLayers(model), inputs).outputs, targets));
    });
  }

  it("crossentropy with softmax output (one-hot classes, null steps): exact", function () {
    const rng = new Random(13);
    const model = twoLayer("tanh", "softmax", 3);
    const inputs = randomTensor(rng, B, T, 2);
    const targets = randomTargets(rng, B, T, 3, { nullStepP: 0.3, onehot: true });
    gradientCheck(model, inputs, targets, { loss: "crossentropy" }, () => plainLoss("crossentropy-softmax", forward(describeLayers(model), inputs).outputs, targets));
  });

  it("crossentropy with sigmoid output (binary, soft labels): exact", function () {
    const rng = new Random(14);
    const model = twoLayer("relu", "sigmoid", 2);
    const inputs = randomTensor(rng, B, T, 2);
    const targets = randomTargets(rng, B, T, 2, { prob: true, nullEntryP: 0.2 });
    gradientCheck(model, inputs, targets, { loss: "crossentropy" }, () => plainLoss("crossentropy-sigmoid", forward(describeLayers(model), inputs).outputs, targets));
  });

  it("last-step-only targets (the forecasting case): exact", function () {
    const rng = new Random(15);
    const model = twoLayer("tanh", "linear", 1);
    const inputs = randomTensor(rng, B, 8, 2);
    const targets = inputs.map((seq) => seq.map((_, t) => (t === 7 ? [rng.uniform(-1, 1)] : null)));
    gradientCheck(model, inputs, targets, { loss: "mse" }, () => plainLoss("mse", forward(describeLayers(model), inputs).outputs, targets));
  });

  it("variable-length sequences: gradients exact, and padding changes neither loss nor gradients", function () {
    const rng = new Random(16);
    const model = twoLayer("tanh", "linear", 1);
    const lengths = [5, 2, 4];
    const inputs = randomTensor(rng, 3, 5, 2, lengths);
    const targets = randomTargets(rng, 3, 5, 1, { lengths });
    gradientCheck(model, inputs, targets, { loss: "mse" }, () => plainLoss("mse", forward(describeLayers(model), inputs).outputs, targets));
    // The same batch padded by hand to length 5 with junk inputs and null targets: identical result.
    const padded = inputs.map((seq) => seq.concat(Array.from({ length: 5 - seq.length }, () => [rng.uniform(-9, 9), rng.uniform(-9, 9)])));
    const paddedTargets = targets.map((seq) => seq.concat(Array.from({ length: 5 - seq.length }, () => null)));
    const a = model.gradients(inputs, targets);
    const b = model.gradients(padded, paddedTargets);
    assert.strictEqual(a.loss, b.loss);
    assert.deepStrictEqual(a.grads, b.grads);
  });

  for (const k of [1, 2, 3]) {
    it(`truncated BPTT (k=${k}) equals the gradient with the state entering each block held fixed`, function () {
      const rng = new Random(17 + k);
      const model = twoLayer("tanh", "linear", 2);
      const T7 = 7;
      const inputs = randomTensor(rng, B, T7, 2);
      const targets = randomTargets(rng, B, T7, 2, { nullStepP: 0.2 });
      // Blocks are counted back from the last step: step t starts a block when (T − t) % k === 0.
      const base = forward(describeLayers(model), inputs).states;
      const frozen = base.map((layerStates) => layerStates.map((hs) => hs.slice(0, T7).map((h, t) => (t > 0 && (T7 - t) % k === 0 ? h.slice() : undefined))));
      gradientCheck(model, inputs, targets, { loss: "mse", truncate: k }, () => plainLoss("mse", forward(describeLayers(model), inputs, frozen).outputs, targets));
      // and it is really different from full BPTT (the check above is not vacuous)
      const full = model.gradients(inputs, targets, { loss: "mse" }).grads[0].W_hh.flat();
      const cut = model.gradients(inputs, targets, { loss: "mse", truncate: k }).grads[0].W_hh.flat();
      assert.ok(full.some((v, i) => Math.abs(v - cut[i]) > 1e-6), "truncation changes W_hh's gradient");
    });
  }

  it("reports ‖∂L/∂h_t‖ per time step, and it shrinks back through time for a contracting layer", function () {
    const model = Model.create({ inputSize: 1, layers: [{ hiddenSize: 8, activation: "tanh", outputSize: 1, recurrentGain: 0.5 }], seed: 3 });
    const rng = new Random(5);
    const inputs = randomTensor(rng, 4, 20, 1);
    const targets = inputs.map((seq) => seq.map((_, t) => (t === 19 ? [1] : null)));
    const { dhNorm } = model.gradients(inputs, targets);
    assert.strictEqual(dhNorm[0].length, 20);
    assert.ok(dhNorm[0][19] > 0);
    assert.ok(dhNorm[0][0] < dhNorm[0][19] * 1e-3, `gradient vanishes: first ${dhNorm[0][0]} vs last ${dhNorm[0][19]}`);
  });
});

describe("forward pass against the plain implementation", function () {
  it("predict equals the naive nested-array forward for a 3-layer stack", function () {
    const model = Model.create({
      inputSize: 2,
      layers: [{ hiddenSize: 5, activation: "relu" }, { hiddenSize: 4, activation: "sigmoid" }, { hiddenSize: 3, activation: "tanh", outputSize: 2, outputActivation: "softmax" }],
      seed: 9,
    });
    const inputs = randomTensor(new Random(2), 5, 6, 2);
    const got = model.predict(inputs);
    const want = forward(describeLayers(model), inputs).outputs;
    got.forEach((seq, b) => seq.forEach((y, t) => y.forEach((v, o) => assert.ok(Math.abs(v - want[b][t][o]) < 1e-12, `[${b}][${t}][${o}]`))));
  });

  it("same seed gives the same weights; another seed different ones", function () {
    const spec = { inputSize: 1, layers: [{ hiddenSize: 6, outputSize: 1 }] };
    const a = Model.create({ ...spec, seed: 4 }).toJSON();
    const b = Model.create({ ...spec, seed: 4 }).toJSON();
    const c = Model.create({ ...spec, seed: 5 }).toJSON();
    assert.deepStrictEqual(a, b);
    assert.notDeepStrictEqual(a.layers[0].weights, c.layers[0].weights);
  });
});
