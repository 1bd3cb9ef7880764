import type { Matrix } from "mathjs";
import { addInto, column, expectLength, gateActivation, gateDerivative, hiddenActivation, hiddenDerivative, matrixOf, writeColumn } from "../../backends/referenceMath";
import { math, zerosMatrix } from "../../math";
import type { LayerSpec } from "../../types";
import { CellBackwardOptions, CellForward, CellKernel, Params } from "../cell";

/**
 * The LSTM cell written with mathjs matrices, one batch row and one time step at a time, so that
 * a reader can check it against the equations line by line. It is the yardstick the fast kernel
 * is tested against; clarity comes before speed.
 *
 *   i_t = σ(W_xi x_t + W_hi h_{t-1} + b_i)      f_t = σ(W_xf x_t + W_hf h_{t-1} + b_f)
 *   c̃_t = φ(W_xc x_t + W_hc h_{t-1} + b_c)      o_t = σ(W_xo x_t + W_ho h_{t-1} + b_o)
 *   c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t             h_t = o_t ⊙ φ(c_t)
 *
 * The stored parameters stack the four gates' blocks (order i, f, c, o) along the rows; here
 * they are split into one H×I, H×H and H×1 matrix per gate. Every vector is an n×1 column.
 */

const GATES = ["i", "f", "c", "o"] as const;
type Gate = (typeof GATES)[number];
type PerGate<T> = Record<Gate, T>;

function perGate<T>(make: (gate: Gate, k: number) => T): PerGate<T> {
  return { i: make("i", 0), f: make("f", 1), c: make("c", 2), o: make("o", 3) };
}

/** What one step leaves for backward. */
interface Step {
  x: Matrix;
  hPrev: Matrix;
  cPrev: Matrix;
  /** The gates' values i, f, c̃, o. */
  g: PerGate<Matrix>;
  /** φ(c_t). */
  phiC: Matrix;
}

/** What backward needs from forward: the weights forward used, and steps[b][t]. */
class LstmReferenceCache {
  constructor(
    readonly Wx: PerGate<Matrix>,
    readonly Wh: PerGate<Matrix>,
    readonly steps: Step[][],
  ) {}
}

function forward(spec: Readonly<LayerSpec>, p: Params, x: Float64Array, B: number, T: number, s0: Float64Array | null): CellForward {
  const I = spec.inputSize;
  const H = spec.hiddenSize;
  expectLength("W_x", p.W_x.length, 4 * H * I, `4H×I = ${4 * H}×${I}`);
  expectLength("W_h", p.W_h.length, 4 * H * H, `4H×H = ${4 * H}×${H}`);
  expectLength("bias", p.bias.length, 4 * H, `4H = ${4 * H}`);
  const Wx = perGate((g, k) => matrixOf(p.W_x.subarray(k * H * I, (k + 1) * H * I), `W_x (gate ${g})`, H, I));
  const Wh = perGate((g, k) => matrixOf(p.W_h.subarray(k * H * H, (k + 1) * H * H), `W_h (gate ${g})`, H, H));
  const bias = perGate((_g, k) => column(p.bias, k * H, H));
  const sigma = spec.recurrentActivation ?? "sigmoid";
  const phi = spec.activation;
  const preActivation = (g: Gate, x_t: Matrix, h_prev: Matrix): Matrix =>
    math.add(math.add(math.multiply(Wx[g], x_t), math.multiply(Wh[g], h_prev)), bias[g]);

  const h = new Float64Array(T * B * H);
  const state = new Float64Array(B * 2 * H);
  const steps: Step[][] = [];
  for (let b = 0; b < B; b++) {
    steps.push([]);
    let h_prev = s0 ? column(s0, b * 2 * H, H) : zerosMatrix(H, 1);
    let c_prev = s0 ? column(s0, b * 2 * H + H, H) : zerosMatrix(H, 1);
    for (let t = 0; t < T; t++) {
      const x_t = column(x, (b * T + t) * I, I);
      const i_t = gateActivation(sigma, preActivation("i", x_t, h_prev));
      const f_t = gateActivation(sigma, preActivation("f", x_t, h_prev));
      const cc_t = hiddenActivation(phi, preActivation("c", x_t, h_prev));
      const o_t = gateActivation(sigma, preActivation("o", x_t, h_prev));
      const c_t = math.add(math.dotMultiply(f_t, c_prev), math.dotMultiply(i_t, cc_t));
      const phiC = hiddenActivation(phi, c_t);
      const h_t = math.dotMultiply(o_t, phiC);
      steps[b].push({ x: x_t, hPrev: h_prev, cPrev: c_prev, g: { i: i_t, f: f_t, c: cc_t, o: o_t }, phiC });
      writeColumn(h_t, h, (t * B + b) * H);
      h_prev = h_t;
      c_prev = c_t;
    }
    writeColumn(h_prev, state, b * 2 * H);
    writeColumn(c_prev, state, b * 2 * H + H);
  }
  return { B, T, h, state, cache: new LstmReferenceCache(Wx, Wh, steps) };
}

