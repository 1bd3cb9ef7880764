import * as os from "os";
import { performance } from "perf_hooks";
import { checkDraws, drawWeights, WeightDraw } from "./layer";
import type { Model } from "./model";
import type { PackedData } from "./packedData";
import type { ParallelTrainer } from "./parallel/trainer";
import type { EpochInfo, FitOptions, FitResult, LoopEvent } from "./trainingLoop";

/**
 * One fit run off the calling thread's back: in worker threads when they can start, otherwise
 * on the calling thread in short time slices, so that an event loop (Node-RED's) keeps serving
 * while a model trains. Either way the same `trainingLoop` runs, so where it runs changes
 * nothing in the result.
 */

/**
 * "auto": 2 workers when the machine has at least 2 cores, else 1, and the calling thread when
 * workers cannot start; a number: that many workers, or the run fails; "main": the calling
 * thread, in time slices.
 */
export type TrainingThreads = "auto" | "main" | number;

export interface SessionOptions extends Omit<FitOptions, "onEpoch" | "validation"> {
  threads?: TrainingThreads;
  /** Main thread only: the longest slice of training before the event loop gets a turn (default 4 ms). */
  sliceMs?: number;
  /**
   * Layers whose weights are drawn where the fit runs, before its first minibatch (in a worker, or
   * in the first slice on the calling thread): the model's own weights for them are not used.
   */
  draws?: readonly WeightDraw[];
}

const DEFAULT_SLICE_MS = 4;

function availableCores(): number {
  const fn = (os as { availableParallelism?: () => number }).availableParallelism;
  return typeof fn === "function" ? fn() : Math.max(1, os.cpus().length);
}

/**
 * Worker threads of the sessions that have not ended yet, in this process. "auto" counts them, so
 * that several trainers started at once (one flow trains four chains side by side) share the
 * cores instead of each taking two and making every one of them wait for the others.
 */
let workersInUse = 0;

/** What "auto" means now: two workers when two cores are free of other sessions' workers, else one. */
function autoWorkers(): number {
  return availableCores() - workersInUse >= 2 ? 2 : 1;
}

/**
 * The worker trainer's module, loaded on first use: a runtime that only trains on the main thread
 * never loads it. A node that will train calls this when it is deployed, so that loading the
 * module does not hold the event loop when a run starts.
 */
export function loadWorkerTrainer(): typeof import("./parallel/trainer").ParallelTrainer {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return (require("./parallel/trainer") as typeof import("./parallel/trainer")).ParallelTrainer;
}

function closedError(): Error {
  return new Error("the training session was closed during training");
}

export class TrainingSession {
  /** Why training runs on the calling thread although threads was "auto"; null otherwise. */
  fallbackReason: string | null = null;
  private place: "main" | "worker";
  private workerCount: number;
  private readonly auto: boolean;
  private readonly sliceMs: number;
  private readonly fitOptions: FitOptions;
  private readonly draws: readonly WeightDraw[];
  private trainer: ParallelTrainer | null = null;
  /** Why the workers asked for explicitly could not start: what run() rejects with. */
  private startError: Error | null = null;
  private started = false;
  private stopRequested = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Rejects when the session is closed (waits that close() must end race it). */
  private readonly closedSignal: Promise<never>;
  private signalClosed!: (err: Error) => void;
  /** Workers this session counts in `workersInUse` until its trainer is closed. */
  private holding = 0;
  /** Rejects the main-thread run in progress (close). */
  private abortMain: ((err: Error) => void) | null = null;

  /**
   * Prepares one fit of `model` on `train` (validation: null or no rows = none). With workers, they
   * start here; a session that is never run must be closed to end them. Throws on bad `threads`
   * or `sliceMs`; every other problem (data, options, workers) rejects from `run`.
   */
  constructor(
    private readonly model: Model,
    private readonly train: PackedData,
    private readonly validation: PackedData | null,
    options: SessionOptions = {},
  ) {
    this.closedSignal = new Promise<never>((_, reject) => (this.signalClosed = reject));
    // Nobody may be waiting on it when the session is closed: that must not count as unhandled.
    this.closedSignal.catch(() => undefined);
    const { threads = "auto", sliceMs = DEFAULT_SLICE_MS, draws = [], ...fitOptions } = options;
    checkDraws(draws, model.layers.length);
    this.draws = draws;
    if (!(typeof sliceMs === "number" && sliceMs > 0 && Number.isFinite(sliceMs))) throw new Error(`sliceMs must be a positive number of milliseconds, got ${sliceMs}`);
    if (threads !== "auto" && threads !== "main" && !(typeof threads === "number" && Number.isInteger(threads) && threads >= 1)) {
      throw new Error(`threads must be "auto", "main" or a positive integer number of workers, got ${JSON.stringify(threads)}`);
    }
    this.sliceMs = sliceMs;
    this.fitOptions = fitOptions;
    this.auto = threads === "auto";
    this.place = threads === "main" ? "main" : "worker";
    this.workerCount = threads === "main" ? 0 : threads === "auto" ? autoWorkers() : threads;
    if (this.place === "worker") {
      try {
        const Trainer = loadWorkerTrainer();
        this.trainer = new Trainer(model, { workers: this.workerCount });
        this.holding = this.workerCount;
        workersInUse += this.holding;
      } catch (err) {
        this.workersFailed(err);
      }
    }
  }

