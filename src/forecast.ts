/**
 * The one forecasting path: from readings in real units to forecasts in real units, k steps
 * ahead, with prediction intervals. The rnn predictor node, the trainer's interval calibration,
 * the benchmarks and library users all call `forecast`; nothing else inverts a transform.
 *
 * Per step: difference the last `length` rows of the history (src/data/transform.ts), scale them,
 * append the calendar features of each row's time, run the network (`Forecaster`), unscale its
 * output (a residual of the naive rule) and add the naive rule's forecast back. Recursive
 * forecasting then appends that forecast to the history as the next row — with the calendar of the
 * next time, not a frozen copy — and repeats.
 */
import { calendarValues } from "./data/calendar";
import { differencedWindow, naiveBase, transformLead } from "./data/transform";
import { Forecaster } from "./inference";
import { halfWidthAt } from "./intervals";
import { Model } from "./model";
import { TransformJSON } from "./types";

const NO_TRANSFORM: TransformJSON = { difference: "none", season: null, calendar: [], step: null };

export interface ForecastOptions {
  /** Steps ahead (1 = the model's horizon only). More than one needs horizon 1 and every target among the features. */
  steps?: number;
  /** Time (ms) of each history row, oldest first; needed by models with calendar features. */
  times?: ArrayLike<number> | null;
  /** Interval level, one of the levels stored in the model (nearest is used); default 0.9. */
  level?: number;
}

export interface ForecastResult {
  /** values[step][target], real units. */
  values: number[][];
  /** Bounds of the prediction interval, same shape; null when the model has no intervals. */
  lower: number[][] | null;
  upper: number[][] | null;
  /** The level the bounds are for. */
  level: number | null;
  /** Time of each forecast step when the history had times and the model knows its step; null otherwise. */
  times: number[] | null;
}

/** Forecasters are reused per model: each holds its buffers, so a forecast allocates little. */
const forecasters = new WeakMap<Model, Forecaster>();

function transformOf(model: Model): TransformJSON {
  return model.transform ?? NO_TRANSFORM;
}

/** Rows of history a forecast needs: one window, plus what the differences look back. */
export function historyLength(model: Model): number {
  if (!model.window) throw new Error("the model has no window information, so it cannot forecast from readings");
  return model.window.length + transformLead(transformOf(model), model.window.horizon);
}

/** Whether the model can forecast several steps by feeding its forecasts back in. */
export function canRecurse(model: Model): boolean {
  const w = model.window;
  return !!w && !w.direct && w.horizon === 1 && w.targets.every((n) => w.features.includes(n));
}

/** Steps a model forecasts in one pass: 1, or every step up to the horizon for a direct model. */
export function stepsPerPass(model: Model): number {
  return model.window?.direct ? model.window.horizon : 1;
}

/**
 * Forecasts from `history` (rows of the model's features in real units, in `window.features`
 * order, oldest first; at least `historyLength(model)` of them).
 */
