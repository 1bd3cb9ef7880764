"use strict";

// The WebAssembly SIMD backend: the same numbers as the JavaScript kernels on every path of its
// loops (the four-row and four-column tiles and their remainders), its memory kept and bounded,
// its fallbacks (a layer too large, a cell without a wasm kernel) and its choice as the default.

const assert = require("node:assert/strict");
const { Worker } = require("node:worker_threads");
const path = require("node:path");
const { getBackend, defaultBackendName, BACKEND_VARIABLE } = require("../dist/src/backends");
const { fastBackend } = require("../dist/src/backends/fast");
const { referenceBackend } = require("../dist/src/backends/reference");
const { wasmAvailable, wasmKernels } = require("../dist/src/wasm/module");
const { wasmSimdSupported } = require("../dist/src/wasm/support");
const { setWasmMemoryLimit, wasmMemoryLimit, WASM_MEMORY_CEILING } = require("../dist/src/wasm/arena");
const { getCell } = require("../dist/src/cells");
const { RnnLayer } = require("../dist/src/layer");
const { Model } = require("../dist/src/model");
const { Random } = require("../dist/src/random");
const { Workspace } = require("../dist/src/workspace");

const SAME = 1e-12; // wasm against fast: the same sums, grouped differently
const REFERENCE = 1e-9;

function randomArray(n, rng, scale = 1) {
  return Float64Array.from({ length: n }, () => rng.uniform(-scale, scale));
}

