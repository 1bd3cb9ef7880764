"use strict";

// The Cell contract, checked for every cell the package has: a new cell gets these tests by
// being registered, and must pass them before anything else uses it.

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { CELL_NAMES, getCell } = require("../dist/src/cells");
const { getBackend } = require("../dist/src/backends");
const { fastBackend } = require("../dist/src/backends/fast");
const { wasmAvailable, wasmKernels } = require("../dist/src/wasm/module");
const { RECURRENT_ACTIVATIONS } = require("../dist/src/types");
const { referenceBackend } = require("../dist/src/backends/reference");
const { RnnLayer } = require("../dist/src/layer");
const { Model } = require("../dist/src/model");
const { Forecaster } = require("../dist/src/inference");
const { Random } = require("../dist/src/random");
const { parameterCount, modelOverSharedWeights, copyParameters } = require("../dist/src/parallel/shared");

const EPS = 1e-6;
const FD_TOLERANCE = 1e-6;
const FLOOR = 1e-3;
const BACKEND_TOLERANCE = 1e-9;

function randomArray(n, rng, scale = 1) {
  return Float64Array.from({ length: n }, () => rng.uniform(-scale, scale));
}

function randomLayer(spec, seed, scale = 0.7) {
  const layer = RnnLayer.create(spec, { seed });
  const rng = new Random(seed + 1000);
  for (const w of layer.list()) w.set(randomArray(w.length, rng, scale));
  return layer;
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

function dot(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** L = Σ c ⊙ y (so ∂L/∂y = c) plus Σ d ⊙ state (so the carried state's gradient path is used too). */
function run(backend, layer, x, B, T, s0, c, options = {}, afterForward = () => {}) {
  const fwd = backend.forward(layer, x, B, T, s0);
  afterForward();
  const grads = layer.zeros();
  const dhNormSq = new Float64Array(T);
  const dx = backend.backward(layer, fwd, c, grads, { ...options, dhNormSq });
  return { fwd, grads, dx, dhNormSq, loss: dot(c, fwd.y) };
}

/** The default form of a cell, then each of the forms it declares (`variants`), e.g. "resetAfter true". */
function formsOf(cell) {
  return [{}, ...(cell.variants ?? [])].map((variant) => ({
    variant,
    label: Object.keys(variant).length ? ` (${Object.entries(variant).map(([k, v]) => `${k} ${v}`).join(", ")})` : "",
  }));
}

// Every cell in its default form and in each form it declares.
for (const { name, variant, label } of CELL_NAMES.flatMap((n) => formsOf(getCell(n)).map((form) => ({ name: n, ...form })))) {
  const cell = getCell(name);
  const activation = cell.activations.includes("tanh") ? "tanh" : cell.activations[0];
  const spec = (extra = {}) => ({ cell: name === "elman" ? undefined : name, inputSize: 2, hiddenSize: 3, activation, outputSize: 2, ...variant, ...extra });
  // A model layer of this cell in this form, or of another cell in its default form.
  const layerOf = (c, hiddenSize, extra = {}) => ({ cell: c, hiddenSize, ...(c === name ? variant : {}), ...extra });

  describe(`cell "${name}"${label}: the Cell contract`, function () {
    it("its shapes, state size and init agree with each other, and a seed always gives the same weights", function () {
      const s = spec();
      const shapes = cell.shapes(s);
      const names = shapes.map((p) => p.name);
      assert.equal(new Set(names).size, names.length, "parameter names are unique");
      for (const p of ["W_hy", "b_y"]) assert.ok(!names.includes(p), `the projection's ${p} is not the cell's`);
      const a = RnnLayer.create(s, { seed: 5 });
      const b = RnnLayer.create(s, { seed: 5 });
      const other = RnnLayer.create(s, { seed: 6 });
      assert.deepEqual(a.names(), [...names, "W_hy", "b_y"]);
      for (const p of a.shapes()) assert.equal(a.params[p.name].length, p.rows * p.cols, p.name);
      a.list().forEach((w, i) => assert.deepEqual(w, b.list()[i]));
      assert.ok(a.list().some((w, i) => maxAbsDiff(w, other.list()[i]) > 0), "another seed gives other weights");
      assert.ok(cell.stateSize(s) >= s.hiddenSize, "the state holds at least h");
    });

    // Every layer backend against the reference: for a cell without a kernel of its own for a
    // backend (no "wasm" in its extraKernels) that backend runs the cell's fast kernel.
    for (const backendName of ["fast", "wasm"]) {
      for (const projection of [true, false]) {
        for (const truncate of [0, 2]) {
          it(`${backendName} = reference to 1e-9 (outputs, state, every gradient, ∂L/∂x, ‖∂L/∂h_t‖; ${projection ? "with" : "without"} projection, truncate ${truncate}, carried state)`, function () {
            if (backendName === "wasm" && !wasmAvailable()) this.skip();
            const backend = getBackend(backendName);
            const s = projection ? spec() : spec({ outputSize: undefined });
            if (!projection) delete s.outputSize;
            const layer = randomLayer(s, 11);
            const B = 5, T = 6; // 5 rows: the fast kernels' four-row blocks and the remainder
            const rng = new Random(3);
            const x = randomArray(B * T * s.inputSize, rng);
            const s0 = randomArray(B * layer.stateSize, rng, 0.5);
            const c = randomArray(B * T * layer.outputSize, rng);
            const blocks = backendName === "wasm" ? wasmKernels().arena.blocksInUse : 0;
            const f = run(backend, layer, x, B, T, s0, c, { truncate }, () => {
              // A cell's own wasm kernel keeps forward's block in the module's memory for backward.
              if (backendName === "wasm") assert.equal(wasmKernels().arena.blocksInUse, blocks + 1, "the cell's wasm kernel ran (not the fast one)");
            });
            const r = run(referenceBackend, layer, x, B, T, s0, c, { truncate });
            close(f.fwd.y, r.fwd.y, BACKEND_TOLERANCE, "y");
            close(f.fwd.state, r.fwd.state, BACKEND_TOLERANCE, "state");
            for (const p of layer.names()) close(f.grads[p], r.grads[p], BACKEND_TOLERANCE, p);
            close(f.dx, r.dx, BACKEND_TOLERANCE, "dx");
            close(f.dhNormSq, r.dhNormSq, BACKEND_TOLERANCE, "dhNormSq");
          });
        }
      }
    }

    it("has a wasm kernel of its own (the wasm backend runs no cell on its fast kernel)", function () {
      assert.ok(cell.extraKernels?.includes("wasm"), `${name} lists "wasm" in extraKernels`);
      assert.notEqual(cell.kernel("wasm"), cell.kernel("fast"));
    });

    it("wasm = reference to 1e-9 in every hidden and gate activation the cell allows (masked ∂L/∂y rows and steps, no ∂L/∂x asked)", function () {
      if (!wasmAvailable()) this.skip();
      const gateActivations = cell.fileKeys.includes("recurrentActivation") ? RECURRENT_ACTIVATIONS : [undefined];
      for (const hidden of cell.activations) {
        for (const gate of gateActivations) {
          const s = spec({ activation: hidden, ...(gate ? { recurrentActivation: gate } : {}) });
          const layer = randomLayer(s, 41, 1.2);
          const B = 5, T = 5;
          const rng = new Random(6);
          const x = randomArray(B * T * s.inputSize, rng, 2);
          const s0 = randomArray(B * layer.stateSize, rng, 0.5);
          const c = randomArray(B * T * layer.outputSize, rng);
          // What null targets give: row 2 without any, step 1 of every row without one.
          for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) if (b === 2 || t === 1) c.fill(0, (b * T + t) * layer.outputSize, (b * T + t + 1) * layer.outputSize);
          const options = { truncate: 3, needInputGrad: false };
          const w = run(getBackend("wasm"), layer, x, B, T, s0, c, options);
          const r = run(referenceBackend, layer, x, B, T, s0, c, options);
          const what = `${hidden}${gate ? `, gates ${gate}` : ""}`;
          close(w.fwd.y, r.fwd.y, BACKEND_TOLERANCE, `${what}: y`);
          close(w.fwd.state, r.fwd.state, BACKEND_TOLERANCE, `${what}: state`);
          for (const p of layer.names()) close(w.grads[p], r.grads[p], BACKEND_TOLERANCE, `${what}: ${p}`);
          close(w.dhNormSq, r.dhNormSq, BACKEND_TOLERANCE, `${what}: dhNormSq`);
          assert.equal(w.dx, null, "no ∂L/∂x when not asked");
        }
      }
    });

    it("reference gradients of every parameter and of x equal central finite differences (1e-6 relative)", function () {
      const s = spec();
      const layer = randomLayer(s, 21);
      const B = 2, T = 4;
      const rng = new Random(9);
      const x = randomArray(B * T * s.inputSize, rng);
      const s0 = randomArray(B * layer.stateSize, rng, 0.5);
      const c = randomArray(B * T * layer.outputSize, rng);
      const analytic = run(referenceBackend, layer, x, B, T, s0, c);
      const loss = () => dot(c, fastBackend.forward(layer, x, B, T, s0).y);
      const check = (arr, g, what) => {
        for (let i = 0; i < arr.length; i++) {
          const old = arr[i];
          arr[i] = old + EPS;
          const up = loss();
          arr[i] = old - EPS;
          const down = loss();
          arr[i] = old;
          const numeric = (up - down) / (2 * EPS);
          const scale = Math.max(Math.abs(numeric), Math.abs(g[i]), FLOOR);
          assert.ok(Math.abs(numeric - g[i]) <= FD_TOLERANCE * scale, `${what}[${i}]: analytic ${g[i]}, numeric ${numeric}`);
        }
      };
      for (const p of layer.names()) check(layer.params[p], analytic.grads[p], p);
      check(x, analytic.dx, "x");
    });

    it("a sequence run in two parts with the state carried equals the sequence run at once", function () {
      const s = spec();
      const layer = randomLayer(s, 31);
      const B = 3, T1 = 3, T2 = 4, I = s.inputSize, O = layer.outputSize;
      const rng = new Random(4);
      const x = randomArray(B * (T1 + T2) * I, rng);
      const part = (from, len) => {
        const out = new Float64Array(B * len * I);
        for (let b = 0; b < B; b++) out.set(x.subarray((b * (T1 + T2) + from) * I, (b * (T1 + T2) + from + len) * I), b * len * I);
        return out;
      };
      const whole = fastBackend.forward(layer, x, B, T1 + T2);
      const first = fastBackend.forward(layer, part(0, T1), B, T1);
      const second = fastBackend.forward(layer, part(T1, T2), B, T2, first.state);
      close(second.state, whole.state, 1e-14, "state");
      for (let b = 0; b < B; b++) {
        close(second.y.subarray(b * T2 * O, (b + 1) * T2 * O), whole.y.subarray((b * (T1 + T2) + T1) * O, (b + 1) * (T1 + T2) * O), 1e-14, `row ${b}`);
      }
    });

    it("the forecaster's one-sequence step equals the batched forward, stacked under and over an Elman layer", function () {
      for (const layers of [[name, "elman"], ["elman", name], [name, name]]) {
        const model = Model.create({ inputSize: 2, seed: 8, layers: [layerOf(layers[0], 4), layerOf(layers[1], 3, { outputSize: 2 })] });
        const rng = new Random(2);
        for (const w of model.parameters()) w.set(randomArray(w.length, rng, 0.6));
        const T = 7;
        const x = randomArray(T * 2, rng);
        const batched = fastBackend;
        let input = x;
        let y = null;
        for (const layer of model.layers) {
          y = batched.forward(layer, input, 1, T).y;
          input = y;
        }
        // "fast": the forecaster steps with each cell's `step` (on "wasm" it may run whole windows).
        const step = new Forecaster(model, "fast").run(x, T);
        close(step, y.subarray((T - 1) * 2, T * 2), 1e-13, layers.join(" → "));
      }
    });

    it("survives the model file and the workers' shared weights unchanged", function () {
      const model = Model.create({ inputSize: 2, seed: 3, layers: [layerOf(name, 3), layerOf(name, 2, { outputSize: 1 })] });
      const rng = new Random(7);
      for (const w of model.parameters()) w.set(randomArray(w.length, rng));
      const back = Model.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
      assert.deepEqual(back.layers.map((l) => l.spec), model.layers.map((l) => l.spec));
      model.parameters().forEach((w, i) => assert.deepEqual(back.parameters()[i], w));
      const specs = model.layers.map((l) => l.spec);
      const shared = new SharedArrayBuffer(8 * parameterCount(specs));
      copyParameters(model, shared, "toShared");
      const over = modelOverSharedWeights(2, specs, shared);
      over.parameters().forEach((w, i) => assert.deepEqual(Array.from(w), Array.from(model.parameters()[i])));
    });
  });
}

describe("cells: nothing outside a cell knows its parameters' names", function () {
  // The names of each cell's parameters (W_xh, W_hh, b_h for Elman) may appear in code only in that
  // cell's own folder; the rest of the core and the nodes handle parameters by the cell's shapes.
  it("no source file outside src/cells/<cell>/ names them in code (comments aside)", function () {
    const root = path.join(__dirname, "..");
    const files = [];
    const walk = (dir) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith(".ts")) files.push(p);
      }
    };
    walk(path.join(root, "src"));
    walk(path.join(root, "nodes"));
    const offenders = [];
    // Each cell's folder is its own; two cells may use the same names for their own parameters.
    const cellFolders = CELL_NAMES.map((n) => path.join(root, "src", "cells", n) + path.sep);
    const asCode = (n) => `\\b${n}\\b`;
    for (const name of CELL_NAMES) {
      const cell = getCell(name);
      const names = [...new Set(formsOf(cell).flatMap(({ variant }) => cell.shapes({ inputSize: 1, hiddenSize: 1, activation: "tanh", ...variant }).map((s) => s.name)))];
      const pattern = new RegExp(`(${names.map(asCode).join("|")})`);
      for (const file of files) {
        if (cellFolders.some((folder) => file.startsWith(folder))) continue;
        // A Keras weight's name (`keras: "bias"`, the projection's Dense) is Keras's word, not a cell's parameter.
        const code = fs.readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "").replace(/\bkeras: "[a-z_]+"/g, "");
        const m = code.match(pattern);
        if (m) offenders.push(`${path.relative(root, file)}: ${m[1]}`);
      }
    }
    assert.deepEqual(offenders, []);
  });
});
