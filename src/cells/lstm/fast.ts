import { activateInPlace, derivativeFromOutput } from "../../activations";
import type { LayerSpec } from "../../types";
import { CellBackwardOptions, CellForward, CellKernel, Params } from "../cell";

/**
 * The LSTM cell's default kernel: fused Float64Array loops over the whole minibatch.
 *
 *   a_t = W_x x_t + W_h h_{t-1} + bias        (4H pre-activations, gate blocks i, f, c, o)
 *   i, f, o = σ(a_i), σ(a_f), σ(a_o)          c̃ = φ(a_c)
 *   c_t = f ⊙ c_{t-1} + i ⊙ c̃                h_t = o ⊙ φ(c_t)
 *
 * Everything per step is time-major, so one step of the batch is one contiguous block: h and c
 * are (T+1)·B·H with slot 0 the state before step 1, the gates' values T·B·4H. The matrix
 * products take four batch rows per pass, so each weight loaded is used four times. Nothing is
 * allocated inside the time loop.
 */

interface LstmFastCache {
  /** (T+1)·B·H hidden states, time-major, slot 0 = h_0. */
  hs: Float64Array;
  /** (T+1)·B·H cell states, time-major, slot 0 = c_0. */
  cs: Float64Array;
  /** T·B·4H gate values after their activations (i, f, c̃, o per row). */
  gates: Float64Array;
  /** T·B·H values of φ(c_t), which backward needs for ∂h/∂o and φ'(c_t). */
  phiC: Float64Array;
}

const gateActivationOf = (spec: Readonly<LayerSpec>) => spec.recurrentActivation ?? "sigmoid";

/**
 * The four gates' activations and the state update of one batch row, once its 4H
 * pre-activations are in `a[ao …]`: writes c_t, φ(c_t) and h_t. Shared by the batched forward
 * and the forecaster's step, so the two cannot drift apart.
 */
function updateRow(spec: Readonly<LayerSpec>, a: Float64Array, ao: number, cPrev: Float64Array, cpo: number, c: Float64Array, co: number, phiC: Float64Array | null, po: number, h: Float64Array, ho: number): void {
  const H = spec.hiddenSize;
  const sigma = gateActivationOf(spec);
  const phi = spec.activation;
  activateInPlace(sigma, a, ao, 2 * H); // i and f are adjacent
  activateInPlace(phi, a, ao + 2 * H, H);
  activateInPlace(sigma, a, ao + 3 * H, H);
  for (let j = 0; j < H; j++) {
    c[co + j] = a[ao + H + j] * cPrev[cpo + j] + a[ao + j] * a[ao + 2 * H + j];
  }
  // φ(c_t) goes through h's slots first, so φ is applied by the one shared implementation.
  for (let j = 0; j < H; j++) h[ho + j] = c[co + j];
  activateInPlace(phi, h, ho, H);
  for (let j = 0; j < H; j++) {
    const v = h[ho + j];
    if (phiC) phiC[po + j] = v;
    h[ho + j] = a[ao + 3 * H + j] * v;
  }
}

function forward(spec: Readonly<LayerSpec>, p: Params, x: Float64Array, B: number, T: number, s0: Float64Array | null): CellForward {
  const { W_x, W_h, bias } = p;
  const I = spec.inputSize;
  const H = spec.hiddenSize;
  const G = 4 * H;
  const BH = B * H;
  const BG = B * G;
  const hs = new Float64Array((T + 1) * BH);
  const cs = new Float64Array((T + 1) * BH);
  const gates = new Float64Array(T * BG);
  const phiC = new Float64Array(T * BH);
  if (s0) {
    for (let b = 0; b < B; b++) {
      hs.set(s0.subarray(b * 2 * H, b * 2 * H + H), b * H);
      cs.set(s0.subarray(b * 2 * H + H, (b + 1) * 2 * H), b * H);
    }
  }

  for (let t = 0; t < T; t++) {
    const prev = t * BH;
    const cur = prev + BH;
    const at = t * BG;
    let b = 0;
    for (; b + 3 < B; b += 4) {
      const p0 = prev + b * H, p1 = p0 + H, p2 = p1 + H, p3 = p2 + H;
      const x0 = (b * T + t) * I, x1 = x0 + T * I, x2 = x1 + T * I, x3 = x2 + T * I;
      const a0 = at + b * G;
      for (let r = 0; r < G; r++) {
        const br = bias[r];
        let s0 = br, s1 = br, s2 = br, s3 = br;
        const wx = r * I;
        for (let i = 0; i < I; i++) {
          const w = W_x[wx + i];
          s0 += w * x[x0 + i];
          s1 += w * x[x1 + i];
          s2 += w * x[x2 + i];
          s3 += w * x[x3 + i];
        }
        const wh = r * H;
        for (let k = 0; k < H; k++) {
          const w = W_h[wh + k];
          s0 += w * hs[p0 + k];
          s1 += w * hs[p1 + k];
          s2 += w * hs[p2 + k];
          s3 += w * hs[p3 + k];
        }
        gates[a0 + r] = s0;
        gates[a0 + G + r] = s1;
        gates[a0 + 2 * G + r] = s2;
        gates[a0 + 3 * G + r] = s3;
      }
    }
    for (; b < B; b++) {
      const p0 = prev + b * H;
      const x0 = (b * T + t) * I;
      const a0 = at + b * G;
      for (let r = 0; r < G; r++) {
        let s0 = bias[r];
        const wx = r * I;
        for (let i = 0; i < I; i++) s0 += W_x[wx + i] * x[x0 + i];
        const wh = r * H;
        for (let k = 0; k < H; k++) s0 += W_h[wh + k] * hs[p0 + k];
        gates[a0 + r] = s0;
      }
    }
    for (let b = 0; b < B; b++) {
      updateRow(spec, gates, at + b * G, cs, prev + b * H, cs, cur + b * H, phiC, t * BH + b * H, hs, cur + b * H);
    }
  }

  const state = new Float64Array(B * 2 * H);
  const last = T * BH;
  for (let b = 0; b < B; b++) {
    state.set(hs.subarray(last + b * H, last + (b + 1) * H), b * 2 * H);
    state.set(cs.subarray(last + b * H, last + (b + 1) * H), b * 2 * H + H);
  }
  const cache: LstmFastCache = { hs, cs, gates, phiC };
  return { B, T, h: hs.subarray(BH), state, cache };
}

