'use strict';
/**
 * A hand-written Float64Array Elman RNN trained by BPTT: the yardstick the core is measured
 * against. No library, no abstraction, no allocation in the hot path: what a careful person
 * writes by hand for exactly this model.
 *
 *   h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h),  h_0 = 0
 *   y   = W_hy h_T + b_y                         (last step only)
 *   L   = mean over the batch (and outputs) of (y − target)²
 *
 * followed by plain SGD after every batch. Two variants of the same arithmetic:
 *   'rows'  — one batch row at a time (the straightforward loop);
 *   'rows4' — four batch rows at a time, so every weight loaded from memory serves four rows
 *             (the practical limit of a single-threaded JavaScript loop for this model).
 * Both compute the same sums, grouped differently, so they agree to rounding error.
 */

class PlainElman {
  /**
   * @param weights {W_xh (H×I), W_hh (H×H), b_h (H), W_hy (O×H), b_y (O)} row-major
   *   Float64Arrays, rows are output units; copied, so the caller's arrays stay untouched.
   * @param dims {inputSize, hiddenSize, outputSize, window}
   */
  constructor(weights, { inputSize, hiddenSize, outputSize, window }) {
    const I = (this.I = inputSize);
    const H = (this.H = hiddenSize);
    const O = (this.O = outputSize);
    const T = (this.T = window);
    const expect = { W_xh: H * I, W_hh: H * H, b_h: H, W_hy: O * H, b_y: O };
    for (const [name, len] of Object.entries(expect)) {
      if (!weights[name] || weights[name].length !== len) {
        throw new Error(`${name}: expected ${len} numbers, got ${weights[name] ? weights[name].length : 'none'}`);
      }
    }
    this.W_xh = Float64Array.from(weights.W_xh);
    this.W_hh = Float64Array.from(weights.W_hh);
    this.b_h = Float64Array.from(weights.b_h);
    this.W_hy = Float64Array.from(weights.W_hy);
    this.b_y = Float64Array.from(weights.b_y);
    this.gW_xh = new Float64Array(H * I);
    this.gW_hh = new Float64Array(H * H);
    this.gb_h = new Float64Array(H);
    this.gW_hy = new Float64Array(O * H);
    this.gb_y = new Float64Array(O);
    // Scratch for four rows: every hidden state of the sequence (h_0 = 0 included) and the
    // gradient arriving at the current and the previous step.
    this.hs = new Float64Array(4 * (T + 1) * H);
    this.da = new Float64Array(4 * H);
    this.dh = new Float64Array(4 * H);
    this.dhPrev = new Float64Array(4 * H);
    this.yhat = new Float64Array(O);
    this.dy = new Float64Array(4 * O);
  }

  /** The current weights (the live arrays). */
  get weights() {
    return { W_xh: this.W_xh, W_hh: this.W_hh, b_h: this.b_h, W_hy: this.W_hy, b_y: this.b_y };
  }

  /**
   * One pass over the windows in order, SGD after every batch. x: N×T×I flat, y: N×O flat.
   * `loss` is the mean over all windows of the squared error each had when its batch was
   * trained (a short last batch counts for its size); `batchLosses` are the per-batch means.
   */
  trainEpoch(x, y, N, { batchSize, learningRate, variant = 'rows' }) {
    const batchLosses = [];
    let sum = 0;
    for (let start = 0; start < N; start += batchSize) {
      const B = Math.min(batchSize, N - start);
      const l = this.trainBatch(x, y, start, B, learningRate, variant);
      batchLosses.push(l);
      sum += l * B;
    }
    return { loss: sum / N, batchLosses };
  }

  /** Gradient of one batch (rows start..start+B−1), then one SGD step. Returns the batch loss. */
  trainBatch(x, y, start, B, learningRate, variant = 'rows') {
    this.gW_xh.fill(0);
    this.gW_hh.fill(0);
    this.gb_h.fill(0);
    this.gW_hy.fill(0);
    this.gb_y.fill(0);
    const scale = 2 / (B * this.O);
    let sq = 0;
    let n = start;
    const end = start + B;
    if (variant === 'rows4') {
      for (; n + 4 <= end; n += 4) sq += this.rows4(x, y, n, scale);
    } else if (variant !== 'rows') {
      throw new Error(`unknown variant "${variant}" (expected "rows" or "rows4")`);
    }
    for (; n < end; n++) sq += this.row(x, y, n, scale);
    this.step(learningRate);
    return sq / (B * this.O);
  }

