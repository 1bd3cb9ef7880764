import type { Matrix } from "mathjs";
import { addInto, column, expectLength, gateActivation, gateDerivative, hiddenActivation, hiddenDerivative, matrixOf, writeColumn } from "../../backends/referenceMath";
import { math, zerosMatrix } from "../../math";
import type { LayerSpec } from "../../types";
import { CellBackwardOptions, CellForward, CellKernel, Params } from "../cell";
import { gateActivationOf, resetsAfter } from "./settings";

/**
 * The GRU written with mathjs matrices, one batch row and one time step at a time, so that a
 * reader can check it against the equations line by line; it is the yardstick of the fast
 * kernel. The fused parameters are cut into their gate blocks first (suffix z: update gate,
 * r: reset gate, c: the candidate h̃):
 *
 *   z = σ(Wxz·x + Whz·h_prev + bz)         r = σ(Wxr·x + Whr·h_prev + br)
 *   reset before:  c = φ(Wxc·x + Whc·(r ⊙ h_prev) + bc)
 *   reset after:   c = φ(Wxc·x + bc + r ⊙ u),  u = Whc·h_prev + brc   (z and r add brz, brr)
 *   h = z ⊙ h_prev + (1 − z) ⊙ c
 *
 * Every vector is an n×1 column.
 */

/** One gate's block of a fused parameter: rows g·H … (g+1)·H − 1. */
function block(flat: Float64Array, g: number, H: number, cols: number): Matrix {
  return matrixOf(flat.subarray(g * H * cols, (g + 1) * H * cols), "a gate block", H, cols);
}

/** The weights cut into gate blocks; `rec` is null without the recurrent bias (reset before). */
interface GruBlocks {
  Wxz: Matrix; Wxr: Matrix; Wxc: Matrix;
  Whz: Matrix; Whr: Matrix; Whc: Matrix;
  bz: Matrix; br: Matrix; bc: Matrix;
  rec: { brz: Matrix; brr: Matrix; brc: Matrix } | null;
}

function blocksOf(spec: Readonly<LayerSpec>, p: Params): GruBlocks {
  const I = spec.inputSize, H = spec.hiddenSize;
  expectLength("W_x", p.W_x.length, 3 * H * I, `3H×I = ${3 * H}×${I}`);
  expectLength("W_h", p.W_h.length, 3 * H * H, `3H×H = ${3 * H}×${H}`);
  expectLength("bias", p.bias.length, 3 * H, `3H = ${3 * H}`);
  let rec: GruBlocks["rec"] = null;
  if (resetsAfter(spec)) {
    expectLength("recurrentBias", p.recurrentBias.length, 3 * H, `3H = ${3 * H}`);
    rec = { brz: block(p.recurrentBias, 0, H, 1), brr: block(p.recurrentBias, 1, H, 1), brc: block(p.recurrentBias, 2, H, 1) };
  }
  return {
    Wxz: block(p.W_x, 0, H, I), Wxr: block(p.W_x, 1, H, I), Wxc: block(p.W_x, 2, H, I),
    Whz: block(p.W_h, 0, H, H), Whr: block(p.W_h, 1, H, H), Whc: block(p.W_h, 2, H, H),
    bz: block(p.bias, 0, H, 1), br: block(p.bias, 1, H, 1), bc: block(p.bias, 2, H, 1),
    rec,
  };
}

/** What one step of one batch row leaves for backward. */
interface GruStepRecord {
  x: Matrix;
  h_prev: Matrix;
  z: Matrix;
  r: Matrix;
  c: Matrix;
  /** Reset after only: u = Whc·h_prev + brc. */
  u: Matrix | null;
}

class GruReferenceCache {
  constructor(
    /** The weights forward used, so backward differentiates the same function. */
    readonly w: GruBlocks,
    /** steps[b][t]. */
    readonly steps: GruStepRecord[][],
  ) {}
}

const plus = (...terms: Matrix[]): Matrix => terms.reduce((s, v) => math.add(s, v) as Matrix);
const times = (a: Matrix, b: Matrix): Matrix => math.dotMultiply(a, b) as Matrix;
const oneMinus = (m: Matrix): Matrix => math.map(m, (v: number) => 1 - v);
const mul = (W: Matrix, v: Matrix): Matrix => math.multiply(W, v) as Matrix;
const mulT = (W: Matrix, v: Matrix): Matrix => math.multiply(math.transpose(W), v) as Matrix;
const outer = (a: Matrix, b: Matrix): Matrix => math.multiply(a, math.transpose(b)) as Matrix;

function forward(spec: Readonly<LayerSpec>, p: Params, x: Float64Array, B: number, T: number, h0: Float64Array | null): CellForward {
  const I = spec.inputSize, H = spec.hiddenSize;
  const w = blocksOf(spec, p);
  const sigma = gateActivationOf(spec);
  const phi = spec.activation;
  const h = new Float64Array(T * B * H);
  const state = new Float64Array(B * H);
  const steps: GruStepRecord[][] = [];
  for (let b = 0; b < B; b++) {
    steps.push([]);
    let h_prev = h0 ? column(h0, b * H, H) : zerosMatrix(H, 1);
    for (let t = 0; t < T; t++) {
      const x_t = column(x, (b * T + t) * I, I);
      const z = gateActivation(sigma, plus(mul(w.Wxz, x_t), mul(w.Whz, h_prev), w.bz, ...(w.rec ? [w.rec.brz] : [])));
      const r = gateActivation(sigma, plus(mul(w.Wxr, x_t), mul(w.Whr, h_prev), w.br, ...(w.rec ? [w.rec.brr] : [])));
      let c: Matrix;
      let u: Matrix | null = null;
      if (w.rec) {
        u = plus(mul(w.Whc, h_prev), w.rec.brc);
        c = hiddenActivation(phi, plus(mul(w.Wxc, x_t), w.bc, times(r, u)));
      } else {
        c = hiddenActivation(phi, plus(mul(w.Wxc, x_t), mul(w.Whc, times(r, h_prev)), w.bc));
      }
      const h_t = plus(times(z, h_prev), times(oneMinus(z), c));
      steps[b].push({ x: x_t, h_prev, z, r, c, u });
      writeColumn(h_t, h, (t * B + b) * H);
      h_prev = h_t;
    }
    writeColumn(h_prev, state, b * H);
  }
  return { B, T, h, state, cache: new GruReferenceCache(w, steps) };
}

