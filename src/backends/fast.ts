import { activateInPlace, derivativeFromOutput } from "../activations";
import { LayerParams, RnnLayer } from "../layer";
import { BackwardOptions, ForwardResult, LayerBackend } from "./backend";

/**
 * The default backend: fused Float64Array loops over the whole minibatch.
 *
 * Hidden states are kept time-major, hs[(s*B + b)*H + j] for s = 0..T where slot 0 is h_0, so one
 * time step of the batch is one contiguous block. The recurrent products process four batch rows
 * at a time: every weight loaded from memory is used four times, which is where most of the
 * speed over a row-at-a-time loop comes from. Nothing is allocated inside the time loop.
 */

interface FastCache {
  /** (T+1)·B·H hidden states, time-major, slot 0 = h_0. */
  hs: Float64Array;
  /** Scratch for backward, allocated once per forward result. */
  dh: Float64Array;
  dhNext: Float64Array;
  dz: Float64Array;
}

function forward(layer: RnnLayer, x: Float64Array, B: number, T: number, h0?: Float64Array | null): ForwardResult {
  const { W_xh, W_hh, b_h, W_hy, b_y } = layer.params;
  const I = layer.inputSize;
  const H = layer.hiddenSize;
  if (x.length !== B * T * I) throw new Error(`layer input has ${x.length} values, expected B×T×I = ${B}×${T}×${I}`);
  const BH = B * H;
  const hs = new Float64Array((T + 1) * BH);
  if (h0) {
    if (h0.length !== BH) throw new Error(`initial state has ${h0.length} values, expected B×H = ${B}×${H}`);
    hs.set(h0);
  }
  const f = layer.activation;

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

  const O = layer.outputSize;
  const y = new Float64Array(B * T * O);
  if (W_hy && b_y) {
    const g = layer.outputActivation;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const h = (t + 1) * BH + b * H;
        const yo = (b * T + t) * O;
        for (let o = 0; o < O; o++) {
          let s = b_y[o];
          const w = o * H;
          for (let j = 0; j < H; j++) s += W_hy[w + j] * hs[h + j];
          y[yo + o] = s;
        }
        activateInPlace(g, y, yo, O);
      }
    }
  } else {
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) y.set(hs.subarray((t + 1) * BH + b * H, (t + 1) * BH + (b + 1) * H), (b * T + t) * H);
    }
  }
  const hT = hs.slice(T * BH, (T + 1) * BH);
  const cache: FastCache = {
    hs,
    dh: new Float64Array(BH),
    dhNext: new Float64Array(BH),
    dz: new Float64Array(O),
  };
  return { B, T, x, y, hT, cache };
}

