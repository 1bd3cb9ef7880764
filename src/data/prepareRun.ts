/**
 * Everything a training run needs from a raw series, in the form a training worker takes: the
 * prepared series (`prepareSeries`) with its windows packed into flat arrays (`packWindows`).
 *
 * `prepareRun` does it on the calling thread; `prepareRunOffThread` does the same in a worker
 * thread that lives for one call, so that Node-RED's thread is not held while a series is read,
 * its season found and its windows packed. What is left on the calling thread is moving the data
 * across, and that is done in slices of about `SLICE_MS` each (src/offThread.ts, the plumbing this
 * shares with the interval calibration), with a turn of the event loop between them: one
 * structured clone of 10,000 CSV-like rows alone holds the thread 5–10 ms.
 */
import * as path from "path";
import { describeError, ErrorMessage, inSlices, nextTurn, OneShotAnswer, oneShotHooks, rebuildError, startOneShot } from "../offThread";
import type { PackedData } from "../packedData";
import { ScalerJSON, TransformJSON, WindowJSON } from "../types";
import { Baselines } from "./baselines";
import { FlatHistory, flatHistoryBuffers, flattenHistory, unflattenHistoryInSlices } from "./flatHistory";
import { packWindows } from "./pack";
import { prepareSeries, PrepareOptions, SeriesHistory, SeriesReport } from "./prepare";
import { checkRowCount } from "./rows";
import { RowSplit, TooFewRowsError } from "./split";

export interface PreparedRun {
  columns: string[];
  window: WindowJSON;
  transform: TransformJSON;
  /** Fitted on the training rows only; plain JSON so that it crosses threads as it is. */
  scaler: ScalerJSON;
  split: RowSplit;
  report: SeriesReport;
  baselines: Baselines | null;
  history: SeriesHistory;
  /** I = features + 2 × calendar features (a sin/cos pair each). */
  inputSize: number;
  /** O = targets × (direct ? horizon : 1). */
  outputSize: number;
  /** B×T×I inputs and B×T×O targets, NaN where a step or an entry has no target. */
  train: PackedData;
  /** The same; B = 0 when there is no validation part. */
  validation: PackedData;
}

/**
 * Most values (inputs and targets of every window) a run may pack: 20 M doubles are 160 MB. The
 * windows overlap, so the packed arrays are about T × (I + O) times the size of the series, and a
 * run holds them more than once: the worker builds them, the training threads get a shared copy.
 * Beyond this a long window on a large buffer would take the memory of a small Node-RED device.
 */
export const MAX_PACKED_VALUES = 20_000_000;

/** prepareSeries + packing, on the calling thread. */
export function prepareRun(series: unknown, options: PrepareOptions): PreparedRun {
  const data = prepareSeries(series, options);
  const { window, transform } = data;
  const inputSize = window.features.length + 2 * transform.calendar.length;
  const outputSize = window.targets.length * (window.direct ? window.horizon : 1);
  const windows = data.train.count + data.validation.count;
  const T = window.length;
  const values = windows * T * (inputSize + outputSize);
  if (values > MAX_PACKED_VALUES) {
    throw new Error(
      `${windows} windows × ${T} steps × (${inputSize} inputs + ${outputSize} outputs) = ${values} values to pack, at most ${MAX_PACKED_VALUES} ` +
        `(${(MAX_PACKED_VALUES * 8) / 1e6} MB): use a shorter window length, a smaller buffer size (fewer rows) or fewer features` +
        (window.direct ? ", or a shorter direct horizon" : ""),
    );
  }
  return {
    columns: data.columns,
    window,
    transform,
    scaler: data.scaler.toJSON(),
    split: data.split,
    report: data.report,
    baselines: data.baselines,
    history: data.history,
    inputSize,
    outputSize,
    train: packWindows(data.train, inputSize, outputSize),
    validation: packWindows(data.validation, inputSize, outputSize),
  };
}

// ---------------------------------------------------------------------------------------------
// What crosses between the calling thread and the worker (prepareWorker.ts).

/** Calling thread → worker: the series comes in slices, then "run" says go. */
export type ToPrepareWorker =
  | { type: "rows"; rows: unknown[] }
  | { type: "times"; times: Float64Array }
  /** `series` is there only when it is not an array (it is then sent whole, for prepareSeries to refuse). */
  | { type: "run"; options: PrepareOptions; sliced: { rows: boolean; times: boolean }; series?: unknown };

/** A PreparedRun with its history flat (src/data/flatHistory.ts), rebuilt here in slices. */
export interface PreparedRunMessage extends Omit<PreparedRun, "history"> {
  history: FlatHistory;
}