  /** Forward and backward of one window; adds its gradient; returns its squared error. */
  row(x, y, n, scale) {
    const { I, H, O, T, W_xh, W_hh, b_h, W_hy, b_y, gW_xh, gW_hh, gb_h, gW_hy, gb_y, hs, da } = this;
    let dh = this.dh;
    let dhPrev = this.dhPrev;
    const xBase = n * T * I;
    hs.fill(0, 0, H);
    for (let t = 0; t < T; t++) {
      const prev = t * H;
      const cur = prev + H;
      const xt = xBase + t * I;
      for (let i = 0; i < H; i++) {
        let a = b_h[i];
        for (let k = 0; k < I; k++) a += W_xh[i * I + k] * x[xt + k];
        const row = i * H;
        for (let j = 0; j < H; j++) a += W_hh[row + j] * hs[prev + j];
        hs[cur + i] = a;
      }
      // tanh in its own loop: a call inside the loop above slows V8's code for it by ~40%.
      for (let i = cur; i < cur + H; i++) hs[i] = Math.tanh(hs[i]);
    }
    const last = T * H;
    let sq = 0;
    dh.fill(0, 0, H);
    for (let o = 0; o < O; o++) {
      let v = b_y[o];
      const row = o * H;
      for (let j = 0; j < H; j++) v += W_hy[row + j] * hs[last + j];
      const err = v - y[n * O + o];
      sq += err * err;
      const g = scale * err;
      gb_y[o] += g;
      for (let j = 0; j < H; j++) {
        gW_hy[row + j] += g * hs[last + j];
        dh[j] += W_hy[row + j] * g;
      }
    }
    for (let t = T - 1; t >= 0; t--) {
      const cur = (t + 1) * H;
      const prev = t * H;
      const xt = xBase + t * I;
      for (let i = 0; i < H; i++) {
        const h = hs[cur + i];
        da[i] = dh[i] * (1 - h * h);
      }
      dhPrev.fill(0, 0, H);
      for (let i = 0; i < H; i++) {
        const d = da[i];
        gb_h[i] += d;
        for (let k = 0; k < I; k++) gW_xh[i * I + k] += d * x[xt + k];
        const row = i * H;
        for (let j = 0; j < H; j++) {
          gW_hh[row + j] += d * hs[prev + j];
          dhPrev[j] += W_hh[row + j] * d;
        }
      }
      const swap = dh;
      dh = dhPrev;
      dhPrev = swap;
    }
    return sq;
  }

