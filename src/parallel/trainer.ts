import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Worker } from "worker_threads";
import { WORKER_LIMITS } from "../workerLimits";
import { checkDraws, WeightDraw } from "../layer";
import { Model } from "../model";
import { nextTurn } from "../offThread";
import { isEmptyData, PackedData, toPackedData, TrainingData } from "../packedData";
import { checkFitOptions, EpochInfo, FitOptions, FitResult, trainingSummary } from "../trainingLoop";
import { controlLength, CTRL, FitCommand, IN_FIT, SharedDataset, slotCount, slotLength, WorkerInit, WorkerToMain } from "./protocol";
import { copyParameters, parameterCount } from "./shared";
import { raiseError } from "./sync";

/**
 * Training in worker threads, data-parallel over the minibatch.
 *
 * The main thread only packs the data, starts the fit and hears back at the end (or after each
 * epoch when there is an `onEpoch`), so its event loop stays free however long training takes.
 * With one worker, that worker runs the whole loop. With more, the first worker (the leader)
 * runs the loop and owns the optimizer, and every worker, the leader included, computes the
 * gradients of chunks of each minibatch's rows; the chunks' sums are combined weighted by their
 * target counts, so the step is the one a single thread takes, up to float rounding. Weights,
 * the dataset and the per-thread gradients live in SharedArrayBuffers: nothing is copied per step.
 */

export interface ParallelTrainerOptions {
  /**
   * Worker threads (default 2, or 1 on a single-core machine). 1 moves training off the main
   * thread; 2 or more also split every minibatch between them.
   */
  workers?: number;
}

export interface ParallelFitOptions extends FitOptions, ParallelTrainerOptions {}

/** Nested arrays or packed data, as `Model.fit` takes. */
export type ParallelFitData = TrainingData;

const MAX_WORKERS = 64;
/**
 * When a thread reports that it only failed because another one did, the cause is expected from
 * that other thread shortly after; how long to wait for it before rejecting with what we have.
 */
const CAUSE_GRACE_MS = 200;

const WORKER_FILE = path.join(__dirname, "worker.js");

function availableCores(): number {
  const fn = (os as { availableParallelism?: () => number }).availableParallelism;
  return typeof fn === "function" ? fn() : Math.max(1, os.cpus().length);
}

function toShared(a: Float64Array): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(a.byteLength);
  new Float64Array(buffer).set(a);
  return buffer;
}

/** The dataset in shared memory: copied once per fit, then read in place by every thread. */
function packShared(model: Model, data: TrainingData, name: string): SharedDataset {
  const packed: PackedData = toPackedData(data, model.inputSize, model.outputSize, name);
  return { x: toShared(packed.x), target: toShared(packed.target), B: packed.B, T: packed.T };
}

/** A fit, as the main thread follows it. */
interface FitRecord {
  id: number;
  resolve(result: FitResult): void;
  reject(err: Error): void;
  onEpoch: FitOptions["onEpoch"];
  epochsHandled: number;
  callbackError: unknown;
  /** The caller has been told (the promise has settled). */
  settled: boolean;
  /** The leader is done with it: nothing will touch the shared memory for it any more. */
  leaderDone: boolean;
  causeTimer: NodeJS.Timeout | null;
  leaderFinished(): void;
}

export class ParallelTrainer {
  readonly workers: number;
  private readonly model: Model;
  private readonly weights: SharedArrayBuffer;
  private readonly ctrl: Int32Array;
  private readonly threads: Worker[] = [];
  /** Settles when every worker has started (rejects when one could not: see the session's fallback). */
  readonly ready: Promise<void>;
  /** Settles when the leader has finished the last fit sent; the next one must not start before. */
  private idle: Promise<void> = Promise.resolve();
  /** The last fit sent to the workers; reports about any other fit are stale and ignored. */
  private current: FitRecord | null = null;
  private fits = 0;
  /** From a call to `fit` until its promise settles. */
  private pending = false;
  /** `stop()` was called during the current call to `fit`, maybe before its command went out. */
  private stopRequested = false;
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;
  /** Rejects `ready`: a fit still waiting for the workers to start must hear of a close. */
  private failReady: (err: Error) => void = () => undefined;

