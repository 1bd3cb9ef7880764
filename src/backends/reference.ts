import type { Matrix } from "mathjs";
import { LayerParams, RnnLayer, toRows } from "../layer";
import { math, toMatrix, zerosMatrix } from "../math";
import { HiddenActivation, OutputActivation } from "../types";
import { BackwardOptions, ForwardResult, LayerBackend } from "./backend";

/**
 * The reference backend: the Elman equations written with mathjs matrices, one batch row and one
 * time step at a time, so that a reader can check them against the maths line by line. Clarity
 * comes before speed here: this is the yardstick the fast backend is tested against.
 *
 *   a_t = W_xh·x_t + W_hh·h_{t-1} + b_h      h_t = f(a_t)      y_t = g(W_hy·h_t + b_y)
 *
 * Every vector is an n×1 column.
 */

/** The layer's parameters as matrices; the biases are columns. */
interface Weights {
  W_xh: Matrix;
  W_hh: Matrix;
  b_h: Matrix;
  W_hy: Matrix | null;
  b_y: Matrix | null;
}

/** What backward needs from forward, per batch row b and step t. */
class ReferenceCache {
  constructor(
    /** The weights forward used, so backward differentiates the same function. */
    readonly weights: Weights,
    /** xs[b][t] = x_t. */
    readonly xs: Matrix[][],
    /** h0s[b] = the state before step 0. */
    readonly h0s: Matrix[],
    /** hs[b][t] = h_t. */
    readonly hs: Matrix[][],
    /** ys[b][t] = y_t (empty without a projection). */
    readonly ys: Matrix[][],
  ) {}
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

function hiddenActivation(f: HiddenActivation, a: Matrix): Matrix {
  switch (f) {
    case "tanh":
      return math.map(a, (v: number) => Math.tanh(v));
    case "relu":
      return math.map(a, (v: number) => (v < 0 ? 0 : v));
    case "sigmoid":
      return math.map(a, sigmoid);
    case "linear":
      return a;
  }
}

/** f'(a_t), written in terms of h_t = f(a_t), which is what the cache keeps. */
function hiddenDerivative(f: HiddenActivation, h: Matrix): Matrix {
  switch (f) {
    case "tanh":
      return math.map(h, (v: number) => 1 - v * v);
    case "relu":
      return math.map(h, (v: number) => (v > 0 ? 1 : 0));
    case "sigmoid":
      return math.map(h, (v: number) => v * (1 - v));
    case "linear":
      return math.map(h, () => 1);
  }
}

function outputActivation(g: OutputActivation, z: Matrix): Matrix {
  switch (g) {
    case "linear":
      return z;
    case "sigmoid":
      return math.map(z, sigmoid);
    case "softmax": {
      // Shifting by the largest logit changes nothing mathematically but keeps exp from overflowing.
      const zMax = math.max(z) as number;
      const e = math.map(z, (v: number) => Math.exp(v - zMax));
      return math.dotDivide(e, math.sum(e) as number);
    }
  }
}

/** dz = g'(z)ᵀ dy for y = g(z), written in terms of y. */
function outputBackward(g: OutputActivation, y: Matrix, dy: Matrix): Matrix {
  switch (g) {
    case "linear":
      return dy;
    case "sigmoid":
      return math.dotMultiply(dy, math.map(y, (v: number) => v * (1 - v)));
    case "softmax":
      // The softmax Jacobian is diag(y) − y yᵀ, so its product with dy needs only the scalar dy·y.
      return math.dotMultiply(y, math.subtract(dy, math.dot(dy, y)) as Matrix);
  }
}

/** Entries [offset, offset + n) of a flat array, as an n×1 column. */
function column(flat: Float64Array, offset: number, n: number): Matrix {
  return toMatrix(Array.from(flat.subarray(offset, offset + n), (v) => [v]));
}

/** Writes an n×1 column into flat[offset …]. */
function writeColumn(c: Matrix, flat: Float64Array, offset: number): void {
  (c.valueOf() as number[][]).forEach((row, i) => {
    flat[offset + i] = row[0];
  });
}

/** flat += m, with m read row-major (the layout of the layer's parameters). */
function addInto(flat: Float64Array, m: Matrix): void {
  (m.valueOf() as number[][]).flat().forEach((v, i) => {
    flat[i] += v;
  });
}

function expectLength(what: string, actual: number, expected: number, shape: string): void {
  if (actual !== expected) {
    throw new Error(`reference backend: ${what} has ${actual} entries, expected ${expected} (${shape})`);
  }
}

function weightsOf(layer: RnnLayer): Weights {
  const { W_xh, W_hh, b_h, W_hy, b_y } = layer.params;
  const I = layer.inputSize;
  const H = layer.hiddenSize;
  expectLength("W_xh", W_xh.length, H * I, `H×I = ${H}×${I}`);
  expectLength("W_hh", W_hh.length, H * H, `H×H = ${H}×${H}`);
  expectLength("b_h", b_h.length, H, `H = ${H}`);
  const weights: Weights = {
    W_xh: toMatrix(toRows(W_xh, H, I)),
    W_hh: toMatrix(toRows(W_hh, H, H)),
    b_h: column(b_h, 0, H),
    W_hy: null,
    b_y: null,
  };
  if (layer.hasOutput) {
    const O = layer.outputSize;
    if (!W_hy || !b_y) throw new Error("reference backend: the layer has an output size but no W_hy or b_y");
    expectLength("W_hy", W_hy.length, O * H, `O×H = ${O}×${H}`);
    expectLength("b_y", b_y.length, O, `O = ${O}`);
    weights.W_hy = toMatrix(toRows(W_hy, O, H));
    weights.b_y = column(b_y, 0, O);
  }
  return weights;
}

function forward(layer: RnnLayer, x: Float64Array, B: number, T: number, h0?: Float64Array | null): ForwardResult {
  const I = layer.inputSize;
  const H = layer.hiddenSize;
  const O = layer.outputSize;
  expectLength("x", x.length, B * T * I, `B×T×I = ${B}×${T}×${I}`);
  if (h0) expectLength("h0", h0.length, B * H, `B×H = ${B}×${H}`);
  const { W_xh, W_hh, b_h, W_hy, b_y } = weightsOf(layer);
  const f = layer.activation;
  const g = layer.outputActivation;

  const y = new Float64Array(B * T * O);
  const hT = new Float64Array(B * H);
  const xs: Matrix[][] = [];
  const h0s: Matrix[] = [];
  const hs: Matrix[][] = [];
  const ys: Matrix[][] = [];
  for (let b = 0; b < B; b++) {
    xs.push([]);
    hs.push([]);
    ys.push([]);
    let h_prev = h0 ? column(h0, b * H, H) : zerosMatrix(H, 1);
    h0s.push(h_prev);
    for (let t = 0; t < T; t++) {
      const x_t = column(x, (b * T + t) * I, I);
      const a_t = math.add(math.add(math.multiply(W_xh, x_t), math.multiply(W_hh, h_prev)), b_h);
      const h_t = hiddenActivation(f, a_t);
      xs[b].push(x_t);
      hs[b].push(h_t);
      if (W_hy && b_y) {
        const y_t = outputActivation(g, math.add(math.multiply(W_hy, h_t), b_y));
        ys[b].push(y_t);
        writeColumn(y_t, y, (b * T + t) * O);
      } else {
        writeColumn(h_t, y, (b * T + t) * H);
      }
      h_prev = h_t;
    }
    writeColumn(h_prev, hT, b * H);
  }
  return { B, T, x, y, hT, cache: new ReferenceCache({ W_xh, W_hh, b_h, W_hy, b_y }, xs, h0s, hs, ys) };
}

function backward(
  layer: RnnLayer,
  fwd: ForwardResult,
  dY: Float64Array,
  grads: LayerParams,
  options: BackwardOptions = {},
): Float64Array | null {
  const cache = fwd.cache;
  if (!(cache instanceof ReferenceCache)) {
    throw new Error("reference backend: backward needs the result of the reference backend's forward");
  }
  const { B, T } = fwd;
  const I = layer.inputSize;
  const H = layer.hiddenSize;
  const O = layer.outputSize;
  const k = options.truncate ?? 0;
  const dhNormSq = options.dhNormSq;
  const needInputGrad = options.needInputGrad ?? true;
  const dYIsLogit = options.dYIsLogit ?? false;
  if (!Number.isInteger(k) || k < 0) throw new Error(`reference backend: truncate must be an integer ≥ 0, got ${k}`);
  expectLength("dY", dY.length, B * T * O, `B×T×O = ${B}×${T}×${O}`);
  if (dhNormSq) expectLength("dhNormSq", dhNormSq.length, T, `T = ${T}`);
  expectLength("grads.W_xh", grads.W_xh.length, H * I, `H×I = ${H}×${I}`);
  expectLength("grads.W_hh", grads.W_hh.length, H * H, `H×H = ${H}×${H}`);
  expectLength("grads.b_h", grads.b_h.length, H, `H = ${H}`);
  const { W_xh, W_hh, W_hy } = cache.weights;
  if (W_hy) {
    expectLength("grads.W_hy", grads.W_hy?.length ?? 0, O * H, `O×H = ${O}×${H}`);
    expectLength("grads.b_y", grads.b_y?.length ?? 0, O, `O = ${O}`);
  }
  const f = layer.activation;
  const g = layer.outputActivation;

  let dW_xh = zerosMatrix(H, I);
  let dW_hh = zerosMatrix(H, H);
  let db_h = zerosMatrix(H, 1);
  let dW_hy = zerosMatrix(O, H);
  let db_y = zerosMatrix(O, 1);
  const dx = needInputGrad ? new Float64Array(B * T * I) : null;

  for (let b = 0; b < B; b++) {
    let dh_next = zerosMatrix(H, 1);
    for (let t = T - 1; t >= 0; t--) {
      const x_t = cache.xs[b][t];
      const h_t = cache.hs[b][t];
      const h_prev = t > 0 ? cache.hs[b][t - 1] : cache.h0s[b];
      const dy = column(dY, (b * T + t) * O, O);

      let dh: Matrix;
      if (W_hy) {
        const dz_y = dYIsLogit ? dy : outputBackward(g, cache.ys[b][t], dy);
        dW_hy = math.add(dW_hy, math.multiply(dz_y, math.transpose(h_t)));
        db_y = math.add(db_y, dz_y);
        dh = math.add(math.multiply(math.transpose(W_hy), dz_y), dh_next);
      } else {
        dh = math.add(dy, dh_next);
      }
      if (dhNormSq) dhNormSq[t] += math.dot(dh, dh);

      const da = math.dotMultiply(dh, hiddenDerivative(f, h_t));
      dW_xh = math.add(dW_xh, math.multiply(da, math.transpose(x_t)));
      dW_hh = math.add(dW_hh, math.multiply(da, math.transpose(h_prev)));
      db_h = math.add(db_h, da);
      if (dx) writeColumn(math.multiply(math.transpose(W_xh), da), dx, (b * T + t) * I);

      // Blocks of k steps are counted back from the last step; the state entering a block is
      // treated as a constant, so at a block's first step nothing flows further back.
      const blockStart = k > 0 && (T - t) % k === 0;
      dh_next = blockStart ? zerosMatrix(H, 1) : math.multiply(math.transpose(W_hh), da);
    }
  }

  addInto(grads.W_xh, dW_xh);
  addInto(grads.W_hh, dW_hh);
  addInto(grads.b_h, db_h);
  if (W_hy && grads.W_hy && grads.b_y) {
    addInto(grads.W_hy, dW_hy);
    addInto(grads.b_y, db_y);
  }
  return dx;
}

export const referenceBackend: LayerBackend = { name: "reference", forward, backward };