function backward(spec: Readonly<LayerSpec>, _p: Params, fwd: CellForward, _x: Float64Array, dH: Float64Array, grads: Params, options: CellBackwardOptions): Float64Array | null {
  const cache = fwd.cache;
  if (!(cache instanceof LstmReferenceCache)) {
    throw new Error("reference backend: backward needs the result of the reference backend's forward");
  }
  const { B, T } = fwd;
  const I = spec.inputSize;
  const H = spec.hiddenSize;
  const k = options.truncate;
  const dhNormSq = options.dhNormSq;
  if (!Number.isInteger(k) || k < 0) throw new Error(`reference backend: truncate must be an integer ≥ 0, got ${k}`);
  expectLength("grads.W_x", grads.W_x.length, 4 * H * I, `4H×I = ${4 * H}×${I}`);
  expectLength("grads.W_h", grads.W_h.length, 4 * H * H, `4H×H = ${4 * H}×${H}`);
  expectLength("grads.bias", grads.bias.length, 4 * H, `4H = ${4 * H}`);
  const { Wx, Wh } = cache;
  const sigma = spec.recurrentActivation ?? "sigmoid";
  const phi = spec.activation;

  const dWx = perGate(() => zerosMatrix(H, I));
  const dWh = perGate(() => zerosMatrix(H, H));
  const db = perGate(() => zerosMatrix(H, 1));
  const dx = options.needInputGrad ? new Float64Array(B * T * I) : null;

  for (let b = 0; b < B; b++) {
    let dh_next = zerosMatrix(H, 1);
    let dc_next = zerosMatrix(H, 1);
    for (let t = T - 1; t >= 0; t--) {
      const { x: x_t, hPrev, cPrev, g, phiC } = cache.steps[b][t];
      const dh = math.add(column(dH, (t * B + b) * H, H), dh_next);
      if (dhNormSq) dhNormSq[t] += math.dot(dh, dh);

      // h_t = o ⊙ φ(c_t): into o, and into c_t on top of what c_{t+1} sends back.
      const dc = math.add(dc_next, math.dotMultiply(math.dotMultiply(dh, g.o), hiddenDerivative(phi, phiC)));
      const da: PerGate<Matrix> = {
        i: math.dotMultiply(math.dotMultiply(dc, g.c), gateDerivative(sigma, g.i)),
        f: math.dotMultiply(math.dotMultiply(dc, cPrev), gateDerivative(sigma, g.f)),
        c: math.dotMultiply(math.dotMultiply(dc, g.i), hiddenDerivative(phi, g.c)),
        o: math.dotMultiply(math.dotMultiply(dh, phiC), gateDerivative(sigma, g.o)),
      };
      let dx_t = zerosMatrix(I, 1);
      let dhPrev = zerosMatrix(H, 1);
      for (const q of GATES) {
        dWx[q] = math.add(dWx[q], math.multiply(da[q], math.transpose(x_t)));
        dWh[q] = math.add(dWh[q], math.multiply(da[q], math.transpose(hPrev)));
        db[q] = math.add(db[q], da[q]);
        dx_t = math.add(dx_t, math.multiply(math.transpose(Wx[q]), da[q]));
        dhPrev = math.add(dhPrev, math.multiply(math.transpose(Wh[q]), da[q]));
      }
      if (dx) writeColumn(dx_t, dx, (b * T + t) * I);

      // Blocks of k steps are counted back from the last step; the state (h and c) entering a
      // block is treated as a constant, so at a block's first step nothing flows further back.
      const blockStart = k > 0 && (T - t) % k === 0;
      dh_next = blockStart ? zerosMatrix(H, 1) : dhPrev;
      dc_next = blockStart ? zerosMatrix(H, 1) : math.dotMultiply(dc, g.f);
    }
  }

  GATES.forEach((q, n) => {
    addInto(grads.W_x.subarray(n * H * I, (n + 1) * H * I), dWx[q]);
    addInto(grads.W_h.subarray(n * H * H, (n + 1) * H * H), dWh[q]);
    addInto(grads.bias.subarray(n * H, (n + 1) * H), db[q]);
  });
  return dx;
}

export const lstmReference: CellKernel = { forward, backward };
