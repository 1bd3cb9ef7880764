import { activateInPlace } from "../../activations";
import { CellBackwardOptions, CellForward, CellKernel, Params } from "../cell";
import type { LayerSpec } from "../../types";
import { scratch, Workspace } from "../../workspace";

/**
 * The Elman cell's default kernel: fused Float64Array loops over the whole minibatch.
 *
 *   a_t = W_xh x_t + W_hh h_{t-1} + b_h      h_t = f(a_t)
 *
 * Hidden states are kept time-major, hs[(s·B + b)·H + j] for s = 0..T where slot 0 is h_0, so one
 * time step of the batch is one contiguous block. The recurrent products process four batch rows
 * at a time: every weight loaded from memory is used four times, which is where most of the
 * speed over a row-at-a-time loop comes from. Nothing is allocated inside the time loop.
 */

interface ElmanFastCache {
  /** (T+1)·B·H hidden states, time-major, slot 0 = h_0. */
  hs: Float64Array;
}

function forward(spec: Readonly<LayerSpec>, p: Params, x: Float64Array, B: number, T: number, h0: Float64Array | null, ws: Workspace | null): CellForward {
  const { W_xh, W_hh, b_h } = p;
  const I = spec.inputSize;
  const H = spec.hiddenSize;
  const BH = B * H;
  const hs = scratch(ws, "elman.hs", (T + 1) * BH, false);
  // Slot 0 is h_0; every later slot is written in full below.
  if (h0) hs.set(h0);
  else hs.fill(0, 0, BH);
  const f = spec.activation;

  for (let t = 0; t < T; t++) {
    const prev = t * BH;
    const cur = prev + BH;
    let b = 0;
    for (; b + 3 < B; b += 4) {
      const p0 = prev + b * H, p1 = p0 + H, p2 = p1 + H, p3 = p2 + H;
      const x0 = (b * T + t) * I, x1 = x0 + T * I, x2 = x1 + T * I, x3 = x2 + T * I;
      const c0 = cur + b * H;
      for (let j = 0; j < H; j++) {
        const bj = b_h[j];
        let s0 = bj, s1 = bj, s2 = bj, s3 = bj;
        const wx = j * I;
        for (let i = 0; i < I; i++) {
          const w = W_xh[wx + i];
          s0 += w * x[x0 + i];
          s1 += w * x[x1 + i];
          s2 += w * x[x2 + i];
          s3 += w * x[x3 + i];
        }
        const wh = j * H;
        for (let k = 0; k < H; k++) {
          const w = W_hh[wh + k];
          s0 += w * hs[p0 + k];
          s1 += w * hs[p1 + k];
          s2 += w * hs[p2 + k];
          s3 += w * hs[p3 + k];
        }
        hs[c0 + j] = s0;
        hs[c0 + H + j] = s1;
        hs[c0 + 2 * H + j] = s2;
        hs[c0 + 3 * H + j] = s3;
      }
    }
    for (; b < B; b++) {
      const p0 = prev + b * H;
      const x0 = (b * T + t) * I;
      const c0 = cur + b * H;
      for (let j = 0; j < H; j++) {
        let s0 = b_h[j];
        const wx = j * I;
        for (let i = 0; i < I; i++) s0 += W_xh[wx + i] * x[x0 + i];
        const wh = j * H;
        for (let k = 0; k < H; k++) s0 += W_hh[wh + k] * hs[p0 + k];
        hs[c0 + j] = s0;
      }
    }
    activateInPlace(f, hs, cur, BH);
  }
  const cache: ElmanFastCache = { hs };
  // A state kept by the caller (stateful use, no workspace) must not hold the whole history alive.
  const state = ws ? hs.subarray(T * BH, (T + 1) * BH) : hs.slice(T * BH, (T + 1) * BH);
  return { B, T, h: hs.subarray(BH), state, cache };
}

