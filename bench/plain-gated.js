'use strict';
/**
 * Hand-written Float64Array LSTM and GRU layers trained by BPTT: the yardsticks of the gated
 * cells, as plain-loop.js is Elman's. No library, no abstraction, no allocation in the hot path,
 * the activations written out (sigmoid gates, tanh candidate), four batch rows at a time so that
 * every weight loaded serves four rows.
 *
 *   LSTM (gates i, f, c̃, o, stacked along the rows of W_x, W_h, bias in that order):
 *     a_t = W_x x_t + W_h h_{t-1} + bias
 *     c_t = σ(a_f) ⊙ c_{t-1} + σ(a_i) ⊙ tanh(a_c̃)     h_t = σ(a_o) ⊙ tanh(c_t)
 *   GRU (gates z, r, h̃; the reset applied to h_{t-1} before the recurrent product):
 *     z = σ(W_xz x_t + W_hz h_{t-1} + b_z)      r = σ(W_xr x_t + W_hr h_{t-1} + b_r)
 *     h̃ = tanh(W_xh x_t + W_hh (r ⊙ h_{t-1}) + b_h)      h_t = z ⊙ h_{t-1} + (1 − z) ⊙ h̃
 *   both:  h_0 = c_0 = 0,  y = W_hy h_T + b_y (last step only),
 *          L = mean over the batch (and outputs) of (y − target)², plain SGD after every batch.
 *
 * Parameters are those of the core's layer (W_x, W_h, bias, W_hy, b_y; rows are output units).
 */

const PARAMS = ['W_x', 'W_h', 'bias', 'W_hy', 'b_y'];
/** Rows processed together; batches must be multiples of it (the reference task's 32 and 24 are). */
const ROWS = 4;

/** What LSTM and GRU share: the weights, the linear head at the last step, SGD, the epoch loop. */
class PlainGated {
  constructor(gates, weights, { inputSize, hiddenSize, outputSize, window }) {
    const I = (this.I = inputSize);
    const H = (this.H = hiddenSize);
    const O = (this.O = outputSize);
    this.T = window;
    const G = (this.G = gates * H);
    const expect = { W_x: G * I, W_h: G * H, bias: G, W_hy: O * H, b_y: O };
    for (const name of PARAMS) {
      const w = weights[name];
      if (!w || w.length !== expect[name]) throw new Error(`${name}: expected ${expect[name]} numbers, got ${w ? w.length : 'none'}`);
      this[name] = Float64Array.from(w);
      this[`g${name}`] = new Float64Array(expect[name]);
    }
    // ∂L/∂h of the four rows at the current step and the one before it.
    this.dh = new Float64Array(ROWS * H);
    this.dhPrev = new Float64Array(ROWS * H);
  }

  /** The current weights (the live arrays), under the core's names. */
  get weights() {
    const out = {};
    for (const name of PARAMS) out[name] = this[name];
    return out;
  }

  /** The gradient of the last batch trained, under the same names. */
  get grads() {
    const out = {};
    for (const name of PARAMS) out[name] = this[`g${name}`];
    return out;
  }

  /** One pass over the windows in order, SGD after every batch; the mean of the batch losses weighted by size. */
  trainEpoch(x, y, N, { batchSize, learningRate }) {
    let sum = 0;
    for (let start = 0; start < N; start += batchSize) {
      const B = Math.min(batchSize, N - start);
      sum += this.trainBatch(x, y, start, B, learningRate) * B;
    }
    return { loss: sum / N };
  }

  /** Gradient of rows start..start+B−1, then one SGD step of size `learningRate` (0: none). Returns the batch loss. */
  trainBatch(x, y, start, B, learningRate) {
    if (B % ROWS !== 0) throw new Error(`the plain gated loop takes batches in multiples of ${ROWS}, got ${B}`);
    for (const name of PARAMS) this[`g${name}`].fill(0);
    const scale = 2 / (B * this.O);
    let sq = 0;
    for (let n = start; n < start + B; n += ROWS) {
      this.forward(x, n);
      sq += this.head(y, n, scale);
      this.backward(x, n);
    }
    for (const name of PARAMS) {
      const w = this[name];
      const g = this[`g${name}`];
      for (let i = 0; i < w.length; i++) w[i] -= learningRate * g[i];
    }
    return sq / (B * this.O);
  }

