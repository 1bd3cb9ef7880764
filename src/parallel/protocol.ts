import type { WeightDraw } from "../layer";
import { LayerSpec } from "../types";
import type { EpochInfo, FitOptions, FitResult } from "../trainingLoop";

/**
 * What the main thread and the training workers say to each other, and the layout of the memory
 * they share. One worker, the leader, runs the training loop and owns the optimizer; the others,
 * helpers, only compute gradients. Leader and helpers meet on a small Int32Array through Atomics
 * rather than postMessage: a step is about a millisecond of arithmetic, and a message round trip
 * through two event loops would cost a visible part of it.
 *
 * A minibatch is cut into a few chunks of rows that the threads claim one at a time from a shared
 * counter, rather than into one fixed share per thread. On a machine whose cores are also busy
 * with other work, a thread that is not scheduled simply claims fewer chunks; with fixed shares,
 * every step would wait for it.
 */

/** Slots of the control array (Int32Array over a SharedArrayBuffer). */
export const CTRL = {
  /** Task counter: the leader bumps it to publish a task, helpers wait for it to move. */
  SEQ: 0,
  /** What the published task is: one of TASK. */
  TASK: 1,
  /** First position in the row order of the minibatch, its number of rows, rows per chunk. */
  START: 2,
  COUNT: 3,
  CHUNK: 4,
  /** The next chunk to claim, tagged with the task (see `claimWord`); the number of chunks finished. */
  NEXT: 5,
  COMPLETED: 6,
  /** Set by whoever fails, so that nobody waits for a thread that will never answer. */
  ERROR: 7,
  /** Set by the main thread (`stop()`, or `onEpoch` returning false): end after this step. */
  STOP: 8,
  /** The number of epochs the main thread has handled, when the leader waits for it (onEpoch). */
  ACK: 9,
  /** From here on, one slot per part: IN_FIT, then ENDED or LEFT. */
  DONE: 10,
} as const;

/** A helper's DONE value: in the fit (set by the main thread before the fit starts)… */
export const IN_FIT = 0;
/** …out of it at the leader's end signal… */
export const ENDED = 1;
/** …or out of it because it or another thread failed. */
export const LEFT = 2;

/** The task counter after `seq` (it wraps, which is harmless: only changes are watched). */
export function nextSeq(seq: number): number {
  return (seq + 1) | 0;
}

export const TASK = {
  /** Gradients of the training minibatch, chunk by chunk. */
  TRAIN: 1,
  /** Loss and error sums of validation rows [START, START+COUNT), chunk by chunk. */
  EVALUATE: 2,
  /** The fit is over: helpers go back to their event loop. */
  END: 3,
} as const;

/** Length of the control array for `parts` parts. */
export function controlLength(parts: number): number {
  return CTRL.DONE + parts;
}

/**
 * Rows per chunk for a minibatch of `count` rows shared by `parts` threads: about two chunks per
 * thread, so that a thread that falls behind leaves work to the others; a multiple of four rows,
 * because the fast kernel processes rows four at a time. One thread takes the minibatch whole.
 */
export function chunkRows(count: number, parts: number): number {
  if (parts <= 1) return Math.max(1, count);
  return Math.max(4, Math.ceil(count / (2 * parts) / 4) * 4);
}

/**
 * The value of CTRL.NEXT when task `seq` is published: the task's tag in the high bits, the next
 * chunk (0) in the low 8 (a task has at most 2 chunks per thread, 128 for 64 threads). The leader
 * sets NEXT to LOCKED before it changes the task's parameters and to this word after; claiming is
 * a compare-and-swap from the word read before the parameters. A swap that succeeds therefore
 * proves that the parameters did not change in between, and no thread can ever compute a chunk of
 * one task with the parameters of another.
 */
export function claimWord(seq: number): number {
  return (seq & 0x7fffff) << 8;
}

export const CHUNK_BITS = 0xff;
export const LOCKED = -1;

/** Rows [lo, hi) of chunk `c` of a minibatch of `count` rows cut into chunks of `chunk` rows. */
export function chunkRange(count: number, chunk: number, c: number): [number, number] {
  return [c * chunk, Math.min(count, (c + 1) * chunk)];
}

/**
 * Results, in a Float64Array over a SharedArrayBuffer: one slot of `slotLength` numbers per chunk
 * of the task (at most `slotCount(parts)`), written only by the thread that claimed the chunk:
 * the gradient sums (every parameter, in `Model.parameters()` order), then the numbers at SLOT
 * (counted from the end of the gradients), then Σ‖∂L/∂h_t‖² per layer and step. Sums rather than
 * means, so that the leader gets the mean over the whole minibatch by adding the slots and
 * dividing once by the total count, which is what a single thread computes. One slot per chunk
 * rather than per thread, and added in chunk order: the result does not depend on which thread
 * took which chunk, so a parallel fit is the same, bit for bit, every time it runs. A lone
 * worker takes each minibatch whole, and keeps its training means as they are (the count still
 * goes in).
 */
export const SLOT = {
  /** Training: Σ loss·count and the count. Validation: the same sums (see ValidationSums). */
  LOSS: 0,
  COUNT: 1,
  /** Validation with real units: the MetricSums (Σe², Σ|e|, Σ|e|/|t|, their counts). */
  SQUARED: 2,
  ABSOLUTE: 3,
  RELATIVE: 4,
  METRIC_COUNT: 5,
  RELATIVE_COUNT: 6,
  /** Training with gradientReport: Σ‖∂L/∂h_t‖², layer by layer, T steps each. */
  DH: 7,
} as const;

export function slotLength(paramCount: number, layers: number, T: number): number {
  return paramCount + SLOT.DH + layers * T;
}

/** The most chunks a task is cut into for `parts` threads (see `chunkRows`): the number of slots. */
export function slotCount(parts: number): number {
  return parts <= 1 ? 1 : 2 * parts;
}

/** A packed dataset (see PackedData) in shared memory: x is B×T×I, target B×T×O with NaN meaning no loss. */
export interface SharedDataset {
  x: SharedArrayBuffer;
  target: SharedArrayBuffer;
  B: number;
  T: number;
}

/** Given once to each worker at start. */
export interface WorkerInit {
  role: "leader" | "helper";
  /** This worker's number, which is also its results slot (the leader is 0). */
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
  /** Value of CTRL.SEQ when the fit starts: helpers wait for it to move from this. */
  seqBase: number;
  train: SharedDataset;
  validation: SharedDataset | null;
  /** Int32Array over it: the row order of the current epoch, written by the leader. */
  order: SharedArrayBuffer;
  /** Float64Array over it: the per-chunk results (see `slotLength`). */
  slots: SharedArrayBuffer;
  options: WorkerFitOptions;
  /** Whether the leader waits for the main thread after each epoch (it has an onEpoch). */
  waitForEpochAck: boolean;
  /** Layers whose weights the leader draws into the shared weights before the first minibatch. */
  draws: readonly WeightDraw[];
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
