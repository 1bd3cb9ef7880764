/**
 * The validation forecasts that prediction intervals are calibrated on: from every origin of the
 * validation part, the model forecasts `steps` ahead through the one forecasting path
 * (`forecast`), and each absolute error is a conformal score. Origins are taken in time order and
 * no forecast looks back across a gap that was not filled.
 *
 * The work is a generator that yields after each origin: a library user simply runs it to the end
 * (`calibrateOnValidation`), `calibrateInSlices` runs it between other messages on the calling
 * thread, and `calibrateOffThread` runs it to the end in a short-lived worker thread
 * (calibrationWorker.ts), which is the one for the trainer node: even in slices, forecasting from
 * every validation origin held Node-RED's thread 9–18 ms at a time (measured: cold code, Date.now's
 * granularity), and the bar for any stall during a run is 5 ms.
 */
import * as path from "path";
import { FlatHistory, flatHistoryBuffers, flattenHistoryInSlices } from "./data/flatHistory";
import type { SeriesHistory } from "./data/prepare";
import { canRecurse, forecast, historyLength, stepsPerPass } from "./forecast";
import { calibrateIntervals, INTERVAL_LEVELS } from "./intervals";
import { Model, ModelExtras } from "./model";
import { nextTurn, OneShot, oneShotHooks, SLICE_MS, startOneShot } from "./offThread";
import { copyParameters, modelOverSharedWeights, parameterCount } from "./parallel/shared";
import { IntervalsJSON, LayerSpec } from "./types";

/** Steps ahead that intervals are calibrated for when the model can forecast recursively. */
export const INTERVAL_STEPS = 24;

/** Why a model gets no intervals, or null when it can have them. */
export function intervalsUnavailable(model: Model, history: SeriesHistory | null): string | null {
  const w = model.window;
  if (!w || !model.scaler) return "the model has no window or scaler";
  if (!history) return "the series is no longer available";
  if (!w.targets.every((n) => w.features.includes(n))) return "a target is not among the features, so its real values are not in the history";
  return null;
}

/** Yields once per origin; the last value is scores[origin][step][target]. */
export function* scoreOrigins(model: Model, history: SeriesHistory, steps = INTERVAL_STEPS): Generator<void, number[][][], void> {
  const w = model.window!;
  const h = w.horizon;
  // A direct model is calibrated on the steps it outputs; a recursive one on `steps` of recursion.
  const direct = w.direct === true;
  const K = direct ? stepsPerPass(model) : canRecurse(model) ? steps : 1;
  const need = historyLength(model);
  const n = history.rows.length;
  const targetAt = w.targets.map((name) => w.features.indexOf(name));
  const scores: number[][][] = [];
  // The first origin whose first forecast is a validation row.
  for (let o = Math.max(need - 1, history.boundary - (direct ? 1 : h)); o + (direct ? 1 : h) < n; o++) {
    const first = o + 1 - need;
    if (history.segmentStart && history.segmentStart[o] > first) continue;
    const rows = history.rows.slice(first, o + 1);
    const times = history.times ? history.times.slice(first, o + 1) : null;
    let values: number[][] | null = null;
    try {
      values = forecast(model, rows, { steps: K, times }).values;
    } catch {
      // One forecast that overflows (readings far outside training) leaves this origin unscored,
      // not the whole model without intervals.
    }
    const perStep: number[][] = [];
    for (let s = 0; s < K; s++) {
      const j = direct ? o + s + 1 : o + h * (s + 1);
      const known = values !== null && j < n && (!history.segmentStart || history.segmentStart[j] <= first);
      perStep.push(targetAt.map((f, i) => (known ? Math.abs(history.rows[j][f] - values![s][i]) : NaN)));
    }
    scores.push(perStep);
    yield;
  }
  return scores;
}

/** Intervals for a model from its validation part, computed at once (library use, benchmarks). */
export function calibrateOnValidation(model: Model, history: SeriesHistory, steps = INTERVAL_STEPS): IntervalsJSON | null {
  const it = scoreOrigins(model, history, steps);
  let r = it.next();
  while (!r.done) r = it.next();
  return calibrateIntervals(r.value, INTERVAL_LEVELS);
}

/**
 * The same in slices of about `sliceMs`, each on its own turn of the event loop; resolves null when
 * `cancelled()` turns true (a new run, a redeploy) or there is no validation origin.
 */
export function calibrateInSlices(model: Model, history: SeriesHistory, cancelled: () => boolean, sliceMs = 10, steps = INTERVAL_STEPS): Promise<IntervalsJSON | null> {
  const it = scoreOrigins(model, history, steps);
  return new Promise((resolve, reject) => {
    const slice = (): void => {
      try {
        if (cancelled()) return resolve(null);
        const end = Date.now() + sliceMs;
        let r = it.next();
        while (!r.done && Date.now() < end) r = it.next();
        if (r.done) return resolve(calibrateIntervals(r.value, INTERVAL_LEVELS));
        setImmediate(slice);
      } catch (e) {
        reject(e);
      }
    };
    setImmediate(slice);
  });
}

