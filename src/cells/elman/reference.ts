import type { Matrix } from "mathjs";
import { addInto, column, expectLength, hiddenActivation, hiddenDerivative, matrixOf, writeColumn } from "../../backends/referenceMath";
import { math, zerosMatrix } from "../../math";
import type { LayerSpec } from "../../types";
import { CellBackwardOptions, CellForward, CellKernel, Params } from "../cell";

/**
 * The Elman cell written with mathjs matrices, one batch row and one time step at a time, so that
 * a reader can check it against the equations line by line. It is the yardstick the fast kernel
 * is tested against; clarity comes before speed.
 *
 *   a_t = W_xh·x_t + W_hh·h_{t-1} + b_h      h_t = f(a_t)
 *
 * Every vector is an n×1 column.
 */

/** What backward needs from forward, per batch row b and step t. */
class ElmanReferenceCache {
  constructor(
    /** The weights forward used, so backward differentiates the same function. */
    readonly W_xh: Matrix,
    readonly W_hh: Matrix,
    /** xs[b][t] = x_t. */
    readonly xs: Matrix[][],
    /** h0s[b] = the state before step 1. */
    readonly h0s: Matrix[],
    /** hs[b][t] = h_t. */
    readonly hs: Matrix[][],
  ) {}
}

function forward(spec: Readonly<LayerSpec>, p: Params, x: Float64Array, B: number, T: number, h0: Float64Array | null, _ws: unknown): CellForward {
  const I = spec.inputSize;
  const H = spec.hiddenSize;
  const W_xh = matrixOf(p.W_xh, "W_xh", H, I);
  const W_hh = matrixOf(p.W_hh, "W_hh", H, H);
  expectLength("b_h", p.b_h.length, H, `H = ${H}`);
  const b_h = column(p.b_h, 0, H);
  const f = spec.activation;

  const h = new Float64Array(T * B * H);
  const state = new Float64Array(B * H);
  const xs: Matrix[][] = [];
  const h0s: Matrix[] = [];
  const hs: Matrix[][] = [];
  for (let b = 0; b < B; b++) {
    xs.push([]);
    hs.push([]);
    let h_prev = h0 ? column(h0, b * H, H) : zerosMatrix(H, 1);
    h0s.push(h_prev);
    for (let t = 0; t < T; t++) {
      const x_t = column(x, (b * T + t) * I, I);
      const a_t = math.add(math.add(math.multiply(W_xh, x_t), math.multiply(W_hh, h_prev)), b_h);
      const h_t = hiddenActivation(f, a_t);
      xs[b].push(x_t);
      hs[b].push(h_t);
      writeColumn(h_t, h, (t * B + b) * H);
      h_prev = h_t;
    }
    writeColumn(h_prev, state, b * H);
  }
  return { B, T, h, state, cache: new ElmanReferenceCache(W_xh, W_hh, xs, h0s, hs) };
}

function backward(spec: Readonly<LayerSpec>, _p: Params, fwd: CellForward, _x: Float64Array, dH: Float64Array, grads: Params, options: CellBackwardOptions, _ws: unknown): Float64Array | null {
  const cache = fwd.cache;
  if (!(cache instanceof ElmanReferenceCache)) {
    throw new Error("reference backend: backward needs the result of the reference backend's forward");
  }
  const { B, T } = fwd;
  const I = spec.inputSize;
  const H = spec.hiddenSize;
  const k = options.truncate;
  const dhNormSq = options.dhNormSq;
  if (!Number.isInteger(k) || k < 0) throw new Error(`reference backend: truncate must be an integer ≥ 0, got ${k}`);
  expectLength("grads.W_xh", grads.W_xh.length, H * I, `H×I = ${H}×${I}`);
  expectLength("grads.W_hh", grads.W_hh.length, H * H, `H×H = ${H}×${H}`);
  expectLength("grads.b_h", grads.b_h.length, H, `H = ${H}`);
  const { W_xh, W_hh } = cache;
  const f = spec.activation;

  let dW_xh = zerosMatrix(H, I);
  let dW_hh = zerosMatrix(H, H);
  let db_h = zerosMatrix(H, 1);
  const dx = options.needInputGrad ? new Float64Array(B * T * I) : null;

  for (let b = 0; b < B; b++) {
    let dh_next = zerosMatrix(H, 1);
    for (let t = T - 1; t >= 0; t--) {
      const x_t = cache.xs[b][t];
      const h_t = cache.hs[b][t];
      const h_prev = t > 0 ? cache.hs[b][t - 1] : cache.h0s[b];
      const dh = math.add(column(dH, (t * B + b) * H, H), dh_next);
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
  return dx;
}

export const elmanReference: CellKernel = { forward, backward };