function backward(spec: Readonly<LayerSpec>, p: Params, fwd: CellForward, x: Float64Array, dH: Float64Array, grads: Params, options: CellBackwardOptions): Float64Array | null {
  const { W_x, W_h } = p;
  const { B, T } = fwd;
  const { hs, cs, gates, phiC } = fwd.cache as LstmFastCache;
  const I = spec.inputSize;
  const H = spec.hiddenSize;
  const G = 4 * H;
  const BH = B * H;
  const BG = B * G;
  const truncate = options.truncate > 0 ? Math.floor(options.truncate) : 0;
  const dX = options.needInputGrad ? new Float64Array(B * T * I) : null;
  const dhNormSq = options.dhNormSq;
  const sigma = gateActivationOf(spec);
  const phi = spec.activation;
  const gW_x = grads.W_x, gW_h = grads.W_h, gbias = grads.bias;
  // What step t+1 sends back to h_t (W_hᵀ da_{t+1}) and to c_t (dc_{t+1} ⊙ f_{t+1}).
  const dhNext = new Float64Array(BH);
  const dcNext = new Float64Array(BH);
  // da_t, the gradient of step t's 4H pre-activations, per batch row (the cache stays intact).
  const dA = new Float64Array(BG);

  for (let t = T - 1; t >= 0; t--) {
    const d = t * BH;
    const prev = t * BH;
    const at = t * BG;
    for (let i = 0; i < BH; i++) dH[d + i] += dhNext[i];
    if (dhNormSq) {
      let s = 0;
      for (let i = 0; i < BH; i++) s += dH[d + i] * dH[d + i];
      dhNormSq[t] += s;
    }
    // Blocks of `truncate` steps counted back from the last; nothing (neither dh nor dc) flows
    // past h_0, c_0 (a constant) nor across a block's first step.
    const cut = truncate > 0 && (T - t) % truncate === 0;
    const wantNext = !cut && t > 0;

    for (let b = 0; b < B; b++) {
      const g = at + b * G;
      const da = b * G;
      for (let j = 0; j < H; j++) {
        const n = b * H + j;
        const gi = gates[g + j], gf = gates[g + H + j], gc = gates[g + 2 * H + j], go = gates[g + 3 * H + j];
        const pc = phiC[d + n];
        const dh = dH[d + n];
        const dc = dcNext[n] + dh * go * derivativeFromOutput(phi, pc);
        dA[da + j] = dc * gc * derivativeFromOutput(sigma, gi);
        dA[da + H + j] = dc * cs[prev + n] * derivativeFromOutput(sigma, gf);
        dA[da + 2 * H + j] = dc * gi * derivativeFromOutput(phi, gc);
        dA[da + 3 * H + j] = dh * pc * derivativeFromOutput(sigma, go);
        dcNext[n] = wantNext ? dc * gf : 0;
      }
    }

    // Bias, input weights and ∂L/∂x_t, four rows per weight load.
    let b = 0;
    for (; b + 3 < B; b += 4) {
      const a0o = b * G, a1o = a0o + G, a2o = a1o + G, a3o = a2o + G;
      const x0 = (b * T + t) * I, x1 = x0 + T * I, x2 = x1 + T * I, x3 = x2 + T * I;
      for (let r = 0; r < G; r++) {
        const a0 = dA[a0o + r], a1 = dA[a1o + r], a2 = dA[a2o + r], a3 = dA[a3o + r];
        if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
        gbias[r] += a0 + a1 + a2 + a3;
        const w = r * I;
        for (let i = 0; i < I; i++) {
          gW_x[w + i] += a0 * x[x0 + i] + a1 * x[x1 + i] + a2 * x[x2 + i] + a3 * x[x3 + i];
          if (dX) {
            const wi = W_x[w + i];
            dX[x0 + i] += wi * a0;
            dX[x1 + i] += wi * a1;
            dX[x2 + i] += wi * a2;
            dX[x3 + i] += wi * a3;
          }
        }
      }
    }
    for (; b < B; b++) {
      const a0o = b * G;
      const x0 = (b * T + t) * I;
      for (let r = 0; r < G; r++) {
        const a0 = dA[a0o + r];
        if (a0 === 0) continue;
        gbias[r] += a0;
        const w = r * I;
        for (let i = 0; i < I; i++) {
          gW_x[w + i] += a0 * x[x0 + i];
          if (dX) dX[x0 + i] += W_x[w + i] * a0;
        }
      }
    }

    // Recurrent weights and dh_next = W_hᵀ da, fused so each W_h entry is loaded once per 4 rows.
    dhNext.fill(0);
    b = 0;
    for (; b + 3 < B; b += 4) {
      const d0 = b * H, d1 = d0 + H, d2 = d1 + H, d3 = d2 + H;
      const a0o = b * G, a1o = a0o + G, a2o = a1o + G, a3o = a2o + G;
      const p0 = prev + d0, p1 = prev + d1, p2 = prev + d2, p3 = prev + d3;
      for (let r = 0; r < G; r++) {
        const a0 = dA[a0o + r], a1 = dA[a1o + r], a2 = dA[a2o + r], a3 = dA[a3o + r];
        if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
        const w = r * H;
        if (wantNext) {
          for (let k = 0; k < H; k++) {
            gW_h[w + k] += a0 * hs[p0 + k] + a1 * hs[p1 + k] + a2 * hs[p2 + k] + a3 * hs[p3 + k];
            const wk = W_h[w + k];
            dhNext[d0 + k] += wk * a0;
            dhNext[d1 + k] += wk * a1;
            dhNext[d2 + k] += wk * a2;
            dhNext[d3 + k] += wk * a3;
          }
        } else {
          for (let k = 0; k < H; k++) gW_h[w + k] += a0 * hs[p0 + k] + a1 * hs[p1 + k] + a2 * hs[p2 + k] + a3 * hs[p3 + k];
        }
      }
    }
    for (; b < B; b++) {
      const d0 = b * H;
      const a0o = b * G;
      const p0 = prev + d0;
      for (let r = 0; r < G; r++) {
        const a0 = dA[a0o + r];
        if (a0 === 0) continue;
        const w = r * H;
        for (let k = 0; k < H; k++) {
          gW_h[w + k] += a0 * hs[p0 + k];
          if (wantNext) dhNext[d0 + k] += W_h[w + k] * a0;
        }
      }
    }
  }
  return dX;
}

