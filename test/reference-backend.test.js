"use strict";

const assert = require("node:assert/strict");
const { execFileSync } = require("node:child_process");
const { referenceBackend } = require("../dist/src/backends/reference");
const { fastBackend } = require("../dist/src/backends/fast");
const { RnnLayer } = require("../dist/src/layer");
const { Random } = require("../dist/src/random");
const { HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS } = require("../dist/src/types");
const { math, toMatrix, zerosMatrix, isMatrix } = require("../dist/src/math");

// Central differences with this step are accurate to about 1e-9 of the gradient's scale here;
// the relative error allowed is 1e-6 of max(|analytic|, |numeric|, FLOOR), the floor keeping
// entries whose true value is ~0 from turning round-off into a large relative error.
const EPS = 1e-6;
const FD_TOLERANCE = 1e-6;
const FLOOR = 1e-3;
// Reference and fast backends only differ in summation order.
const BACKEND_TOLERANCE = 1e-9;

function randomArray(n, rng, scale = 1) {
  return Float64Array.from({ length: n }, () => rng.uniform(-scale, scale));
}

/** A layer whose every parameter, biases included, is random and non-zero. */
function randomLayer(spec, seed, scale = 0.8) {
  const layer = RnnLayer.create(spec, { seed });
  const rng = new Random(seed + 1000);
  for (const w of layer.list()) w.set(randomArray(w.length, rng, scale));
  return layer;
}

function dot(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** A case: the loss L = Σ c ⊙ y, so ∂L/∂y = c. */
function makeCase(spec, { B = 2, T = 4, seed = 7, withH0 = false } = {}) {
  const layer = randomLayer(spec, seed);
  const rng = new Random(seed + 2000);
  const x = randomArray(B * T * spec.inputSize, rng);
  const h0 = withH0 ? randomArray(B * spec.hiddenSize, rng, 0.9) : null;
  const c = randomArray(B * T * layer.outputSize, rng);
  return { layer, x, h0, c, B, T };
}

function analyticGradients(backend, { layer, x, h0, c, B, T }, options = {}) {
  const fwd = backend.forward(layer, x, B, T, h0);
  const grads = layer.zeros();
  const dhNormSq = new Float64Array(T);
  const dx = backend.backward(layer, fwd, c, grads, { ...options, dhNormSq });
  return { fwd, grads, dx, dhNormSq };
}

/** ∂loss/∂arr[i] for every i by central differences, perturbing arr in place. */
function numericGradient(arr, loss) {
  const g = new Float64Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const saved = arr[i];
    arr[i] = saved + EPS;
    const plus = loss();
    arr[i] = saved - EPS;
    const minus = loss();
    arr[i] = saved;
    g[i] = (plus - minus) / (2 * EPS);
  }
  return g;
}

function assertGradientClose(analytic, numeric, label) {
  assert.equal(analytic.length, numeric.length, `${label}: length`);
  for (let i = 0; i < analytic.length; i++) {
    const a = analytic[i];
    const n = numeric[i];
    const err = Math.abs(a - n) / Math.max(Math.abs(a), Math.abs(n), FLOOR);
    assert.ok(err < FD_TOLERANCE, `${label}[${i}]: analytic ${a}, finite difference ${n}, relative error ${err}`);
  }
}

/** Every entry of a equals b to `tol`, absolute below 1 and relative above. */
function assertAllClose(a, b, tol, label) {
  assert.equal(a.length, b.length, `${label}: length`);
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(a[i]), Math.abs(b[i]));
    assert.ok(err <= tol, `${label}[${i}]: ${a[i]} vs ${b[i]} (error ${err})`);
  }
}

