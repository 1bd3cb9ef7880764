/**
 * The Elman cell's WebAssembly kernel (AssemblyScript, compiled at build time by
 * scripts/build-wasm.js into elman.wasm beside the compiled loader, src/cells/elman/wasm.ts).
 *
 * Everything here works on float64 arrays the loader placed in this module's memory; pointers are
 * byte offsets, sizes count numbers. Matrices are row-major. The loader owns the memory layout, so
 * this module allocates nothing and has no runtime: the functions are pure loops over memory.
 *
 * The products use f64x2 SIMD: along the output dimension, two outputs per vector, and four
 * batch rows (or four output rows) per pass so that every weight vector loaded is used four times.
 */

const TANH: i32 = 0;
const RELU: i32 = 1;
const SIGMOID: i32 = 2;

/** Where the loader may start placing arrays (16-byte aligned, past this module's static data). */
export function heapBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

/**
 * out[r·os + n] = init[n] + Σ_m a1[r·s1 + m]·m1[m·N + n] + Σ_m a2[r·s2 + m]·m2[m·N + n]
 * for r < rows, n < N; init = 0 means zeros, k1 or k2 = 0 leaves a term out. Strides count numbers.
 * The matrices are read along n (their rows), the inputs one number at a time, splatted.
 */
export function affine(out: usize, os: i32, init: usize, a1: usize, s1: i32, m1: usize, k1: i32, a2: usize, s2: i32, m2: usize, k2: i32, rows: i32, N: i32): void {
  const ob = (<usize>os) << 3, s1b = (<usize>s1) << 3, s2b = (<usize>s2) << 3, nb = (<usize>N) << 3;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const o = out + <usize>r * ob;
    const p1 = a1 + <usize>r * s1b, p2 = a2 + <usize>r * s2b;
    let n = 0;
    for (; n + 4 <= N; n += 4) {
      const nOff = (<usize>n) << 3;
      let i0 = f64x2.splat(0), i1 = f64x2.splat(0);
      if (init) { i0 = v128.load(init + nOff); i1 = v128.load(init + nOff, 16); }
      let c00 = i0, c01 = i1, c10 = i0, c11 = i1, c20 = i0, c21 = i1, c30 = i0, c31 = i1;
      let w = m1 + nOff;
      let x = p1;
      for (let m = 0; m < k1; m++) {
        const w0 = v128.load(w), w1 = v128.load(w, 16);
        const x0 = v128.load_splat<f64>(x), x1 = v128.load_splat<f64>(x + s1b), x2 = v128.load_splat<f64>(x + 2 * s1b), x3 = v128.load_splat<f64>(x + 3 * s1b);
        c00 = f64x2.add(c00, f64x2.mul(x0, w0)); c01 = f64x2.add(c01, f64x2.mul(x0, w1));
        c10 = f64x2.add(c10, f64x2.mul(x1, w0)); c11 = f64x2.add(c11, f64x2.mul(x1, w1));
        c20 = f64x2.add(c20, f64x2.mul(x2, w0)); c21 = f64x2.add(c21, f64x2.mul(x2, w1));
        c30 = f64x2.add(c30, f64x2.mul(x3, w0)); c31 = f64x2.add(c31, f64x2.mul(x3, w1));
        w += nb;
        x += 8;
      }
      w = m2 + nOff;
      x = p2;
      for (let m = 0; m < k2; m++) {
        const w0 = v128.load(w), w1 = v128.load(w, 16);
        const x0 = v128.load_splat<f64>(x), x1 = v128.load_splat<f64>(x + s2b), x2 = v128.load_splat<f64>(x + 2 * s2b), x3 = v128.load_splat<f64>(x + 3 * s2b);
        c00 = f64x2.add(c00, f64x2.mul(x0, w0)); c01 = f64x2.add(c01, f64x2.mul(x0, w1));
        c10 = f64x2.add(c10, f64x2.mul(x1, w0)); c11 = f64x2.add(c11, f64x2.mul(x1, w1));
        c20 = f64x2.add(c20, f64x2.mul(x2, w0)); c21 = f64x2.add(c21, f64x2.mul(x2, w1));
        c30 = f64x2.add(c30, f64x2.mul(x3, w0)); c31 = f64x2.add(c31, f64x2.mul(x3, w1));
        w += nb;
        x += 8;
      }
      const q = o + nOff;
      v128.store(q, c00); v128.store(q, c01, 16);
      v128.store(q + ob, c10); v128.store(q + ob, c11, 16);
      v128.store(q + 2 * ob, c20); v128.store(q + 2 * ob, c21, 16);
      v128.store(q + 3 * ob, c30); v128.store(q + 3 * ob, c31, 16);
    }
    for (; n < N; n++) {
      const nOff = (<usize>n) << 3;
      const i0 = init ? load<f64>(init + nOff) : 0.0;
      let c0 = i0, c1 = i0, c2 = i0, c3 = i0;
      let w = m1 + nOff;
      let x = p1;
      for (let m = 0; m < k1; m++) {
        const wv = load<f64>(w);
        c0 += load<f64>(x) * wv; c1 += load<f64>(x + s1b) * wv; c2 += load<f64>(x + 2 * s1b) * wv; c3 += load<f64>(x + 3 * s1b) * wv;
        w += nb;
        x += 8;
      }
      w = m2 + nOff;
      x = p2;
      for (let m = 0; m < k2; m++) {
        const wv = load<f64>(w);
        c0 += load<f64>(x) * wv; c1 += load<f64>(x + s2b) * wv; c2 += load<f64>(x + 2 * s2b) * wv; c3 += load<f64>(x + 3 * s2b) * wv;
        w += nb;
        x += 8;
      }
      const q = o + nOff;
      store<f64>(q, c0); store<f64>(q + ob, c1); store<f64>(q + 2 * ob, c2); store<f64>(q + 3 * ob, c3);
    }
  }
  for (; r < rows; r++) {
    const o = out + <usize>r * ob;
    const p1 = a1 + <usize>r * s1b, p2 = a2 + <usize>r * s2b;
    let n = 0;
    for (; n + 4 <= N; n += 4) {
      const nOff = (<usize>n) << 3;
      let c0 = f64x2.splat(0), c1 = f64x2.splat(0);
      if (init) { c0 = v128.load(init + nOff); c1 = v128.load(init + nOff, 16); }
      let w = m1 + nOff;
      let x = p1;
      for (let m = 0; m < k1; m++) {
        const x0 = v128.load_splat<f64>(x);
        c0 = f64x2.add(c0, f64x2.mul(x0, v128.load(w))); c1 = f64x2.add(c1, f64x2.mul(x0, v128.load(w, 16)));
        w += nb;
        x += 8;
      }
      w = m2 + nOff;
      x = p2;
      for (let m = 0; m < k2; m++) {
        const x0 = v128.load_splat<f64>(x);
        c0 = f64x2.add(c0, f64x2.mul(x0, v128.load(w))); c1 = f64x2.add(c1, f64x2.mul(x0, v128.load(w, 16)));
        w += nb;
        x += 8;
      }
      v128.store(o + nOff, c0); v128.store(o + nOff, c1, 16);
    }
    for (; n < N; n++) {
      const nOff = (<usize>n) << 3;
      let c = init ? load<f64>(init + nOff) : 0.0;
      let w = m1 + nOff;
      let x = p1;
      for (let m = 0; m < k1; m++) { c += load<f64>(x) * load<f64>(w); w += nb; x += 8; }
      w = m2 + nOff;
      x = p2;
      for (let m = 0; m < k2; m++) { c += load<f64>(x) * load<f64>(w); w += nb; x += 8; }
      store<f64>(o + nOff, c);
    }
  }
}