export function forecast(model: Model, history: ArrayLike<ArrayLike<number>>, options: ForecastOptions = {}): ForecastResult {
  const w = model.window;
  const scaler = model.scaler;
  if (!w || !scaler) throw new Error("the model has no window or scaler information, so it cannot forecast from readings");
  const tr = transformOf(model);
  const direct = w.direct === true;
  const steps = options.steps ?? (direct ? w.horizon : 1);
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be an integer ≥ 1, got ${String(steps)}`);
  if (direct && steps > w.horizon) throw new Error(`this model forecasts ${w.horizon} steps at once (direct); ${steps} were asked for`);
  if (!direct && steps > 1 && !canRecurse(model)) {
    throw new Error("forecasting several steps feeds each forecast back as the next reading: that needs a model trained with horizon 1 whose targets are all among its features");
  }
  const T = w.length;
  const F = w.features.length;
  const C = tr.calendar.length * 2;
  const needed = historyLength(model);
  if (history.length < needed) {
    throw new Error(`a forecast needs the last ${needed} readings${needed > T ? ` (a window of ${T} and ${needed - T} more for the differences)` : ""}, got ${history.length}`);
  }
  const times = options.times ?? null;
  if (C > 0) {
    if (!times || times.length !== history.length) throw new Error("this model uses calendar features: every reading needs its time");
    if (tr.step === null) throw new Error("the model's transform has calendar features but no time step");
  }
  // Only what the differences and the window reach is kept, as rows the recursion can extend.
  const rows: number[][] = [];
  for (let r = history.length - needed; r < history.length; r++) {
    const src = history[r];
    if (!src || src.length !== F) throw new Error(`reading ${r}: expected ${F} values (${w.features.join(", ")}), got ${src ? src.length : String(src)}`);
    const row = new Array<number>(F);
    for (let f = 0; f < F; f++) {
      const v = src[f];
      if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`reading ${r}, ${w.features[f]}: ${String(v)} is not a finite number`);
      row[f] = v;
    }
    rows.push(row);
  }
  const rowTimes: number[] | null = times ? Array.from({ length: needed }, (_, i) => Number(times[times.length - needed + i])) : null;
  if (rowTimes && !rowTimes.every((v) => Number.isFinite(v))) throw new Error("the times of the readings must be finite numbers (ms)");

  let forecaster = forecasters.get(model);
  if (!forecaster) {
    forecaster = new Forecaster(model);
    forecasters.set(model, forecaster);
  }
  const stride = F + C;
  if (model.inputSize !== stride) throw new Error(`the model takes ${model.inputSize} inputs per step but its window and calendar give ${stride}`);
  const x = new Float64Array(T * stride);
  const fOff = scaler.features.offset, fScale = scaler.features.scale;
  const tOff = scaler.targets.offset, tScale = scaler.targets.scale;
  const targetAt = w.targets.map((name) => w.features.indexOf(name));
  const O = w.targets.length;
  if (tr.difference !== "none" && targetAt.some((f) => f < 0)) throw new Error("a differenced model forecasts its own features: every target must be a feature");
  const level = options.level ?? 0.9;
  const values: number[][] = [];
  const lower: number[][] | null = model.intervals ? [] : null;
  const upper: number[][] | null = model.intervals ? [] : null;
  // Future times need the model's time step: without one there is nothing to add to the last time.
  const outTimes: number[] | null = rowTimes && tr.step !== null ? [] : null;
  let usedLevel: number | null = null;

  for (let s = 0; s < (direct ? 1 : steps); s++) {
    differencedWindow(rows, T, F, tr, x, stride);
    for (let t = 0; t < T; t++) {
      const at = t * stride;
      for (let f = 0; f < F; f++) x[at + f] = (x[at + f] - fOff[f]) / fScale[f];
      if (C > 0) {
        const cal = calendarValues(rowTimes![rows.length - T + t], tr.calendar);
        for (let c = 0; c < C; c++) x[at + F + c] = cal[c];
      }
    }
    const out = forecaster.run(x, T);
    const last = rows.length - 1;
    // One pass gives one step (recursive) or every step 1…horizon, step-major (direct).
    const passSteps = direct ? steps : 1;
    for (let k = 0; k < passSteps; k++) {
      const ahead = direct ? k + 1 : w.horizon;
      const y = Array.from({ length: O }, (_, o) => {
        const i = k * O + o;
        return out[i] * tScale[i] + tOff[i] + (tr.difference === "none" ? 0 : naiveBase(rows, last, targetAt[o], ahead, tr));
      });
      // Readings far outside the training range can overflow the network; a NaN forecast would reach
      // dashboards as null and poison error statistics downstream.
      if (!y.every((v) => Number.isFinite(v))) {
        throw new Error("the forecast overflowed to a non-finite value: the readings are far outside what the model was trained on");
      }
      values.push(y);
      const stepIndex = direct ? k : s;
      if (model.intervals && lower && upper) {
        const hw = halfWidthAt(model.intervals, level, stepIndex);
        usedLevel = hw.level;
        lower.push(y.map((v, o) => v - hw.width[o]));
        upper.push(y.map((v, o) => v + hw.width[o]));
      }
      if (outTimes && rowTimes && tr.step !== null) outTimes.push(rowTimes[rowTimes.length - 1] + tr.step * (direct ? k + 1 : w.horizon));
    }
    const y = values[values.length - 1];
    const nextTime = rowTimes && tr.step !== null ? rowTimes[rowTimes.length - 1] + tr.step * w.horizon : null;
    if (!direct && s + 1 < steps) {
      // The forecast becomes the next reading; features that are not forecast keep their last value.
      const next = rows[last].slice();
      targetAt.forEach((f, o) => (next[f] = y[o]));
      rows.push(next);
      rows.shift();
      if (rowTimes && nextTime !== null) {
        rowTimes.push(nextTime);
        rowTimes.shift();
      }
    }
  }
  return { values, lower, upper, level: usedLevel, times: outTimes };
}
