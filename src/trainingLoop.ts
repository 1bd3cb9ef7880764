import { checkRealUnits, emptyMetricSums, MetricSums, metricsFromSums, RealUnits, ValidationMetrics } from "./losses";
import type { GradientOptions } from "./model";
import type { TrainingData } from "./packedData";
import { Random } from "./random";
import { ParameterUpdater, UpdateOptions } from "./training";
import { TrainingJSON } from "./types";

/**
 * The one epoch loop of the code base. `Model.fit` drives it on the calling thread, the leader
 * worker of a parallel fit drives it with the minibatches shared out between threads, and the
 * main-thread training session drives it in time slices. What a minibatch costs to compute is
 * the `MinibatchWork`'s business; everything decided from the results (the step, the refusals,
 * what an epoch reports, the best epoch, when to stop) is decided here, once, so every way of
 * training reaches the same weights and the same history.
 */

/** Consecutive refused steps (across epochs) after which a fit gives up and reports "diverged". */
export const MAX_REFUSED_IN_A_ROW = 20;

export interface EpochInfo {
  epoch: number;
  /** Mean training loss over the entries with a target, of the accepted steps only (NaN without any). */
  loss: number;
  /** Mean validation loss after the epoch; null without validation or without any target in it. */
  valLoss: number | null;
  learningRate: number;
  /** Mean global gradient norm (before clipping) of the accepted steps (NaN without any). */
  gradNorm: number;
  /** Steps refused because the loss, the gradients or the new weights were not finite. */
  skipped: number;
  ms: number;
  /** The best epoch so far (score valLoss ?? loss, finite): its weights are what restoreBest puts back. */
  best: boolean;
  /** Validation errors in real units (with `realUnits` and validation targets), else null. */
  metrics: ValidationMetrics | null;
  /** The first layer's `dhNormLayers` (gradientReport). */
  dhNorm?: number[];
  /**
   * ‖∂L/∂h_t‖ per time step, per layer (index 0 = first layer), root mean square over the accepted
   * steps of the epoch (gradientReport). A refused step's gradients are usually not finite and
   * would turn the whole curve into NaN, so they are left out; NaN when no step was accepted.
   */
  dhNormLayers?: number[][];
}

export interface FitOptions extends UpdateOptions, GradientOptions {
  epochs?: number;
  batchSize?: number;
  /** Shuffle the row order at the start of every epoch (default true), seeded by `seed`. */
  shuffle?: boolean;
  seed?: number;
  /** Validation data; an empty set (no rows) means no validation. */
  validation?: TrainingData | null;
  /** Early stopping: end after this many epochs without a new best epoch (0 = off). */
  patience?: number;
  /** Put back the weights of the best epoch at the end (default true). */
  restoreBest?: boolean;
  gradientReport?: boolean;
  /** With validation: also measure `EpochInfo.metrics` in real units. */
  realUnits?: RealUnits | null;
  /** Called after every epoch; returning false stops training after it. */
  onEpoch?: (info: EpochInfo) => void | boolean;
}

export interface FitResult {
  history: EpochInfo[];
  /** The best epoch (1-based), 0 when none had a finite score. */
  bestEpoch: number;
  /** The best epoch's validation loss; null without one. */
  bestValLoss: number | null;
  reason: "completed" | "early-stopped" | "stopped" | "diverged";
}

/** Validation results as sums, so that chunks of the validation set (and threads) add up. */
export interface ValidationSums {
  /** Σ loss·count over the chunks, and the count (entries, or steps for softmax cross-entropy). */
  loss: number;
  count: number;
  /** Real-unit error sums, when the fit measures metrics. */
  metrics: MetricSums | null;
}

/**
 * The arithmetic of a fit over one dataset: whoever computes it (one thread, several), the
 * training loop only sees minibatches going in and means coming out.
 */
export interface MinibatchWork {
  /** Training rows (N), time steps (T) and layers of the model. */
  readonly rows: number;
  readonly steps: number;
  readonly layers: number;
  /** Validation rows; 0 = no validation. */
  readonly validationRows: number;
  /**
   * Rows order[start … start+B) of the training set, forward and backward with the current
   * parameters: returns the mean loss over their entries with a target and the number of those
   * entries; when the count is not 0, writes the mean gradients into `grads` (aligned with the
   * parameter list) and adds this minibatch's Σ_rows ‖∂L/∂h_t‖² per layer into `dhNormSq`.
   */
  train(order: ArrayLike<number>, start: number, B: number, grads: Float64Array[], dhNormSq: Float64Array[] | null): { loss: number; count: number };
  /** Validation rows [start, start+B) with the current parameters: adds their loss and error sums. */
  validate(start: number, B: number, sums: ValidationSums): void;
}

