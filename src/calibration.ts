/**
 * The validation forecasts that prediction intervals are calibrated on: from every origin of the
 * validation part, the model forecasts `steps` ahead through the one forecasting path
 * (`forecast`), and each absolute error is a conformal score. Origins are taken in time order and
 * no forecast looks back across a gap that was not filled.
 *
 * The work is a generator that yields after each origin, so the trainer node can run it in slices
 * between other flows' messages while a library user simply runs it to the end.
 */
import type { SeriesHistory } from "./data/prepare";
import { canRecurse, forecast, historyLength, stepsPerPass } from "./forecast";
import { calibrateIntervals, INTERVAL_LEVELS } from "./intervals";
import { Model } from "./model";
import { IntervalsJSON } from "./types";

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
