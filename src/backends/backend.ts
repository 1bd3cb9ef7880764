import type { Params } from "../cells/cell";
import type { RnnLayer } from "../layer";
import type { Workspace } from "../workspace";
import { BackendName } from "../types";

/**
 * The interface every backend implements for one layer. Tensors are flat Float64Arrays in
 * batch-major order: element (b, t, f) of a B×T×F tensor is at index (b*T + t)*F + f, the same
 * order as the nested arrays B×T×F flattened.
 */
export interface ForwardResult {
  readonly B: number;
  readonly T: number;
  /** The layer's input (kept by reference: the caller must not change it before backward). */
  readonly x: Float64Array;
  /** What the layer emits at every step: y_t (B×T×O) with a projection, otherwise h_t (B×T×H). */
  readonly y: Float64Array;
  /** The cell's state after the last step, B×S (S = layer.stateSize): what a stateful layer carries on. */
  readonly state: Float64Array;
  /** Backend-private record of the activations needed by backward. */
  readonly cache: unknown;
}

export interface BackwardOptions {
  /**
   * Truncated BPTT: a gradient arriving at h_t flows back at most `truncate` steps. The sequence
   * is cut into blocks of `truncate` steps counted back from the last step; no gradient crosses a
   * block boundary (the state entering a block is treated as a constant). 0 or undefined: full BPTT.
   */
  truncate?: number;
  /** When given (length T), Σ over the batch of ‖∂L/∂h_t‖² is added at index t. */
  dhNormSq?: Float64Array;
  /** Whether to return ∂L/∂x (needed by every layer but the first). Default true. */
  needInputGrad?: boolean;
  /**
   * True when dY is already the gradient with respect to the output pre-activation
   * (W_hy h_t + b_y): the fused softmax/sigmoid + cross-entropy gradient.
   */
  dYIsLogit?: boolean;
}

export interface LayerBackend {
  readonly name: BackendName;
  /**
   * Runs the layer over x (B×T×I). s0 (B×S) is the initial state; absent means zeros. With a
   * workspace (src/workspace.ts) the result's arrays may be its reused buffers, valid until the
   * next forward with the same workspace; without one they are the caller's to keep.
   */
  forward(layer: RnnLayer, x: Float64Array, B: number, T: number, s0?: Float64Array | null, ws?: Workspace | null): ForwardResult;
  /**
   * Backpropagation through time. dY is ∂L/∂(what the layer emitted), same shape as `fwd.y`.
   * Gradients are ADDED into `grads` (so callers zero them first). Returns ∂L/∂x (B×T×I), or
   * null when `needInputGrad` is false.
   *
   * The rule for the weights: they must not change between `forward` and this `backward` (the
   * gradient is that of the forward pass only with the same weights). Backends may read them from
   * the layer again (the fast one does) or from what forward kept (the reference one does), so a
   * caller that broke the rule would get different wrong answers from each. The training loop
   * (src/trainingLoop.ts, src/localWork.ts) runs forward, loss and backward of a minibatch before
   * the step that changes the weights, and nothing else changes them meanwhile.
   */
  backward(layer: RnnLayer, fwd: ForwardResult, dY: Float64Array, grads: Params, options?: BackwardOptions): Float64Array | null;
}