/**
 * What the loop hands back while it runs: "batch" after every unit of work (a training minibatch
 * or a chunk of validation rows), an EpochInfo after every epoch. The value it is resumed with
 * after an EpochInfo is the caller's verdict: false stops the fit after that epoch.
 */
export type LoopEvent = "batch" | EpochInfo;

/** Epochs, batch size and patience of a fit, checked. */
export function fitLength(options: FitOptions): { epochs: number; batchSize: number; patience: number } {
  const epochs = options.epochs ?? 10;
  const batchSize = options.batchSize ?? 32;
  const patience = options.patience ?? 0;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  if (typeof patience !== "number" || !(patience >= 0)) throw new Error(`patience must be a number ≥ 0 (0 = off), got ${patience}`);
  return { epochs, batchSize, patience };
}

/**
 * Every option of a fit that can be checked before any work is done, for a model with
 * `outputSize` outputs: what the entry points call, so that a mistake is reported with a stack
 * that points at the caller rather than from inside a worker.
 */
export function checkFitOptions(options: FitOptions, outputSize: number): void {
  fitLength(options);
  if (options.realUnits) checkRealUnits(options.realUnits, outputSize);
  new ParameterUpdater(options);
}

/**
 * The fit as a generator over `params` (updated in place), one unit of work per resumption.
 *
 * Semantics, defined here and nowhere else:
 * - Row order: the rows are shuffled at the start of every epoch by one `Random(seed ?? 1)` for
 *   the whole fit; `shuffle: false` keeps them in order. Minibatches are consecutive runs of
 *   `batchSize` rows of that order, the last one shorter.
 * - A step: the optimizer's update from the minibatch's mean gradient; a minibatch without any
 *   target takes no step. A step is refused (weights put back, rate lowered: ParameterUpdater)
 *   when the loss, the gradients or the new weights are not finite; after MAX_REFUSED_IN_A_ROW
 *   refusals in a row the epoch ends there, is validated and reported, and the fit ends "diverged".
 * - An epoch's loss, gradNorm and ‖∂L/∂h_t‖ are over its accepted steps only.
 * - Validation runs after the epoch's steps, in chunks of `batchSize` rows.
 * - Best epoch: the lowest score, valLoss ?? loss; a non-finite score is never best. Early stopping
 *   after `patience` epochs since the best one (epoch 0, the start, when none was best yet).
 * - Stopping: `shouldStop()` is looked at between units of work and after every epoch. Between
 *   units it ends the fit "stopped" at once, and the unfinished epoch is not reported. After an
 *   epoch, it (or the caller resuming with false) ends the fit "stopped" with that epoch reported,
 *   unless that was the last epoch: then the fit has completed and says so.
 * - The end: with `restoreBest` (default) the best epoch's weights are put back.
 */
