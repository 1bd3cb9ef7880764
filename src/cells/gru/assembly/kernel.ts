/**
 * The GRU's BPTT in AssemblyScript (equations in ../index.ts), both places of the reset gate, on the
 * building blocks of src/wasm/assembly/linalg.ts; compiled with them into one module at build
 * time, driven by ../wasm.ts.
 *
 * Everything is time-major: hs is (T+1)×B×H with slot 0 = h_0. The gates are kept in two arrays so
 * that each is a plain matrix for the products: zr (T×B×2H, each row z then r, both σ) and hc
 * (T×B×H, the candidate h̃ after φ). v (T×B×H) is what the candidate's recurrent product
 * read: r ⊙ h_{t-1} with the reset before it, u = W_hh h_{t-1} + b_hh (which r multiplies) after it.
 * The gradients of the pre-activations are kept the same way (dZR, dC) for the weights' passes.
 */
import { activate, addAndSquare, addColumnSums, addProductTN, affine, derivative } from "../../../wasm/assembly/linalg";

/**
 * Forward over T steps from h_0 in slot 0 of hs; xt is x time-major (T×B×I). wxTzr (I×2H) and
 * whTzr (H×2H) are the transposes of W_x's and W_h's first 2H rows (z and r), wxTc (I×H) and whTc
 * (H×H) of their candidate rows. bzr (2H) is the z and r bias (with the reset after, b and the
 * recurrent bias added), bc (H) the candidate's input bias, bu (H) its recurrent bias (after only).
 */
export function gruForward(wxTzr: usize, wxTc: usize, whTzr: usize, whTc: usize, bzr: usize, bc: usize, bu: usize, xt: usize,
  hs: usize, zr: usize, hc: usize, v: usize, B: i32, T: i32, I: i32, H: i32, act: i32, gateAct: i32, after: bool): void {
  const BH = <i32>(<usize>B * H);
  const bhBytes = (<usize>BH) << 3;
  const hBytes = (<usize>H) << 3;
  for (let t = 0; t < T; t++) {
    const prev = hs + <usize>t * bhBytes, cur = prev + bhBytes;
    const g = zr + 2 * <usize>t * bhBytes;
    const c = hc + <usize>t * bhBytes;
    const vt = v + <usize>t * bhBytes;
    const x = xt + ((<usize>t * B * I) << 3);
    affine(g, 2 * H, bzr, x, I, wxTzr, I, prev, H, whTzr, H, B, 2 * H);
    activate(g, 2 * BH, gateAct);
    if (after) {
      affine(vt, H, bu, prev, H, whTc, H, 0, 0, 0, 0, B, H);
      affine(c, H, bc, x, I, wxTc, I, 0, 0, 0, 0, B, H);
      for (let b = 0; b < B; b++) {
        const r = g + <usize>b * 2 * hBytes + hBytes, n0 = <usize>b * hBytes;
        for (let j = 0; j < H; j++) {
          const o = (<usize>j) << 3;
          store<f64>(c + n0 + o, load<f64>(c + n0 + o) + load<f64>(r + o) * load<f64>(vt + n0 + o));
        }
      }
    } else {
      for (let b = 0; b < B; b++) {
        const r = g + <usize>b * 2 * hBytes + hBytes, n0 = <usize>b * hBytes;
        for (let j = 0; j < H; j++) {
          const o = (<usize>j) << 3;
          store<f64>(vt + n0 + o, load<f64>(r + o) * load<f64>(prev + n0 + o));
        }
      }
      affine(c, H, bc, x, I, wxTc, I, vt, H, whTc, H, B, H);
    }
    activate(c, BH, act);
    for (let b = 0; b < B; b++) {
      const z = g + <usize>b * 2 * hBytes, n0 = <usize>b * hBytes;
      for (let j = 0; j < H; j++) {
        const o = (<usize>j) << 3;
        const zj = load<f64>(z + o);
        store<f64>(cur + n0 + o, zj * load<f64>(prev + n0 + o) + (1 - zj) * load<f64>(c + n0 + o));
      }
    }
  }
}

/**
 * BPTT. dH (T×B×H) holds ∂L/∂h_t from above and gathers what later steps send back. dZR (T×B×2H)
 * and dC (T×B×H) receive the gradients of the gates' pre-activations, dU (T×B×H, reset after only)
 * that of u; dhNext and tmp (B×H) are scratch. wx (3H×I) and wh (3H×H) are W_x and W_h as stored.
 * Gradients are added into gwx, gwh, gb (and grb, the recurrent bias, with the reset after);
 * norms[t] receives Σ_b ‖∂L/∂h_t‖² when wantNorms; dX (B×T×I, batch-major) is written when needDX.
 * Truncation as the JavaScript kernel: blocks of `truncate` steps counted back from the last.
 */