export const lstmFast: CellKernel = { forward, backward };

/** Scratch of the one-sequence step: the 4H pre-activations. */
export const lstmStepScratch = (spec: Readonly<LayerSpec>): number => 4 * spec.hiddenSize;

/** One step of one sequence (the forecaster): [h_t, c_t] into sNext from [h_{t-1}, c_{t-1}] in s. */
export function lstmStep(spec: Readonly<LayerSpec>, p: Params, x: ArrayLike<number>, xOffset: number, s: Float64Array, sNext: Float64Array, scratch: Float64Array): void {
  const { W_x, W_h, bias } = p;
  const I = spec.inputSize, H = spec.hiddenSize, G = 4 * H;
  for (let r = 0; r < G; r++) {
    let a = bias[r];
    const wx = r * I;
    for (let i = 0; i < I; i++) a += W_x[wx + i] * x[xOffset + i];
    // Four partial sums break the add-latency chain of one long dot product.
    const wh = r * H;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let m = 0;
    for (; m + 3 < H; m += 4) {
      s0 += W_h[wh + m] * s[m];
      s1 += W_h[wh + m + 1] * s[m + 1];
      s2 += W_h[wh + m + 2] * s[m + 2];
      s3 += W_h[wh + m + 3] * s[m + 3];
    }
    for (; m < H; m++) s0 += W_h[wh + m] * s[m];
    scratch[r] = a + (s0 + s1) + (s2 + s3);
  }
  updateRow(spec, scratch, 0, s, H, sNext, H, null, 0, sNext, 0);
}
