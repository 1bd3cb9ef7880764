"use strict";
// The fast Float64Array backend against the mathjs reference, through the whole model API:
// outputs, loss, gradients, and weights after 10 optimizer steps agree to 1e-9.
const assert = require("assert");
const { Model, Random } = require("../dist/src");

const TOL = 1e-9;

function close(a, b, where) {
  if (Array.isArray(a)) return a.forEach((v, i) => close(v, b[i], `${where}[${i}]`));
  const scale = Math.max(1, Math.abs(a), Math.abs(b));
  assert.ok(Math.abs(a - b) <= TOL * scale, `${where}: fast ${a} vs reference ${b}`);
}

function makeData(seed, B, T, I, O) {
  const rng = new Random(seed);
  const inputs = Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from({ length: I }, () => rng.uniform(-1, 1))));
  const targets = inputs.map((seq) => seq.map((_, t) => (t % 3 === 2 || t === T - 1 ? Array.from({ length: O }, () => rng.uniform(-1, 1)) : null)));
  return { inputs, targets };
}

const config = {
  inputSize: 3,
  layers: [
    { hiddenSize: 7, activation: "tanh" },
    { hiddenSize: 5, activation: "relu", outputSize: 2, outputActivation: "linear" },
  ],
  seed: 21,
};

describe("fast backend = mathjs reference backend (model level)", function () {
  this.timeout(60000);

  it("predict, loss and every gradient agree (B=6 exercises the 4-row and the leftover paths)", function () {
    const model = Model.create(config);
    const { inputs, targets } = makeData(1, 6, 9, 3, 2);
    close(model.predict(inputs, { backend: "fast" }), model.predict(inputs, { backend: "reference" }), "outputs");
    for (const truncate of [0, 4]) {
      const f = model.gradients(inputs, targets, { backend: "fast", truncate });
      const r = model.gradients(inputs, targets, { backend: "reference", truncate });
      close(f.loss, r.loss, "loss");
      f.grads.forEach((g, k) => Object.keys(g).forEach((name) => close(g[name], r.grads[k][name], `grads[${k}].${name}`)));
      close(f.dhNorm, r.dhNorm, "dhNorm");
    }
  });

  for (const optimizer of ["sgd", "momentum", "adam", "rmsprop"]) {
    it(`weights after 10 ${optimizer} steps agree`, function () {
      const { inputs, targets } = makeData(2, 20, 8, 3, 2);
      const a = Model.create(config);
      const b = Model.create(config);
      const opts = { epochs: 5, batchSize: 10, optimizer, learningRate: 0.05, clipNorm: 5, shuffle: true, seed: 3, restoreBest: false };
      a.fit({ inputs, targets }, { ...opts, backend: "fast" });
      b.fit({ inputs, targets }, { ...opts, backend: "reference" });
      const before = Model.create(config).toJSON().layers;
      const wa = a.toJSON().layers, wb = b.toJSON().layers;
      wa.forEach((l, k) => Object.keys(l.weights).forEach((n) => close(l.weights[n], wb[k].weights[n], `layers[${k}].${n}`)));
      assert.notDeepStrictEqual(wa[0].weights.W_hh, before[0].weights.W_hh, "training changed the weights");
    });
  }
});