export function gruBackward(wx: usize, wh: usize, hs: usize, zr: usize, hc: usize, v: usize, xt: usize, dH: usize, dZR: usize, dC: usize, dU: usize,
  dhNext: usize, tmp: usize, gwx: usize, gwh: usize, gb: usize, grb: usize, dX: usize, norms: usize,
  B: i32, T: i32, I: i32, H: i32, act: i32, gateAct: i32, after: bool, truncate: i32, wantNorms: bool, needDX: bool): void {
  const BH = <i32>(<usize>B * H);
  const bhBytes = (<usize>BH) << 3;
  const hBytes = (<usize>H) << 3;
  // The candidate's rows of the stored weights (its recurrent block is W_hh).
  const wxc = wx + 2 * <usize>H * (<usize>I << 3);
  const whh = wh + 2 * <usize>H * hBytes;
  memory.fill(dhNext, 0, bhBytes);
  for (let t = T - 1; t >= 0; t--) {
    const d = dH + <usize>t * bhBytes;
    const s = addAndSquare(d, dhNext, BH);
    if (wantNorms) store<f64>(norms + ((<usize>t) << 3), s);
    const wantNext = !(truncate > 0 && (T - t) % truncate == 0) && t > 0;
    const prev = hs + <usize>t * bhBytes;
    const g = zr + 2 * <usize>t * bhBytes;
    const a = dZR + 2 * <usize>t * bhBytes;
    const c = hc + <usize>t * bhBytes;
    const dc = dC + <usize>t * bhBytes;
    const vt = v + <usize>t * bhBytes;
    // h_t = z ⊙ h_{t-1} + (1 − z) ⊙ h̃: the update gate, the candidate and h_{t-1}'s direct path.
    for (let b = 0; b < B; b++) {
      const z = g + <usize>b * 2 * hBytes, dz = a + <usize>b * 2 * hBytes, n0 = <usize>b * hBytes;
      for (let j = 0; j < H; j++) {
        const o = (<usize>j) << 3;
        const dh = load<f64>(d + n0 + o), zj = load<f64>(z + o);
        store<f64>(dz + o, dh * (load<f64>(prev + n0 + o) - load<f64>(c + n0 + o)));
        store<f64>(dc + n0 + o, dh * (1 - zj));
        store<f64>(dhNext + n0 + o, dh * zj);
      }
    }
    derivative(dc, c, BH, act);
    if (after) {
      // u's gradient r ⊙ dc goes back through W_hh; r's is dc ⊙ u.
      const du = dU + <usize>t * bhBytes;
      for (let b = 0; b < B; b++) {
        const r = g + <usize>b * 2 * hBytes + hBytes, dr = a + <usize>b * 2 * hBytes + hBytes, n0 = <usize>b * hBytes;
        for (let j = 0; j < H; j++) {
          const o = (<usize>j) << 3;
          const dcj = load<f64>(dc + n0 + o);
          store<f64>(dr + o, dcj * load<f64>(vt + n0 + o));
          store<f64>(du + n0 + o, dcj * load<f64>(r + o));
        }
      }
      derivative(a, g, 2 * BH, gateAct);
      if (wantNext) affine(tmp, H, 0, a, 2 * H, wh, 2 * H, du, H, whh, H, B, H);
    } else {
      // (r ⊙ h_{t-1})'s gradient W_hhᵀ dc reaches r and h_{t-1}.
      affine(tmp, H, 0, dc, H, whh, H, 0, 0, 0, 0, B, H);
      for (let b = 0; b < B; b++) {
        const r = g + <usize>b * 2 * hBytes + hBytes, dr = a + <usize>b * 2 * hBytes + hBytes, n0 = <usize>b * hBytes;
        for (let j = 0; j < H; j++) {
          const o = (<usize>j) << 3;
          const drh = load<f64>(tmp + n0 + o);
          store<f64>(dr + o, drh * load<f64>(prev + n0 + o));
          store<f64>(dhNext + n0 + o, load<f64>(dhNext + n0 + o) + drh * load<f64>(r + o));
        }
      }
      derivative(a, g, 2 * BH, gateAct);
      if (wantNext) affine(tmp, H, 0, a, 2 * H, wh, 2 * H, 0, 0, 0, 0, B, H);
    }
    if (wantNext) {
      for (let i = 0; i < BH; i++) { const o = (<usize>i) << 3; store<f64>(dhNext + o, load<f64>(dhNext + o) + load<f64>(tmp + o)); }
    } else {
      memory.fill(dhNext, 0, bhBytes);
    }
    if (needDX) affine(dX + ((<usize>t * I) << 3), T * I, 0, a, 2 * H, wx, 2 * H, dc, H, wxc, H, B, I);
  }
  const R = T * B;
  addProductTN(gwx, dZR, xt, R, 2 * H, I);
  addProductTN(gwx + 2 * <usize>H * (<usize>I << 3), dC, xt, R, H, I);
  addProductTN(gwh, dZR, hs, R, 2 * H, H);
  if (after) addProductTN(gwh + 2 * <usize>H * hBytes, dU, hs, R, H, H);
  else addProductTN(gwh + 2 * <usize>H * hBytes, dC, v, R, H, H);
  addColumnSums(gb, dZR, R, 2 * H);
  addColumnSums(gb + 2 * hBytes, dC, R, H);
  if (after) {
    addColumnSums(grb, dZR, R, 2 * H);
    addColumnSums(grb + 2 * hBytes, dU, R, H);
  }
}
