import { LayerSpec } from "../types";
import { EpochInfo, FitOptions, FitResult } from "../model";

/**
 * What the main thread and the training workers say to each other, and the layout of the memory
 * they share. One worker, the leader, runs the training loop and owns the optimizer; the others,
 * helpers, only compute gradients of their share of each minibatch. Leader and helpers meet on
 * a small Int32Array through Atomics rather than postMessage: a step is about a millisecond of
 * arithmetic, and a message round trip through two event loops would cost a visible part of it.
 */

/** Slots of the control array (Int32Array over a SharedArrayBuffer). */
export const CTRL = {
  /** Task counter: the leader bumps it to publish a task, helpers wait for it to move. */
  SEQ: 0,
  /** What the published task is: one of TASK. */
  TASK: 1,
  /** First position in the row order of the minibatch, and its number of rows. */
  START: 2,
  COUNT: 3,
  /** Set by whoever fails, so that nobody waits for a thread that will never answer. */
  ERROR: 4,
  /** Set by the main thread (`stop()`, or `onEpoch` returning false): end after this step. */
  STOP: 5,
  /** The last epoch the main thread has handled, when the leader waits for it (onEpoch). */
  ACK: 6,
  /** From here on, one slot per part: the last task that part finished, or LEFT. */
  DONE: 8,
} as const;

/** A part's DONE value once it has left the fit because it or another thread failed. */
export const LEFT = -1;

/** The task counter after `seq`; kept non-negative, so it can never be taken for LEFT. */
export function nextSeq(seq: number): number {
  return (seq + 1) & 0x3fffffff;
}

export const TASK = {
  /** Gradients of the part's rows of the training minibatch. */
  TRAIN: 1,
  /** Loss only, over the part's rows of the validation set (START/COUNT cover all of it). */
  EVALUATE: 2,
  /** The fit is over: helpers go back to their event loop. */
  END: 3,
} as const;

/** Length of the control array for `parts` parts. */
export function controlLength(parts: number): number {
  return CTRL.DONE + parts;
}

/**
 * Rows [lo, hi) of a minibatch of `count` rows that part `k` of `parts` computes. Parts differ by
 * one row at most; a part may be empty when the minibatch has fewer rows than there are parts.
 */
export function partRange(count: number, parts: number, k: number): [number, number] {
  return [Math.floor((k * count) / parts), Math.floor(((k + 1) * count) / parts)];
}

/**
 * Per-part results, in a Float64Array over a SharedArrayBuffer, `slotLength` numbers per part:
 * the gradient sums (every parameter, in `Model.parameters()` order), then the loss sum and the
 * target count, then Σ‖∂L/∂h_t‖² per layer and step. Sums rather than means, so that the leader
 * gets the mean over the whole minibatch by adding the parts and dividing once by the total count,
 * which is what a single thread computes.
 */
export function slotLength(paramCount: number, layers: number, T: number): number {
  return paramCount + 2 + layers * T;
}

/** A packed dataset in shared memory: x is B×T×I, target B×T×O with NaN meaning no loss. */
export interface SharedDataset {
  x: SharedArrayBuffer;
  target: SharedArrayBuffer;
  B: number;
  T: number;
}

/** Given once to each worker at start. */
export interface WorkerInit {
  role: "leader" | "helper";
  /** This worker's part of every minibatch (the leader is part 0). */
  part: number;
  parts: number;
  inputSize: number;
  specs: LayerSpec[];
  /** Every parameter, in `Model.parameters()` order; the leader writes it, helpers read it. */
  weights: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

/** The options of `Model.fit` that can cross a thread boundary (no callback, no data). */
export type WorkerFitOptions = Omit<FitOptions, "onEpoch" | "validation">;

export interface FitCommand {
  type: "fit";
  /** Number of this fit on its trainer; every report about it carries it. */
  fit: number;
  /** Value of CTRL.SEQ when the fit starts: helpers wait for it to move past this. */
  seqBase: number;
  train: SharedDataset;
  validation: SharedDataset | null;
  /** Int32Array over it: the row order of the current epoch, written by the leader. */
  order: SharedArrayBuffer;
  /** Float64Array over it: the per-part results (see `slotLength`). */
  slots: SharedArrayBuffer;
  options: WorkerFitOptions;
  /** Whether the leader waits for the main thread after each epoch (it has an onEpoch). */
  waitForEpochAck: boolean;
}

export type MainToWorker = FitCommand;

export type WorkerToMain =
  | { type: "ready" }
  | { type: "epoch"; fit: number; info: EpochInfo }
  | { type: "done"; fit: number; result: FitResult }
  | {
      type: "error";
      fit: number;
      message: string;
      stack?: string;
      /** True when the worker only failed because another one did (that one reports the cause). */
      secondary: boolean;
    };