function backward(spec: Readonly<LayerSpec>, p: Params, fwd: CellForward, x: Float64Array, dH: Float64Array, grads: Params, options: CellBackwardOptions, ws: Workspace | null): Float64Array | null {
  const { W_xh, W_hh } = p;
  const { B, T } = fwd;
  const { hs } = fwd.cache as ElmanFastCache;
  const I = spec.inputSize;
  const H = spec.hiddenSize;
  const BH = B * H;
  const truncate = options.truncate > 0 ? Math.floor(options.truncate) : 0;
  const dX = options.needInputGrad ? scratch(ws, "elman.dX", B * T * I, true) : null;
  const dhNormSq = options.dhNormSq;
  const f = spec.activation;
  const gdW_xh = grads.W_xh, gdW_hh = grads.W_hh, gdb_h = grads.b_h;
  // dh_next = W_hhᵀ da_{t+1}, what step t+1 sends back to h_t.
  const dhNext = scratch(ws, "elman.dhNext", BH, true);

  for (let t = T - 1; t >= 0; t--) {
    const cur = (t + 1) * BH;
    const prev = t * BH;
    // dH's block t becomes dh_t = ∂L/∂h_t (from above) + dh_next, then da_t = dh_t ⊙ f'(a_t), in place.
    const d = t * BH;
    for (let i = 0; i < BH; i++) dH[d + i] += dhNext[i];
    if (dhNormSq) {
      let s = 0;
      for (let i = 0; i < BH; i++) s += dH[d + i] * dH[d + i];
      dhNormSq[t] += s;
    }
    switch (f) {
      case "tanh":
        for (let i = 0; i < BH; i++) { const v = hs[cur + i]; dH[d + i] *= 1 - v * v; }
        break;
      case "sigmoid":
        for (let i = 0; i < BH; i++) { const v = hs[cur + i]; dH[d + i] *= v * (1 - v); }
        break;
      case "relu":
        for (let i = 0; i < BH; i++) if (hs[cur + i] <= 0) dH[d + i] = 0;
        break;
      default:
        break;
    }

    // Input weights, bias and ∂L/∂x_t.
    for (let b = 0; b < B; b++) {
      const db = d + b * H;
      const xo = (b * T + t) * I;
      for (let j = 0; j < H; j++) {
        const da = dH[db + j];
        if (da === 0) continue;
        gdb_h[j] += da;
        const w = j * I;
        for (let i = 0; i < I; i++) {
          gdW_xh[w + i] += da * x[xo + i];
          if (dX) dX[xo + i] += W_xh[w + i] * da;
        }
      }
    }

    // Recurrent weights and dh_next = W_hhᵀ da, fused so each W_hh entry is loaded once per 4 rows.
    const cut = truncate > 0 && (T - t) % truncate === 0;
    // Nothing flows past h_0 (zeros or a carried state, a constant) nor across a truncation cut.
    const wantNext = !cut && t > 0;
    dhNext.fill(0);
    let b = 0;
    for (; b + 3 < B; b += 4) {
      const d0 = b * H, d1 = d0 + H, d2 = d1 + H, d3 = d2 + H;
      const a0o = d + d0, a1o = a0o + H, a2o = a1o + H, a3o = a2o + H;
      const p0 = prev + d0, p1 = prev + d1, p2 = prev + d2, p3 = prev + d3;
      for (let j = 0; j < H; j++) {
        const a0 = dH[a0o + j], a1 = dH[a1o + j], a2 = dH[a2o + j], a3 = dH[a3o + j];
        if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
        const w = j * H;
        if (wantNext) {
          for (let k = 0; k < H; k++) {
            gdW_hh[w + k] += a0 * hs[p0 + k] + a1 * hs[p1 + k] + a2 * hs[p2 + k] + a3 * hs[p3 + k];
            const wk = W_hh[w + k];
            dhNext[d0 + k] += wk * a0;
            dhNext[d1 + k] += wk * a1;
            dhNext[d2 + k] += wk * a2;
            dhNext[d3 + k] += wk * a3;
          }
        } else {
          for (let k = 0; k < H; k++) gdW_hh[w + k] += a0 * hs[p0 + k] + a1 * hs[p1 + k] + a2 * hs[p2 + k] + a3 * hs[p3 + k];
        }
      }
    }
    for (; b < B; b++) {
      const d0 = b * H;
      const a0o = d + d0;
      const p0 = prev + d0;
      for (let j = 0; j < H; j++) {
        const a0 = dH[a0o + j];
        if (a0 === 0) continue;
        const w = j * H;
        for (let k = 0; k < H; k++) {
          gdW_hh[w + k] += a0 * hs[p0 + k];
          if (wantNext) dhNext[d0 + k] += W_hh[w + k] * a0;
        }
      }
    }
  }
  return dX;
}

export const elmanFast: CellKernel = { forward, backward };

/** One step of one sequence (the forecaster): h_t into sNext from h_{t-1} in s. */
export function elmanStep(spec: Readonly<LayerSpec>, p: Params, x: ArrayLike<number>, xOffset: number, s: Float64Array, sNext: Float64Array): void {
  const { W_xh, W_hh, b_h } = p;
  const I = spec.inputSize, H = spec.hiddenSize;
  for (let j = 0; j < H; j++) {
    let a = b_h[j];
    const wx = j * I;
    for (let i = 0; i < I; i++) a += W_xh[wx + i] * x[xOffset + i];
    // Four partial sums break the add-latency chain of one long dot product.
    const wh = j * H;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let m = 0;
    for (; m + 3 < H; m += 4) {
      s0 += W_hh[wh + m] * s[m];
      s1 += W_hh[wh + m + 1] * s[m + 1];
      s2 += W_hh[wh + m + 2] * s[m + 2];
      s3 += W_hh[wh + m + 3] * s[m + 3];
    }
    for (; m < H; m++) s0 += W_hh[wh + m] * s[m];
    sNext[j] = a + (s0 + s1) + (s2 + s3);
  }
  activateInPlace(spec.activation, sNext, 0, H);
}