  /**
   * The same forward and backward for windows n..n+3 together: in each inner loop one weight
   * (W_hh[i][j]) is read once and used by the four rows.
   */
  rows4(x, y, n, scale) {
    const { I, H, O, T, W_xh, W_hh, b_h, W_hy, b_y, gW_xh, gW_hh, gb_h, gW_hy, gb_y, hs, da } = this;
    let dh = this.dh;
    let dhPrev = this.dhPrev;
    const S = (T + 1) * H; // stride between the rows' hidden-state sequences
    const x0 = n * T * I;
    const xS = T * I;
    hs.fill(0, 0, H);
    hs.fill(0, S, S + H);
    hs.fill(0, 2 * S, 2 * S + H);
    hs.fill(0, 3 * S, 3 * S + H);
    for (let t = 0; t < T; t++) {
      const prev = t * H;
      const cur = prev + H;
      const xt = x0 + t * I;
      for (let i = 0; i < H; i++) {
        let a0 = b_h[i];
        let a1 = a0;
        let a2 = a0;
        let a3 = a0;
        for (let k = 0; k < I; k++) {
          const w = W_xh[i * I + k];
          a0 += w * x[xt + k];
          a1 += w * x[xt + xS + k];
          a2 += w * x[xt + 2 * xS + k];
          a3 += w * x[xt + 3 * xS + k];
        }
        const row = i * H;
        for (let j = 0; j < H; j++) {
          const w = W_hh[row + j];
          const p = prev + j;
          a0 += w * hs[p];
          a1 += w * hs[p + S];
          a2 += w * hs[p + 2 * S];
          a3 += w * hs[p + 3 * S];
        }
        const c = cur + i;
        hs[c] = a0;
        hs[c + S] = a1;
        hs[c + 2 * S] = a2;
        hs[c + 3 * S] = a3;
      }
      for (let r = 0; r < 4; r++) for (let i = r * S + cur; i < r * S + cur + H; i++) hs[i] = Math.tanh(hs[i]);
    }
    const last = T * H;
    let sq = 0;
    dh.fill(0, 0, 4 * H);
    for (let o = 0; o < O; o++) {
      const row = o * H;
      let v0 = b_y[o];
      let v1 = v0;
      let v2 = v0;
      let v3 = v0;
      for (let j = 0; j < H; j++) {
        const w = W_hy[row + j];
        const p = last + j;
        v0 += w * hs[p];
        v1 += w * hs[p + S];
        v2 += w * hs[p + 2 * S];
        v3 += w * hs[p + 3 * S];
      }
      const e0 = v0 - y[n * O + o];
      const e1 = v1 - y[(n + 1) * O + o];
      const e2 = v2 - y[(n + 2) * O + o];
      const e3 = v3 - y[(n + 3) * O + o];
      sq += e0 * e0 + e1 * e1 + e2 * e2 + e3 * e3;
      const g0 = scale * e0;
      const g1 = scale * e1;
      const g2 = scale * e2;
      const g3 = scale * e3;
      gb_y[o] += g0 + g1 + g2 + g3;
      for (let j = 0; j < H; j++) {
        const w = W_hy[row + j];
        const p = last + j;
        gW_hy[row + j] += g0 * hs[p] + g1 * hs[p + S] + g2 * hs[p + 2 * S] + g3 * hs[p + 3 * S];
        dh[j] += w * g0;
        dh[j + H] += w * g1;
        dh[j + 2 * H] += w * g2;
        dh[j + 3 * H] += w * g3;
      }
    }
    for (let t = T - 1; t >= 0; t--) {
      const cur = (t + 1) * H;
      const prev = t * H;
      const xt = x0 + t * I;
      for (let r = 0; r < 4; r++) {
        for (let i = 0; i < H; i++) {
          const h = hs[r * S + cur + i];
          da[r * H + i] = dh[r * H + i] * (1 - h * h);
        }
      }
      dhPrev.fill(0, 0, 4 * H);
      for (let i = 0; i < H; i++) {
        const d0 = da[i];
        const d1 = da[i + H];
        const d2 = da[i + 2 * H];
        const d3 = da[i + 3 * H];
        gb_h[i] += d0 + d1 + d2 + d3;
        for (let k = 0; k < I; k++) {
          gW_xh[i * I + k] += d0 * x[xt + k] + d1 * x[xt + xS + k] + d2 * x[xt + 2 * xS + k] + d3 * x[xt + 3 * xS + k];
        }
        const row = i * H;
        for (let j = 0; j < H; j++) {
          const w = W_hh[row + j];
          const p = prev + j;
          gW_hh[row + j] += d0 * hs[p] + d1 * hs[p + S] + d2 * hs[p + 2 * S] + d3 * hs[p + 3 * S];
          dhPrev[j] += w * d0;
          dhPrev[j + H] += w * d1;
          dhPrev[j + 2 * H] += w * d2;
          dhPrev[j + 3 * H] += w * d3;
        }
      }
      const swap = dh;
      dh = dhPrev;
      dhPrev = swap;
    }
    return sq;
  }

  step(lr) {
    const pairs = [
      [this.W_xh, this.gW_xh],
      [this.W_hh, this.gW_hh],
      [this.b_h, this.gb_h],
      [this.W_hy, this.gW_hy],
      [this.b_y, this.gb_y],
    ];
    for (const [w, g] of pairs) for (let i = 0; i < w.length; i++) w[i] -= lr * g[i];
  }

  /** Forecast of one window (T×I flat) into `out` (length O, allocated when absent). */
  predict(window, out = new Float64Array(this.O)) {
    const { I, H, O, T, W_xh, W_hh, b_h, W_hy, b_y, hs } = this;
    hs.fill(0, 0, H);
    for (let t = 0; t < T; t++) {
      const prev = t * H;
      const cur = prev + H;
      for (let i = 0; i < H; i++) {
        let a = b_h[i];
        for (let k = 0; k < I; k++) a += W_xh[i * I + k] * window[t * I + k];
        const row = i * H;
        for (let j = 0; j < H; j++) a += W_hh[row + j] * hs[prev + j];
        hs[cur + i] = a;
      }
      for (let i = cur; i < cur + H; i++) hs[i] = Math.tanh(hs[i]);
    }
    for (let o = 0; o < O; o++) {
      let v = b_y[o];
      for (let j = 0; j < H; j++) v += W_hy[o * H + j] * hs[T * H + j];
      out[o] = v;
    }
    return out;
  }

  /** Mean over all N windows (and outputs) of the squared error, without training. */
  loss(x, y, N) {
    const { I, O, T } = this;
    const out = new Float64Array(O);
    let sq = 0;
    for (let n = 0; n < N; n++) {
      this.predict(x.subarray(n * T * I, (n + 1) * T * I), out);
      for (let o = 0; o < O; o++) {
        const e = out[o] - y[n * O + o];
        sq += e * e;
      }
    }
    return sq / (N * O);
  }
}

module.exports = { PlainElman };
