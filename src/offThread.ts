/**
 * One-shot worker threads: started for one request, they answer once and end. Data preparation
 * (`prepareRunOffThread`) and interval calibration (`calibrateOffThread`) use them so that
 * Node-RED's thread is not held while the work runs; this file is the plumbing both share.
 *
 * Calling side: `startOneShot` starts the worker from its compiled file, or says it cannot, for the
 * caller to do the work on its own thread instead. Its `answer` settles once, from whichever comes
 * first: the worker's answer, its failure, its exit, or `stop()`. From then on the thread is
 * terminated and does not hold the process. `inSlices` moves data across in slices, so that no
 * step holds the calling thread long.
 *
 * Worker side: `oneShotPort` at the start (it also lowers the thread's priority), `answerOnce`
 * at the end. A failure is answered as a message, so that the calling thread can rebuild the same
 * kind of error; an uncaught exception would reach it only as a bare "error" event.
 */
import * as fs from "fs";
import { performance } from "perf_hooks";
import { MessagePort, parentPort, Worker } from "worker_threads";
import { lowerThisThreadsPriority } from "./threadPriority";
import { WORKER_LIMITS } from "./workerLimits";

/** Longest the calling thread is held in one go by moving data to or from a worker. */
export const SLICE_MS = 1;

export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Calls `work(from, to)` over [0, count) in slices sized to take about SLICE_MS each, with a turn
 * of the event loop between them. The cost of an item is not known in advance (a number, or an
 * object of 50 fields), so the slices are sized from the times the earlier ones took: from the
 * slowest time per item seen, not the last. On code not yet optimised the cost per item can rise
 * again several-fold while V8 switches tiers (seen copying a history: 0.05 µs a row in one slice,
 * 0.45 and 0.54 in the next two, sized from the fast one to 1.5 and 1.2 ms), so one fast slice
 * says little about the next. The first slice is small (16 items), because an item can be
 * large: a row of a series may itself be an array of a thousand readings, and 256 such rows took
 * half a second to clone.
 */
export async function inSlices(count: number, work: (from: number, to: number) => void, alive: () => boolean = () => true): Promise<void> {
  let size = 16;
  let slowest = 0;
  for (let from = 0; from < count && alive(); ) {
    const to = Math.min(count, from + size);
    const t0 = performance.now();
    work(from, to);
    slowest = Math.max(slowest, (performance.now() - t0) / (to - from));
    // At most 4× larger each time: a slice timed at 0 (below the timer's resolution) must not size
    // the next at all of it. At least one item, however slow.
    size = Math.max(1, Math.min(size * 4, slowest > 0 ? Math.floor(SLICE_MS / slowest) : size * 4));
    from = to;
    if (from < count) await nextTurn();
  }
}

/**
 * Calls `work(from, to)` over [0, count), `chunk` items at a time, for up to `sliceMs` at a time
 * with a turn of the event loop between slices. Unlike inSlices, the clock is read after every
 * chunk rather than the slice sized in advance: for work of a known, even cost per chunk (a block
 * of a forward pass, a run of steps to pack), a chunk that was slow because the thread was
 * preempted or collecting garbage then shortens one slice, instead of shrinking every later one.
 * A slice runs over `sliceMs` by at most one chunk. Stops early, between chunks, once `alive`
 * says no.
 */
export async function inTimedSlices(count: number, chunk: number, work: (from: number, to: number) => void, sliceMs: number, alive: () => boolean = () => true): Promise<void> {
  let from = 0;
  while (from < count && alive()) {
    const t0 = performance.now();
    do {
      const to = Math.min(count, from + chunk);
      work(from, to);
      from = to;
    } while (from < count && performance.now() - t0 < sliceMs);
    if (from < count) await nextTurn();
  }
}

// ---------------------------------------------------------------------------------------------
// Errors across threads.

/** An error as it crosses from the worker. Kinds with fields of their own extend it. */
export interface ErrorMessage {
  name: string;
  message: string;
  stack?: string;
}

export function describeError(e: unknown): ErrorMessage {
  if (!(e instanceof Error)) return { name: "Error", message: String(e) };
  return { name: e.name, message: e.message, stack: e.stack };
}

/** The worker's error as the same kind of built-in error here, with the worker's stack. */
export function rebuildError(d: ErrorMessage): Error {
  let e: Error;
  if (d.name === "RangeError") e = new RangeError(d.message);
  else if (d.name === "TypeError") e = new TypeError(d.message);
  else {
    e = new Error(d.message);
    if (d.name !== "Error") e.name = d.name;
  }
  // The worker's stack says where the work failed; one made here would only show the message handler.
  if (d.stack) e.stack = d.stack;
  return e;
}

/** Worker → calling thread: exactly one of these, then the worker ends. */
export type OneShotAnswer<T, E extends ErrorMessage = ErrorMessage> = { type: "done"; value: T } | { type: "failed"; error: E };