function maxAbsDifference(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * The equations evaluated with plain loops, written independently of both backends.
 *   frozen: Map t → B×H state that replaces h_{t-1} on entering step t (a truncation block start)
 *   shift:  { b, t, j, delta } added to h_t[j] of row b once it is computed
 *   logits: emit W_hy h_t + b_y instead of y_t
 */
function plainForward(layer, x, B, T, { h0 = null, frozen = null, shift = null, logits = false } = {}) {
  const { W_xh, W_hh, b_h, W_hy, b_y } = layer.params;
  const I = layer.inputSize;
  const H = layer.hiddenSize;
  const O = layer.outputSize;
  const f = layer.activation;
  const g = layer.outputActivation;
  const y = new Float64Array(B * T * O);
  const hs = new Float64Array(B * T * H);
  for (let b = 0; b < B; b++) {
    let prev = h0 ? Array.from(h0.subarray(b * H, (b + 1) * H)) : new Array(H).fill(0);
    for (let t = 0; t < T; t++) {
      if (frozen && frozen.has(t)) prev = Array.from(frozen.get(t).subarray(b * H, (b + 1) * H));
      const h = new Array(H);
      for (let i = 0; i < H; i++) {
        let a = b_h[i];
        for (let j = 0; j < I; j++) a += W_xh[i * I + j] * x[(b * T + t) * I + j];
        for (let j = 0; j < H; j++) a += W_hh[i * H + j] * prev[j];
        h[i] = scalarActivation(f, a);
      }
      if (shift && shift.b === b && shift.t === t) h[shift.j] += shift.delta;
      hs.set(h, (b * T + t) * H);
      let out = h;
      if (layer.hasOutput) {
        const z = new Array(O);
        for (let o = 0; o < O; o++) {
          let s = b_y[o];
          for (let i = 0; i < H; i++) s += W_hy[o * H + i] * h[i];
          z[o] = s;
        }
        out = logits ? z : vectorActivation(g, z);
      }
      y.set(out, (b * T + t) * O);
      prev = h;
    }
  }
  return { y, hs };
}

function scalarActivation(name, a) {
  switch (name) {
    case "tanh":
      return Math.tanh(a);
    case "relu":
      return Math.max(0, a);
    case "sigmoid":
      return 1 / (1 + Math.exp(-a));
    case "linear":
      return a;
    default:
      throw new Error(name);
  }
}

function vectorActivation(name, z) {
  if (name !== "softmax") return z.map((v) => scalarActivation(name, v));
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((v) => v / s);
}

/** For truncation k: the unperturbed state entering each block, keyed by the block's first step. */
function blockEntryStates(kase, k) {
  const { layer, x, B, T, h0 } = kase;
  const H = layer.hiddenSize;
  const { hs } = plainForward(layer, x, B, T, { h0 });
  const frozen = new Map();
  for (let s = T - k; s > 0; s -= k) {
    const state = new Float64Array(B * H);
    for (let b = 0; b < B; b++) state.set(hs.subarray((b * T + s - 1) * H, (b * T + s) * H), b * H);
    frozen.set(s, state);
  }
  return frozen;
}

function spec(activation, outputActivation, { I = 2, H = 3, O = 2 } = {}) {
  const s = { inputSize: I, hiddenSize: H, activation };
  if (outputActivation) {
    s.outputSize = O;
    s.outputActivation = outputActivation;
  }
  return s;
}

/** Checks every parameter and dx of a case against finite differences of `loss`. */
function checkAgainstFiniteDifferences(kase, analytic, loss) {
  for (const name of kase.layer.names()) {
    assertGradientClose(analytic.grads[name], numericGradient(kase.layer.params[name], loss), name);
  }
  assertGradientClose(analytic.dx, numericGradient(kase.x, loss), "dx");
}

describe("reference backend: gradients equal central finite differences (B=2, T=4, I=2, H=3, O=2)", function () {
  for (const f of HIDDEN_ACTIVATIONS) {
    for (const g of OUTPUT_ACTIVATIONS) {
      it(`${f} hidden, ${g} output: every weight, bias and dx`, function () {
        const kase = makeCase(spec(f, g));
        const loss = () => dot(kase.c, referenceBackend.forward(kase.layer, kase.x, kase.B, kase.T).y);
        checkAgainstFiniteDifferences(kase, analyticGradients(referenceBackend, kase), loss);
      });
    }
    it(`${f} hidden, no projection (the layer emits h_t): every weight, bias and dx`, function () {
      const kase = makeCase(spec(f, null));
      const loss = () => dot(kase.c, referenceBackend.forward(kase.layer, kase.x, kase.B, kase.T).y);
      checkAgainstFiniteDifferences(kase, analyticGradients(referenceBackend, kase), loss);
    });
  }

  it("with a given initial state h0, the gradients still match", function () {
    const kase = makeCase(spec("tanh", "sigmoid"), { withH0: true });
    const loss = () => dot(kase.c, referenceBackend.forward(kase.layer, kase.x, kase.B, kase.T, kase.h0).y);
    checkAgainstFiniteDifferences(kase, analyticGradients(referenceBackend, kase), loss);
  });

  for (const g of ["softmax", "sigmoid"]) {
    it(`dYIsLogit with ${g} output: dY is taken as ∂L/∂(W_hy h_t + b_y)`, function () {
      const kase = makeCase(spec("tanh", g));
      const loss = () => dot(kase.c, plainForward(kase.layer, kase.x, kase.B, kase.T, { logits: true }).y);
      checkAgainstFiniteDifferences(kase, analyticGradients(referenceBackend, kase, { dYIsLogit: true }), loss);
    });
  }

  it("dhNormSq[t] is Σ over the batch of ‖∂L/∂h_t‖²", function () {
    const kase = makeCase(spec("tanh", "linear"));
    const { layer, x, B, T, c } = kase;
    const H = layer.hiddenSize;
    const { dhNormSq } = analyticGradients(referenceBackend, kase);
    for (let t = 0; t < T; t++) {
      let expected = 0;
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          const lossAt = (delta) => dot(c, plainForward(layer, x, B, T, { shift: { b, t, j, delta } }).y);
          const d = (lossAt(EPS) - lossAt(-EPS)) / (2 * EPS);
          expected += d * d;
        }
      }
      assertGradientClose([dhNormSq[t]], [expected], `dhNormSq[${t}]`);
    }
  });
});