function backward(layer: RnnLayer, fwd: ForwardResult, dY: Float64Array, grads: LayerParams, options: BackwardOptions = {}): Float64Array | null {
  const { W_xh, W_hh, W_hy } = layer.params;
  const { B, T, x, y } = fwd;
  const { hs, dh, dhNext, dz } = fwd.cache as FastCache;
  const I = layer.inputSize;
  const H = layer.hiddenSize;
  const O = layer.outputSize;
  const BH = B * H;
  if (dY.length !== B * T * O) throw new Error(`output gradient has ${dY.length} values, expected ${B}×${T}×${O}`);
  const truncate = options.truncate && options.truncate > 0 ? Math.floor(options.truncate) : 0;
  const needDx = options.needInputGrad !== false;
  const dX = needDx ? new Float64Array(B * T * I) : null;
  const dhNormSq = options.dhNormSq;
  const f = layer.activation;
  const g = layer.outputActivation;
  const gdW_xh = grads.W_xh, gdW_hh = grads.W_hh, gdb_h = grads.b_h;
  const gdW_hy = grads.W_hy, gdb_y = grads.b_y;
  dhNext.fill(0);

  for (let t = T - 1; t >= 0; t--) {
    const cur = (t + 1) * BH;
    const prev = t * BH;

    // 1. dh = (gradient from the output at t) + dh_next, then da = dh ⊙ f'(h_t), kept in dh.
    if (W_hy && gdW_hy && gdb_y) {
      dh.set(dhNext);
      for (let b = 0; b < B; b++) {
        const yo = (b * T + t) * O;
        let any = false;
        for (let o = 0; o < O; o++) if (dY[yo + o] !== 0) { any = true; break; }
        if (!any) continue; // no loss at this step for this row (masked or last-step-only training)
        if (options.dYIsLogit || g === "linear") {
          for (let o = 0; o < O; o++) dz[o] = dY[yo + o];
        } else if (g === "softmax") {
          let dot = 0;
          for (let o = 0; o < O; o++) dot += dY[yo + o] * y[yo + o];
          for (let o = 0; o < O; o++) dz[o] = y[yo + o] * (dY[yo + o] - dot);
        } else {
          for (let o = 0; o < O; o++) dz[o] = dY[yo + o] * derivativeFromOutput("sigmoid", y[yo + o]);
        }
        const h = cur + b * H;
        const d = b * H;
        for (let o = 0; o < O; o++) {
          const dzo = dz[o];
          if (dzo === 0) continue;
          gdb_y[o] += dzo;
          const w = o * H;
          for (let j = 0; j < H; j++) {
            gdW_hy[w + j] += dzo * hs[h + j];
            dh[d + j] += W_hy[w + j] * dzo;
          }
        }
      }
    } else {
      for (let b = 0; b < B; b++) {
        const yo = (b * T + t) * H;
        const d = b * H;
        for (let j = 0; j < H; j++) dh[d + j] = dhNext[d + j] + dY[yo + j];
      }
    }
    if (dhNormSq) {
      let s = 0;
      for (let i = 0; i < BH; i++) s += dh[i] * dh[i];
      dhNormSq[t] += s;
    }
    switch (f) {
      case "tanh":
        for (let i = 0; i < BH; i++) { const v = hs[cur + i]; dh[i] *= 1 - v * v; }
        break;
      case "sigmoid":
        for (let i = 0; i < BH; i++) { const v = hs[cur + i]; dh[i] *= v * (1 - v); }
        break;
      case "relu":
        for (let i = 0; i < BH; i++) if (hs[cur + i] <= 0) dh[i] = 0;
        break;
      default:
        break;
    }

    // 2. Input weights, bias and ∂L/∂x_t.
    for (let b = 0; b < B; b++) {
      const d = b * H;
      const xo = (b * T + t) * I;
      for (let j = 0; j < H; j++) {
        const da = dh[d + j];
        if (da === 0) continue;
        gdb_h[j] += da;
        const w = j * I;
        for (let i = 0; i < I; i++) {
          gdW_xh[w + i] += da * x[xo + i];
          if (dX) dX[xo + i] += W_xh[w + i] * da;
        }
      }
    }

    // 3. Recurrent weights and dh_next = W_hhᵀ da, fused so each W_hh entry is loaded once per 4 rows.
    const cut = truncate > 0 && (T - t) % truncate === 0;
    // Nothing flows past h_0 (zeros or a carried state, a constant) nor across a truncation cut.
    const wantNext = !cut && t > 0;
    dhNext.fill(0);
    let b = 0;
    for (; b + 3 < B; b += 4) {
      const d0 = b * H, d1 = d0 + H, d2 = d1 + H, d3 = d2 + H;
      const p0 = prev + d0, p1 = prev + d1, p2 = prev + d2, p3 = prev + d3;
      for (let j = 0; j < H; j++) {
        const a0 = dh[d0 + j], a1 = dh[d1 + j], a2 = dh[d2 + j], a3 = dh[d3 + j];
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
      const p0 = prev + d0;
      for (let j = 0; j < H; j++) {
        const a0 = dh[d0 + j];
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

export const fastBackend: LayerBackend = { name: "fast", forward, backward };