  /**
   * y = W_hy h_T + b_y for the four rows, its squared error, the head's gradient and ∂L/∂h_T
   * into this.dh. h_T of row q is this.hs[T·4H + q·H …].
   */
  head(y, n, scale) {
    const { H, O, T, W_hy, b_y, gW_hy, gb_y, hs, dh } = this;
    const last = T * ROWS * H;
    dh.fill(0);
    let sq = 0;
    for (let o = 0; o < O; o++) {
      const row = o * H;
      let v0 = b_y[o], v1 = v0, v2 = v0, v3 = v0;
      for (let j = 0; j < H; j++) {
        const w = W_hy[row + j];
        const p = last + j;
        v0 += w * hs[p];
        v1 += w * hs[p + H];
        v2 += w * hs[p + 2 * H];
        v3 += w * hs[p + 3 * H];
      }
      const e0 = v0 - y[n * O + o], e1 = v1 - y[(n + 1) * O + o], e2 = v2 - y[(n + 2) * O + o], e3 = v3 - y[(n + 3) * O + o];
      sq += e0 * e0 + e1 * e1 + e2 * e2 + e3 * e3;
      const g0 = scale * e0, g1 = scale * e1, g2 = scale * e2, g3 = scale * e3;
      gb_y[o] += g0 + g1 + g2 + g3;
      for (let j = 0; j < H; j++) {
        const w = W_hy[row + j];
        const p = last + j;
        gW_hy[row + j] += g0 * hs[p] + g1 * hs[p + H] + g2 * hs[p + 2 * H] + g3 * hs[p + 3 * H];
        dh[j] += w * g0;
        dh[j + H] += w * g1;
        dh[j + 2 * H] += w * g2;
        dh[j + 3 * H] += w * g3;
      }
    }
    return sq;
  }

  /** Mean over the N windows (and outputs) of the squared error, without training. */
  loss(x, y, N) {
    if (N % ROWS !== 0) throw new Error(`the plain gated loop takes windows in multiples of ${ROWS}, got ${N}`);
    const { H, O, T, W_hy, b_y, hs } = this;
    const last = T * ROWS * H;
    let sq = 0;
    for (let n = 0; n < N; n += ROWS) {
      this.forward(x, n);
      for (let q = 0; q < ROWS; q++) {
        for (let o = 0; o < O; o++) {
          let v = b_y[o];
          for (let j = 0; j < H; j++) v += W_hy[o * H + j] * hs[last + q * H + j];
          const e = v - y[(n + q) * O + o];
          sq += e * e;
        }
      }
    }
    return sq / (N * O);
  }
}

class PlainLSTM extends PlainGated {
  constructor(weights, dims) {
    super(4, weights, dims);
    const { H, G, T } = this;
    // Time-major for the four rows: slot s of row q at (s·4 + q)·H; slot 0 is h_0 = c_0 = 0.
    this.hs = new Float64Array((T + 1) * ROWS * H);
    this.cs = new Float64Array((T + 1) * ROWS * H);
    this.tc = new Float64Array(T * ROWS * H); // tanh(c_t)
    this.gates = new Float64Array(T * ROWS * G); // after their activations, (t·4 + q)·G + gate row
    this.da = new Float64Array(ROWS * G);
    this.dc = new Float64Array(ROWS * H);
  }

