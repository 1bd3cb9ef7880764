import type { LayerInit } from "../layer";
import type { Random } from "../random";
import type { Workspace } from "../workspace";
import type { BackendName, CellName, HiddenActivation, LayerSpec } from "../types";

/**
 * The recurrent part of a layer — one step s_t = cell(x_t, s_{t-1}) run over time — as a small
 * interface, so that a new kind of cell (LSTM, GRU, …) is one new implementation and nothing else.
 *
 * A cell owns the names, shapes and initialisation of its parameters, the shape of the state it
 * carries from step to step, its kernels for each backend and its one-sequence step for the
 * forecaster. Everything around it (the output projection, the model, the training loop, the
 * optimizers, the model file's frame, the worker's shared weights) handles parameters only as an
 * ordered list of named arrays and states only as flat B×S arrays.
 */

/** Parameters by name (the cell's names, and the projection's), row-major, rows are output units. */
export type Params = Record<string, Float64Array>;

/** One parameter's shape. A vector is stored as a flat array in the model file, a matrix as rows. */
export interface ParamShape {
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  readonly vector: boolean;
  /** What the rows and the columns count, for messages ("hiddenSize", …; "input" = what the layer receives). */
  readonly meaning: readonly [string, string];
}

/**
 * What a cell's forward pass leaves: the hidden output h_t of every step and the state after
 * the last one. `h` is time-major, h[(t·B + b)·H + j], because one time step of the batch is then
 * one contiguous block for the projection and for the next step.
 */
export interface CellForward {
  readonly B: number;
  readonly T: number;
  /** h_1 … h_T, T×B×H, time-major. */
  readonly h: Float64Array;
  /** The state after step T, B×S (S = stateSize): what a stateful layer carries on. */
  readonly state: Float64Array;
  /** Kernel-private record of what backward needs. */
  readonly cache: unknown;
}

export interface CellBackwardOptions {
  /** Truncated BPTT block length (0 = full); see BackwardOptions in src/backends/backend.ts. */
  readonly truncate: number;
  /** When given (length T), Σ over the batch of ‖∂L/∂h_t‖² is added at index t. */
  readonly dhNormSq?: Float64Array;
  readonly needInputGrad: boolean;
}

export interface CellKernel {
  /**
   * Runs the cell over x (B×T×I, batch-major); s0 (B×S) is the state before step 1, null for zeros.
   * With a workspace, the result's arrays may be its buffers (valid until the next forward with it).
   */
  forward(spec: Readonly<LayerSpec>, p: Params, x: Float64Array, B: number, T: number, s0: Float64Array | null, ws: Workspace | null): CellForward;
  /**
   * BPTT through the cell. dH is ∂L/∂h_t from above (T×B×H, time-major; the kernel may overwrite
   * it). Gradients are ADDED into `grads`. Returns ∂L/∂x (B×T×I) or null when not needed.
   */
  backward(spec: Readonly<LayerSpec>, p: Params, fwd: CellForward, x: Float64Array, dH: Float64Array, grads: Params, options: CellBackwardOptions, ws: Workspace | null): Float64Array | null;
}

/**
 * A whole window of one sequence through one layer, from a zero state: the forecaster's path on a
 * backend where that is faster than stepping (one call into WebAssembly instead of one per step).
 */
export interface WindowRunner {
  /**
   * Runs T steps on x (T × the layer's input size) and writes h_1 … h_T into hs (T×H, at least).
   * False when it cannot this time (its memory was refused): the caller steps instead.
   */
  run(p: Params, x: ArrayLike<number>, T: number, hs: Float64Array): boolean;
}

/** Reads and checks the cell's own fields of a model-file layer (what the frame does not know). */
export interface CellFieldReader {
  /** A required string field, one of `allowed`. */
  oneOf<T extends string>(key: string, allowed: readonly T[]): T;
  /** An optional boolean field (undefined when absent). */
  flag(key: string): boolean | undefined;
}

/**
 * One weight of the Keras / TensorFlow.js layer (SimpleRNN, LSTM, GRU, Dense) and which of our
 * parameters it is made of, for the TensorFlow.js format (src/tfjs).
 */
export interface KerasWeight {
  /** The Keras weight's name, the last segment of its name in a weights manifest. */
  readonly keras: string;
  readonly params: readonly string[];
  /**
   * "transpose": Keras's matrix (inputs × units) is our one parameter (units × inputs) transposed.
   * "rows": Keras's rows are our vectors in the order listed (one vector: a Keras vector).
   */
  readonly layout: "transpose" | "rows";
  /** A bias, absent from a Keras layer with use_bias false (it computes as zeros). */
  readonly isBias: boolean;
}

export interface Cell {
  /** The name users choose (the layer's `cell` setting). */
  readonly name: CellName;
  /** The layer's `type` in the model file. */
  readonly fileType: string;
  /** Hidden activations this cell accepts. */
  readonly activations: readonly HiddenActivation[];
  /** Model-file keys of the layer besides the frame's (type, hiddenSize, outputSize, outputActivation, weights). */
  readonly fileKeys: readonly string[];
  /**
   * Settings that change what the cell computes besides its activation (GRU: the reset gate after
   * the recurrent product), one partial spec per form; the Cell contract is checked in each of
   * them as well as in the default form. Absent when the cell has one form.
   */
  readonly variants?: readonly Partial<LayerSpec>[];
  /** Parameters in a fixed order: the order of optimizers, gradients, shared weights and the file. */
  shapes(spec: Readonly<LayerSpec>): ParamShape[];
  /** Numbers of state per sequence (H for a cell that carries h only). Its first H entries are h. */
  stateSize(spec: Readonly<LayerSpec>): number;
  /** Fresh parameters, drawing from rng in a fixed order (a seed always gives the same weights). */
  init(spec: Readonly<LayerSpec>, rng: Random, options: LayerInit): Params;
  /**
   * Every cell has a "fast" and a "reference" kernel; the backends it has beyond those are listed
   * here (Elman: "wasm"). For a backend not listed, src/backends/compose.ts runs the fast kernel.
   */
  readonly extraKernels?: readonly BackendName[];
  kernel(backend: BackendName): CellKernel;
  /** A runner of whole windows on `backend`, when the cell has one there (Elman: "wasm"); absent or null: none. */
  windowRunner?(spec: Readonly<LayerSpec>, backend: BackendName): WindowRunner | null;
  /** Scratch the one-sequence step needs (allocated once by the forecaster). */
  stepScratch(spec: Readonly<LayerSpec>): number;
  /**
   * One step for one sequence, the forecaster's hot path: reads x[xOffset …] and the state s,
   * writes the next state into sNext (whose first H entries are h_t). Allocates nothing.
   */
  step(spec: Readonly<LayerSpec>, p: Params, x: ArrayLike<number>, xOffset: number, s: Float64Array, sNext: Float64Array, scratch: Float64Array): void;
  /** The Keras layer's weights, in the order Keras keeps them, as our parameters. */
  kerasWeights(spec: Readonly<LayerSpec>): KerasWeight[];
  /** The cell's own fields of a model-file layer, read from the file … */
  readFields(read: CellFieldReader): Partial<LayerSpec>;
  /** … and written to it. */
  writeFields(spec: Readonly<LayerSpec>): Record<string, unknown>;
}
