import { activateInPlace, derivativeFromOutput } from "../../activations";
import type { LayerSpec } from "../../types";
import { CellBackwardOptions, CellForward, CellKernel, Params } from "../cell";
import { gateActivationOf, resetsAfter } from "./settings";

/**
 * The GRU's default kernel: fused Float64Array loops over the whole minibatch (the equations are
 * in ./index.ts). Everything is time-major, so one step of the batch is one contiguous block:
 *
 *   hs[(s·B + b)·H + j]            h_s for s = 0..T, slot 0 = h_0
 *   gates[((3t + g)·B + b)·H + j]  the gates of step t after their activation, g = 0 z, 1 r, 2 h̃
 *   u[(t·B + b)·H + j]             reset after only: W_hh h_{t-1} + b_hh, which r_t multiplies
 *
 * z and r of a step are then one block of 2·B·H that one activation call covers. Every product
 * with a weight matrix goes through `addProducts` / `backProducts`, which use each weight they
 * load for four batch rows. Nothing is allocated inside the time loop.
 */

interface GruFastCache {
  hs: Float64Array;
  gates: Float64Array;
  /** Reset after only (empty otherwise). */
  u: Float64Array;
}

/**
 * out[outBase + b·H + j] += Σ_k W[(row0 + j)·K + k] · src[srcBase + b·srcStride + k], for the H
 * rows row0 … row0+H−1 of W (one gate's block) and every batch row b < B.
 */
function addProducts(W: Float64Array, row0: number, H: number, K: number, src: Float64Array, srcBase: number, srcStride: number, out: Float64Array, outBase: number, B: number): void {
  let b = 0;
  for (; b + 3 < B; b += 4) {
    const s0 = srcBase + b * srcStride, s1 = s0 + srcStride, s2 = s1 + srcStride, s3 = s2 + srcStride;
    const o0 = outBase + b * H;
    for (let j = 0; j < H; j++) {
      const w0 = (row0 + j) * K;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let k = 0; k < K; k++) {
        const w = W[w0 + k];
        a0 += w * src[s0 + k];
        a1 += w * src[s1 + k];
        a2 += w * src[s2 + k];
        a3 += w * src[s3 + k];
      }
      out[o0 + j] += a0;
      out[o0 + H + j] += a1;
      out[o0 + 2 * H + j] += a2;
      out[o0 + 3 * H + j] += a3;
    }
  }
  for (; b < B; b++) {
    const s0 = srcBase + b * srcStride;
    const o0 = outBase + b * H;
    for (let j = 0; j < H; j++) {
      const w0 = (row0 + j) * K;
      let a0 = 0;
      for (let k = 0; k < K; k++) a0 += W[w0 + k] * src[s0 + k];
      out[o0 + j] += a0;
    }
  }
}

/**
 * The transpose of `addProducts`, for da_b = da[daBase + b·H + j]: the weights' gradient
 * gW[row0 + j, k] += Σ_b da_b[j] · src_b[k] and, when `dsrc` is given, what flows back to the
 * source, dsrc[dsrcBase + b·dsrcStride + k] += Σ_j W[row0 + j, k] · da_b[j].
 */