describe("reference backend: truncated BPTT", function () {
  // T=4 with k=3 leaves a short first block, which proves blocks are counted from the last step.
  for (const k of [1, 2, 3]) {
    it(`truncate=${k}: the gradient of a forward whose block-entry states are held fixed`, function () {
      const kase = makeCase(spec("tanh", "linear"), { withH0: true });
      const { layer, x, B, T, c, h0 } = kase;
      const frozen = blockEntryStates(kase, k);
      const loss = () => dot(c, plainForward(layer, x, B, T, { h0, frozen }).y);
      const truncated = analyticGradients(referenceBackend, kase, { truncate: k });
      checkAgainstFiniteDifferences(kase, truncated, loss);

      // dhNormSq reports the truncated ∂L/∂h_t, the one that actually reached h_t.
      const H = layer.hiddenSize;
      for (let t = 0; t < T; t++) {
        let expected = 0;
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < H; j++) {
            const lossAt = (delta) => dot(c, plainForward(layer, x, B, T, { h0, frozen, shift: { b, t, j, delta } }).y);
            const d = (lossAt(EPS) - lossAt(-EPS)) / (2 * EPS);
            expected += d * d;
          }
        }
        assertGradientClose([truncated.dhNormSq[t]], [expected], `dhNormSq[${t}]`);
      }

      // The check above must not pass merely because truncation changes nothing.
      const full = analyticGradients(referenceBackend, kase);
      assert.ok(maxAbsDifference(full.grads.W_hh, truncated.grads.W_hh) > 1e-4, "truncation changed W_hh's gradient");
    });
  }

  it("truncate ≥ T is full BPTT", function () {
    const kase = makeCase(spec("tanh", "linear"));
    const full = analyticGradients(referenceBackend, kase);
    for (const k of [kase.T, kase.T + 3]) {
      const truncated = analyticGradients(referenceBackend, kase, { truncate: k });
      for (const name of kase.layer.names()) assert.deepEqual(truncated.grads[name], full.grads[name], `${name}, k=${k}`);
      assert.deepEqual(truncated.dx, full.dx);
    }
  });
});

describe("reference backend: forward", function () {
  it("every activation pair, with and without projection and h0, equals a plain-loop evaluation", function () {
    for (const f of HIDDEN_ACTIVATIONS) {
      for (const g of [...OUTPUT_ACTIVATIONS, null]) {
        for (const withH0 of [false, true]) {
          const { layer, x, B, T, h0 } = makeCase(spec(f, g, { I: 3, H: 4, O: 3 }), { B: 3, T: 5, withH0 });
          const fwd = referenceBackend.forward(layer, x, B, T, h0);
          const plain = plainForward(layer, x, B, T, { h0 });
          const label = `${f}/${g ?? "none"}/h0=${withH0}`;
          assertAllClose(fwd.y, plain.y, 1e-12, `${label} y`);
          const H = layer.hiddenSize;
          const lastStates = new Float64Array(B * H);
          for (let b = 0; b < B; b++) lastStates.set(plain.hs.subarray((b * T + T - 1) * H, (b * T + T) * H), b * H);
          assertAllClose(fwd.state, lastStates, 1e-12, `${label} hT`);
        }
      }
    }
  });

  it("a given h0 changes the output, and T=2 equals the equations unrolled by hand", function () {
    const layer = randomLayer(spec("tanh", "sigmoid", { I: 2, H: 3, O: 2 }), 11);
    const rng = new Random(12);
    const B = 2;
    const T = 2;
    const x = randomArray(B * T * 2, rng);
    const h0 = randomArray(B * 3, rng);
    const withH0 = referenceBackend.forward(layer, x, B, T, h0);
    const withZeros = referenceBackend.forward(layer, x, B, T, null);
    assert.ok(maxAbsDifference(withH0.y, withZeros.y) > 1e-3, "h0 changed y");
    assert.ok(maxAbsDifference(withH0.state, withZeros.state) > 1e-3, "h0 changed hT");

    const { W_xh, W_hh, b_h, W_hy, b_y } = layer.params;
    const matVec = (W, v) => Array.from({ length: W.length / v.length }, (_, r) => dot(W.subarray(r * v.length, (r + 1) * v.length), v));
    const plus = (...vs) => vs[0].map((_, i) => vs.reduce((s, v) => s + v[i], 0));
    const sig = (v) => v.map((a) => 1 / (1 + Math.exp(-a)));
    for (let b = 0; b < B; b++) {
      const x0 = Array.from(x.subarray((b * T) * 2, (b * T + 1) * 2));
      const x1 = Array.from(x.subarray((b * T + 1) * 2, (b * T + 2) * 2));
      const hStart = Array.from(h0.subarray(b * 3, (b + 1) * 3));
      const h_0 = plus(matVec(W_xh, x0), matVec(W_hh, hStart), Array.from(b_h)).map(Math.tanh);
      const y_0 = sig(plus(matVec(W_hy, h_0), Array.from(b_y)));
      const h_1 = plus(matVec(W_xh, x1), matVec(W_hh, h_0), Array.from(b_h)).map(Math.tanh);
      const y_1 = sig(plus(matVec(W_hy, h_1), Array.from(b_y)));
      assertAllClose(withH0.y.subarray(b * T * 2, (b * T + 2) * 2), [...y_0, ...y_1], 1e-14, `row ${b} y`);
      assertAllClose(withH0.state.subarray(b * 3, (b + 1) * 3), h_1, 1e-14, `row ${b} hT`);
    }
  });
});