/**
 * out[j·K + k] += Σ_r a[r·J + j]·b[r·K + k] (out += aᵀ·b over R rows): the weight gradients, summed
 * over every step and batch row at once after the time loop. Tiles of 4 j × 4 k stay in registers.
 */
export function addProductTN(out: usize, a: usize, b: usize, R: i32, J: i32, K: i32): void {
  const jb = (<usize>J) << 3, kb = (<usize>K) << 3;
  let j = 0;
  for (; j + 4 <= J; j += 4) {
    const jOff = (<usize>j) << 3;
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      const kOff = (<usize>k) << 3;
      let c00 = f64x2.splat(0), c01 = f64x2.splat(0), c10 = f64x2.splat(0), c11 = f64x2.splat(0);
      let c20 = f64x2.splat(0), c21 = f64x2.splat(0), c30 = f64x2.splat(0), c31 = f64x2.splat(0);
      let pa = a + jOff, pb = b + kOff;
      for (let r = 0; r < R; r++) {
        const b0 = v128.load(pb), b1 = v128.load(pb, 16);
        const a0 = v128.load_splat<f64>(pa), a1 = v128.load_splat<f64>(pa, 8), a2 = v128.load_splat<f64>(pa, 16), a3 = v128.load_splat<f64>(pa, 24);
        c00 = f64x2.add(c00, f64x2.mul(a0, b0)); c01 = f64x2.add(c01, f64x2.mul(a0, b1));
        c10 = f64x2.add(c10, f64x2.mul(a1, b0)); c11 = f64x2.add(c11, f64x2.mul(a1, b1));
        c20 = f64x2.add(c20, f64x2.mul(a2, b0)); c21 = f64x2.add(c21, f64x2.mul(a2, b1));
        c30 = f64x2.add(c30, f64x2.mul(a3, b0)); c31 = f64x2.add(c31, f64x2.mul(a3, b1));
        pa += jb;
        pb += kb;
      }
      const q = out + <usize>j * kb + kOff;
      v128.store(q, f64x2.add(v128.load(q), c00)); v128.store(q, f64x2.add(v128.load(q, 16), c01), 16);
      v128.store(q + kb, f64x2.add(v128.load(q + kb), c10)); v128.store(q + kb, f64x2.add(v128.load(q + kb, 16), c11), 16);
      v128.store(q + 2 * kb, f64x2.add(v128.load(q + 2 * kb), c20)); v128.store(q + 2 * kb, f64x2.add(v128.load(q + 2 * kb, 16), c21), 16);
      v128.store(q + 3 * kb, f64x2.add(v128.load(q + 3 * kb), c30)); v128.store(q + 3 * kb, f64x2.add(v128.load(q + 3 * kb, 16), c31), 16);
    }
    for (; k < K; k++) {
      const kOff = (<usize>k) << 3;
      let c0 = 0.0, c1 = 0.0, c2 = 0.0, c3 = 0.0;
      let pa = a + jOff, pb = b + kOff;
      for (let r = 0; r < R; r++) {
        const bv = load<f64>(pb);
        c0 += load<f64>(pa) * bv; c1 += load<f64>(pa, 8) * bv; c2 += load<f64>(pa, 16) * bv; c3 += load<f64>(pa, 24) * bv;
        pa += jb;
        pb += kb;
      }
      const q = out + <usize>j * kb + kOff;
      store<f64>(q, load<f64>(q) + c0); store<f64>(q + kb, load<f64>(q + kb) + c1);
      store<f64>(q + 2 * kb, load<f64>(q + 2 * kb) + c2); store<f64>(q + 3 * kb, load<f64>(q + 3 * kb) + c3);
    }
  }
  for (; j < J; j++) {
    const jOff = (<usize>j) << 3;
    let k = 0;
    for (; k + 2 <= K; k += 2) {
      const kOff = (<usize>k) << 3;
      let c = f64x2.splat(0);
      let pa = a + jOff, pb = b + kOff;
      for (let r = 0; r < R; r++) { c = f64x2.add(c, f64x2.mul(v128.load_splat<f64>(pa), v128.load(pb))); pa += jb; pb += kb; }
      const q = out + <usize>j * kb + kOff;
      v128.store(q, f64x2.add(v128.load(q), c));
    }
    for (; k < K; k++) {
      const kOff = (<usize>k) << 3;
      let c = 0.0;
      let pa = a + jOff, pb = b + kOff;
      for (let r = 0; r < R; r++) { c += load<f64>(pa) * load<f64>(pb); pa += jb; pb += kb; }
      const q = out + <usize>j * kb + kOff;
      store<f64>(q, load<f64>(q) + c);
    }
  }
}

