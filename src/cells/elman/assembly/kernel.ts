/**
 * The Elman cell's BPTT in AssemblyScript, on the building blocks of src/wasm/assembly/linalg.ts;
 * compiled with them into one module at build time (scripts/build-wasm.js), driven by ../wasm.ts.
 */
import { affine, activate, addAndSquare, addColumnSums, addProductTN, derivative } from "../../../wasm/assembly/linalg";

/**
 * Forward over T steps: hs is (T+1)×B×H time-major with slot 0 holding h_0; xt is x time-major
 * (T×B×I); wxT (I×H) and whT (H×H) are W_xh and W_hh transposed, so each step is
 * a_t = b_h + x_t·W_xhᵀ + h_{t-1}·W_hhᵀ with the weights read along their contiguous rows.
 */
export function elmanForward(wxT: usize, whT: usize, bias: usize, xt: usize, hs: usize, B: i32, T: i32, I: i32, H: i32, act: i32): void {
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
export function elmanBackward(wx: usize, wh: usize, hs: usize, xt: usize, dH: usize, dhNext: usize, gwx: usize, gwh: usize, gb: usize, dX: usize, norms: usize,
  B: i32, T: i32, I: i32, H: i32, act: i32, truncate: i32, wantNorms: bool, needDX: bool): void {
  const BH = <i32>(<usize>B * H);
  const bhBytes = (<usize>BH) << 3;
  memory.fill(dhNext, 0, bhBytes);
  for (let t = T - 1; t >= 0; t--) {
    const d = dH + <usize>t * bhBytes;
    const cur = hs + <usize>(t + 1) * bhBytes;
    const s = addAndSquare(d, dhNext, BH);
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
  addColumnSums(gb, dH, R, H);
}