describe("reference backend: the LayerBackend contract", function () {
  it("adds into grads instead of overwriting them", function () {
    const kase = makeCase(spec("tanh", "linear"));
    const once = analyticGradients(referenceBackend, kase);
    const fwd = referenceBackend.forward(kase.layer, kase.x, kase.B, kase.T);
    const grads = kase.layer.zeros();
    referenceBackend.backward(kase.layer, fwd, kase.c, grads);
    referenceBackend.backward(kase.layer, fwd, kase.c, grads);
    for (const name of kase.layer.names()) {
      assertAllClose(grads[name], once.grads[name].map((v) => 2 * v), 1e-15, name);
    }
  });

  it("returns null for dx when needInputGrad is false, with the same weight gradients", function () {
    const kase = makeCase(spec("relu", "softmax"));
    const withDx = analyticGradients(referenceBackend, kase);
    const withoutDx = analyticGradients(referenceBackend, kase, { needInputGrad: false });
    assert.equal(withoutDx.dx, null);
    for (const name of kase.layer.names()) assert.deepEqual(withoutDx.grads[name], withDx.grads[name], name);
  });

  it("rejects a wrongly sized input, h0 or dY, and a forward result from another backend", function () {
    const kase = makeCase(spec("tanh", "linear"));
    const { layer, x, B, T, c } = kase;
    assert.throws(() => referenceBackend.forward(layer, x.subarray(1), B, T), /x has 15 entries, expected 16/);
    assert.throws(() => referenceBackend.forward(layer, x, B, T, new Float64Array(5)), /initial state has 5 entries, expected 6/);
    const fwd = referenceBackend.forward(layer, x, B, T);
    assert.throws(() => referenceBackend.backward(layer, fwd, c.subarray(2), layer.zeros()), /dY has 14 entries, expected 16/);
    const foreign = { ...fwd, cache: {} };
    assert.throws(() => referenceBackend.backward(layer, foreign, c, layer.zeros()), /reference backend's forward/);
  });
});

describe("every backend: the weight rule", function () {
  // The rule of LayerBackend.backward: the weights may not change between forward and backward.
  // Broken, the fast kernel would differentiate with the new weights and the reference one with
  // the old (the wasm one with the copy forward left in its memory): all must refuse instead, and
  // an unchanged layer must still be accepted.
  const { wasmBackend } = require("../dist/src/backends/wasm");
  const { wasmAvailable } = require("../dist/src/wasm/module");
  for (const backend of [fastBackend, referenceBackend, wasmBackend]) {
    it(`${backend.name}: backward refuses a layer whose weights changed after forward`, function () {
      if (backend === wasmBackend && !wasmAvailable()) this.skip();
      const kase = makeCase(spec("tanh", "linear"));
      const { layer, x, B, T, c } = kase;
      // A forward pass per weight: the wasm backend takes one backward per forward.
      for (const w of layer.list()) {
        const fwd = backend.forward(layer, x, B, T);
        const old = w[w.length - 1];
        w[w.length - 1] = old + 1e-3;
        assert.throws(() => backend.backward(layer, fwd, c, layer.zeros()), /weights changed between forward and backward/);
        w[w.length - 1] = old;
        // Restored exactly: accepted.
        assert.ok(backend.backward(layer, fwd, c, layer.zeros()) instanceof Float64Array);
      }
    });
  }
});

describe("core mathjs instance", function () {
  it("toMatrix gives a DenseMatrix of datatype 'number' holding a copy of the data", function () {
    const rows = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    const m = toMatrix(rows);
    assert.ok(isMatrix(m));
    assert.equal(m.type, "DenseMatrix");
    assert.equal(m.datatype(), "number");
    assert.deepEqual(m.size(), [2, 3]);
    rows[0][0] = 99;
    assert.equal(m.get([0, 0]), 1);
    assert.deepEqual(toMatrix([7, 8]).size(), [2]);
    assert.equal(zerosMatrix(2, 1).datatype(), "number");
    assert.deepEqual(math.multiply(m, toMatrix([[1], [1], [1]])).valueOf(), [[6], [15]]);
  });

  it("toMatrix rejects non-numbers and ragged rows, naming where", function () {
    assert.throws(() => toMatrix([[1, "2"]]), /entry \[0\]\[1\] is not a number/);
    assert.throws(() => toMatrix([1, [2]]), /entry \[0\] is neither a number nor a row/);
    assert.throws(() => toMatrix([[1, 2], [3]]), /row \[1\] has 1 entries, row \[0\] has 2/);
  });

  it("isMatrix is false for plain arrays and true only for matrices", function () {
    assert.equal(isMatrix([[1]]), false);
    assert.equal(isMatrix(new Float64Array(1)), false);
    assert.equal(isMatrix(toMatrix([[1]])), true);
  });

  it("loading it does not evaluate mathjs's full bundle", function () {
    // In a fresh process, since any other test may load the full bundle into this one.
    const script = `
      require(${JSON.stringify(require.resolve("../dist/src/math"))});
      const loaded = Object.keys(require.cache);
      process.stdout.write(JSON.stringify({
        full: loaded.some((f) => /pureFunctionsAny\\.generated\\.js$|mainAny\\.js$/.test(f)),
        mathjs: loaded.some((f) => /mathjs/.test(f)),
      }));`;
    const result = JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }));
    assert.deepEqual(result, { full: false, mathjs: true });
  });
});