/** dst (rows×cols) = srcᵀ of src (cols×rows… read as rows of `cols`): dst[c·rows + r] = src[r·cols + c]. */
export function transpose(dst: usize, src: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      store<f64>(dst + ((<usize>c * rows + r) << 3), load<f64>(src + ((<usize>r * cols + c) << 3)));
    }
  }
}

/** Time-major copy (T×B×n) of a batch-major B×T×n array. */
export function toTimeMajor(dst: usize, src: usize, B: i32, T: i32, n: i32): void {
  const bytes = (<usize>n) << 3;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      memory.copy(dst + (<usize>t * B + b) * bytes, src + (<usize>b * T + t) * bytes, bytes);
    }
  }
}

const LOG2E = 1.4426950408889634;
/** ln 2 in two parts (Cody and Waite): n·LN2_HI is exact for the |n| ≤ 64 used here. */
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;

/**
 * e^y for |y| ≤ 40, two lanes at once: y = n·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series to
 * r¹² (relative error below 2e-16), 2^n built in the exponent bits. NaN stays NaN.
 */
// @ts-ignore: decorator
@inline function exp2lanes(y: v128): v128 {
  const n = f64x2.nearest(f64x2.mul(y, f64x2.splat(LOG2E)));
  const r = f64x2.sub(f64x2.sub(y, f64x2.mul(n, f64x2.splat(LN2_HI))), f64x2.mul(n, f64x2.splat(LN2_LO)));
  let p = f64x2.splat(1.0 / 479001600);
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 39916800));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 3628800));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 362880));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 40320));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 5040));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 720));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 120));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 24));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 6));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.5));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1));
  const scale = i64x2.shl(i64x2.add(i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(n)), i64x2.splat(1023)), 52);
  return f64x2.mul(p, scale);
}