// ---------------------------------------------------------------------------------------------
// Off the calling thread.

/**
 * A model as the training workers get it (src/parallel/shared.ts): its layer specs and every
 * weight in one shared array, plus what forecasting reads besides. Not `model.toJSON()`: that
 * builds nested arrays of every weight, measured at 0.7–1.6 ms for 2 layers of 64 and 3–5 ms for
 * 2 of 128 on the calling thread; this is one copy of the weights (a memcpy).
 */
export interface ModelSnapshot {
  inputSize: number;
  specs: LayerSpec[];
  weights: SharedArrayBuffer;
  extras: Pick<ModelExtras, "scaler" | "window" | "transform" | "intervals">;
}

function snapshotModel(model: Model): ModelSnapshot {
  const specs = model.layers.map((l) => ({ ...l.spec }));
  const weights = new SharedArrayBuffer(parameterCount(specs) * Float64Array.BYTES_PER_ELEMENT);
  copyParameters(model, weights, "toShared");
  const { scaler, window, transform, intervals } = model;
  return { inputSize: model.inputSize, specs, weights, extras: { scaler, window, transform, intervals } };
}

/** The model a snapshot was taken of, its weights views into the snapshot's array. */
export function modelFromSnapshot(s: ModelSnapshot): Model {
  const model = modelOverSharedWeights(s.inputSize, s.specs, s.weights);
  model.scaler = s.extras.scaler ?? null;
  model.window = s.extras.window ?? null;
  model.transform = s.extras.transform ?? null;
  model.intervals = s.extras.intervals ?? null;
  return model;
}

/** Calling thread → calibration worker: everything in one message. */
export interface ToCalibrationWorker {
  model: ModelSnapshot;
  history: FlatHistory;
  steps: number;
}

/** How `calibrateOffThread` starts its worker (test hook: see OneShotHooks). */
export const calibrationWorkerHooks = oneShotHooks(path.join(__dirname, "calibrationWorker.js"));

export interface CalibrationJob {
  /**
   * `calibrateOnValidation`'s intervals, bit for bit, or null (no validation origin, or
   * cancelled). Rejects with the worker's error rebuilt (same kind, message and stack), or with an
   * Error naming the worker when its thread failed or stopped before answering.
   */
  promise: Promise<IntervalsJSON | null>;
  /**
   * Gives up: the worker is terminated and `promise` resolves null once its thread is gone (on the
   * fallback, at its next slice). Does nothing once `promise` has settled.
   */
  cancel(): void;
}

/**
 * `calibrateOnValidation` in a short-lived worker thread. The model's weights and the history's
 * outer arrays are copied during the call, so training the model or replacing rows afterwards
 * does not reach the result; the rows themselves are copied in slices of about SLICE_MS over the
 * next turns (before the worker starts), and must not be changed in place meanwhile.
 *
 * Runs `calibrateInSlices` on the calling thread instead (slices of SLICE_MS) when no worker can
 * be started, or when the history cannot be sent as flat numbers as it is (a row that is not the
 * window's features as numbers), so that the result is the same in every case.
 */
export function calibrateOffThread(model: Model, history: SeriesHistory, steps = INTERVAL_STEPS): CalibrationJob {
  let cancelled = false;
  let started: OneShot<IntervalsJSON | null> | null = null;
  const run = async (): Promise<IntervalsJSON | null> => {
    // In the call: the weights, and the history's outer arrays (rows added or replaced later are not read).
    const snapshot = snapshotModel(model);
    const own: SeriesHistory = { ...history, rows: history.rows.slice(), times: history.times ? history.times.slice() : null };
    const here = () => calibrateInSlices(modelFromSnapshot(snapshot), own, () => cancelled, SLICE_MS, steps);
    const width = model.window?.features.length;
    // Without a window there is no row width to flatten by; calibrateInSlices fails as calibrateOnValidation does.
    if (width === undefined) return here();
    // The copy, each slice on a turn of its own, comes before the worker: a history the worker
    // cannot be given, or a cancel meanwhile, then costs no thread. (Overlapping the copy with the
    // worker's start-up would save a few ms of a calibration that takes seconds.)
    await nextTurn();
    const flat = await flattenHistoryInSlices(own, width, () => !cancelled);
    if (cancelled) return null;
    // A row that is not the window's numbers: done here, as calibrateOnValidation would do it.
    if (!flat) return here();
    // Starting the worker (~0.5 ms, more for the process's first) is a step of its own too.
    await nextTurn();
    if (cancelled) return null;
    const worker = startOneShot<IntervalsJSON | null>(calibrationWorkerHooks, "the interval calibration worker");
    if (!worker) return here();
    started = worker;
    try {
      worker.post({ model: snapshot, history: flat, steps } satisfies ToCalibrationWorker, flatHistoryBuffers(flat));
    } catch {
      // Only a structured clone throws here, on something it refuses in the model's extras.
      await worker.stop();
      return here();
    }
    return worker.answer;
  };
  const promise = run();
  return {
    promise,
    cancel: () => {
      cancelled = true;
      void started?.stop();
    },
  };
}
