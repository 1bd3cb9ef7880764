import { activateInPlace, derivativeFromOutput } from "../activations";
import type { Params } from "../cells/cell";
import type { LayerSpec } from "../types";
import { scratch, Workspace } from "../workspace";
import type { ProjectionForward, ProjectionKernel } from ".";

/** The output projection y_t = g(W_hy h_t + b_y) as Float64Array loops. */

function forward(spec: Readonly<LayerSpec>, p: Params, h: Float64Array, B: number, T: number, ws: Workspace | null): ProjectionForward {
  const { W_hy, b_y } = p;
  const H = spec.hiddenSize;
  const O = spec.outputSize as number;
  const g = spec.outputActivation ?? "linear";
  const BH = B * H;
  const y = scratch(ws, "projection.y", B * T * O, false);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const ho = t * BH + b * H;
      const yo = (b * T + t) * O;
      for (let o = 0; o < O; o++) {
        let s = b_y[o];
        const w = o * H;
        for (let j = 0; j < H; j++) s += W_hy[w + j] * h[ho + j];
        y[yo + o] = s;
      }
      activateInPlace(g, y, yo, O);
    }
  }
  return { y, cache: null };
}

function backward(spec: Readonly<LayerSpec>, p: Params, fwd: ProjectionForward, h: Float64Array, B: number, T: number, dY: Float64Array, grads: Params, dYIsLogit: boolean, ws: Workspace | null): Float64Array {
  const { W_hy } = p;
  const { y } = fwd;
  const H = spec.hiddenSize;
  const O = spec.outputSize as number;
  const g = spec.outputActivation ?? "linear";
  const BH = B * H;
  const gdW_hy = grads.W_hy, gdb_y = grads.b_y;
  const dH = scratch(ws, "projection.dH", T * BH, true);
  const dz = scratch(ws, "projection.dz", O, false);
  for (let t = T - 1; t >= 0; t--) {
    for (let b = 0; b < B; b++) {
      const yo = (b * T + t) * O;
      let any = false;
      for (let o = 0; o < O; o++) if (dY[yo + o] !== 0) { any = true; break; }
      if (!any) continue; // no loss at this step for this row (masked or last-step-only training)
      if (dYIsLogit || g === "linear") {
        for (let o = 0; o < O; o++) dz[o] = dY[yo + o];
      } else if (g === "softmax") {
        let dot = 0;
        for (let o = 0; o < O; o++) dot += dY[yo + o] * y[yo + o];
        for (let o = 0; o < O; o++) dz[o] = y[yo + o] * (dY[yo + o] - dot);
      } else {
        for (let o = 0; o < O; o++) dz[o] = dY[yo + o] * derivativeFromOutput("sigmoid", y[yo + o]);
      }
      const ho = t * BH + b * H;
      for (let o = 0; o < O; o++) {
        const dzo = dz[o];
        if (dzo === 0) continue;
        gdb_y[o] += dzo;
        const w = o * H;
        for (let j = 0; j < H; j++) {
          gdW_hy[w + j] += dzo * h[ho + j];
          dH[ho + j] += W_hy[w + j] * dzo;
        }
      }
    }
  }
  return dH;
}

export const projectionFast: ProjectionKernel = { forward, backward };

/** y = g(W_hy h + b_y) for one state, reading h[0 … H). */
export function projectOne(spec: Readonly<LayerSpec>, p: Params, h: Float64Array, y: Float64Array): void {
  const { W_hy, b_y } = p;
  const H = spec.hiddenSize;
  const O = spec.outputSize as number;
  for (let o = 0; o < O; o++) {
    let s = b_y[o];
    const w = o * H;
    for (let j = 0; j < H; j++) s += W_hy[w + j] * h[j];
    y[o] = s;
  }
  activateInPlace(spec.outputActivation ?? "linear", y, 0, O);
}