// ---------------------------------------------------------------------------------------------
// The calling thread's side.

/**
 * How a one-shot worker is started: each kind has one object of these, exported as a test hook.
 * Tests point `file` at a missing file, or make `spawn` throw or start another script, to reach
 * the fallback and a dying worker. Restore both afterwards; nothing else should change them.
 */
export interface OneShotHooks {
  file: string;
  spawn: (file: string) => Worker;
}

export function oneShotHooks(file: string): OneShotHooks {
  return { file, spawn: (f) => new Worker(f, { resourceLimits: WORKER_LIMITS }) };
}

export interface OneShot<T> {
  /**
   * The worker's value; or a rejection with its error rebuilt, or with an Error that names the
   * worker and says how it failed; or null once `stop()` has ended it first. A rejection nobody
   * awaits (the caller gave up on the worker) is not reported as unhandled.
   */
  readonly answer: Promise<T | null>;
  /** True once `answer` has settled or `stop()` was called: anything posted from then on is lost. */
  readonly settled: boolean;
  /** Throws what a structured clone throws on a value it refuses (a function, a symbol). */
  post(message: unknown, transfer?: ArrayBuffer[]): void;
  /** Ends the thread now; resolves once it is gone (`answer` with null, unless it had settled). */
  stop(): Promise<void>;
}

/**
 * Starts a one-shot worker, or returns null when none can be started (its compiled file is
 * missing, or the runtime refuses a thread): the caller then does the work on its own thread.
 * `name` names the worker in the errors, e.g. "the data preparation worker".
 */
export function startOneShot<T, E extends ErrorMessage = ErrorMessage>(hooks: OneShotHooks, name: string, rebuild: (d: E) => Error = rebuildError): OneShot<T> | null {
  let worker: Worker;
  try {
    if (!fs.existsSync(hooks.file)) throw new Error(`${hooks.file} is missing`);
    worker = hooks.spawn(hooks.file);
  } catch {
    return null;
  }

  let settled = false;
  let gone: Promise<void> = Promise.resolve();
  let resolve!: (value: T | null) => void;
  let reject!: (e: Error) => void;
  const answer = new Promise<T | null>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A caller that gave up on the worker (a refused clone, the work then done on its own thread)
  // no longer awaits this: a rejection then is nobody's to handle.
  answer.catch(() => undefined);

  const end = (): Promise<void> => {
    settled = true;
    // Its answer is in (or no longer wanted): the thread has nothing left to do for anyone, and must not hold the process.
    worker.unref();
    gone = worker.terminate().then(
      () => undefined,
      () => undefined,
    );
    return gone;
  };
  const settle = (then: () => void): void => {
    if (settled) return;
    end();
    then();
  };
  worker.on("message", (m: OneShotAnswer<T, E>) =>
    settle(() => {
      if (m?.type === "done") resolve(m.value);
      else if (m?.type === "failed" && m.error) reject(rebuild(m.error));
      else reject(new Error(`${name} answered with something that is not an answer`));
    }),
  );
  worker.on("error", (e) => settle(() => reject(new Error(`${name} failed: ${e.message}`))));
  worker.on("messageerror", (e) => settle(() => reject(new Error(`${name}'s answer could not be read: ${e.message}`))));
  worker.on("exit", (code) => settle(() => reject(new Error(`${name} stopped (exit code ${code}) before it answered`))));

  return {
    answer,
    get settled() {
      return settled;
    },
    post: (message, transfer) => worker.postMessage(message, transfer),
    stop: () => (settled ? gone : end().then(() => resolve(null))),
  };
}

// ---------------------------------------------------------------------------------------------
// The worker's side.

/** The port to the calling thread, at the start of a one-shot worker; `starter` names what starts it. */
export function oneShotPort(starter: string): MessagePort {
  if (!parentPort) throw new Error(`this file is a worker_threads entry point; ${starter} starts it`);
  lowerThisThreadsPriority();
  return parentPort;
}

/**
 * Runs `work` and answers with its value (its buffers transferred) or its error, described by
 * `describe`; then closes the port: nothing is left to wait for, so the thread ends once the
 * answer is out.
 */
export function answerOnce<T, E extends ErrorMessage = ErrorMessage>(
  port: MessagePort,
  work: () => { value: T; transfer?: ArrayBuffer[] },
  describe: (e: unknown) => E = describeError as (e: unknown) => E,
): void {
  let m: OneShotAnswer<T, E>;
  let transfer: ArrayBuffer[] = [];
  try {
    const done = work();
    m = { type: "done", value: done.value };
    transfer = done.transfer ?? [];
  } catch (e) {
    m = { type: "failed", error: describe(e) };
  }
  port.postMessage(m, transfer);
  port.close();
}