  /** Where the fit runs. With "auto" it can change to "main" until run() has started training, if the workers fail to start. */
  get where(): "main" | "worker" {
    return this.place;
  }

  /** Worker threads training (0 on the main thread). */
  get workers(): number {
    return this.workerCount;
  }

  /**
   * The fit. `onEpoch` runs on the calling thread after every epoch with `model` holding that
   * epoch's weights (a worker waits meanwhile); returning false stops after that epoch, throwing
   * rejects the run. Resolves with the FitResult, the model then holding the final weights (the
   * best epoch's, unless restoreBest is false). Whatever way it ends, the workers are terminated.
   */
  async run(onEpoch?: (info: EpochInfo) => void | boolean): Promise<FitResult> {
    if (this.started) throw new Error("a training session runs one fit: start another session for the next");
    this.started = true;
    if (this.closed) throw new Error("the training session is closed");
    if (this.startError) throw this.startError;
    const trainer = this.trainer;
    if (trainer) {
      try {
        // close() while the workers start must end this wait too: the trainer's ready never settles once it is closed.
        await Promise.race([trainer.ready, this.closedSignal]);
      } catch (err) {
        if (this.closed) throw closedError();
        this.workersFailed(err);
        await trainer.close();
        if (this.startError) throw this.startError;
      }
    }
    if (this.closed) throw closedError();
    return this.place === "worker" && this.trainer ? this.runInWorkers(this.trainer, onEpoch) : this.runInSlices(onEpoch);
  }

  /** Ends the fit after the current minibatch: run() resolves with reason "stopped". */
  stop(): void {
    this.stopRequested = true;
    this.trainer?.stop();
  }

  /**
   * Ends the session at once: terminates the workers, and a run in progress rejects with an
   * Error saying the session was closed (on the main thread, the model keeps the weights of the
   * last minibatch). Safe to call more than once, and after run() has settled.
   */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.signalClosed(closedError());
      this.abortMain?.(closedError());
      this.closing = this.trainer ? this.trainer.close() : Promise.resolve();
      this.release();
    }
    return this.closing;
  }

  /** This session's workers no longer count as in use (they are being terminated). */
  private release(): void {
    workersInUse -= this.holding;
    this.holding = 0;
  }

  /** Workers could not start: "auto" falls back to the calling thread, a number of workers fails. */
  private workersFailed(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.trainer = null;
    this.release();
    if (!this.auto) {
      this.startError = new Error(`the ${this.workerCount} training worker(s) could not start: ${e.message}`);
      return;
    }
    this.place = "main";
    this.workerCount = 0;
    this.fallbackReason = `worker threads could not start (${e.message})`;
  }

  private async runInWorkers(trainer: ParallelTrainer, onEpoch?: (info: EpochInfo) => void | boolean): Promise<FitResult> {
    try {
      const fit = trainer.fit(this.train, { ...this.fitOptions, validation: this.validation, onEpoch }, this.draws);
      // stop() before run(): the trainer had no fit to stop yet.
      if (this.stopRequested) trainer.stop();
      return await fit;
    } catch (err) {
      if (this.closed) throw closedError();
      throw err;
    } finally {
      // One fit per session: the threads and the memory they hold go now.
      this.release();
      await trainer.close();
    }
  }

  /**
   * The fit on the calling thread: the training loop resumed minibatch after minibatch until
   * `sliceMs` have passed, then `setImmediate` gives the event loop its turn. A minibatch is the
   * smallest unit, so a slice lasts at most sliceMs plus one minibatch (or chunk of validation rows).
   */
  private runInSlices(onEpoch?: (info: EpochInfo) => void | boolean): Promise<FitResult> {
    return new Promise<FitResult>((resolve, reject) => {
      let loop: Generator<LoopEvent, FitResult, boolean | undefined> | null = null;
      let settled = false;
      const settle = (err: Error | null, result?: FitResult) => {
        if (settled) return;
        settled = true;
        this.abortMain = null;
        if (err) reject(err);
        else resolve(result as FitResult);
      };
      this.abortMain = (err) => settle(err);
      let verdict = true;
      const slice = () => {
        if (settled) return;
        const until = performance.now() + this.sliceMs;
        try {
          if (!loop) {
            drawWeights(this.model.layers, this.draws);
            loop = this.model.fitSteps(this.train, { ...this.fitOptions, validation: this.validation }, () => this.stopRequested);
            // Drawing a large layer's weights is a slice of its own.
            if (this.draws.length > 0) return void setImmediate(slice);
          }
          do {
            const next = loop.next(verdict);
            verdict = true;
            if (next.done) return settle(null, next.value);
            if (next.value !== "batch" && onEpoch) verdict = onEpoch(next.value) !== false;
            // close() from inside onEpoch: nothing more may run.
            if (settled) return;
          } while (performance.now() < until);
        } catch (err) {
          return settle(err instanceof Error ? err : new Error(String(err)));
        }
        setImmediate(slice);
      };
      setImmediate(slice);
    });
  }
}
