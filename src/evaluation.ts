/**
 * Scoring a model that was not trained in this run (a saved model file) on a run's validation
 * windows, with the run's loss and the run's real-unit metrics, so that its score and the run's
 * best epoch can be compared as equals.
 *
 * The windows are packed in the run's scaling. A model saved by an earlier run carries its own
 * scaler (fitted on that run's training rows): its inputs are restated in that scaling, and its
 * outputs back in the run's, before the loss and the errors are measured. Without that a saved
 * model would be judged on inputs it was never meant to see and lose for the wrong reason.
 */
import { getBackend } from "./backends";
import { addMetricSums, computeLoss, emptyMetricSums, mergeMetricSums, metricsFromSums, RealUnits, ValidationMetrics } from "./losses";
import type { Model } from "./model";
import type { PackedData } from "./packedData";
import type { LossName, ScalerJSON, TransformJSON, WindowJSON } from "./types";

export interface ValidationScore {
  /** Mean validation loss (the training loop's valLoss); null when no entry has a target. */
  valLoss: number | null;
  /** Real-unit errors (the training loop's EpochInfo.metrics); null without real units or targets. */
  metrics: ValidationMetrics | null;
}

export interface ScoreOptions {
  loss: LossName;
  delta?: number;
  realUnits?: RealUnits | null;
  /** Rows per forward pass (and per yield). */
  batchSize?: number;
}

/** What a run's windows were prepared with. */
export interface Preparation {
  inputSize: number;
  scaler: ScalerJSON;
  window: WindowJSON;
  transform: TransformJSON | null;
}

function sameNumbers(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function sameScaler(a: ScalerJSON, b: ScalerJSON): boolean {
  return sameNumbers(a.features.offset, b.features.offset) && sameNumbers(a.features.scale, b.features.scale) && sameNumbers(a.targets.offset, b.targets.offset) && sameNumbers(a.targets.scale, b.targets.scale);
}

/**
 * Why `model` cannot be scored on windows prepared as `prep` describes (its layers do not take or
 * give what they hold, or it reads other columns, differences or calendar inputs), or null.
 * `layers`: the specs of the run's layers; a model with others is another network.
 */
export function notComparable(model: Model, prep: Preparation, layers: ReadonlyArray<{ spec: object }>): string | null {
  if (model.inputSize !== prep.inputSize || model.layers.length !== layers.length || model.layers.some((l, k) => JSON.stringify(l.spec) !== JSON.stringify(layers[k].spec))) {
    return "its layers have other sizes or activations";
  }
  const w = model.window;
  if (!w || !model.scaler) return "it has no window or scaler information";
  const pw = prep.window;
  if (w.features.join("\u0000") !== pw.features.join("\u0000") || w.targets.join("\u0000") !== pw.targets.join("\u0000") || w.horizon !== pw.horizon || (w.direct === true) !== (pw.direct === true)) {
    return "it reads other features or forecasts other targets or steps";
  }
  const t = model.transform;
  const pt = prep.transform;
  const transformOf = (x: TransformJSON | null) => (x ? JSON.stringify({ difference: x.difference, season: x.season, calendar: x.calendar }) : "none");
  if (transformOf(t) !== transformOf(pt)) return "it was prepared with other differencing, season or calendar inputs";
  if (!sameScaler(model.scaler, prep.scaler) && model.outputActivation !== "linear") return "its scaling differs and its output is not linear";
  if (model.scaler.features.offset.length !== prep.scaler.features.offset.length || model.scaler.targets.offset.length !== prep.scaler.targets.offset.length) return "its scaler has other columns";
  return null;
}

/**
 * Scores `model` on `validation` (packed in `prep`'s scaling), one chunk of rows per yield; the
 * return value is the score. `notComparable(model, prep, …)` must be null.
 */
export function* scoreOnValidation(model: Model, validation: PackedData, prep: Preparation, options: ScoreOptions): Generator<void, ValidationScore, void> {
  const backend = getBackend();
  const own = model.scaler as ScalerJSON;
  const restate = !sameScaler(own, prep.scaler);
  const I = model.inputSize;
  const O = model.outputSize;
  const F = prep.scaler.features.offset.length;
  const T = validation.T;
  const step = Math.max(1, options.batchSize ?? 64);
  const lossOptions = { delta: options.delta, valueOnly: true };
  let lossSum = 0;
  let count = 0;
  const metrics = options.realUnits ? emptyMetricSums() : null;
  for (let first = 0; first < validation.B; first += step) {
    const B = Math.min(step, validation.B - first);
    let x = validation.x.subarray(first * T * I, (first + B) * T * I);
    const target = validation.target.subarray(first * T * O, (first + B) * T * O);
    if (restate) {
      // Run scaling → real units → the saved model's scaling; calendar inputs (after F) are not scaled.
      x = x.slice();
      const r = prep.scaler.features;
      for (let i = 0; i < x.length; i += I) {
        for (let f = 0; f < F; f++) x[i + f] = (x[i + f] * r.scale[f] + r.offset[f] - own.features.offset[f]) / own.features.scale[f];
      }
    }
    const results = model.forwardFlat(x, B, T, backend);
    let y = results[results.length - 1].y;
    if (restate) {
      // Its outputs (linear: checked by notComparable) from its scaling back to the run's.
      y = y.slice();
      const r = prep.scaler.targets;
      for (let i = 0; i < y.length; i += O) {
        for (let o = 0; o < O; o++) y[i + o] = (y[i + o] * own.targets.scale[o] + own.targets.offset[o] - r.offset[o]) / r.scale[o];
      }
    }
    const loss = computeLoss(options.loss, y, target, O, model.outputActivation, lossOptions);
    lossSum += loss.loss * loss.count;
    count += loss.count;
    if (metrics) mergeMetricSums(metrics, addMetricSums(emptyMetricSums(), y, target, O, options.realUnits ?? null));
    yield;
  }
  const m = metrics && metrics.count > 0 ? metricsFromSums(metrics) : null;
  return { valLoss: count > 0 ? lossSum / count : null, metrics: m ? { mse: m.mse, rmse: m.rmse, mae: m.mae, mape: m.mape } : null };
}

/** `scoreOnValidation` run in slices of about `sliceMs`, each on its own turn of the event loop. */
export function scoreInSlices(model: Model, validation: PackedData, prep: Preparation, options: ScoreOptions, sliceMs = 2): Promise<ValidationScore> {
  const it = scoreOnValidation(model, validation, prep, options);
  return new Promise((resolve, reject) => {
    const slice = (): void => {
      try {
        const end = Date.now() + sliceMs;
        let r = it.next();
        while (!r.done && Date.now() < end) r = it.next();
        if (r.done) return resolve(r.value);
        setImmediate(slice);
      } catch (e) {
        reject(e);
      }
    };
    setImmediate(slice);
  });
}
