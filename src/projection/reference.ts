import type { Matrix } from "mathjs";
import { addInto, column, expectLength, matrixOf, outputActivation, outputBackward, writeColumn } from "../backends/referenceMath";
import type { Params } from "../cells/cell";
import { math, zerosMatrix } from "../math";
import type { LayerSpec } from "../types";
import type { ProjectionForward, ProjectionKernel } from ".";

/**
 * The output projection with mathjs, one row and one step at a time:
 *
 *   y_t = g(W_hy·h_t + b_y)      ∂L/∂h_t = W_hyᵀ·dz_t,  dz_t = g'ᵀ ∂L/∂y_t
 */

class ProjectionReferenceCache {
  constructor(
    /** The weights forward used, so backward differentiates the same function. */
    readonly W_hy: Matrix,
    /** ys[b][t] = y_t. */
    readonly ys: Matrix[][],
  ) {}
}

function forward(spec: Readonly<LayerSpec>, p: Params, h: Float64Array, B: number, T: number, _ws: unknown): ProjectionForward {
  const H = spec.hiddenSize;
  const O = spec.outputSize as number;
  const W_hy = matrixOf(p.W_hy, "W_hy", O, H);
  expectLength("b_y", p.b_y.length, O, `O = ${O}`);
  const b_y = column(p.b_y, 0, O);
  const g = spec.outputActivation ?? "linear";
  const y = new Float64Array(B * T * O);
  const ys: Matrix[][] = [];
  for (let b = 0; b < B; b++) {
    ys.push([]);
    for (let t = 0; t < T; t++) {
      const h_t = column(h, (t * B + b) * H, H);
      const y_t = outputActivation(g, math.add(math.multiply(W_hy, h_t), b_y));
      ys[b].push(y_t);
      writeColumn(y_t, y, (b * T + t) * O);
    }
  }
  return { y, cache: new ProjectionReferenceCache(W_hy, ys) };
}

function backward(spec: Readonly<LayerSpec>, _p: Params, fwd: ProjectionForward, h: Float64Array, B: number, T: number, dY: Float64Array, grads: Params, dYIsLogit: boolean, _ws: unknown): Float64Array {
  const cache = fwd.cache as ProjectionReferenceCache;
  const H = spec.hiddenSize;
  const O = spec.outputSize as number;
  expectLength("grads.W_hy", grads.W_hy?.length ?? 0, O * H, `O×H = ${O}×${H}`);
  expectLength("grads.b_y", grads.b_y?.length ?? 0, O, `O = ${O}`);
  const g = spec.outputActivation ?? "linear";
  let dW_hy = zerosMatrix(O, H);
  let db_y = zerosMatrix(O, 1);
  const dH = new Float64Array(T * B * H);
  for (let b = 0; b < B; b++) {
    for (let t = T - 1; t >= 0; t--) {
      const h_t = column(h, (t * B + b) * H, H);
      const dy = column(dY, (b * T + t) * O, O);
      const dz = dYIsLogit ? dy : outputBackward(g, cache.ys[b][t], dy);
      dW_hy = math.add(dW_hy, math.multiply(dz, math.transpose(h_t)));
      db_y = math.add(db_y, dz);
      writeColumn(math.multiply(math.transpose(cache.W_hy), dz), dH, (t * B + b) * H);
    }
  }
  addInto(grads.W_hy, dW_hy);
  addInto(grads.b_y, db_y);
  return dH;
}

export const projectionReference: ProjectionKernel = { forward, backward };
