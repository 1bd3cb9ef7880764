import { initialize, InitializerName } from "../initializers";
import { Random } from "../random";
import { BackendName, LayerSpec, OutputActivation } from "../types";
import type { KerasWeight, ParamShape, Params } from "../cells/cell";
import type { Workspace } from "../workspace";
import { projectionFast } from "./fast";
import { projectionWasm } from "./wasm";

/**
 * The output projection a layer may end with, y_t = g(W_hy h_t + b_y): the same for every cell,
 * so it lives beside the cells rather than in each. Without it a layer emits h_t and layers stack.
 */

export interface ProjectionForward {
  /** y_t for every step, B×T×O, batch-major (the layer's output). */
  readonly y: Float64Array;
  readonly cache: unknown;
}

export interface ProjectionKernel {
  /** y from the cell's h (T×B×H, time-major). */
  forward(spec: Readonly<LayerSpec>, p: Params, h: Float64Array, B: number, T: number, ws: Workspace | null): ProjectionForward;
  /**
   * From ∂L/∂y (B×T×O) to ∂L/∂h (T×B×H, time-major, a fresh array), adding the gradients of W_hy
   * and b_y into `grads`. `dYIsLogit`: dY is already the gradient of W_hy h_t + b_y.
   */
  backward(spec: Readonly<LayerSpec>, p: Params, fwd: ProjectionForward, h: Float64Array, B: number, T: number, dY: Float64Array, grads: Params, dYIsLogit: boolean, ws: Workspace | null): Float64Array;
}

export function projectionShapes(spec: Readonly<LayerSpec>): ParamShape[] {
  if (spec.outputSize === undefined) return [];
  const O = spec.outputSize;
  const H = spec.hiddenSize;
  return [
    { name: "W_hy", rows: O, cols: H, vector: false, meaning: ["outputSize", "hiddenSize"] },
    { name: "b_y", rows: O, cols: 1, vector: true, meaning: ["outputSize", ""] },
  ];
}

/** The projection is a Keras Dense layer applied at every step: its weights. */
export function projectionKerasWeights(spec: Readonly<LayerSpec>): KerasWeight[] {
  if (spec.outputSize === undefined) return [];
  return [
    { keras: "kernel", params: ["W_hy"], layout: "transpose", isBias: false },
    { keras: "bias", params: ["b_y"], layout: "rows", isBias: true },
  ];
}

export function projectionInit(spec: Readonly<LayerSpec>, rng: Random, input: InitializerName = "glorotUniform"): Params {
  if (spec.outputSize === undefined) return {};
  return { W_hy: initialize(input, spec.outputSize, spec.hiddenSize, rng), b_y: new Float64Array(spec.outputSize) };
}

export function outputActivationOf(spec: Readonly<LayerSpec>): OutputActivation {
  return spec.outputActivation ?? "linear";
}

export function projectionKernel(backend: BackendName): ProjectionKernel {
  if (backend === "fast") return projectionFast;
  if (backend === "wasm") return projectionWasm;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return (require("./reference") as typeof import("./reference")).projectionReference;
}

/** The projection of one state h (length H) into y (length O), for the forecaster. */
export { projectOne } from "./fast";