function backward(spec: Readonly<LayerSpec>, _p: Params, fwd: CellForward, _x: Float64Array, dH: Float64Array, grads: Params, options: CellBackwardOptions): Float64Array | null {
  const cache = fwd.cache;
  if (!(cache instanceof GruReferenceCache)) {
    throw new Error("reference backend: backward needs the result of the reference backend's forward");
  }
  const { B, T } = fwd;
  const I = spec.inputSize, H = spec.hiddenSize;
  const k = options.truncate;
  const dhNormSq = options.dhNormSq;
  if (!Number.isInteger(k) || k < 0) throw new Error(`reference backend: truncate must be an integer ≥ 0, got ${k}`);
  expectLength("grads.W_x", grads.W_x.length, 3 * H * I, `3H×I = ${3 * H}×${I}`);
  expectLength("grads.W_h", grads.W_h.length, 3 * H * H, `3H×H = ${3 * H}×${H}`);
  expectLength("grads.bias", grads.bias.length, 3 * H, `3H = ${3 * H}`);
  const w = cache.w;
  if (w.rec) expectLength("grads.recurrentBias", grads.recurrentBias?.length ?? 0, 3 * H, `3H = ${3 * H}`);
  const sigma = gateActivationOf(spec);
  const phi = spec.activation;

  // Gradients per gate block, index 0 z, 1 r, 2 c.
  const dWx = [0, 1, 2].map(() => zerosMatrix(H, I));
  const dWh = [0, 1, 2].map(() => zerosMatrix(H, H));
  const db = [0, 1, 2].map(() => zerosMatrix(H, 1));
  const dbRec = [0, 1, 2].map(() => zerosMatrix(H, 1));
  const dx = options.needInputGrad ? new Float64Array(B * T * I) : null;

  for (let b = 0; b < B; b++) {
    let dh_next = zerosMatrix(H, 1);
    for (let t = T - 1; t >= 0; t--) {
      const { x: x_t, h_prev, z, r, c, u } = cache.steps[b][t];
      const dh = math.add(column(dH, (t * B + b) * H, H), dh_next) as Matrix;
      if (dhNormSq) dhNormSq[t] += math.dot(dh, dh);

      // h = z ⊙ h_prev + (1 − z) ⊙ c
      const daz = times(times(dh, math.subtract(h_prev, c) as Matrix), gateDerivative(sigma, z));
      const dac = times(times(dh, oneMinus(z)), hiddenDerivative(phi, c));
      let dar: Matrix;
      let dh_prev = times(dh, z);
      if (u && w.rec) {
        // c = φ(Wxc·x + bc + r ⊙ u), u = Whc·h_prev + brc
        const du = times(dac, r);
        dar = times(times(dac, u), gateDerivative(sigma, r));
        dWh[2] = plus(dWh[2], outer(du, h_prev));
        dbRec[2] = plus(dbRec[2], du);
        dbRec[0] = plus(dbRec[0], daz);
        dbRec[1] = plus(dbRec[1], dar);
        dh_prev = plus(dh_prev, mulT(w.Whc, du));
      } else {
        // c = φ(Wxc·x + Whc·(r ⊙ h_prev) + bc)
        const drh = mulT(w.Whc, dac);
        dar = times(times(drh, h_prev), gateDerivative(sigma, r));
        dWh[2] = plus(dWh[2], outer(dac, times(r, h_prev)));
        dh_prev = plus(dh_prev, times(drh, r));
      }
      dWh[0] = plus(dWh[0], outer(daz, h_prev));
      dWh[1] = plus(dWh[1], outer(dar, h_prev));
      dh_prev = plus(dh_prev, mulT(w.Whz, daz), mulT(w.Whr, dar));

      const da = [daz, dar, dac];
      for (let g = 0; g < 3; g++) {
        dWx[g] = plus(dWx[g], outer(da[g], x_t));
        db[g] = plus(db[g], da[g]);
      }
      if (dx) writeColumn(plus(mulT(w.Wxz, daz), mulT(w.Wxr, dar), mulT(w.Wxc, dac)), dx, (b * T + t) * I);

      // Blocks of k steps are counted back from the last step; the state entering a block is
      // treated as a constant, so at a block's first step nothing flows further back.
      const blockStart = k > 0 && (T - t) % k === 0;
      dh_next = blockStart ? zerosMatrix(H, 1) : dh_prev;
    }
  }

  for (let g = 0; g < 3; g++) {
    addInto(grads.W_x.subarray(g * H * I), dWx[g]);
    addInto(grads.W_h.subarray(g * H * H), dWh[g]);
    addInto(grads.bias.subarray(g * H), db[g]);
    if (w.rec) addInto(grads.recurrentBias.subarray(g * H), dbRec[g]);
  }
  return dx;
}

export const gruReference: CellKernel = { forward, backward };