function backProducts(
  W: Float64Array, gW: Float64Array, row0: number, H: number, K: number,
  da: Float64Array, daBase: number,
  src: Float64Array, srcBase: number, srcStride: number,
  dsrc: Float64Array | null, dsrcBase: number, dsrcStride: number, B: number,
): void {
  let b = 0;
  for (; b + 3 < B; b += 4) {
    const d0 = daBase + b * H, d1 = d0 + H, d2 = d1 + H, d3 = d2 + H;
    const s0 = srcBase + b * srcStride, s1 = s0 + srcStride, s2 = s1 + srcStride, s3 = s2 + srcStride;
    const q0 = dsrcBase + b * dsrcStride, q1 = q0 + dsrcStride, q2 = q1 + dsrcStride, q3 = q2 + dsrcStride;
    for (let j = 0; j < H; j++) {
      const a0 = da[d0 + j], a1 = da[d1 + j], a2 = da[d2 + j], a3 = da[d3 + j];
      // Steps and rows without a target send nothing back: skip their rows of work.
      if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
      const w0 = (row0 + j) * K;
      if (dsrc) {
        for (let k = 0; k < K; k++) {
          gW[w0 + k] += a0 * src[s0 + k] + a1 * src[s1 + k] + a2 * src[s2 + k] + a3 * src[s3 + k];
          const w = W[w0 + k];
          dsrc[q0 + k] += w * a0;
          dsrc[q1 + k] += w * a1;
          dsrc[q2 + k] += w * a2;
          dsrc[q3 + k] += w * a3;
        }
      } else {
        for (let k = 0; k < K; k++) gW[w0 + k] += a0 * src[s0 + k] + a1 * src[s1 + k] + a2 * src[s2 + k] + a3 * src[s3 + k];
      }
    }
  }
  for (; b < B; b++) {
    const d0 = daBase + b * H;
    const s0 = srcBase + b * srcStride;
    const q0 = dsrcBase + b * dsrcStride;
    for (let j = 0; j < H; j++) {
      const a0 = da[d0 + j];
      if (a0 === 0) continue;
      const w0 = (row0 + j) * K;
      for (let k = 0; k < K; k++) {
        gW[w0 + k] += a0 * src[s0 + k];
        if (dsrc) dsrc[q0 + k] += W[w0 + k] * a0;
      }
    }
  }
}

/** block[base + b·H + j] = v[offset + j] (+ w[offset + j]) for every batch row: a bias, broadcast. */
function fillBias(block: Float64Array, base: number, v: Float64Array, w: Float64Array | null, offset: number, H: number, B: number): void {
  for (let b = 0; b < B; b++) {
    const o = base + b * H;
    for (let j = 0; j < H; j++) block[o + j] = w ? v[offset + j] + w[offset + j] : v[offset + j];
  }
}

/** acc[offset + j] += Σ_b da[daBase + b·H + j]: a bias's gradient. */
function addBiasGrad(acc: Float64Array, offset: number, da: Float64Array, daBase: number, H: number, B: number): void {
  for (let b = 0; b < B; b++) {
    const o = daBase + b * H;
    for (let j = 0; j < H; j++) acc[offset + j] += da[o + j];
  }
}

function forward(spec: Readonly<LayerSpec>, p: Params, x: Float64Array, B: number, T: number, h0: Float64Array | null): CellForward {
  const { W_x, W_h, bias } = p;
  const after = resetsAfter(spec);
  const recurrentBias = after ? p.recurrentBias : null;
  const I = spec.inputSize;
  const H = spec.hiddenSize;
  const BH = B * H;
  const sigma = gateActivationOf(spec);
  const phi = spec.activation;
  const hs = new Float64Array((T + 1) * BH);
  if (h0) hs.set(h0);
  const gates = new Float64Array(3 * T * BH);
  const u = new Float64Array(after ? T * BH : 0);
  // Reset before: r_t ⊙ h_{t-1} of the current step, the candidate's recurrent input.
  const rh = after ? null : new Float64Array(BH);

  for (let t = 0; t < T; t++) {
    const prev = t * BH, cur = prev + BH;
    const gz = 3 * t * BH, gr = gz + BH, gc = gr + BH;
    // With the reset after, z and r see both biases; the candidate's recurrent bias goes to u.
    fillBias(gates, gz, bias, recurrentBias, 0, H, B);
    fillBias(gates, gr, bias, recurrentBias, H, H, B);
    fillBias(gates, gc, bias, null, 2 * H, H, B);
    for (let g = 0; g < 3; g++) addProducts(W_x, g * H, H, I, x, t * I, T * I, gates, gz + g * BH, B);
    addProducts(W_h, 0, H, H, hs, prev, H, gates, gz, B);
    addProducts(W_h, H, H, H, hs, prev, H, gates, gr, B);
    activateInPlace(sigma, gates, gz, 2 * BH);
    if (recurrentBias) {
      const uo = t * BH;
      fillBias(u, uo, recurrentBias, null, 2 * H, H, B);
      addProducts(W_h, 2 * H, H, H, hs, prev, H, u, uo, B);
      for (let i = 0; i < BH; i++) gates[gc + i] += gates[gr + i] * u[uo + i];
    } else if (rh) {
      for (let i = 0; i < BH; i++) rh[i] = gates[gr + i] * hs[prev + i];
      addProducts(W_h, 2 * H, H, H, rh, 0, H, gates, gc, B);
    }
    activateInPlace(phi, gates, gc, BH);
    for (let i = 0; i < BH; i++) {
      const z = gates[gz + i];
      hs[cur + i] = z * hs[prev + i] + (1 - z) * gates[gc + i];
    }
  }
  const cache: GruFastCache = { hs, gates, u };
  return { B, T, h: hs.subarray(BH), state: hs.slice(T * BH, (T + 1) * BH), cache };
}