  forward(x, n) {
    const { I, H, G, T, W_x, W_h, bias, hs, cs, tc, gates } = this;
    const xS = T * I;
    const x0 = n * T * I;
    const H4 = ROWS * H;
    for (let t = 0; t < T; t++) {
      const prev = t * H4;
      const cur = prev + H4;
      const g = t * ROWS * G;
      const xt = x0 + t * I;
      for (let r = 0; r < G; r++) {
        let s0 = bias[r], s1 = s0, s2 = s0, s3 = s0;
        const wx = r * I;
        for (let i = 0; i < I; i++) {
          const w = W_x[wx + i];
          s0 += w * x[xt + i];
          s1 += w * x[xt + xS + i];
          s2 += w * x[xt + 2 * xS + i];
          s3 += w * x[xt + 3 * xS + i];
        }
        const wh = r * H;
        for (let k = 0; k < H; k++) {
          const w = W_h[wh + k];
          const p = prev + k;
          s0 += w * hs[p];
          s1 += w * hs[p + H];
          s2 += w * hs[p + 2 * H];
          s3 += w * hs[p + 3 * H];
        }
        gates[g + r] = s0;
        gates[g + G + r] = s1;
        gates[g + 2 * G + r] = s2;
        gates[g + 3 * G + r] = s3;
      }
      // The exp and tanh calls in loops of their own: inside the product loop they slow V8's code for it.
      for (let q = 0; q < ROWS; q++) {
        const a = g + q * G;
        for (let r = a; r < a + 2 * H; r++) gates[r] = 1 / (1 + Math.exp(-gates[r]));
        for (let r = a + 2 * H; r < a + 3 * H; r++) gates[r] = Math.tanh(gates[r]);
        for (let r = a + 3 * H; r < a + G; r++) gates[r] = 1 / (1 + Math.exp(-gates[r]));
        const hq = q * H;
        for (let j = 0; j < H; j++) {
          const c = gates[a + H + j] * cs[prev + hq + j] + gates[a + j] * gates[a + 2 * H + j];
          cs[cur + hq + j] = c;
          const v = Math.tanh(c);
          tc[prev + hq + j] = v;
          hs[cur + hq + j] = gates[a + 3 * H + j] * v;
        }
      }
    }
  }

  /** BPTT of the four rows from ∂L/∂h_T in this.dh; adds to the gradients. */
  backward(x, n) {
    const { I, H, G, T, W_h, gW_x, gW_h, gbias, hs, cs, tc, gates, da, dc } = this;
    let dh = this.dh;
    let dhPrev = this.dhPrev;
    const xS = T * I;
    const x0 = n * T * I;
    const H4 = ROWS * H;
    dc.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      const prev = t * H4;
      const g = t * ROWS * G;
      const xt = x0 + t * I;
      for (let q = 0; q < ROWS; q++) {
        const a = g + q * G;
        const d = q * G;
        for (let j = 0; j < H; j++) {
          const m = q * H + j;
          const gi = gates[a + j], gf = gates[a + H + j], gc = gates[a + 2 * H + j], go = gates[a + 3 * H + j];
          const v = tc[prev + m];
          const dhv = dh[m];
          const dcv = dc[m] + dhv * go * (1 - v * v);
          da[d + j] = dcv * gc * gi * (1 - gi);
          da[d + H + j] = dcv * cs[prev + m] * gf * (1 - gf);
          da[d + 2 * H + j] = dcv * gi * (1 - gc * gc);
          da[d + 3 * H + j] = dhv * v * go * (1 - go);
          dc[m] = dcv * gf;
        }
      }
      if (t > 0) dhPrev.fill(0);
      for (let r = 0; r < G; r++) {
        const d0 = da[r], d1 = da[G + r], d2 = da[2 * G + r], d3 = da[3 * G + r];
        gbias[r] += d0 + d1 + d2 + d3;
        const wx = r * I;
        for (let i = 0; i < I; i++) gW_x[wx + i] += d0 * x[xt + i] + d1 * x[xt + xS + i] + d2 * x[xt + 2 * xS + i] + d3 * x[xt + 3 * xS + i];
        const wh = r * H;
        if (t > 0) {
          for (let k = 0; k < H; k++) {
            const p = prev + k;
            gW_h[wh + k] += d0 * hs[p] + d1 * hs[p + H] + d2 * hs[p + 2 * H] + d3 * hs[p + 3 * H];
            const w = W_h[wh + k];
            dhPrev[k] += w * d0;
            dhPrev[k + H] += w * d1;
            dhPrev[k + 2 * H] += w * d2;
            dhPrev[k + 3 * H] += w * d3;
          }
        }
        // At t = 0, h_0 = 0: W_h has no gradient and nothing flows further back.
      }
      const swap = dh;
      dh = dhPrev;
      dhPrev = swap;
    }
  }
}

class PlainGRU extends PlainGated {
  constructor(weights, dims) {
    super(3, weights, dims);
    const { H, G, T } = this;
    this.hs = new Float64Array((T + 1) * ROWS * H);
    this.rh = new Float64Array(T * ROWS * H); // r_t ⊙ h_{t-1}, the candidate's recurrent input
    this.gates = new Float64Array(T * ROWS * G); // z, r, h̃ after their activations
    this.da = new Float64Array(ROWS * G);
    this.drh = new Float64Array(ROWS * H);
  }