describe("fast backend agrees with the reference backend to 1e-9", function () {
  const shape = { I: 3, H: 4, O: 3 };
  // B=5 runs both the fast backend's four-rows-at-a-time path and its remainder path.
  const B = 5;
  const T = 6;

  function compare(layerSpec, { withH0 = false, truncate = 0, dYIsLogit = false, seed = 21 } = {}) {
    const kase = makeCase(layerSpec, { B, T, seed, withH0 });
    const options = { truncate, dYIsLogit };
    const ref = analyticGradients(referenceBackend, kase, options);
    const fast = analyticGradients(fastBackend, kase, options);
    assertAllClose(fast.fwd.y, ref.fwd.y, BACKEND_TOLERANCE, "y");
    assertAllClose(fast.fwd.state, ref.fwd.state, BACKEND_TOLERANCE, "hT");
    assertAllClose(fast.dx, ref.dx, BACKEND_TOLERANCE, "dx");
    assertAllClose(fast.dhNormSq, ref.dhNormSq, BACKEND_TOLERANCE, "dhNormSq");
    for (const name of kase.layer.names()) assertAllClose(fast.grads[name], ref.grads[name], BACKEND_TOLERANCE, name);
  }

  for (const f of HIDDEN_ACTIVATIONS) {
    for (const g of [...OUTPUT_ACTIVATIONS, null]) {
      const label = `${f} hidden, ${g ? `${g} output` : "no projection"}`;
      it(`${label}`, function () {
        compare(spec(f, g, shape));
      });
      it(`${label}, with h0 and truncate=4`, function () {
        compare(spec(f, g, shape), { withH0: true, truncate: 4, seed: 22 });
      });
    }
  }

  for (const k of [1, 2, 3]) {
    it(`truncate=${k} (tanh, linear output)`, function () {
      compare(spec("tanh", "linear", shape), { truncate: k, seed: 23 });
    });
  }

  for (const g of ["softmax", "sigmoid"]) {
    it(`dYIsLogit with ${g} output`, function () {
      compare(spec("tanh", g, shape), { dYIsLogit: true, withH0: true, seed: 24 });
    });
  }
});