/**
 * tanh of two lanes: sign(v)·(1 − 2/(e^{2|v|} + 1)), |v| capped at 20 where tanh is 1 in float64.
 * Its absolute error is a few 1e-16, like Math.tanh's.
 */
// @ts-ignore: decorator
@inline function tanhLanes(v: v128): v128 {
  const one = f64x2.splat(1);
  const a = f64x2.min(f64x2.abs(v), f64x2.splat(20));
  const e = exp2lanes(f64x2.add(a, a));
  const t = f64x2.sub(one, f64x2.div(f64x2.splat(2), f64x2.add(e, one)));
  return v128.or(t, v128.and(v, i64x2.splat(0x8000000000000000)));
}

/** 1/(1 + e^{−v}) of two lanes, e^{−v} with −v clamped to ±40 (beyond, the result is 0 or 1 within 5e-18). */
// @ts-ignore: decorator
@inline function sigmoidLanes(v: v128): v128 {
  const one = f64x2.splat(1);
  const y = f64x2.max(f64x2.min(f64x2.neg(v), f64x2.splat(40)), f64x2.splat(-40));
  return f64x2.div(one, f64x2.add(one, exp2lanes(y)));
}

function activate(p: usize, count: i32, act: i32): void {
  const pairs = (<usize>(count & ~1)) << 3;
  const end = p + ((<usize>count) << 3);
  if (act == TANH) {
    let q = p;
    for (; q < p + pairs; q += 16) v128.store(q, tanhLanes(v128.load(q)));
    if (q < end) store<f64>(q, f64x2.extract_lane(tanhLanes(f64x2.splat(load<f64>(q))), 0));
  } else if (act == RELU) {
    for (let q = p; q < end; q += 8) if (load<f64>(q) < 0) store<f64>(q, 0);
  } else if (act == SIGMOID) {
    let q = p;
    for (; q < p + pairs; q += 16) v128.store(q, sigmoidLanes(v128.load(q)));
    if (q < end) store<f64>(q, f64x2.extract_lane(sigmoidLanes(f64x2.splat(load<f64>(q))), 0));
  }
}

/** d ⊙= f'(a) written from the activation's output v = f(a). */
function derivative(d: usize, v: usize, count: i32, act: i32): void {
  const pairs = count & ~1;
  const one = f64x2.splat(1);
  const zero = f64x2.splat(0);
  let i = 0;
  if (act == TANH) {
    for (; i < pairs; i += 2) {
      const o = (<usize>i) << 3;
      const h = v128.load(v + o);
      v128.store(d + o, f64x2.mul(v128.load(d + o), f64x2.sub(one, f64x2.mul(h, h))));
    }
    for (; i < count; i++) { const o = (<usize>i) << 3; const h = load<f64>(v + o); store<f64>(d + o, load<f64>(d + o) * (1 - h * h)); }
  } else if (act == SIGMOID) {
    for (; i < pairs; i += 2) {
      const o = (<usize>i) << 3;
      const h = v128.load(v + o);
      v128.store(d + o, f64x2.mul(v128.load(d + o), f64x2.mul(h, f64x2.sub(one, h))));
    }
    for (; i < count; i++) { const o = (<usize>i) << 3; const h = load<f64>(v + o); store<f64>(d + o, load<f64>(d + o) * (h * (1 - h))); }
  } else if (act == RELU) {
    for (; i < pairs; i += 2) {
      const o = (<usize>i) << 3;
      v128.store(d + o, v128.andnot(v128.load(d + o), f64x2.le(v128.load(v + o), zero)));
    }
    for (; i < count; i++) { const o = (<usize>i) << 3; if (load<f64>(v + o) <= 0) store<f64>(d + o, 0); }
  }
}

