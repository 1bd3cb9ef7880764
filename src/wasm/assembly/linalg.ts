/**
 * The building blocks of the WebAssembly kernels (AssemblyScript): products of float64 matrices
 * laid out in this module's memory and the element-wise activations, with f64x2 SIMD.
 *
 * Pointers are byte offsets, sizes count numbers, matrices are row-major. The loader
 * (src/wasm/module.ts) owns the memory layout, so nothing here allocates and there is no runtime.
 * The products run along the output dimension, two outputs per vector, and take four rows per pass
 * so that every weight vector loaded serves four rows.
 */

export const TANH: i32 = 0;
export const RELU: i32 = 1;
export const SIGMOID: i32 = 2;
/** clip(0.2·a + 0.5, 0, 1), the gates' other activation (TensorFlow.js's default); 3 is linear. */
export const HARD_SIGMOID: i32 = 4;

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

/** dst = srcᵀ, src being rows×cols: dst[c·rows + r] = src[r·cols + c]. */
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

/** 1.5·2^52: adding it rounds a float64 of magnitude below 2^51 to an integer, kept in the low bits. */
const ROUNDER = 6755399441055744.0;

/**
 * e^y for |y| ≤ 40, two lanes at once: y = n·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series to
 * r¹² (relative error below 2e-16, evaluated in Estrin's order for parallelism), 2^n built in the
 * exponent bits. NaN stays NaN.
 */
// @ts-ignore: decorator
@inline function exp2lanes(y: v128): v128 {
  const shifted = f64x2.add(f64x2.mul(y, f64x2.splat(LOG2E)), f64x2.splat(ROUNDER));
  const n = f64x2.sub(shifted, f64x2.splat(ROUNDER));
  const r = f64x2.sub(f64x2.sub(y, f64x2.mul(n, f64x2.splat(LN2_HI))), f64x2.mul(n, f64x2.splat(LN2_LO)));
  const r2 = f64x2.mul(r, r);
  const r4 = f64x2.mul(r2, r2);
  const r8 = f64x2.mul(r4, r4);
  // Pairs c_k + c_{k+1}·r of the coefficients 1/k!.
  const p01 = f64x2.add(f64x2.splat(1), r);
  const p23 = f64x2.add(f64x2.splat(0.5), f64x2.mul(r, f64x2.splat(1.0 / 6)));
  const p45 = f64x2.add(f64x2.splat(1.0 / 24), f64x2.mul(r, f64x2.splat(1.0 / 120)));
  const p67 = f64x2.add(f64x2.splat(1.0 / 720), f64x2.mul(r, f64x2.splat(1.0 / 5040)));
  const p89 = f64x2.add(f64x2.splat(1.0 / 40320), f64x2.mul(r, f64x2.splat(1.0 / 362880)));
  const pab = f64x2.add(f64x2.splat(1.0 / 3628800), f64x2.mul(r, f64x2.splat(1.0 / 39916800)));
  const pc = f64x2.splat(1.0 / 479001600);
  const q03 = f64x2.add(p01, f64x2.mul(r2, p23));
  const q47 = f64x2.add(p45, f64x2.mul(r2, p67));
  const q8b = f64x2.add(p89, f64x2.mul(r2, pab));
  const q07 = f64x2.add(q03, f64x2.mul(r4, q47));
  const q8c = f64x2.add(q8b, f64x2.mul(r4, pc));
  const p = f64x2.add(q07, f64x2.mul(r8, q8c));
  // The low bits of `shifted` hold n (two's complement): 2^n = (n + 1023) << 52.
  const scale = i64x2.shl(i64x2.add(i64x2.sub(shifted, f64x2.splat(ROUNDER)), i64x2.splat(1023)), 52);
  return f64x2.mul(p, scale);
}

/**
 * tanh of two lanes: sign(v)·(1 − 2/(e^{2|v|} + 1)), |v| capped at 20 where tanh is 1 in float64.
 * Its absolute error is a few 1e-16, like Math.tanh's.
 */
