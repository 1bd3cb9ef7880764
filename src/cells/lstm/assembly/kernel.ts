/**
 * The LSTM cell's BPTT in AssemblyScript (equations in ../fast.ts), on the building blocks of
 * src/wasm/assembly/linalg.ts; compiled with them into one module at build time, driven by ../wasm.ts.
 *
 * Everything is time-major, one step of the batch one contiguous block: hs and cs are (T+1)×B×H with
 * slot 0 the state before step 1; gates is T×B×4H, each batch row holding its gates i, f, c̃, o after
 * their activations (the order of W_x's rows, so one product gives all four); phiC is T×B×H, φ(c_t).
 */
import { activate, addAndSquare, addColumnSums, addProductTN, affine, derivative } from "../../../wasm/assembly/linalg";

/**
 * Forward over T steps from h_0, c_0 in slot 0 of hs, cs; xt is x time-major (T×B×I); wxT (I×4H) and
 * whT (H×4H) are W_x and W_h transposed, so a step's 4H pre-activations of every row are one product.
 * `act` is φ, `gateAct` σ (codes of linalg.ts).
 */
export function lstmForward(wxT: usize, whT: usize, bias: usize, xt: usize, hs: usize, cs: usize, gates: usize, phiC: usize,
  B: i32, T: i32, I: i32, H: i32, act: i32, gateAct: i32): void {
  const G = 4 * H;
  const BH = <i32>(<usize>B * H);
  const bhBytes = (<usize>BH) << 3;
  const bgBytes = (<usize>B * G) << 3;
  const hBytes = (<usize>H) << 3;
  const gBytes = (<usize>G) << 3;
  for (let t = 0; t < T; t++) {
    const hPrev = hs + <usize>t * bhBytes, hCur = hPrev + bhBytes;
    const cPrev = cs + <usize>t * bhBytes, cCur = cPrev + bhBytes;
    const g = gates + <usize>t * bgBytes;
    const pc = phiC + <usize>t * bhBytes;
    affine(g, G, bias, xt + ((<usize>t * B * I) << 3), I, wxT, I, hPrev, H, whT, H, B, G);
    for (let b = 0; b < B; b++) {
      const row = g + <usize>b * gBytes;
      activate(row, 2 * H, gateAct); // i and f are adjacent
      activate(row + 2 * hBytes, H, act);
      activate(row + 3 * hBytes, H, gateAct);
      const n0 = (<usize>b * H) << 3;
      for (let j = 0; j < H; j++) {
        const o = (<usize>j) << 3;
        const c = load<f64>(row + hBytes + o) * load<f64>(cPrev + n0 + o) + load<f64>(row + o) * load<f64>(row + 2 * hBytes + o);
        store<f64>(cCur + n0 + o, c);
        store<f64>(pc + n0 + o, c);
      }
    }
    activate(pc, BH, act);
    for (let b = 0; b < B; b++) {
      const row = g + <usize>b * gBytes + 3 * hBytes;
      const n0 = (<usize>b * H) << 3;
      for (let j = 0; j < H; j++) {
        const o = (<usize>j) << 3;
        store<f64>(hCur + n0 + o, load<f64>(row + o) * load<f64>(pc + n0 + o));
      }
    }
  }
}

/**
 * BPTT. dH (T×B×H) holds ∂L/∂h_t from above (it gathers what later steps send back); dA (T×B×4H)
 * receives every step's gradient of the pre-activations, from which the weights' gradients are
 * taken in three passes after the time loop. dhNext, dcNext and dcAt (B×H each) are scratch.
 * Gradients are added into gwx (4H×I), gwh (4H×H), gb (4H); wx and wh are W_x and W_h as stored.
 * norms[t] receives Σ_b ‖∂L/∂h_t‖² when wantNorms; dX (B×T×I, batch-major) is written when needDX.
 * Truncation as the JavaScript kernel: blocks of `truncate` steps counted back from the last, and
 * neither ∂L/∂h nor ∂L/∂c crosses a block's start or reaches the initial state.
 */
export function lstmBackward(wx: usize, wh: usize, hs: usize, cs: usize, gates: usize, phiC: usize, xt: usize, dH: usize, dA: usize,
  dhNext: usize, dcNext: usize, dcAt: usize, gwx: usize, gwh: usize, gb: usize, dX: usize, norms: usize,
  B: i32, T: i32, I: i32, H: i32, act: i32, gateAct: i32, truncate: i32, wantNorms: bool, needDX: bool): void {
  const G = 4 * H;
  const BH = <i32>(<usize>B * H);
  const bhBytes = (<usize>BH) << 3;
  const bgBytes = (<usize>B * G) << 3;
  const hBytes = (<usize>H) << 3;
  const gBytes = (<usize>G) << 3;
  memory.fill(dhNext, 0, bhBytes);
  memory.fill(dcNext, 0, bhBytes);
  for (let t = T - 1; t >= 0; t--) {
    const d = dH + <usize>t * bhBytes;
    const s = addAndSquare(d, dhNext, BH);
    if (wantNorms) store<f64>(norms + ((<usize>t) << 3), s);
    const wantNext = !(truncate > 0 && (T - t) % truncate == 0) && t > 0;
    const g = gates + <usize>t * bgBytes;
    const a = dA + <usize>t * bgBytes;
    const pc = phiC + <usize>t * bhBytes;
    const cPrev = cs + <usize>t * bhBytes;
    // ∂L/∂c_t = what step t+1 sends to c_t + ∂L/∂h_t ⊙ o ⊙ φ'(c_t).
    for (let b = 0; b < B; b++) {
      const go = g + <usize>b * gBytes + 3 * hBytes;
      const n0 = (<usize>b * H) << 3;
      for (let j = 0; j < H; j++) {
        const o = (<usize>j) << 3;
        store<f64>(dcAt + n0 + o, load<f64>(d + n0 + o) * load<f64>(go + o));
      }
    }
    derivative(dcAt, pc, BH, act);
    for (let b = 0; b < B; b++) {
      const row = g + <usize>b * gBytes;
      const da = a + <usize>b * gBytes;
      const n0 = (<usize>b * H) << 3;
      for (let j = 0; j < H; j++) {
        const o = (<usize>j) << 3;
        const dc = load<f64>(dcNext + n0 + o) + load<f64>(dcAt + n0 + o);
        const gi = load<f64>(row + o);
        store<f64>(da + o, dc * load<f64>(row + 2 * hBytes + o));
        store<f64>(da + hBytes + o, dc * load<f64>(cPrev + n0 + o));
        store<f64>(da + 2 * hBytes + o, dc * gi);
        store<f64>(da + 3 * hBytes + o, load<f64>(d + n0 + o) * load<f64>(pc + n0 + o));
        store<f64>(dcNext + n0 + o, wantNext ? dc * load<f64>(row + hBytes + o) : 0);
      }
      derivative(da, row, 2 * H, gateAct);
      derivative(da + 2 * hBytes, row + 2 * hBytes, H, act);
      derivative(da + 3 * hBytes, row + 3 * hBytes, H, gateAct);
    }
    if (wantNext) affine(dhNext, H, 0, a, G, wh, G, 0, 0, 0, 0, B, H);
    else memory.fill(dhNext, 0, bhBytes);
    if (needDX) affine(dX + ((<usize>t * I) << 3), T * I, 0, a, G, wx, G, 0, 0, 0, 0, B, I);
  }
  const R = T * B;
  addProductTN(gwh, dA, hs, R, G, H);
  addProductTN(gwx, dA, xt, R, G, I);
  addColumnSums(gb, dA, R, G);
}