  constructor(model: Model, options: ParallelTrainerOptions = {}) {
    const workers = options.workers ?? Math.min(2, availableCores());
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
      throw new Error(`workers must be an integer from 1 to ${MAX_WORKERS}, got ${workers}`);
    }
    if (!fs.existsSync(WORKER_FILE)) {
      throw new Error(`the training worker ${path.basename(WORKER_FILE)} is missing next to ${path.basename(__filename)}: run the compiled package (npm run build)`);
    }
    this.workers = workers;
    this.model = model;
    const specs = model.layers.map((l) => ({ ...l.spec }));
    this.weights = new SharedArrayBuffer(parameterCount(specs) * Float64Array.BYTES_PER_ELEMENT);
    const control = new SharedArrayBuffer(controlLength(workers) * Int32Array.BYTES_PER_ELEMENT);
    this.ctrl = new Int32Array(control);

    let readyCount = 0;
    let markReady!: () => void;
    let failReady!: (err: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    this.failReady = failReady;
    // A trainer that is closed without ever fitting must not leave an unhandled rejection behind.
    this.ready.catch(() => undefined);

    const whenReady = () => {
      if (++readyCount === workers) markReady();
    };
    const initOf = (k: number): WorkerInit => ({ role: k === 0 ? "leader" : "helper", part: k, parts: workers, inputSize: model.inputSize, specs, weights: this.weights, control });
    // One `new Worker` per turn of the event loop, the first one too: each holds the calling thread
    // for up to a few milliseconds (measured 0.5–5 ms on a 2-core machine), and the caller is an
    // event loop that must keep serving. A worker that cannot be created (no memory for another
    // thread…) fails `ready`, as a crash at start would.
    const startNext = (k: number): void => {
      if (k >= workers || this.closing || this.failure) return;
      try {
        this.threads.push(this.startWorker(k, initOf(k), whenReady, failReady));
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        failReady(e);
        this.fail(e);
        return;
      }
      setImmediate(() => startNext(k + 1));
    };
    setImmediate(() => startNext(0));
  }

  /** Starts worker k and follows what it says and how it ends. */
  private startWorker(k: number, init: WorkerInit, ready: () => void, failReady: (err: Error) => void): Worker {
    const worker = new Worker(WORKER_FILE, { workerData: init, resourceLimits: WORKER_LIMITS });
    // Idle workers must not keep the process alive; a fit holds them (see `hold`).
    worker.unref();
    worker.on("message", (message: WorkerToMain) => {
      if (message.type === "ready") ready();
      else this.onMessage(k, message);
    });
    worker.on("error", (err) => {
      failReady(err);
      this.fail(err);
    });
    worker.on("messageerror", (err) => this.fail(err));
    worker.on("exit", (code) => {
      if (this.closing) return;
      const err = new Error(`training worker ${k} stopped unexpectedly (exit code ${code})`);
      failReady(err);
      this.fail(err);
    });
    return worker;
  }

  /** True from a call to `fit` until its promise settles. */
  get busy(): boolean {
    return this.pending;
  }