export interface PrepareErrorMessage extends ErrorMessage {
  /** TooFewRowsError's row count. */
  needed?: number;
}

/** Worker → calling thread. */
export type FromPrepareWorker = OneShotAnswer<PreparedRunMessage, PrepareErrorMessage>;

/** The run with its history flattened, and the buffers to transfer with it. */
export function toMessage(run: PreparedRun): { value: PreparedRunMessage; transfer: ArrayBuffer[] } {
  const history = flattenHistory(run.history, run.window.features.length);
  const buffers = [run.train.x, run.train.target, run.validation.x, run.validation.target].map((a) => a.buffer).concat(flatHistoryBuffers(history));
  // A buffer may be listed once only; an empty typed array may share one.
  const transfer = Array.from(new Set(buffers.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer)));
  return { value: { ...run, history }, transfer };
}

/** The worker's error as the same kind of error here: `instanceof TooFewRowsError` is what callers test. */
export function describePrepareError(e: unknown): PrepareErrorMessage {
  const out: PrepareErrorMessage = describeError(e);
  if (e instanceof TooFewRowsError) out.needed = e.needed;
  return out;
}

export function rebuildPrepareError(d: PrepareErrorMessage): Error {
  if (d.name !== "TooFewRowsError" || typeof d.needed !== "number") return rebuildError(d);
  const e = new TooFewRowsError(d.message, d.needed);
  // The worker's stack says where the series was found too short.
  if (d.stack) e.stack = d.stack;
  return e;
}

// ---------------------------------------------------------------------------------------------
// The calling thread's side.

/** How `prepareRunOffThread` starts its worker (test hook: see OneShotHooks). */
export const prepareWorkerHooks = oneShotHooks(path.join(__dirname, "prepareWorker.js"));

/** Times the way prepareSeries reads them (`if (opts.times)`, then `Array.from(times, Number)`), when they can be sliced. */
function sliceableTimes(times: unknown): times is ArrayLike<unknown> {
  return !!times && typeof (times as ArrayLike<unknown>).length === "number";
}

/**
 * The same as `prepareRun`, in a short-lived worker thread; resolves with an identical PreparedRun
 * (the packed arrays transferred, not copied) or rejects with the same kind of error and message.
 * Runs `prepareRun` here instead, still asynchronously, when no worker can be started or the
 * series cannot be cloned for one. Changing the series after the call does not reach the run.
 */
export async function prepareRunOffThread(series: unknown, options: PrepareOptions): Promise<PreparedRun> {
  // Too long a series is refused here, before its rows are copied and moved across for nothing.
  if (Array.isArray(series)) checkRowCount(series.length);
  // Copies of the arrays, not of the rows: the caller's buffer may grow while slices are sent.
  const rows = Array.isArray(series) ? series.slice() : null;
  // `?.`: options that are not an object are for prepareSeries to refuse, in its own words.
  const times = sliceableTimes(options?.times) ? Array.prototype.slice.call(options.times) : null;
  const here = () => prepareRun(rows ?? series, times ? { ...options, times: times as ArrayLike<number> } : options);

  // Starting the worker (~0.5 ms, several for the process's first) gets a turn of its own, apart
  // from the handler of the message that asked for the run.
  await nextTurn();
  const worker = startOneShot<PreparedRunMessage, PrepareErrorMessage>(prepareWorkerHooks, "the data preparation worker", rebuildPrepareError);
  if (!worker) {
    await nextTurn();
    return here();
  }
  const post = (m: ToPrepareWorker, transfer?: ArrayBuffer[]) => worker.post(m, transfer);
  const alive = () => !worker.settled;
  try {
    if (rows) await inSlices(rows.length, (from, to) => post({ type: "rows", rows: rows.slice(from, to) }), alive);
    if (times) {
      // Made numbers here with Number(), as prepareSeries makes them: a Date, or anything with a
      // valueOf, would not survive a structured clone as the same number.
      await inSlices(times.length, (from, to) => {
        const part = Float64Array.from(times.slice(from, to), Number);
        post({ type: "times", times: part }, [part.buffer]);
      }, alive);
    }
    const rest: PrepareOptions = times ? { ...options, times: null } : options;
    post({ type: "run", options: rest, sliced: { rows: rows !== null, times: times !== null }, ...(rows ? {} : { series }) });
  } catch {
    // Only a structured clone throws here, on something it refuses (a function, a symbol):
    // prepareRun here gives exactly the answer, or the error, that the worker would have given.
    await worker.stop();
    return here();
  }
  // Null only after stop(), which nothing but the refused clone above calls.
  const m = (await worker.answer)!;
  return { ...m, history: await unflattenHistoryInSlices(m.history) };
}