export function* trainingLoop(params: Float64Array[], work: MinibatchWork, options: FitOptions, shouldStop: () => boolean = () => false): Generator<LoopEvent, FitResult, boolean | undefined> {
  const { epochs, batchSize, patience } = fitLength(options);
  const { rows: N, steps: T, layers: L, validationRows: V } = work;
  const updater = new ParameterUpdater(options);
  const rng = new Random(options.seed ?? 1);
  const order = Array.from({ length: N }, (_, i) => i);
  const grads = params.map((p) => new Float64Array(p.length));
  const dhBatch = options.gradientReport ? Array.from({ length: L }, () => new Float64Array(T)) : null;
  const dhEpoch = options.gradientReport ? Array.from({ length: L }, () => new Float64Array(T)) : null;
  const history: EpochInfo[] = [];
  let reason: FitResult["reason"] = "completed";
  let bestScore = Infinity;
  let bestEpoch = 0;
  let bestWeights: Float64Array[] | null = null;
  let refusedInARow = 0;

  run: for (let epoch = 1; epoch <= epochs; epoch++) {
    const started = Date.now();
    if (options.shuffle !== false) rng.shuffle(order);
    let lossSum = 0;
    let countSum = 0;
    let normSum = 0;
    let accepted = 0;
    let skipped = 0;
    if (dhEpoch) for (const a of dhEpoch) a.fill(0);

    for (let start = 0; start < N; start += batchSize) {
      const B = Math.min(batchSize, N - start);
      if (dhBatch) for (const a of dhBatch) a.fill(0);
      const r = work.train(order, start, B, grads, dhBatch);
      if (r.count > 0) {
        const report = updater.step(params, grads, r.loss);
        if (report.accepted) {
          refusedInARow = 0;
          lossSum += r.loss * r.count;
          countSum += r.count;
          normSum += report.gradNorm;
          accepted++;
          if (dhBatch && dhEpoch) {
            for (let k = 0; k < L; k++) for (let t = 0; t < T; t++) dhEpoch[k][t] += dhBatch[k][t];
          }
        } else {
          skipped++;
          refusedInARow++;
        }
      }
      yield "batch";
      if (refusedInARow >= MAX_REFUSED_IN_A_ROW) break;
      const lastUnit = start + B >= N && V === 0;
      if (!lastUnit && shouldStop()) {
        reason = "stopped";
        break run;
      }
    }

    let valLoss: number | null = null;
    let metrics: ValidationMetrics | null = null;
    if (V > 0) {
      const sums: ValidationSums = { loss: 0, count: 0, metrics: options.realUnits ? emptyMetricSums() : null };
      for (let start = 0; start < V; start += batchSize) {
        const B = Math.min(batchSize, V - start);
        work.validate(start, B, sums);
        yield "batch";
        if (start + B < V && shouldStop()) {
          reason = "stopped";
          break run;
        }
      }
      valLoss = sums.count > 0 ? sums.loss / sums.count : null;
      if (sums.metrics && sums.metrics.count > 0) {
        const m = metricsFromSums(sums.metrics);
        metrics = { mse: m.mse, rmse: m.rmse, mae: m.mae, mape: m.mape };
      }
    }

    const loss = countSum > 0 ? lossSum / countSum : NaN;
    const score = valLoss ?? loss;
    const best = Number.isFinite(score) && score < bestScore;
    if (best) {
      bestScore = score;
      bestEpoch = epoch;
      if (!bestWeights) bestWeights = params.map((p) => p.slice());
      else params.forEach((p, i) => (bestWeights as Float64Array[])[i].set(p));
    }
    const info: EpochInfo = {
      epoch,
      loss,
      valLoss,
      learningRate: updater.learningRate,
      gradNorm: accepted > 0 ? normSum / accepted : NaN,
      skipped,
      ms: Date.now() - started,
      best,
      metrics,
    };
    if (dhEpoch) {
      // Σ over the steps of Σ_rows ‖∂L/∂h_t‖², divided by the steps: a root mean square per step.
      info.dhNormLayers = dhEpoch.map((a) => Array.from(a, (s) => (accepted > 0 ? Math.sqrt(s / accepted) : NaN)));
      info.dhNorm = info.dhNormLayers[0];
    }
    history.push(info);
    const verdict = yield info;
    if (refusedInARow >= MAX_REFUSED_IN_A_ROW) {
      reason = "diverged";
      break;
    }
    // A stop asked for once the last epoch is done comes too late to change anything: the run completed.
    if ((verdict === false || shouldStop()) && epoch < epochs) {
      reason = "stopped";
      break;
    }
    if (patience > 0 && epoch - bestEpoch >= patience) {
      reason = "early-stopped";
      break;
    }
  }

  if (bestWeights && options.restoreBest !== false) {
    const saved = bestWeights;
    params.forEach((p, i) => p.set(saved[i]));
  }
  return { history, bestEpoch, bestValLoss: bestEpoch > 0 ? history[bestEpoch - 1].valLoss : null, reason };
}

/**
 * Drives a training loop to its end on the calling thread; `onEpoch` hears every epoch, and
 * returning false from it stops the fit after that epoch.
 */
export function runToEnd(loop: Generator<LoopEvent, FitResult, boolean | undefined>, onEpoch?: (info: EpochInfo) => void | boolean): FitResult {
  let next = loop.next();
  while (!next.done) {
    const event = next.value;
    next = loop.next(event === "batch" || !onEpoch ? true : onEpoch(event) !== false);
  }
  return next.value;
}

/** What the model file records about a finished fit. */
export function trainingSummary(result: FitResult): TrainingJSON {
  const last = result.history[result.history.length - 1];
  // The model file takes finite numbers or null: an epoch without an accepted step has no loss.
  const finite = (v: number | null | undefined) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  return { epochs: result.history.length, loss: finite(last?.loss), valLoss: finite(last?.valLoss), bestEpoch: result.bestEpoch };
}