function backward(spec: Readonly<LayerSpec>, p: Params, fwd: CellForward, x: Float64Array, dH: Float64Array, grads: Params, options: CellBackwardOptions): Float64Array | null {
  const { W_x, W_h } = p;
  const { B, T } = fwd;
  const { hs, gates, u } = fwd.cache as GruFastCache;
  const after = resetsAfter(spec);
  const I = spec.inputSize;
  const H = spec.hiddenSize;
  const BH = B * H;
  const sigma = gateActivationOf(spec);
  const phi = spec.activation;
  const truncate = options.truncate > 0 ? Math.floor(options.truncate) : 0;
  const dX = options.needInputGrad ? new Float64Array(B * T * I) : null;
  const dhNormSq = options.dhNormSq;
  const gW_x = grads.W_x, gW_h = grads.W_h, gb = grads.bias;
  const gb_rec = after ? grads.recurrentBias : null;
  // What step t+1 sends back to h_t.
  const dhNext = new Float64Array(BH);
  // ∂L/∂ of the gates' pre-activations at step t, blocks z, r, h̃ (what the input weights see).
  const dA = new Float64Array(3 * BH);
  // Reset after: ∂L/∂(W_hh h_{t-1} + b_hh) = r ⊙ ∂L/∂a_h̃. Reset before: r ⊙ h_{t-1} and its gradient.
  const dU = new Float64Array(after ? BH : 0);
  const rh = new Float64Array(after ? 0 : BH);
  const drh = new Float64Array(after ? 0 : BH);

  for (let t = T - 1; t >= 0; t--) {
    const prev = t * BH;
    const gz = 3 * t * BH, gr = gz + BH, gc = gr + BH;
    const d = t * BH;
    // Blocks of k steps counted back from the last; nothing flows past h_0 or across a cut.
    const wantNext = !(truncate > 0 && (T - t) % truncate === 0) && t > 0;

    for (let i = 0; i < BH; i++) dH[d + i] += dhNext[i];
    if (dhNormSq) {
      let s = 0;
      for (let i = 0; i < BH; i++) s += dH[d + i] * dH[d + i];
      dhNormSq[t] += s;
    }
    // h_t = z ⊙ h_{t-1} + (1 − z) ⊙ h̃: the update gate and the candidate, and h_{t-1}'s direct path.
    for (let i = 0; i < BH; i++) {
      const dh = dH[d + i];
      const z = gates[gz + i], c = gates[gc + i];
      dA[i] = dh * (hs[prev + i] - c) * derivativeFromOutput(sigma, z);
      dA[2 * BH + i] = dh * (1 - z) * derivativeFromOutput(phi, c);
      dhNext[i] = wantNext ? dh * z : 0;
    }

    const dPrev = wantNext ? dhNext : null;
    if (after) {
      const uo = t * BH;
      for (let i = 0; i < BH; i++) {
        const r = gates[gr + i], dc = dA[2 * BH + i];
        dA[BH + i] = dc * u[uo + i] * derivativeFromOutput(sigma, r);
        dU[i] = dc * r;
      }
      backProducts(W_h, gW_h, 2 * H, H, H, dU, 0, hs, prev, H, dPrev, 0, H, B);
      if (gb_rec) {
        addBiasGrad(gb_rec, 0, dA, 0, H, B);
        addBiasGrad(gb_rec, H, dA, BH, H, B);
        addBiasGrad(gb_rec, 2 * H, dU, 0, H, B);
      }
    } else {
      for (let i = 0; i < BH; i++) rh[i] = gates[gr + i] * hs[prev + i];
      drh.fill(0);
      backProducts(W_h, gW_h, 2 * H, H, H, dA, 2 * BH, rh, 0, H, drh, 0, H, B);
      for (let i = 0; i < BH; i++) {
        const r = gates[gr + i];
        dA[BH + i] = drh[i] * hs[prev + i] * derivativeFromOutput(sigma, r);
        if (wantNext) dhNext[i] += drh[i] * r;
      }
    }
    backProducts(W_h, gW_h, 0, H, H, dA, 0, hs, prev, H, dPrev, 0, H, B);
    backProducts(W_h, gW_h, H, H, H, dA, BH, hs, prev, H, dPrev, 0, H, B);

    for (let g = 0; g < 3; g++) {
      backProducts(W_x, gW_x, g * H, H, I, dA, g * BH, x, t * I, T * I, dX, t * I, T * I, B);
      addBiasGrad(gb, g * H, dA, g * BH, H, B);
    }
  }
  return dX;
}