  forward(x, n) {
    const { I, H, G, T, W_x, W_h, bias, hs, rh, gates } = this;
    const xS = T * I;
    const x0 = n * T * I;
    const H4 = ROWS * H;
    for (let t = 0; t < T; t++) {
      const prev = t * H4;
      const cur = prev + H4;
      const g = t * ROWS * G;
      const xt = x0 + t * I;
      // z and r see h_{t-1}; the candidate's rows take only the input here, r ⊙ h_{t-1} below.
      for (let r = 0; r < G; r++) {
        let s0 = bias[r], s1 = s0, s2 = s0, s3 = s0;
        const wx = r * I;
        for (let i = 0; i < I; i++) {
          const w = W_x[wx + i];
          s0 += w * x[xt + i];
          s1 += w * x[xt + xS + i];
          s2 += w * x[xt + 2 * xS + i];
          s3 += w * x[xt + 3 * xS + i];
        }
        if (r < 2 * H) {
          const wh = r * H;
          for (let k = 0; k < H; k++) {
            const w = W_h[wh + k];
            const p = prev + k;
            s0 += w * hs[p];
            s1 += w * hs[p + H];
            s2 += w * hs[p + 2 * H];
            s3 += w * hs[p + 3 * H];
          }
        }
        gates[g + r] = s0;
        gates[g + G + r] = s1;
        gates[g + 2 * G + r] = s2;
        gates[g + 3 * G + r] = s3;
      }
      for (let q = 0; q < ROWS; q++) {
        const a = g + q * G;
        for (let r = a; r < a + 2 * H; r++) gates[r] = 1 / (1 + Math.exp(-gates[r]));
        for (let j = 0; j < H; j++) rh[prev + q * H + j] = gates[a + H + j] * hs[prev + q * H + j];
      }
      for (let r = 2 * H; r < G; r++) {
        const wh = r * H;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let k = 0; k < H; k++) {
          const w = W_h[wh + k];
          const p = prev + k;
          s0 += w * rh[p];
          s1 += w * rh[p + H];
          s2 += w * rh[p + 2 * H];
          s3 += w * rh[p + 3 * H];
        }
        gates[g + r] += s0;
        gates[g + G + r] += s1;
        gates[g + 2 * G + r] += s2;
        gates[g + 3 * G + r] += s3;
      }
      for (let q = 0; q < ROWS; q++) {
        const a = g + q * G;
        for (let r = a + 2 * H; r < a + G; r++) gates[r] = Math.tanh(gates[r]);
        const hq = q * H;
        for (let j = 0; j < H; j++) {
          const z = gates[a + j];
          hs[cur + hq + j] = z * hs[prev + hq + j] + (1 - z) * gates[a + 2 * H + j];
        }
      }
    }
  }

  backward(x, n) {
    const { I, H, G, T, W_h, gW_x, gW_h, gbias, hs, rh, gates, da, drh } = this;
    let dh = this.dh;
    let dhPrev = this.dhPrev;
    const xS = T * I;
    const x0 = n * T * I;
    const H4 = ROWS * H;
    for (let t = T - 1; t >= 0; t--) {
      const prev = t * H4;
      const g = t * ROWS * G;
      const xt = x0 + t * I;
      for (let q = 0; q < ROWS; q++) {
        const a = g + q * G;
        const d = q * G;
        for (let j = 0; j < H; j++) {
          const m = q * H + j;
          const z = gates[a + j], c = gates[a + 2 * H + j];
          const dhv = dh[m];
          da[d + j] = dhv * (hs[prev + m] - c) * z * (1 - z);
          da[d + 2 * H + j] = dhv * (1 - z) * (1 - c * c);
          dhPrev[m] = dhv * z;
        }
      }
      // The candidate's rows first: they give ∂L/∂(r ⊙ h_{t-1}), which the reset gate needs.
      drh.fill(0);
      for (let r = 2 * H; r < G; r++) {
        const d0 = da[r], d1 = da[G + r], d2 = da[2 * G + r], d3 = da[3 * G + r];
        gbias[r] += d0 + d1 + d2 + d3;
        const wx = r * I;
        for (let i = 0; i < I; i++) gW_x[wx + i] += d0 * x[xt + i] + d1 * x[xt + xS + i] + d2 * x[xt + 2 * xS + i] + d3 * x[xt + 3 * xS + i];
        const wh = r * H;
        for (let k = 0; k < H; k++) {
          const p = prev + k;
          gW_h[wh + k] += d0 * rh[p] + d1 * rh[p + H] + d2 * rh[p + 2 * H] + d3 * rh[p + 3 * H];
          const w = W_h[wh + k];
          drh[k] += w * d0;
          drh[k + H] += w * d1;
          drh[k + 2 * H] += w * d2;
          drh[k + 3 * H] += w * d3;
        }
      }
      for (let q = 0; q < ROWS; q++) {
        const a = g + q * G;
        for (let j = 0; j < H; j++) {
          const m = q * H + j;
          const r = gates[a + H + j];
          da[q * G + H + j] = drh[m] * hs[prev + m] * r * (1 - r);
          dhPrev[m] += drh[m] * r;
        }
      }
      for (let r = 0; r < 2 * H; r++) {
        const d0 = da[r], d1 = da[G + r], d2 = da[2 * G + r], d3 = da[3 * G + r];
        gbias[r] += d0 + d1 + d2 + d3;
        const wx = r * I;
        for (let i = 0; i < I; i++) gW_x[wx + i] += d0 * x[xt + i] + d1 * x[xt + xS + i] + d2 * x[xt + 2 * xS + i] + d3 * x[xt + 3 * xS + i];
        const wh = r * H;
        if (t > 0) {
          for (let k = 0; k < H; k++) {
            const p = prev + k;
            gW_h[wh + k] += d0 * hs[p] + d1 * hs[p + H] + d2 * hs[p + 2 * H] + d3 * hs[p + 3 * H];
            const w = W_h[wh + k];
            dhPrev[k] += w * d0;
            dhPrev[k + H] += w * d1;
            dhPrev[k + 2 * H] += w * d2;
            dhPrev[k + 3 * H] += w * d3;
          }
        }
        // At t = 0, h_0 = 0: these rows of W_h have no gradient.
      }
      const swap = dh;
      dh = dhPrev;
      dhPrev = swap;
    }
  }
}