function maxAbsDiff(a, b) {
  assert.equal(a.length, b.length, "lengths differ");
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function close(a, b, tol, what) {
  const d = maxAbsDiff(a, b);
  assert.ok(d <= tol, `${what}: max |Δ| ${d} > ${tol}`);
}

function randomLayer(spec, seed) {
  const layer = RnnLayer.create(spec, { seed });
  const rng = new Random(seed + 500);
  for (const w of layer.list()) w.set(randomArray(w.length, rng, 0.6));
  return layer;
}

/** Forward and backward of one layer on one backend, with every option of the contract. */
function run(backend, layer, x, B, T, s0, dY, options) {
  const fwd = backend.forward(layer, x, B, T, s0);
  const grads = layer.zeros();
  const dhNormSq = new Float64Array(T);
  const dx = backend.backward(layer, fwd, dY, grads, { ...options, dhNormSq });
  return { fwd, grads, dx, dhNormSq };
}

function compare(a, b, layer, tol, what) {
  close(a.fwd.y, b.fwd.y, tol, `${what}: y`);
  close(a.fwd.state, b.fwd.state, tol, `${what}: state`);
  for (const p of layer.names()) close(a.grads[p], b.grads[p], tol, `${what}: ${p}`);
  if (b.dx === null) assert.equal(a.dx, null, `${what}: no ∂L/∂x asked, none given`);
  else close(a.dx, b.dx, tol, `${what}: dx`);
  close(a.dhNormSq, b.dhNormSq, tol, `${what}: dhNormSq`);
}

function problem(layer, B, T, seed) {
  const rng = new Random(seed);
  return {
    x: randomArray(B * T * layer.inputSize, rng),
    s0: randomArray(B * layer.stateSize, rng, 0.5),
    dY: randomArray(B * T * layer.outputSize, rng),
  };
}

/** The gated cells' forms: LSTM, GRU with the reset before and after the product, each gate activation. */
const FORMS = [
  { cell: "lstm" },
  { cell: "lstm", recurrentActivation: "hardSigmoid" },
  { cell: "gru" },
  { cell: "gru", recurrentActivation: "hardSigmoid" },
  { cell: "gru", resetAfter: true },
  { cell: "gru", resetAfter: true, recurrentActivation: "hardSigmoid" },
];
const formLabel = (f) => [f.cell, f.resetAfter ? "reset after" : f.cell === "gru" ? "reset before" : "", f.recurrentActivation ?? "sigmoid"].filter(Boolean).join(", ");

describe("wasm backend", function () {
  before(function () {
    if (!wasmAvailable()) this.skip();
  });

  it("is available exactly where the engine validates a SIMD module (every supported Node.js on x86-64 and ARM64)", function () {
    assert.equal(wasmSimdSupported(), true);
    assert.equal(wasmAvailable(), true);
  });

  // H, B, I, T chosen so that every tile of the loops and every remainder runs: H and B below,
  // at and above multiples of 4; outputs of 1 (scalar column) and 3.
  const CASES = [
    { H: 1, B: 1, I: 1, T: 1, O: 1, activation: "tanh", outputActivation: "linear", truncate: 0 },
    { H: 4, B: 4, I: 1, T: 5, O: 1, activation: "tanh", outputActivation: "linear", truncate: 0 },
    { H: 5, B: 3, I: 3, T: 6, O: 3, activation: "tanh", outputActivation: "softmax", truncate: 2 },
    { H: 8, B: 9, I: 2, T: 4, O: 2, activation: "sigmoid", outputActivation: "sigmoid", truncate: 3 },
    { H: 33, B: 7, I: 3, T: 3, O: undefined, activation: "relu", truncate: 0 },
    { H: 6, B: 5, I: 4, T: 7, O: undefined, activation: "linear", truncate: 2 },
    { H: 12, B: 8, I: 1, T: 9, O: 1, activation: "relu", outputActivation: "linear", truncate: 4 },
  ];
  for (const c of CASES) {
    const label = `H ${c.H}, B ${c.B}, I ${c.I}, T ${c.T}, ${c.activation}, ${c.O ? `projection ${c.O} ${c.outputActivation}` : "no projection"}, truncate ${c.truncate}`;
    it(`equals the fast backend to 1e-12 (${label}; carried state, with and without ∂L/∂x)`, function () {
      const spec = { inputSize: c.I, hiddenSize: c.H, activation: c.activation, ...(c.O ? { outputSize: c.O, outputActivation: c.outputActivation } : {}) };
      const layer = randomLayer(spec, c.H * 31 + c.B);
      const { x, s0, dY } = problem(layer, c.B, c.T, c.H + c.T);
      for (const needInputGrad of [true, false]) {
        for (const start of [s0, null]) {
          const options = { truncate: c.truncate, needInputGrad };
          compare(run(getBackend("wasm"), layer, x, c.B, c.T, start, dY, options), run(fastBackend, layer, x, c.B, c.T, start, dY, options), layer, SAME, label);
        }
      }
    });
  }

  it("equals the mathjs reference to 1e-9 where the SIMD tiles run (H 8, B 6, softmax output, truncate 2, carried state)", function () {
    const layer = randomLayer({ inputSize: 3, hiddenSize: 8, activation: "tanh", outputSize: 4, outputActivation: "softmax" }, 3);
    const B = 6, T = 5;
    const { x, s0, dY } = problem(layer, B, T, 4);
    const options = { truncate: 2 };
    compare(run(getBackend("wasm"), layer, x, B, T, s0, dY, options), run(referenceBackend, layer, x, B, T, s0, dY, options), layer, REFERENCE, "reference");
  });

  it("its tanh and sigmoid equal Math's to 3e-16 from −40 to 40 and keep NaN and ±Infinity", function () {
    for (const activation of ["tanh", "sigmoid"]) {
      const layer = RnnLayer.create({ inputSize: 1, hiddenSize: 1, activation }, { seed: 1 });
      layer.params.W_xh[0] = 1;
      layer.params.W_hh[0] = 0;
      const values = [];
      for (let i = -4000; i <= 4000; i++) values.push(i / 100);
      values.push(1e-300, -1e-12, 709, -709, 1e300, -1e300, Infinity, -Infinity, NaN);
      const x = Float64Array.from(values);
      const y = getBackend("wasm").forward(layer, x, x.length, 1, null).y;
      const f = activation === "tanh" ? Math.tanh : (v) => 1 / (1 + Math.exp(-v));
      for (let i = 0; i < x.length; i++) {
        const want = f(x[i]);
        if (Number.isNaN(want)) assert.ok(Number.isNaN(y[i]), `${activation}(${x[i]}) is NaN`);
        else assert.ok(Math.abs(y[i] - want) <= 3e-16, `${activation}(${x[i]}) = ${y[i]}, Math gives ${want}`);
      }
    }
  });

  it("keeps forward's data in its memory for backward, gives every block back after it, and serves one backward per forward", function () {
    const { arena } = wasmKernels();
    const before = arena.blocksInUse;
    const layer = randomLayer({ inputSize: 2, hiddenSize: 8, activation: "tanh", outputSize: 1 }, 9);
    const B = 4, T = 6;
    const { x, dY } = problem(layer, B, T, 1);
    const backend = getBackend("wasm");
    const fwd = backend.forward(layer, x, B, T, null);
    assert.equal(arena.blocksInUse, before + 1, "forward's block stays for backward");
    backend.backward(layer, fwd, dY, layer.zeros(), {});
    assert.equal(arena.blocksInUse, before, "backward gives back forward's block and the projection's ∂L/∂h");
    // A forward result serves one backward: a second backward of the same result is refused.
    assert.throws(() => backend.backward(layer, fwd, dY, layer.zeros(), {}), /backward already ran on this forward result/);
  });

  it("a second forward of the same layer replaces the first's block; the first's backward stages its data again and is still exact", function () {
    const { arena } = wasmKernels();
    const before = arena.blocksInUse;
    const layer = randomLayer({ inputSize: 2, hiddenSize: 9, activation: "tanh", outputSize: 2 }, 12);
    const B = 5, T = 4;
    const a = problem(layer, B, T, 1);
    const b = problem(layer, B, T, 2);
    const backend = getBackend("wasm");
    const first = backend.forward(layer, a.x, B, T, a.s0);
    backend.forward(layer, b.x, B, T, b.s0);
    for (let i = 0; i < 20; i++) backend.forward(layer, b.x, B, T, b.s0);
    assert.equal(arena.blocksInUse, before + 1, "one block per layer, however many forwards");
    const grads = layer.zeros();
    const dx = backend.backward(layer, first, a.dY, grads, {});
    const want = run(fastBackend, layer, a.x, B, T, a.s0, a.dY, {});
    for (const p of layer.names()) close(grads[p], want.grads[p], SAME, p);
    close(dx, want.dx, SAME, "dx");
  });

  it("trains in bounded memory: 60 minibatches of fit leave the memory as 5 did (Elman, LSTM, GRU in both forms)", function () {
    const { arena } = wasmKernels();
    for (const form of [{}, ...FORMS.filter((f) => !f.recurrentActivation)]) {
      const model = Model.create({ inputSize: 1, seed: 2, layers: [{ ...form, hiddenSize: 16, activation: "tanh" }, { ...form, hiddenSize: 8, activation: "tanh", outputSize: 1 }] });
      const rng = new Random(5);
      const inputs = Array.from({ length: 40 }, () => Array.from({ length: 12 }, () => [rng.uniform(-1, 1)]));
      const targets = inputs.map((row) => row.map((s) => [s[0] * 0.5]));
      const fit = (epochs) => model.fit({ inputs, targets }, { epochs, batchSize: 8, backend: "wasm", shuffle: false });
      fit(1);
      const size = arena.size;
      const blocks = arena.blocksInUse;
      fit(12);
      const what = form.cell ? formLabel(form) : "elman";
      assert.equal(arena.size, size, `${what}: no growth once the first minibatches ran`);
      assert.ok(arena.blocksInUse <= blocks, `${what}: blocks in use ${arena.blocksInUse} (after the first epoch: ${blocks})`);
    }
  });

  it("with a workspace, every minibatch's state, y and ∂L/∂x are the workspace's arrays again, validation's forwards too, with the same numbers", function () {
    const layer = randomLayer({ inputSize: 3, hiddenSize: 8, activation: "tanh", outputSize: 2 }, 21);
    const B = 5, T = 4;
    const backend = getBackend("wasm");
    const ws = new Workspace();
    const arraysOf = (fwd, dx) => ({ y: fwd.y.buffer, state: fwd.state.buffer, dx: dx.buffer });
    let first = null;
    for (const seed of [1, 2, 3]) {
      const { x, s0, dY } = problem(layer, B, T, seed);
      const want = run(fastBackend, layer, x, B, T, s0, dY, {});
      // A validation chunk: forward only, its result dropped without a backward.
      const validation = backend.forward(layer, x, B, T, s0, ws);
      close(validation.y, want.fwd.y, SAME, `seed ${seed}: validation y`);
      const fwd = backend.forward(layer, x, B, T, s0, ws);
      close(fwd.y, want.fwd.y, SAME, `seed ${seed}: y`);
      close(fwd.state, want.fwd.state, SAME, `seed ${seed}: state`);
      const grads = layer.zeros();
      const dx = backend.backward(layer, fwd, dY, grads, {});
      close(dx, want.dx, SAME, `seed ${seed}: dx`);
      for (const p of layer.names()) close(grads[p], want.grads[p], SAME, `seed ${seed}: ${p}`);
      const arrays = arraysOf(fwd, dx);
      assert.equal(validation.y.buffer, arrays.y, "validation's y is the workspace's array");
      if (first) for (const k of Object.keys(arrays)) assert.equal(arrays[k], first[k], `${k}: a new array on minibatch ${seed}`);
      else first = arrays;
    }
  });

  it("a layer too large for the memory limit runs the JavaScript kernels: the same results, no error", function () {
    const limit = wasmMemoryLimit();
    try {
      assert.throws(() => setWasmMemoryLimit(100), /at least 65536 bytes/);
      const { arena } = wasmKernels();
      const cap = Math.max(arena.size, 1 << 20);
      setWasmMemoryLimit(cap);
      // The hidden states alone, (T+1)·B·H·8 bytes, are over the limit.
      const H = 16, T = 20;
      const B = Math.ceil(cap / ((T + 1) * H * 8)) + 1;
      const layer = randomLayer({ inputSize: 1, hiddenSize: H, activation: "tanh", outputSize: 1 }, 4);
      const { x, s0, dY } = problem(layer, B, T, 8);
      // Exactly the fast kernels' numbers (the wasm loops group the sums differently).
      compare(run(getBackend("wasm"), layer, x, B, T, s0, dY, {}), run(fastBackend, layer, x, B, T, s0, dY, {}), layer, 0, "too large");
    } finally {
      setWasmMemoryLimit(limit);
    }
    assert.equal(wasmMemoryLimit(), WASM_MEMORY_CEILING);
  });

  it("runs a cell's fast kernel when the cell has no wasm kernel (the rule lives in compose.ts, not in each cell)", function () {
    const elman = getCell("elman");
    const asked = [];
    const withoutWasm = { ...elman, extraKernels: undefined, kernel: (name) => (asked.push(name), elman.kernel(name)) };
    const layer = randomLayer({ inputSize: 2, hiddenSize: 5, activation: "tanh", outputSize: 1 }, 6);
    const { x, s0, dY } = problem(layer, 3, 4, 3);
    const want = run(fastBackend, layer, x, 3, 4, s0, dY, {});
    Object.defineProperty(layer, "cell", { value: withoutWasm });
    const got = run(getBackend("wasm"), layer, x, 3, 4, s0, dY, {});
    assert.deepEqual([...new Set(asked)], ["fast"], "only the fast kernel was asked for");
    compare(got, want, layer, SAME, "fallback");
  });

  it("is the default backend where available; NODE_RED_RNN_BACKEND=fast chooses the JavaScript kernels", function () {
    const saved = process.env[BACKEND_VARIABLE];
    try {
      delete process.env[BACKEND_VARIABLE];
      assert.equal(defaultBackendName(), "wasm");
      assert.equal(getBackend().name, "wasm");
      process.env[BACKEND_VARIABLE] = "fast";
      assert.equal(defaultBackendName(), "fast");
      assert.equal(getBackend().name, "fast");
    } finally {
      if (saved === undefined) delete process.env[BACKEND_VARIABLE];
      else process.env[BACKEND_VARIABLE] = saved;
    }
  });

  it("runs in a worker thread on the worker's own instance, with the same results", async function () {
    const spec = { inputSize: 1, hiddenSize: 8, activation: "tanh", outputSize: 1 };
    const code = `
      const { parentPort, workerData } = require("node:worker_threads");
      const { getBackend } = require(workerData.dist + "/backends");
      const { wasmKernels } = require(workerData.dist + "/wasm/module");
      const { RnnLayer } = require(workerData.dist + "/layer");
      const layer = RnnLayer.create(workerData.spec, { seed: 3 });
      const x = Float64Array.from({ length: 4 * 6 }, (_, i) => Math.sin(i));
      const fwd = getBackend("wasm").forward(layer, x, 4, 6, null);
      parentPort.postMessage({ y: Array.from(fwd.y), blocks: wasmKernels().arena.blocksInUse });`;
    const worker = new Worker(code, { eval: true, workerData: { dist: path.join(__dirname, "..", "dist", "src"), spec } });
    const got = await new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    await worker.terminate();
    const layer = RnnLayer.create(spec, { seed: 3 });
    const x = Float64Array.from({ length: 4 * 6 }, (_, i) => Math.sin(i));
    close(Float64Array.from(got.y), fastBackend.forward(layer, x, 4, 6, null).y, SAME, "worker's y");
    assert.equal(got.blocks, 1, "the worker's forward block lives in the worker's own memory");
  });
});

describe("wasm backend: the forecaster's window runner", function () {
  before(function () {
    if (!wasmAvailable()) this.skip();
  });

  // Elman alone, then each gated form stacked around an Elman layer.
  for (const form of [null, ...FORMS]) {
    const label = form ? formLabel(form) : "elman";
    it(`equals the JavaScript step by step to 1e-13, stacked with a projection between layers, and reads the weights live (${label})`, function () {
      const { Forecaster } = require("../dist/src/inference");
      const outer = form ?? {};
      const model = Model.create({ inputSize: 2, seed: 4, layers: [{ ...outer, hiddenSize: 9, activation: "tanh", outputSize: 3 }, { hiddenSize: 5, activation: "relu" }, { ...outer, hiddenSize: 6, activation: "sigmoid", outputSize: 2 }] });
      const rng = new Random(8);
      for (const w of model.parameters()) w.set(randomArray(w.length, rng, 0.7));
      const windowed = new Forecaster(model, "wasm");
      const stepped = new Forecaster(model, "fast");
      for (const T of [1, 7, 30]) {
        const x = randomArray(T * 2, rng);
        close(windowed.run(x, T), stepped.run(x, T), 1e-13, `T ${T}`);
        close(windowed.run(Array.from(x), T), stepped.run(x, T), 1e-13, `T ${T}, a plain array`);
      }
      // Every cell's second parameter is its recurrent matrix.
      model.layers[0].list()[1][3] += 0.5;
      const x = randomArray(10 * 2, rng);
      const after = Float64Array.from(stepped.run(x, 10));
      close(windowed.run(x, 10), after, 1e-13, "after a weight changed");
    });
  }

  it("steps in JavaScript when its memory is refused, with the same numbers", function () {
    const { Forecaster } = require("../dist/src/inference");
    const model = Model.create({ inputSize: 1, seed: 2, layers: [{ hiddenSize: 8, activation: "tanh", outputSize: 1 }] });
    const stepped = new Forecaster(model, "fast");
    const limit = wasmMemoryLimit();
    const { arena } = wasmKernels();
    try {
      const windowed = new Forecaster(model, "wasm");
      setWasmMemoryLimit(Math.max(arena.size, 1 << 20));
      const T = Math.ceil(wasmMemoryLimit() / (8 * 8)) + 10; // its states alone exceed the limit
      const x = Float64Array.from({ length: T }, (_, i) => Math.sin(i / 5));
      assert.deepEqual(windowed.run(x, T), stepped.run(x, T));
    } finally {
      setWasmMemoryLimit(limit);
    }
  });
});

describe("wasm backend: the gated cells (LSTM, GRU in both reset forms)", function () {
  before(function () {
    if (!wasmAvailable()) this.skip();
  });


  /**
   * A problem whose ∂L/∂y has masked rows and steps (zeros, what a null target gives: the fast
   * kernels skip that work, the wasm ones do not), and inputs large enough that hardSigmoid gates
   * clip on both sides.
   */
  function maskedProblem(layer, B, T, seed) {
    const rng = new Random(seed);
    const O = layer.outputSize;
    const dY = randomArray(B * T * O, rng);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        // Row 1 has no target at all, every row none at step 0, and every third entry is masked.
        if (b === 1 || t === 0) dY.fill(0, (b * T + t) * O, (b * T + t + 1) * O);
        else if ((b + t) % 3 === 0) dY[(b * T + t) * O] = 0;
      }
    }
    return { x: randomArray(B * T * layer.inputSize, rng, 2.5), s0: randomArray(B * layer.stateSize, rng, 0.8), dY };
  }

  // The loops' tiles and remainders: H and B below, at and above multiples of 4; every hidden activation.
  const SHAPES = [
    { H: 1, B: 1, I: 1, T: 1, O: 1, activation: "tanh", truncate: 0 },
    { H: 4, B: 4, I: 2, T: 5, O: 2, activation: "relu", truncate: 0 },
    { H: 5, B: 3, I: 3, T: 6, O: undefined, activation: "sigmoid", truncate: 2 },
    { H: 9, B: 6, I: 1, T: 4, O: 3, activation: "linear", truncate: 3 },
    { H: 6, B: 9, I: 4, T: 7, O: 1, activation: "tanh", truncate: 2 },
  ];
  for (const form of FORMS) {
    for (const c of SHAPES) {
      const label = `${formLabel(form)}; H ${c.H}, B ${c.B}, I ${c.I}, T ${c.T}, ${c.activation}, ${c.O ? `projection ${c.O}` : "no projection"}, truncate ${c.truncate}`;
      it(`equals the fast backend to 1e-12 with masked targets (${label}; carried state and zeros, with and without ∂L/∂x)`, function () {
        const spec = { ...form, inputSize: c.I, hiddenSize: c.H, activation: c.activation, ...(c.O ? { outputSize: c.O } : {}) };
        const layer = randomLayer(spec, c.H * 17 + c.B);
        const { x, s0, dY } = maskedProblem(layer, c.B, c.T, c.H + c.T);
        for (const needInputGrad of [true, false]) {
          for (const start of [s0, null]) {
            const options = { truncate: c.truncate, needInputGrad };
            compare(run(getBackend("wasm"), layer, x, c.B, c.T, start, dY, options), run(fastBackend, layer, x, c.B, c.T, start, dY, options), layer, SAME, label);
          }
        }
      });
    }

    it(`equals the mathjs reference to 1e-9 (${formLabel(form)}; H 8, B 5, masked targets, truncate 3, carried state)`, function () {
      for (const activation of ["tanh", "relu"]) {
        const layer = randomLayer({ ...form, inputSize: 3, hiddenSize: 8, activation, outputSize: 2 }, 7);
        const B = 5, T = 7;
        const { x, s0, dY } = maskedProblem(layer, B, T, 5);
        const options = { truncate: 3 };
        compare(run(getBackend("wasm"), layer, x, B, T, s0, dY, options), run(referenceBackend, layer, x, B, T, s0, dY, options), layer, REFERENCE, `${activation}`);
      }
    });
  }

  it("run their own kernels: forward leaves the cell's block in the module's memory, backward gives it back", function () {
    const { arena } = wasmKernels();
    for (const form of FORMS) {
      assert.ok(getCell(form.cell).extraKernels.includes("wasm"), `${form.cell} lists its wasm kernel`);
      // No projection: its ∂L/∂h block (taken by the cell's backward) would not change the count.
      const layer = randomLayer({ ...form, inputSize: 2, hiddenSize: 6, activation: "tanh" }, 3);
      const before = arena.blocksInUse;
      const { x, dY } = problem(layer, 4, 5, 2);
      const backend = getBackend("wasm");
      const fwd = backend.forward(layer, x, 4, 5, null);
      assert.equal(arena.blocksInUse, before + 1, `${formLabel(form)}: forward's block stays for backward`);
      backend.backward(layer, fwd, dY, layer.zeros(), {});
      assert.equal(arena.blocksInUse, before, `${formLabel(form)}: the block is back after backward`);
      assert.throws(() => backend.backward(layer, fwd, dY, layer.zeros(), {}), /backward already ran on this forward result/);
    }
  });

  it("a second forward of the same layer replaces the first's block; the first's backward runs forward again and is exact", function () {
    const { arena } = wasmKernels();
    for (const form of FORMS) {
      const before = arena.blocksInUse;
      const layer = randomLayer({ ...form, inputSize: 2, hiddenSize: 7, activation: "tanh", outputSize: 2 }, 12);
      const B = 5, T = 4;
      const a = problem(layer, B, T, 1);
      const b = problem(layer, B, T, 2);
      const backend = getBackend("wasm");
      const first = backend.forward(layer, a.x, B, T, a.s0);
      for (let i = 0; i < 5; i++) backend.forward(layer, b.x, B, T, b.s0);
      assert.equal(arena.blocksInUse, before + 1, "one block per layer, however many forwards");
      const got = { fwd: first, grads: layer.zeros(), dhNormSq: new Float64Array(T) };
      got.dx = backend.backward(layer, first, a.dY, got.grads, { truncate: 2, dhNormSq: got.dhNormSq });
      compare(got, run(fastBackend, layer, a.x, B, T, a.s0, a.dY, { truncate: 2 }), layer, SAME, formLabel(form));
    }
  });

  it("a layer too large for the memory limit runs the JavaScript kernels: exactly their numbers, no error", function () {
    const limit = wasmMemoryLimit();
    try {
      const { arena } = wasmKernels();
      const cap = Math.max(arena.size, 1 << 20);
      setWasmMemoryLimit(cap);
      for (const form of FORMS) {
        // The hidden states alone, (T+1)·B·H·8 bytes, are over the limit.
        const H = 8, T = 20;
        const B = Math.ceil(cap / ((T + 1) * H * 8)) + 1;
        const layer = randomLayer({ ...form, inputSize: 1, hiddenSize: H, activation: "tanh", outputSize: 1 }, 4);
        const { x, s0, dY } = problem(layer, B, T, 8);
        compare(run(getBackend("wasm"), layer, x, B, T, s0, dY, {}), run(fastBackend, layer, x, B, T, s0, dY, {}), layer, 0, formLabel(form));
      }
    } finally {
      setWasmMemoryLimit(limit);
    }
  });

  it("fit with null targets (masks) gives the reference backend's weights to 1e-9 after an epoch", function () {
    for (const form of FORMS) {
      const layers = [{ ...form, hiddenSize: 5, activation: "tanh" }, { ...form, hiddenSize: 4, activation: "tanh", outputSize: 2 }];
      const rng = new Random(3);
      const inputs = Array.from({ length: 12 }, () => Array.from({ length: 6 }, () => [rng.uniform(-1, 1), rng.uniform(-1, 1)]));
      // Early steps have no target, one series no second output, one step is missing whole.
      const targets = inputs.map((row, i) => row.map((s, t) => (t < 2 || (i === 3 && t === 4) ? null : [s[0] - s[1], i === 5 ? null : s[0] * s[1]])));
      const trained = (backend) => {
        const model = Model.create({ inputSize: 2, seed: 9, layers });
        const fit = model.fit({ inputs, targets }, { epochs: 1, batchSize: 5, backend, shuffle: false, truncate: 3 });
        return { weights: model.parameters(), loss: fit.history[0].loss };
      };
      const w = trained("wasm");
      const r = trained("reference");
      assert.ok(Math.abs(w.loss - r.loss) <= REFERENCE, `${formLabel(form)}: epoch loss ${w.loss} vs ${r.loss}`);
      w.weights.forEach((v, i) => close(v, r.weights[i], REFERENCE, `${formLabel(form)}: parameter ${i}`));
    }
  });
});