  /**
   * Trains the model in the workers, with the options and semantics of `Model.fit`; resolves
   * with the same FitResult once the model holds the trained weights. `onEpoch` runs on the
   * calling thread after each epoch, with the model already holding that epoch's weights, while
   * the workers wait for it. If the fit fails, the promise rejects with the worker's error, and
   * the model keeps the weights it last received (those from before the fit, or of the last
   * epoch reported to `onEpoch`). One fit at a time per trainer. `draws`: layers whose weights the
   * leader draws before the first minibatch (the model's own weights for them are not used); the
   * model receives them with the first epoch's weights, or at the end.
   */
  async fit(data: ParallelFitData, options: FitOptions = {}, draws: readonly WeightDraw[] = []): Promise<FitResult> {
    this.checkUsable();
    if (this.pending) throw new Error("this trainer is already running a fit; wait for it to finish");
    const specs = this.model.layers.map((l) => l.spec);
    if (parameterCount(specs) * Float64Array.BYTES_PER_ELEMENT !== this.weights.byteLength) throw new Error("the model's layers changed since this trainer was created");
    // Mistakes are reported here, with a stack that points at the caller, not from a worker.
    checkFitOptions(options, this.model.outputSize);
    checkDraws(draws, this.model.layers.length);
    const { onEpoch, validation: v, ...rest } = options;
    const workerOptions = { ...rest };
    delete (workerOptions as ParallelFitOptions).workers;

    this.pending = true;
    this.stopRequested = false;
    let train: SharedDataset;
    let validation: SharedDataset | null;
    try {
      train = packShared(this.model, data, "data");
      // The caller is an event loop: checking and copying a large series is milliseconds, so the
      // validation rows get a turn of their own.
      await nextTurn();
      validation = v && !isEmptyData(v) ? packShared(this.model, v, "validation") : null;
      await this.ready;
      // A fit whose caller was already told it failed may still be winding down in the workers.
      await this.idle;
      this.checkUsable();
    } catch (err) {
      this.pending = false;
      throw err;
    }
    const paramCount = parameterCount(specs);
    const id = ++this.fits;
    const command: FitCommand = {
      type: "fit",
      fit: id,
      seqBase: Atomics.load(this.ctrl, CTRL.SEQ),
      train,
      validation,
      order: new SharedArrayBuffer(train.B * Int32Array.BYTES_PER_ELEMENT),
      slots: new SharedArrayBuffer(slotCount(this.workers) * slotLength(paramCount, specs.length, train.T) * Float64Array.BYTES_PER_ELEMENT),
      options: workerOptions,
      waitForEpochAck: typeof onEpoch === "function",
      draws,
    };
    copyParameters(this.model, this.weights, "toShared");
    Atomics.store(this.ctrl, CTRL.ERROR, 0);
    for (let k = 1; k < this.workers; k++) Atomics.store(this.ctrl, CTRL.DONE + k, IN_FIT);
    Atomics.store(this.ctrl, CTRL.STOP, this.stopRequested ? 1 : 0);
    Atomics.store(this.ctrl, CTRL.ACK, 0);

    return new Promise<FitResult>((resolve, reject) => {
      let leaderFinished!: () => void;
      this.idle = new Promise<void>((r) => (leaderFinished = r));
      const fit: FitRecord = { id, resolve, reject, onEpoch, epochsHandled: 0, callbackError: undefined, settled: false, leaderDone: false, causeTimer: null, leaderFinished };
      this.current = fit;
      this.hold(true);
      try {
        for (const w of this.threads) w.postMessage(command);
      } catch (err) {
        // An option that cannot be cloned to another thread (a function, a class instance…):
        // the structured clone fails before anything is sent, to the first worker already.
        this.finishLeader(fit);
        this.settle(fit, err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /**
   * Asks a running fit to end after the current minibatch; it resolves with reason "stopped".
   * The epoch it interrupts is not in the history (best-weights restore still applies).
   */
  stop(): void {
    if (!this.pending) return;
    this.stopRequested = true;
    Atomics.store(this.ctrl, CTRL.STOP, 1);
  }

  /** Terminates every worker thread; a fit still running rejects. Safe to call more than once. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        Atomics.store(this.ctrl, CTRL.STOP, 1);
        raiseError(this.ctrl);
        // The workers' exits are ignored once closing, so a fit still waiting for them to start
        // would wait for ever: it is told here (no effect once they have started).
        this.failReady(new Error("the parallel trainer was closed during training"));
        const fit = this.current;
        if (fit) {
          this.settle(fit, new Error("the parallel trainer was closed during training"));
          this.finishLeader(fit);
        }
        await Promise.all(this.threads.map((w) => w.terminate()));
      })();
    }
    return this.closing;
  }

  private checkUsable(): void {
    if (this.failure) throw new Error(`this parallel trainer is unusable: ${this.failure.message}`);
    if (this.closing) throw new Error("this parallel trainer is closed");
  }

  /** Workers keep the process alive only while a fit runs. */
  private hold(on: boolean): void {
    for (const w of this.threads) {
      if (on) w.ref();
      else w.unref();
    }
  }

  private onMessage(k: number, message: WorkerToMain): void {
    const fit = this.current;
    if (message.type === "ready" || !fit || message.fit !== fit.id) return;
    switch (message.type) {
      case "epoch": {
        // The leader waits for the acknowledgement below, so the shared weights hold still.
        fit.epochsHandled++;
        try {
          copyParameters(this.model, this.weights, "fromShared");
          if (fit.onEpoch && fit.onEpoch(message.info as EpochInfo) === false) Atomics.store(this.ctrl, CTRL.STOP, 1);
        } catch (err) {
          if (fit.callbackError === undefined) fit.callbackError = err;
          Atomics.store(this.ctrl, CTRL.STOP, 1);
        } finally {
          Atomics.store(this.ctrl, CTRL.ACK, fit.epochsHandled);
          Atomics.notify(this.ctrl, CTRL.ACK);
        }
        return;
      }
      case "done": {
        const result = message.result;
        copyParameters(this.model, this.weights, "fromShared");
        this.model.training = trainingSummary(result);
        this.finishLeader(fit);
        const e = fit.callbackError;
        if (e !== undefined) this.settle(fit, e instanceof Error ? e : new Error(String(e)));
        else this.settle(fit, null, result);
        return;
      }
      case "error": {
        if (k === 0) this.finishLeader(fit);
        const err = new Error(message.message);
        if (message.stack) err.stack = `${err.name}: ${message.message}\n    (in training worker ${k})\n${message.stack.split("\n").slice(1).join("\n")}`;
        if (!message.secondary) {
          this.settle(fit, err);
        } else if (!fit.causeTimer && !fit.settled) {
          fit.causeTimer = setTimeout(() => this.settle(fit, err), CAUSE_GRACE_MS);
        }
        return;
      }
    }
  }

  /** The leader is done with `fit`: the next fit may start. */
  private finishLeader(fit: FitRecord): void {
    if (fit.leaderDone) return;
    fit.leaderDone = true;
    fit.leaderFinished();
    this.release(fit);
  }

  /** Tells the caller how the fit ended, once. */
  private settle(fit: FitRecord, err: Error | null, result?: FitResult): void {
    if (fit.settled) return;
    fit.settled = true;
    if (fit.causeTimer) clearTimeout(fit.causeTimer);
    if (this.current === fit) this.pending = false;
    if (err) fit.reject(err);
    else fit.resolve(result as FitResult);
    this.release(fit);
  }

  /** Once a fit is both settled and finished by the leader, idle workers stop holding the process. */
  private release(fit: FitRecord): void {
    if (fit.settled && fit.leaderDone && this.current === fit && !this.closing) this.hold(false);
  }

  /** A worker died: nothing can be trusted about the shared state any more. */
  private fail(err: Error): void {
    if (this.failure || this.closing) return;
    this.failure = err;
    raiseError(this.ctrl);
    const fit = this.current;
    if (fit) {
      this.settle(fit, err);
      this.finishLeader(fit);
    }
    void this.close();
  }
}

/**
 * One fit in worker threads: starts the workers, trains, and terminates them, whatever happens.
 * Options are those of `Model.fit` plus `workers`.
 */
export async function fitParallel(model: Model, data: ParallelFitData, options: ParallelFitOptions = {}): Promise<FitResult> {
  const { workers, ...fitOptions } = options;
  // A mistake in the options is found before any thread starts.
  checkFitOptions(fitOptions, model.outputSize);
  const trainer = new ParallelTrainer(model, { workers });
  try {
    return await trainer.fit(data, fitOptions);
  } finally {
    await trainer.close();
  }
}
