"use strict";

const assert = require("assert");
const {
  createOptimizer,
  OPTIMIZERS,
  Optimizer,
  Sgd,
  Momentum,
  Adam,
  RmsProp,
} = require("../dist/src/optimizers");

/** Asserts |actual[i] − expected[i]| ≤ tol for every entry. */
function assertClose(actual, expected, tol, label) {
  assert.strictEqual(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    assert.ok(diff <= tol, `${label}[${i}]: got ${actual[i]}, expected ${expected[i]} (±${tol})`);
  }
}

/** Two steps from w = [1, −2] with the given gradients; returns the weights after each step. */
function twoSteps(optimizer, g1, g2) {
  const w = new Float64Array([1, -2]);
  optimizer.step([w], [new Float64Array(g1)]);
  const after1 = Array.from(w);
  optimizer.step([w], [new Float64Array(g2)]);
  return [after1, Array.from(w)];
}

// The expected numbers below were worked out by hand from the update rules written in each
// optimizer's documentation; the derivation is in the comment next to each case.
const G = [0.5, 0.25];
const G2 = [-0.5, 0.5];
const TIGHT = 1e-12;

describe("optimizers", function () {
  describe("sgd", function () {
    it("moves w by −lr·g on each step", function () {
      // w1 = [1 − 0.1·0.5, −2 − 0.1·0.25] = [0.95, −2.025]; w2 = w1 − the same step.
      const [w1, w2] = twoSteps(new Sgd({ learningRate: 0.1 }), G, G);
      assertClose(w1, [0.95, -2.025], TIGHT, "step 1");
      assertClose(w2, [0.9, -2.05], TIGHT, "step 2");
    });

    it("adds weightDecay·w to the gradient (coupled L2)", function () {
      // g' = g + 0.1·w = [0.6, 0.05] → w1 = [0.94, −2.005]
      // g' = [0.5 + 0.094, 0.25 − 0.2005] = [0.594, 0.0495] → w2 = [0.8806, −2.00995]
      const [w1, w2] = twoSteps(new Sgd({ learningRate: 0.1, weightDecay: 0.1 }), G, G);
      assertClose(w1, [0.94, -2.005], TIGHT, "step 1");
      assertClose(w2, [0.8806, -2.00995], TIGHT, "step 2");
    });

    it("defaults to learning rate 0.01 and no weight decay", function () {
      assert.deepStrictEqual(new Sgd().getConfig(), { name: "sgd", learningRate: 0.01, weightDecay: 0 });
    });
  });

  describe("momentum", function () {
    it("accumulates velocity v = μ·v + g and moves by −lr·v", function () {
      // v1 = g = [0.5, 0.25] → w1 = [0.95, −2.025]
      // v2 = 0.9·[0.5, 0.25] + [0.5, 0.25] = [0.95, 0.475] → w2 = [0.855, −2.0725]
      const [w1, w2] = twoSteps(new Momentum({ learningRate: 0.1, momentum: 0.9 }), G, G);
      assertClose(w1, [0.95, -2.025], TIGHT, "step 1");
      assertClose(w2, [0.855, -2.0725], TIGHT, "step 2");
    });

    it("Nesterov moves by −lr·(g + μ·v) with the updated v", function () {
      // v1 = [0.5, 0.25]; g + 0.9·v1 = [0.95, 0.475] → w1 = [0.905, −2.0475]
      // v2 = [0.95, 0.475]; g + 0.9·v2 = [1.355, 0.6775] → w2 = [0.7695, −2.11525]
      const opt = new Momentum({ learningRate: 0.1, momentum: 0.9, nesterov: true });
      const [w1, w2] = twoSteps(opt, G, G);
      assertClose(w1, [0.905, -2.0475], TIGHT, "step 1");
      assertClose(w2, [0.7695, -2.11525], TIGHT, "step 2");
    });

    it("puts weight decay into the gradient before it enters the velocity", function () {
      // g' = [0.6, 0.05], v1 = g' → w1 = [0.94, −2.005]
      // g' = [0.594, 0.0495], v2 = 0.9·[0.6, 0.05] + g' = [1.134, 0.0945] → w2 = [0.8266, −2.01445]
      const opt = new Momentum({ learningRate: 0.1, momentum: 0.9, weightDecay: 0.1 });
      const [w1, w2] = twoSteps(opt, G, G);
      assertClose(w1, [0.94, -2.005], TIGHT, "step 1");
      assertClose(w2, [0.8266, -2.01445], TIGHT, "step 2");
    });

    it("defaults to μ 0.9, learning rate 0.01, classic momentum", function () {
      assert.deepStrictEqual(new Momentum().getConfig(), {
        name: "momentum",
        learningRate: 0.01,
        weightDecay: 0,
        momentum: 0.9,
        nesterov: false,
      });
    });
  });

  describe("adam", function () {
    it("takes a first step of lr·sign(g) whatever the gradient's scale (bias correction)", function () {
      // m̂ = g and v̂ = g² at t = 1, so the step is lr·g/(|g| + ε): short of lr by at most
      // lr·ε/|g|, which is 1e-7 for the smallest gradient here (0.001) with the default ε 1e-8.
      const opt = new Adam({ learningRate: 0.01 });
      const w = new Float64Array([1, -2, 0.5]);
      opt.step([w], [new Float64Array([0.001, -1000, 3])]);
      assertClose(w, [0.99, -1.99, 0.49], 1.01e-7, "step 1");
    });

    it("follows the bias-corrected moment estimates on the second step", function () {
      // β1 = β2 = 0.5, ε = 1e-12, lr = 0.1.
      // t=1, g=[0.5, 0.25]: m=[0.25, 0.125], v=[0.125, 0.03125]; corrected by 1−0.5 = 0.5:
      //   m̂=[0.5, 0.25], √v̂=[0.5, 0.25] → step [0.1, 0.1] → w1 = [0.9, −2.1]
      // t=2, g=[−0.5, 0.5]: m=[−0.125, 0.3125], v=[0.1875, 0.140625]; corrected by 1−0.25 = 0.75:
      //   m̂=[−1/6, 5/12], v̂=[1/4, 3/16] → step 0.1·[−1/3, 5/(3√3)]
      //   w2 = [0.9 + 0.1/3, −2.1 − 0.5/(3√3)] = [0.933333333333, −2.196225044865]
      const opt = new Adam({ learningRate: 0.1, beta1: 0.5, beta2: 0.5, epsilon: 1e-12 });
      const [w1, w2] = twoSteps(opt, G, G2);
      assertClose(w1, [0.9, -2.1], 1e-10, "step 1");
      assertClose(w2, [0.933333333333, -2.196225044865], 1e-10, "step 2");
    });

    it("couples weight decay into the gradient, not into the weights (not AdamW)", function () {
      // g' = g + 0.5·w = [1, −0.75]: the second entry's sign flips, so the first step is
      // lr·sign(g') = [0.1, −0.1] → w1 = [0.9, −1.9]. Decoupled decay would give −2.05 there.
      const opt = new Adam({ learningRate: 0.1, weightDecay: 0.5 });
      const w = new Float64Array([1, -2]);
      opt.step([w], [new Float64Array(G)]);
      assertClose(w, [0.9, -1.9], 1e-8, "step 1");
    });

    it("defaults to lr 0.001, β1 0.9, β2 0.999, ε 1e-8", function () {
      assert.deepStrictEqual(new Adam().getConfig(), {
        name: "adam",
        learningRate: 0.001,
        weightDecay: 0,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
      });
    });
  });

  describe("rmsprop", function () {
    it("divides each step by the running RMS of the gradient", function () {
      // ρ = 0.5, ε = 1e-12, lr = 0.1.
      // t=1, g=[0.5, 0.25]: s = 0.5·g² = [0.125, 0.03125], g/√s = [√2, √2]
      //   w1 = [1 − 0.1√2, −2 − 0.1√2] = [0.858578643763, −2.141421356237]
      // t=2, g=[−0.5, 0.5]: s = [0.0625 + 0.125, 0.015625 + 0.125] = [0.1875, 0.140625],
      //   g/√s = [−2/√3, 4/3] → w2 = [0.858578643763 + 0.2/√3, −2.141421356237 − 0.4/3]
      //   = [0.974048697601, −2.274754689571]
      const opt = new RmsProp({ learningRate: 0.1, rho: 0.5, epsilon: 1e-12 });
      const [w1, w2] = twoSteps(opt, G, G2);
      assertClose(w1, [0.858578643763, -2.141421356237], 1e-10, "step 1");
      assertClose(w2, [0.974048697601, -2.274754689571], 1e-10, "step 2");
    });

    it("couples weight decay into the gradient", function () {
      // g' = g + 0.5·w = [1, −0.75]; s = 0.5·g'² so g'/√s = ±√2 → w1 = [1 − 0.1√2, −2 + 0.1√2]
      const opt = new RmsProp({ learningRate: 0.1, rho: 0.5, epsilon: 1e-12, weightDecay: 0.5 });
      const w = new Float64Array([1, -2]);
      opt.step([w], [new Float64Array(G)]);
      assertClose(w, [0.858578643763, -1.858578643763], 1e-10, "step 1");
    });

    it("defaults to lr 0.001, ρ 0.9, ε 1e-7", function () {
      assert.deepStrictEqual(new RmsProp().getConfig(), {
        name: "rmsprop",
        learningRate: 0.001,
        weightDecay: 0,
        rho: 0.9,
        epsilon: 1e-7,
      });
    });
  });

  describe("state", function () {
    it("keeps separate state for each array of the list", function () {
      // Momentum on two arrays: each velocity only sees its own gradients.
      const opt = new Momentum({ learningRate: 0.1, momentum: 0.9 });
      const a = new Float64Array([1]);
      const b = new Float64Array([1]);
      opt.step([a, b], [new Float64Array([1]), new Float64Array([0])]);
      opt.step([a, b], [new Float64Array([0]), new Float64Array([1])]);
      // a: v = 1 then 0.9 → 1 − 0.1 − 0.09 = 0.81; b: v = 0 then 1 → 1 − 0.1 = 0.9
      assertClose(a, [0.81], TIGHT, "a");
      assertClose(b, [0.9], TIGHT, "b");
    });

    it("reset() makes the next step identical to a fresh optimizer's first step", function () {
      for (const name of OPTIMIZERS) {
        const used = createOptimizer(name, { learningRate: 0.1 });
        const w = new Float64Array([1, -2]);
        used.step([w], [new Float64Array(G)]);
        used.step([w], [new Float64Array(G2)]);
        used.reset();
        const fresh = createOptimizer(name, { learningRate: 0.1 });
        const wUsed = new Float64Array([1, -2]);
        const wFresh = new Float64Array([1, -2]);
        used.step([wUsed], [new Float64Array(G2)]);
        fresh.step([wFresh], [new Float64Array(G2)]);
        assert.deepStrictEqual(Array.from(wUsed), Array.from(wFresh), name);
      }
    });

    it("rejects an array whose length changed, naming its index, until reset()", function () {
      for (const name of OPTIMIZERS) {
        const opt = createOptimizer(name);
        opt.step([new Float64Array(2), new Float64Array(3)], [new Float64Array(2), new Float64Array(3)]);
        const a = new Float64Array([5, 6]);
        const b = new Float64Array([1, 2, 3, 4]);
        assert.throws(
          () => opt.step([a, b], [new Float64Array([1, 1]), new Float64Array(4).fill(1)]),
          /parameter 1 changed length from 3 to 4/,
          name,
        );
        // The check runs before any update, so the array before the bad one is untouched too.
        assert.deepStrictEqual(Array.from(a), [5, 6], `${name}: untouched`);
        opt.reset();
        assert.doesNotThrow(() => opt.step([a, b], [new Float64Array(2), new Float64Array(4)]), name);
      }
    });

    it("rejects a gradient whose length differs from its parameter's", function () {
      const opt = new Sgd();
      const w = new Float64Array([1, 2]);
      assert.throws(() => opt.step([w], [new Float64Array(3)]), /parameter 0 has 2 entries but its gradient has 3/);
      assert.throws(() => opt.step([w], []), /1 parameter arrays but 0 gradient arrays/);
      assert.deepStrictEqual(Array.from(w), [1, 2]);
    });
  });

  describe("learning rate and configuration", function () {
    it("uses a lowered learning rate from the next step on", function () {
      const opt = new Sgd({ learningRate: 0.1 });
      const w = new Float64Array([1]);
      opt.step([w], [new Float64Array([1])]);
      opt.learningRate = 0.01;
      opt.step([w], [new Float64Array([1])]);
      assertClose(w, [0.89], TIGHT, "w");
      assert.throws(() => {
        opt.learningRate = 0;
      }, /sgd: learningRate must be a finite number > 0, got 0/);
      assert.strictEqual(opt.learningRate, 0.01);
    });

    it("getConfig() rebuilds an optimizer that makes the same updates", function () {
      const options = {
        learningRate: 0.05,
        weightDecay: 0.01,
        momentum: 0.8,
        nesterov: true,
        beta1: 0.7,
        beta2: 0.95,
        epsilon: 1e-6,
        rho: 0.8,
      };
      for (const name of OPTIMIZERS) {
        const a = createOptimizer(name, options);
        const b = createOptimizer(a.getConfig().name, a.getConfig());
        const wa = new Float64Array([1, -2]);
        const wb = new Float64Array([1, -2]);
        for (const g of [G, G2, G]) {
          a.step([wa], [new Float64Array(g)]);
          b.step([wb], [new Float64Array(g)]);
        }
        assert.deepStrictEqual(Array.from(wb), Array.from(wa), name);
        assert.deepStrictEqual(b.getConfig(), a.getConfig(), name);
      }
    });
  });

  describe("createOptimizer", function () {
    it("builds each named optimizer", function () {
      const classes = { sgd: Sgd, momentum: Momentum, adam: Adam, rmsprop: RmsProp };
      assert.deepStrictEqual([...OPTIMIZERS], ["sgd", "momentum", "adam", "rmsprop"]);
      for (const name of OPTIMIZERS) {
        const opt = createOptimizer(name);
        assert.ok(opt instanceof classes[name], name);
        assert.ok(opt instanceof Optimizer, name);
        assert.strictEqual(opt.name, name);
      }
    });

    it("rejects an unknown name and lists the known ones", function () {
      assert.throws(() => createOptimizer("adagrad"), /unknown optimizer "adagrad" \(expected one of sgd, momentum, adam, rmsprop\)/);
    });

    it("ignores options that the chosen optimizer does not use", function () {
      const opt = createOptimizer("sgd", { learningRate: 0.2, beta1: 0.5, rho: 0.3 });
      assert.deepStrictEqual(opt.getConfig(), { name: "sgd", learningRate: 0.2, weightDecay: 0 });
    });
  });

  describe("option validation", function () {
    const cases = [
      ["sgd", { learningRate: 0 }, /sgd: learningRate must be a finite number > 0, got 0/],
      ["sgd", { learningRate: -0.1 }, /sgd: learningRate must be a finite number > 0, got -0\.1/],
      ["adam", { learningRate: Infinity }, /adam: learningRate must be a finite number > 0, got Infinity/],
      ["rmsprop", { learningRate: NaN }, /rmsprop: learningRate must be a finite number > 0, got NaN/],
      ["sgd", { learningRate: "0.1" }, /sgd: learningRate must be a finite number > 0, got "0\.1"/],
      ["momentum", { weightDecay: -1e-4 }, /momentum: weightDecay must be a finite number >= 0, got -0\.0001/],
      ["momentum", { momentum: 1 }, /momentum: momentum must be a number in \[0, 1\), got 1/],
      ["momentum", { momentum: -0.5 }, /momentum: momentum must be a number in \[0, 1\), got -0\.5/],
      ["momentum", { nesterov: "yes" }, /momentum: nesterov must be true or false, got "yes"/],
      ["adam", { beta1: 1 }, /adam: beta1 must be a number in \[0, 1\), got 1/],
      ["adam", { beta2: 1.5 }, /adam: beta2 must be a number in \[0, 1\), got 1\.5/],
      ["adam", { epsilon: 0 }, /adam: epsilon must be a finite number > 0, got 0/],
      ["rmsprop", { rho: 1 }, /rmsprop: rho must be a number in \[0, 1\), got 1/],
      ["rmsprop", { epsilon: -1 }, /rmsprop: epsilon must be a finite number > 0, got -1/],
    ];
    for (const [name, options, message] of cases) {
      const [[option, value]] = Object.entries(options);
      const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
      it(`${name} rejects ${option} = ${shown}, naming the option and the value`, function () {
        assert.throws(() => createOptimizer(name, options), message);
      });
    }

    it("accepts the edge values 0 for momentum, β1, β2, ρ and weight decay", function () {
      assert.doesNotThrow(() => createOptimizer("momentum", { momentum: 0, weightDecay: 0 }));
      assert.doesNotThrow(() => createOptimizer("adam", { beta1: 0, beta2: 0 }));
      assert.doesNotThrow(() => createOptimizer("rmsprop", { rho: 0 }));
    });
  });

  describe("convergence on a 2-D quadratic", function () {
    // f(w) = ½·(1·(w0 − 3)² + 10·(w1 + 1)²): minimum at [3, −1], condition number 10.
    const target = [3, -1];
    const curvature = [1, 10];
    const cases = [
      ["sgd", { learningRate: 0.1 }, 200],
      ["momentum", {}, 400],
      ["momentum", { nesterov: true }, 400],
      ["adam", { learningRate: 0.1 }, 500],
      ["rmsprop", { learningRate: 0.03 }, 300],
    ];
    for (const [name, options, steps] of cases) {
      it(`${name} ${JSON.stringify(options)} reaches the minimum to 1e-6 within ${steps} steps`, function () {
        const opt = createOptimizer(name, options);
        const w = new Float64Array([0, 0]);
        const g = new Float64Array(2);
        for (let k = 0; k < steps; k++) {
          for (let i = 0; i < 2; i++) g[i] = curvature[i] * (w[i] - target[i]);
          opt.step([w], [g]);
        }
        const distance = Math.hypot(w[0] - target[0], w[1] - target[1]);
        assert.ok(distance < 1e-6, `distance to the minimum after ${steps} steps: ${distance}`);
      });
    }
  });
});