const PLAIN = { lstm: PlainLSTM, gru: PlainGRU };

/** The plain loop of `cell` ("lstm" or "gru") from the given weights (copied). */
function createPlainGated(cell, weights, dims) {
  const Plain = PLAIN[cell];
  if (!Plain) throw new Error(`no plain loop for cell "${cell}" (expected ${Object.keys(PLAIN).join(' or ')})`);
  return new Plain(weights, dims);
}

/**
 * The yardstick's own gradient against central finite differences of its loss on the first
 * `B` windows, over a spread of entries of every parameter. Returns the worst of
 * |fd − g| / max(|fd| + |g|, 1e-4): relative, except for entries near zero, where the
 * differences' rounding (about 1e-16 · loss / ε) would dominate a relative measure.
 */
function checkPlainGatedGradient(cell, weights, dims, x, y, B) {
  const lossAt = (w) => createPlainGated(cell, w, dims).trainBatch(x, y, 0, B, 0);
  const net = createPlainGated(cell, weights, dims);
  net.trainBatch(x, y, 0, B, 0);
  const grads = net.grads;
  const eps = 1e-5;
  let worst = 0;
  let checked = 0;
  for (const name of PARAMS) {
    const g = grads[name];
    const stride = Math.max(1, Math.floor(g.length / 13));
    for (let i = 0; i < g.length; i += stride) {
      const plus = { ...weights, [name]: Float64Array.from(weights[name]) };
      const minus = { ...weights, [name]: Float64Array.from(weights[name]) };
      plus[name][i] += eps;
      minus[name][i] -= eps;
      const fd = (lossAt(plus) - lossAt(minus)) / (2 * eps);
      worst = Math.max(worst, Math.abs(fd - g[i]) / Math.max(1e-4, Math.abs(fd) + Math.abs(g[i])));
      checked++;
    }
  }
  return { worst, checked, eps };
}

module.exports = { PARAMS, PlainLSTM, PlainGRU, createPlainGated, checkPlainGatedGradient };