/**
 * Forward over T steps: hs is (T+1)×B×H time-major with slot 0 holding h_0; xt is x time-major
 * (T×B×I); wxT (I×H) and whT (H×H) are W_xh and W_hh transposed, so each step is
 * a_t = b_h + x_t·W_xhᵀ + h_{t-1}·W_hhᵀ with the weights read along their contiguous rows.
 */
export function forward(wxT: usize, whT: usize, bias: usize, xt: usize, hs: usize, B: i32, T: i32, I: i32, H: i32, act: i32): void {
  const BH = <usize>B * H;
  const BI = <usize>B * I;
  for (let t = 0; t < T; t++) {
    const prev = hs + ((<usize>t * BH) << 3);
    const cur = prev + (BH << 3);
    affine(cur, H, bias, xt + ((<usize>t * BI) << 3), I, wxT, I, prev, H, whT, H, B, H);
    activate(cur, <i32>BH, act);
  }
}

/**
 * BPTT. dH (T×B×H, time-major) holds ∂L/∂h_t from above and is turned into da_t in place; dhNext
 * (B×H) is scratch. Gradients are added into gwx (H×I), gwh (H×H), gb (H); norms[t] receives
 * Σ_b ‖∂L/∂h_t‖² when wantNorms; dX (B×T×I, batch-major) is written when needDX. Truncation as the
 * JS kernel: blocks of `truncate` steps counted back from the last, nothing crosses a block's start.
 */
export function backward(wx: usize, wh: usize, hs: usize, xt: usize, dH: usize, dhNext: usize, gwx: usize, gwh: usize, gb: usize, dX: usize, norms: usize,
  B: i32, T: i32, I: i32, H: i32, act: i32, truncate: i32, wantNorms: bool, needDX: bool): void {
  const BH = <i32>(<usize>B * H);
  const bhBytes = (<usize>BH) << 3;
  memory.fill(dhNext, 0, bhBytes);
  const pairs = BH & ~1;
  for (let t = T - 1; t >= 0; t--) {
    const d = dH + <usize>t * bhBytes;
    const cur = hs + <usize>(t + 1) * bhBytes;
    let i = 0;
    let sq = f64x2.splat(0);
    for (; i < pairs; i += 2) {
      const o = (<usize>i) << 3;
      const v = f64x2.add(v128.load(d + o), v128.load(dhNext + o));
      v128.store(d + o, v);
      sq = f64x2.add(sq, f64x2.mul(v, v));
    }
    let s = f64x2.extract_lane(sq, 0) + f64x2.extract_lane(sq, 1);
    for (; i < BH; i++) {
      const o = (<usize>i) << 3;
      const v = load<f64>(d + o) + load<f64>(dhNext + o);
      store<f64>(d + o, v);
      s += v * v;
    }
    if (wantNorms) store<f64>(norms + ((<usize>t) << 3), s);
    derivative(d, cur, BH, act);
    const cut = truncate > 0 && (T - t) % truncate == 0;
    // Nothing flows past h_0 (zeros or a carried state, a constant) nor across a truncation cut.
    if (!cut && t > 0) affine(dhNext, H, 0, d, H, wh, H, 0, 0, 0, 0, B, H);
    else memory.fill(dhNext, 0, bhBytes);
    if (needDX) affine(dX + ((<usize>t * I) << 3), T * I, 0, d, H, wx, H, 0, 0, 0, 0, B, I);
  }
  const R = T * B;
  addProductTN(gwh, dH, hs, R, H, H);
  addProductTN(gwx, dH, xt, R, H, I);
  // Bias: the column sums of every da.
  const hBytes = (<usize>H) << 3;
  for (let r = 0; r < R; r++) {
    const row = dH + <usize>r * hBytes;
    let j = 0;
    for (; j + 2 <= H; j += 2) { const o = (<usize>j) << 3; v128.store(gb + o, f64x2.add(v128.load(gb + o), v128.load(row + o))); }
    for (; j < H; j++) { const o = (<usize>j) << 3; store<f64>(gb + o, load<f64>(gb + o) + load<f64>(row + o)); }
  }
}