// @ts-ignore: decorator
@inline function tanhLanes(v: v128): v128 {
  const one = f64x2.splat(1);
  const a = f64x2.pmin(f64x2.abs(v), f64x2.splat(20));
  const e = exp2lanes(f64x2.add(a, a));
  const t = f64x2.sub(one, f64x2.div(f64x2.splat(2), f64x2.add(e, one)));
  return v128.or(t, v128.and(v, i64x2.splat(0x8000000000000000)));
}

/** 1/(1 + e^{−v}) of two lanes, e^{−v} with −v clamped to ±40 (beyond, the result is 0 or 1 within 5e-18). */
// @ts-ignore: decorator
@inline function sigmoidLanes(v: v128): v128 {
  const one = f64x2.splat(1);
  const y = f64x2.pmax(f64x2.pmin(f64x2.neg(v), f64x2.splat(40)), f64x2.splat(-40));
  return f64x2.div(one, f64x2.add(one, exp2lanes(y)));
}

/** clip(0.2·v + 0.5, 0, 1) of two lanes; min and max keep NaN as NaN, as the JavaScript version does. */
// @ts-ignore: decorator
@inline function hardSigmoidLanes(v: v128): v128 {
  const a = f64x2.add(f64x2.mul(v, f64x2.splat(0.2)), f64x2.splat(0.5));
  return f64x2.max(f64x2.min(a, f64x2.splat(1)), f64x2.splat(0));
}

export function activate(p: usize, count: i32, act: i32): void {
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
  } else if (act == HARD_SIGMOID) {
    let q = p;
    for (; q < p + pairs; q += 16) v128.store(q, hardSigmoidLanes(v128.load(q)));
    if (q < end) store<f64>(q, f64x2.extract_lane(hardSigmoidLanes(f64x2.splat(load<f64>(q))), 0));
  }
}

/** d ⊙= f'(a) written from the activation's output v = f(a). */
export function derivative(d: usize, v: usize, count: i32, act: i32): void {
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
  } else if (act == HARD_SIGMOID) {
    // Slope 0.2 strictly between the kinks, flat where the output was clipped to 0 or 1.
    const slope = f64x2.splat(0.2);
    for (; i < pairs; i += 2) {
      const o = (<usize>i) << 3;
      const y = v128.load(v + o);
      const inside = v128.and(f64x2.gt(y, zero), f64x2.lt(y, one));
      v128.store(d + o, v128.and(f64x2.mul(v128.load(d + o), slope), inside));
    }
    for (; i < count; i++) { const o = (<usize>i) << 3; const y = load<f64>(v + o); store<f64>(d + o, y > 0 && y < 1 ? load<f64>(d + o) * 0.2 : 0); }
  }
}

/**
 * d[i] += a[i] for i < count, returning Σ d[i]² after the addition: ∂L/∂h_t gathers what step t+1
 * sends back, and its squared norm is the per-step report of the backward passes.
 */
export function addAndSquare(d: usize, a: usize, count: i32): f64 {
  const pairs = count & ~1;
  let i = 0;
  let sq = f64x2.splat(0);
  for (; i < pairs; i += 2) {
    const o = (<usize>i) << 3;
    const v = f64x2.add(v128.load(d + o), v128.load(a + o));
    v128.store(d + o, v);
    sq = f64x2.add(sq, f64x2.mul(v, v));
  }
  let s = f64x2.extract_lane(sq, 0) + f64x2.extract_lane(sq, 1);
  for (; i < count; i++) {
    const o = (<usize>i) << 3;
    const v = load<f64>(d + o) + load<f64>(a + o);
    store<f64>(d + o, v);
    s += v * v;
  }
  return s;
}

/** out[n] += Σ_r a[r·N + n] for n < N: a bias's gradient, the column sums of its pre-activations' gradients. */
export function addColumnSums(out: usize, a: usize, R: i32, N: i32): void {
  const rowBytes = (<usize>N) << 3;
  for (let r = 0; r < R; r++) {
    const row = a + <usize>r * rowBytes;
    let n = 0;
    for (; n + 2 <= N; n += 2) { const o = (<usize>n) << 3; v128.store(out + o, f64x2.add(v128.load(out + o), v128.load(row + o))); }
    for (; n < N; n++) { const o = (<usize>n) << 3; store<f64>(out + o, load<f64>(out + o) + load<f64>(row + o)); }
  }
}