export const gruFast: CellKernel = { forward, backward };

/** Σ_k W[row·K + k] · v[offset + k], four partial sums to break the add-latency chain. */
function rowDot(W: Float64Array, row: number, K: number, v: ArrayLike<number>, offset: number): number {
  const w0 = row * K;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let k = 0;
  for (; k + 3 < K; k += 4) {
    s0 += W[w0 + k] * v[offset + k];
    s1 += W[w0 + k + 1] * v[offset + k + 1];
    s2 += W[w0 + k + 2] * v[offset + k + 2];
    s3 += W[w0 + k + 3] * v[offset + k + 3];
  }
  for (; k < K; k++) s0 += W[w0 + k] * v[offset + k];
  return (s0 + s1) + (s2 + s3);
}

/**
 * One step of one sequence (the forecaster): h_t into sNext from h_{t-1} in s. The scratch holds
 * the gates (3H) and, after them, r ⊙ h_{t-1} or W_hh h_{t-1} + b_hh (H).
 */
export function gruStep(spec: Readonly<LayerSpec>, p: Params, x: ArrayLike<number>, xOffset: number, s: Float64Array, sNext: Float64Array, scratch: Float64Array): void {
  const { W_x, W_h, bias } = p;
  const recurrentBias = resetsAfter(spec) ? p.recurrentBias : null;
  const I = spec.inputSize, H = spec.hiddenSize;
  const u = 3 * H;
  for (let row = 0; row < 3 * H; row++) scratch[row] = bias[row] + rowDot(W_x, row, I, x, xOffset);
  for (let row = 0; row < 2 * H; row++) scratch[row] += (recurrentBias ? recurrentBias[row] : 0) + rowDot(W_h, row, H, s, 0);
  activateInPlace(gateActivationOf(spec), scratch, 0, 2 * H);
  if (recurrentBias) {
    for (let j = 0; j < H; j++) scratch[2 * H + j] += scratch[H + j] * (recurrentBias[2 * H + j] + rowDot(W_h, 2 * H + j, H, s, 0));
  } else {
    for (let j = 0; j < H; j++) scratch[u + j] = scratch[H + j] * s[j];
    for (let j = 0; j < H; j++) scratch[2 * H + j] += rowDot(W_h, 2 * H + j, H, scratch, u);
  }
  activateInPlace(spec.activation, scratch, 2 * H, H);
  for (let j = 0; j < H; j++) {
    const z = scratch[j];
    sNext[j] = z * s[j] + (1 - z) * scratch[2 * H + j];
  }
}
