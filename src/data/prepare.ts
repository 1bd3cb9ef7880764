/**
 * From a raw series to scaled training and validation windows in one call: what the sequence
 * node does with a "train" message, and what examples and tests use.
 *
 * The steps, each fitted on the training part only: times read off the rows (gaps filled or
 * split at), the season detected, the differencing chosen, the table differenced, split, scaled,
 * calendar features appended; and on the validation part, the naive rules' errors measured on
 * exactly the targets the model is validated on.
 */
import { CalendarFeature, Differencing, TransformJSON, WindowJSON } from "../types";
import { toTable } from "./rows";
import { Scaler, ScalerKind, SCALER_KINDS } from "./scaler";
import { detectSeason } from "./season";
import { RowSplit, splitRows, TooFewRowsError } from "./split";
import { autoCalendar, calendarValues, CALENDAR_FEATURES } from "./calendar";
import { checkTimes, fillGaps, GapPolicy, GAP_POLICIES, splitTimes } from "./time";
import { chooseDifferencing, DIFFERENCINGS, MAX_SEASON, transformRows, transformRowsDirect } from "./transform";
import { cutWindow, TargetMode, TARGET_MODES, Windows } from "./windows";
import { MAX_TENSOR_ELEMENTS } from "./batches";
import { Baselines, measureBaselines } from "./baselines";

export type { Baseline, Baselines } from "./baselines";

export interface PrepareOptions {
  /** Fields to read from object or array rows (see `toTable`); default: every numeric one. */
  fields?: string[];
  /** Columns fed to the network; default: every column. */
  features?: string[];
  /** Columns to forecast; default: the features. */
  targets?: string[];
  length: number;
  horizon: number;
  targetMode?: TargetMode;
  scaling: ScalerKind;
  /** Fraction of the series, at its end, kept for validation: 0 to 0.9. */
  validationSplit: number;
  /** Differencing, or "auto" to choose it on the training part (see `chooseDifferencing`). Default "none". */
  difference?: Differencing | "auto";
  /** Season length in rows, "auto" to detect it on the training part, or null/0 for none. Default null. */
  season?: number | "auto" | null;
  /** Where each row's time is: "none" (default), "auto", a field name of object rows, or "0" for [time, value…] rows. */
  timeField?: string;
  /** The rows' times given apart from the rows (ms), e.g. the msg.timestamp of buffered readings. */
  times?: ArrayLike<number> | null;
  /** Calendar features fed to the network (needs times), or "auto" to pick them from the time step. Default none. */
  calendar?: CalendarFeature[] | "auto";
  /**
   * Direct multi-step: the network forecasts every step 1…horizon at once (targets × horizon
   * outputs, step-major) instead of one step fed back recursively. Needs target mode "last".
   */
  direct?: boolean;
  /** What to do where readings are missing (a step more than 1.5× the usual): fill "linear" (default) or "previous", or "split" so no window spans a gap. */
  gaps?: GapPolicy;
}

/** What was chosen and found, for the user to read (the node's status and messages, the model file). */
export interface SeriesReport {
  difference: Differencing;
  differenceAuto: boolean;
  /** Mean squared h-step error of each candidate's naive rule on the training part (auto only). */
  differenceScores: Partial<Record<Differencing, number>> | null;
  /** With `auto`: the targets' largest KPSS statistic; above 0.347 the levels wander and are differenced. */
  differenceStationarity: number | null;
  season: number | null;
  seasonAuto: boolean;
  /** Autocorrelation at the detected season (auto only). */
  seasonStrength: number | null;
  calendar: CalendarFeature[];
  /** Usual time between rows, ms; null without times. */
  step: number | null;
  timeField: string | null;
  /** Gaps found in the times, and rows added by filling them. */
  gaps: number;
  filled: number;
  /** Rows read (after filling) and rows at the start used only as history for the differences. */
  rows: number;
  lead: number;
}

export interface PreparedDataset {
  /** Every column read from the series. */
  columns: string[];
  /** What the model file records about the windows. */
  window: WindowJSON;
  /** What the model file records about differencing, season and calendar. */
  transform: TransformJSON;
  /** Fitted on the training rows only. */
  scaler: Scaler;
  /** Where the transformed table was cut (row indices into it). */
  split: RowSplit;
  report: SeriesReport;
  /** Naive rules on the validation targets; null without a validation part. */
  baselines: Baselines | null;
  /** Scaled windows; inputs N × length × (F + calendar), targets N × length × O. */
  train: Windows;
  /** Scaled windows, empty arrays when validationSplit is 0. */
  validation: Windows;
  /** The rows in real units, for forecasting over the validation part (interval calibration). */
  history: SeriesHistory;
}

function resolve(names: unknown, columns: string[], what: string): number[] {
  if (!Array.isArray(names) || names.length === 0) throw new Error(`${what} must be a non-empty array of column names`);
  const seen = new Set<string>();
  return names.map((name) => {
    const i = typeof name === "string" ? columns.indexOf(name) : -1;
    if (i < 0) throw new Error(`${what}: unknown column ${JSON.stringify(name)} (columns: ${columns.join(", ")})`);
    if (seen.has(name as string)) throw new Error(`${what}: column ${JSON.stringify(name)} is listed twice`);
    seen.add(name as string);
    return i;
  });
}

/** Real-unit history, for forecasts over the validation part (interval calibration). */
export interface SeriesHistory {
  /** The feature columns of every row (after gap filling), window.features order, real units. */
  rows: number[][];
  /** Each row's time, or null. */
  times: number[] | null;
  /** First row whose value is a validation target: forecasts from origins ≥ boundary − 1 are out of sample. */
  boundary: number;
  /** Rows after a gap that was not filled: no forecast may look back across one. */
  segmentStart: Int32Array | null;
}

/** A series read, transformed, split and scaled, windows not yet cut: what both ways of preparing share. */
interface ScaledSeries {
  columns: string[];
  window: WindowJSON;
  transform: TransformJSON;
  scaler: Scaler;
  split: RowSplit;
  report: SeriesReport;
  baselines: Baselines | null;
  history: SeriesHistory;
  /** One row per transformed row: the scaled features, the calendar inputs, then the scaled target residuals. */
  scaled: number[][];
  mode: TargetMode;
  featureCols: number[];
  targetCols: number[];
  /** Window starts (transformed row indices) of each part: windows that would span a gap are left out. */
  trainStarts: number[];
  validationStarts: number[];
}

/** Candidate season lengths implied by the time step, so a daily series is not read as having a 9-day cycle. */
function seasonCandidates(step: number | null): number[] | undefined {
  if (step === null) return undefined;
  const hour = 3_600_000;
  const day = 24 * hour;
  const near = (x: number, unit: number) => Math.abs(x - unit) <= 0.02 * unit;
  if (near(step, hour)) return [24, 168];
  if (near(step, 30 * 60_000)) return [48, 336];
  if (near(step, 15 * 60_000)) return [96, 672];
  if (near(step, day)) return [7, 365];
  if (near(step, 7 * day)) return [52];
  if (step >= 28 * day && step <= 31 * day) return [12];
  return undefined;
}

function seasonOption(v: unknown): number | "auto" | null {
  if (v === undefined || v === null || v === 0 || v === "none") return null;
  if (v === "auto") return "auto";
  if (typeof v === "number" && Number.isInteger(v) && v >= 2 && v <= MAX_SEASON) return v;
  throw new Error(`season must be "auto", 0 (none) or a whole number of rows from 2 to ${MAX_SEASON}, got ${JSON.stringify(v)}`);
}

/** Marks every row with the first row of its segment (the run of rows since the last unfilled gap). */
function segmentStarts(n: number, gapRows: number[]): Int32Array {
  const out = new Int32Array(n);
  let start = 0;
  let g = 0;
  for (let r = 0; r < n; r++) {
    if (g < gapRows.length && gapRows[g] === r) {
      start = r;
      g++;
    }
    out[r] = start;
  }
  return out;
}

function scaleSeries(series: unknown, opts: PrepareOptions): ScaledSeries {
  const { length, horizon } = opts;
  const mode = opts.targetMode ?? "last";
  if (!Number.isInteger(length) || length < 1) throw new Error(`length must be an integer ≥ 1, got ${String(length)}`);
  if (!Number.isInteger(horizon) || horizon < 1) throw new Error(`horizon must be an integer ≥ 1, got ${String(horizon)}`);
  if (!TARGET_MODES.includes(mode)) throw new Error(`targetMode must be "last" or "every", got ${String(mode)}`);
  const direct = opts.direct === true;
  if (direct && mode !== "last") throw new Error('direct multi-step forecasting gives the last step of each window every step ahead: it needs target mode "last"');
  if (!SCALER_KINDS.includes(opts.scaling)) {
    throw new Error(`scaling must be "none", "minmax" or "zscore", got ${String(opts.scaling)}`);
  }
  const differenceOpt = opts.difference ?? "none";
  if (differenceOpt !== "auto" && !DIFFERENCINGS.includes(differenceOpt)) {
    throw new Error(`difference must be "auto", ${DIFFERENCINGS.map((d) => `"${d}"`).join(", ")}, got ${JSON.stringify(differenceOpt)}`);
  }
  const seasonOpt = seasonOption(opts.season);
  const gapPolicy = opts.gaps ?? "linear";
  if (!GAP_POLICIES.includes(gapPolicy)) throw new Error(`gaps must be one of ${GAP_POLICIES.join(", ")}, got ${JSON.stringify(gapPolicy)}`);
  const calendarOpt = opts.calendar ?? [];
  if (calendarOpt !== "auto" && (!Array.isArray(calendarOpt) || !calendarOpt.every((c) => CALENDAR_FEATURES.includes(c)))) {
    throw new Error(`calendar must be "auto" or a list of ${CALENDAR_FEATURES.join(", ")}, got ${JSON.stringify(calendarOpt)}`);
  }

  // Times first: they come out of the rows before the rows become a numeric table.
  if (!Array.isArray(series)) throw new Error("series must be an array");
  const timeField = opts.timeField ?? "none";
  let times: number[] | null = null;
  let values: unknown[] = series;
  let field: string | null = null;
  if (opts.times) {
    times = Array.from(opts.times, Number);
    if (times.length !== series.length) throw new Error(`${times.length} times were given for ${series.length} rows`);
  } else if (timeField !== "none") {
    const split = splitTimes(series, timeField);
    times = split.times;
    values = split.values;
    field = split.field;
    if (timeField !== "auto" && !times) throw new Error(`time field ${JSON.stringify(timeField)}: the rows carry no such time`);
  }
  const table = toTable(values, opts.fields);
  const columns = table.columns;
  let rows = table.rows;
  let step: number | null = null;
  let gapCount = 0;
  let filled = 0;
  let gapRows: number[] = [];
  if (times) {
    const axis = checkTimes(times);
    step = axis.step;
    gapCount = axis.gaps.length;
    if (axis.gaps.length > 0) {
      if (gapPolicy === "split") gapRows = axis.gaps.map((g) => g.row);
      else {
        // A line drawn to the first reading after a gap is made of that reading: where it may be a
        // validation reading, the gap is filled with the previous value instead, so nothing of the
        // validation part reaches a training row. The boundary after filling is at least this row.
        const total = axis.gaps.reduce((sum, g) => sum + g.missing, 0);
        const filledRows = rows.length + total;
        const earliestValidation = opts.validationSplit > 0 ? filledRows - Math.max(1, Math.floor(filledRows * opts.validationSplit)) : Infinity;
        let before = 0;
        const late = new Set<number>();
        for (const g of axis.gaps) {
          before += g.missing;
          if (gapPolicy === "linear" && g.row + before >= earliestValidation) late.add(g.row);
        }
        const f = fillGaps(times, rows, axis.step, axis.gaps.filter((g) => !late.has(g.row)), gapPolicy);
        times = f.times;
        rows = f.rows;
        filled = f.filled;
        if (late.size) {
          const rest = checkTimes(times);
          const g = fillGaps(times, rows, rest.step, rest.gaps, "previous");
          times = g.times;
          rows = g.rows;
          filled += g.filled;
        }
      }
    }
  }
  const n = rows.length;
  const segmentStart = gapRows.length ? segmentStarts(n, gapRows) : null;

  const featureCols = resolve(opts.features ?? columns, columns, "features");
  const targetCols = resolve(opts.targets ?? featureCols.map((c) => columns[c]), columns, "targets");
  const targetsAreFeatures = targetCols.every((c) => featureCols.includes(c));

  // The choices below read rows that are training rows whatever the transform turns out to be:
  // the boundary computed on the whole series is never later than the final one.
  const frac = opts.validationSplit;
  const preliminaryEnd = frac > 0 ? n - Math.max(1, Math.floor(n * frac)) : n;
  const training = rows.slice(0, Math.max(0, preliminaryEnd));

  let season: number | null = null;
  let seasonStrength: number | null = null;
  if (seasonOpt === "auto") {
    if (training.length >= 8) {
      const found = detectSeason(training.map((r) => r[targetCols[0]]), { candidates: seasonCandidates(step) });
      season = found.season;
      seasonStrength = found.strength;
    }
  } else if (seasonOpt !== null) {
    if (2 * seasonOpt > training.length) {
      throw new TooFewRowsError(`season ${seasonOpt}: the training part has ${training.length} rows, too few to hold two seasons of ${seasonOpt} (set a shorter season or send a longer series)`, Math.ceil(2 * seasonOpt / Math.max(0.1, 1 - frac)));
    }
    season = seasonOpt;
  }

  let difference: Differencing = "none";
  let differenceScores: Partial<Record<Differencing, number>> | null = null;
  let differenceStationarity: number | null = null;
  if (differenceOpt === "auto") {
    // A target that is not a feature has no history at forecast time: its naive rule cannot be run.
    if (targetsAreFeatures && training.length >= 16) {
      const choice = chooseDifferencing(training, targetCols, horizon, season);
      difference = choice.difference;
      differenceScores = choice.scores;
      differenceStationarity = choice.stationarity;
    }
  } else {
    difference = differenceOpt;
    if (difference !== "none" && !targetsAreFeatures) throw new Error(`difference "${difference}": every target must also be a feature, since the forecast adds back the naive rule of the target's own history`);
    if ((difference === "seasonal" || difference === "both") && season === null) {
      throw new Error(`difference "${difference}" needs a season: set season to its length in rows${seasonOpt === "auto" ? " (none was detected in the training part)" : ""}`);
    }
  }

  let calendar: CalendarFeature[] = [];
  if (calendarOpt === "auto") {
    // Judged on the training part's span, like every other choice.
    if (times && step !== null && preliminaryEnd >= 2) calendar = autoCalendar(step, times[preliminaryEnd - 1] - times[0]);
  } else if (calendarOpt.length > 0) {
    if (!times) throw new Error("calendar features need the time of each reading: set the time field (or send msg.timestamp with each reading)");
    calendar = CALENDAR_FEATURES.filter((c) => calendarOpt.includes(c));
  }
  const transform: TransformJSON = { difference, season, calendar, step };

  // The table holds the features, the calendar and a target per output for every row; a direct
  // horizon multiplies the outputs, so the size is checked before anything is built.
  const tableValues = n * (featureCols.length + 2 * calendar.length + targetCols.length * (direct ? horizon : 1));
  if (tableValues > MAX_TENSOR_ELEMENTS) {
    throw new Error(`${n} rows of ${tableValues / n} values would make a table of ${tableValues} numbers, at most ${MAX_TENSOR_ELEMENTS} allowed: send fewer rows${direct ? " or choose a shorter direct horizon" : ""}`);
  }
  const { rows: diffed, lead } = direct ? transformRowsDirect(rows, featureCols, targetCols, transform, horizon) : transformRows(rows, featureCols, targetCols, transform, horizon);
  let split: RowSplit;
  try {
    split = splitRows(diffed.length, frac, length + horizon);
  } catch (e) {
    if (lead === 0 || !(e instanceof TooFewRowsError)) throw e;
    // Counted in readings, as the user sends them: the rows the differences use as history come on top.
    const needed = e.needed + lead;
    throw new TooFewRowsError(
      `${rows.length} rows are too few: after "${difference}" differencing, whose first ${lead} rows serve only as history, a window spans ${length + horizon} rows` +
        (frac > 0 ? " and a part is kept for validation" : "") +
        `, so at least ${needed} rows are needed (or choose difference "none")`,
      needed,
    );
  }
  // Direct targets sit on their origin row and reach `horizon` rows ahead: the last training rows'
  // targets are validation readings, so the scaler is fitted on the rows before them.
  const fitRows = diffed.slice(split.train.start, split.train.end - (direct ? horizon : 0));
  const outputs = targetCols.length * (direct ? horizon : 1);
  const scaler = Scaler.fit(fitRows, featureCols.map((_, i) => i), Array.from({ length: outputs }, (_, i) => featureCols.length + i), opts.scaling);

  const F = featureCols.length;
  const O = outputs;
  const C = calendar.length * 2;
  const scaled = diffed.map((row, i) => {
    const out = scaler.transformFeatures(row.slice(0, F));
    if (C) out.push(...calendarValues(times![i + lead], calendar));
    // Steps past the end of the series (NaN) are never a window's target; 0 keeps the table finite.
    out.push(...scaler.transformTargets(row.slice(F)).map((v) => (Number.isNaN(v) ? 0 : v)));
    return out;
  });

  // Window starts: a window reads rows [n, n + span) of the transformed table, and through the
  // differences original rows back to n; all of them must lie in one segment.
  const span = length + horizon;
  const fits = (start: number) => !segmentStart || segmentStart[start + lead + span - 1] <= start;
  const starts = (from: number, to: number): number[] => {
    const out: number[] = [];
    for (let i = from; i <= to; i++) if (fits(i)) out.push(i);
    return out;
  };
  const trainStarts = starts(split.train.start, split.train.end - span);
  const validationStarts = split.validation ? starts(split.validation.start, split.validation.end - span) : [];
  if (trainStarts.length === 0) throw new TooFewRowsError(`no training window of ${span} rows fits between the gaps of the series (use gaps "linear" or "previous", or a shorter window)`, n + span);

  const window: WindowJSON = { length, horizon, features: featureCols.map((c) => columns[c]), targets: targetCols.map((c) => columns[c]) };
  if (direct) window.direct = true;
  const s: ScaledSeries = {
    columns,
    window,
    transform,
    scaler,
    split,
    report: {
      difference,
      differenceAuto: differenceOpt === "auto",
      differenceScores,
      differenceStationarity,
      season,
      seasonAuto: seasonOpt === "auto",
      seasonStrength,
      calendar,
      step,
      timeField: field ?? (opts.times ? "msg.timestamp" : null),
      gaps: gapCount,
      filled,
      rows: n,
      lead,
    },
    baselines: null,
    history: { rows: rows.map((r) => featureCols.map((c) => r[c])), times, boundary: split.boundary + lead, segmentStart },
    scaled,
    mode,
    featureCols: Array.from({ length: F + C }, (_, i) => i),
    targetCols: Array.from({ length: O }, (_, i) => F + C + i),
    trainStarts,
    validationStarts,
  };
  s.baselines = split.validation
    ? measureBaselines(rows, targetCols, { window, mode, lead, season, boundary: split.boundary, validationStarts, segmentStart })
    : null;
  return s;
}


/**
 * In "every" mode the first validation windows start before the boundary: steps whose target is a
 * training row would measure fit, not forecast, so they get no loss.
 */
function maskTrainingTargets(s: ScaledSeries, start: number, target: (number[] | null)[]): void {
  if (s.window.direct) {
    // The first validation windows' early steps ahead are training rows: no loss there either.
    const last = target.length - 1;
    const step = target[last];
    const O = s.window.targets.length;
    if (!step) return;
    const masked: (number | null)[] = step.slice();
    for (let h = 1; h <= s.window.horizon; h++) if (start + last + h < s.split.boundary) for (let o = 0; o < O; o++) masked[(h - 1) * O + o] = null;
    target[last] = masked as number[];
    return;
  }
  if (s.mode !== "every") return;
  for (let t = 0; t < target.length; t++) if (start + t + s.window.horizon < s.split.boundary) target[t] = null;
}

/** Windows cut on demand: `count` of them, window n built fresh by `at(n)`. */
export interface LazyWindows {
  count: number;
  at(n: number): { input: number[][]; target: (number[] | null)[] };
}

export interface PreparedSeries extends Omit<PreparedDataset, "train" | "validation"> {
  train: LazyWindows;
  validation: LazyWindows;
}

function lazyParts(s: ScaledSeries): { train: LazyWindows; validation: LazyWindows } {
  const { length, horizon } = s.window;
  const part = (starts: number[], validation: boolean): LazyWindows => {
    const count = starts.length;
    return {
      count,
      at(n: number) {
        if (count === 0) throw new Error(validation ? "there are no validation windows" : "there are no training windows");
        if (!Number.isInteger(n) || n < 0 || n >= count) throw new Error(`window ${String(n)} is out of range 0..${count - 1}`);
        // Direct targets sit on the window's last row (its origin), not `horizon` rows after it.
        const w = cutWindow(s.scaled, starts[n], length, s.window.direct ? 0 : horizon, s.mode, s.featureCols, s.targetCols);
        if (validation) maskTrainingTargets(s, starts[n], w.target);
        return w;
      },
    };
  };
  return { train: part(s.trainStarts, false), validation: part(s.validationStarts, true) };
}

function summary(s: ScaledSeries): Omit<PreparedDataset, "train" | "validation"> {
  return { columns: s.columns, window: s.window, transform: s.transform, scaler: s.scaler, split: s.split, report: s.report, baselines: s.baselines, history: s.history };
}

/**
 * Read, split, scale and window a series. The scaler, the season and the differencing are fitted
 * on the training rows only and the split follows `splitRows`, so no validation row reaches
 * training in any form.
 */
export function prepareDataset(series: unknown, opts: PrepareOptions): PreparedDataset {
  const s = scaleSeries(series, opts);
  const parts = lazyParts(s);
  const stepsWithTarget = s.mode === "every" ? s.window.length : 1;
  const windows = parts.train.count + parts.validation.count;
  const total = windows * s.window.length * s.featureCols.length + windows * stepsWithTarget * s.targetCols.length;
  if (total > MAX_TENSOR_ELEMENTS) {
    throw new Error(`${windows} windows of ${s.window.length} steps would hold ${total} numbers, at most ${MAX_TENSOR_ELEMENTS} allowed`);
  }
  const materialise = (w: LazyWindows): Windows => {
    const out: Windows = { inputs: new Array(w.count), targets: new Array(w.count) };
    for (let n = 0; n < w.count; n++) {
      const one = w.at(n);
      out.inputs[n] = one.input;
      out.targets[n] = one.target;
    }
    return out;
  };
  return { ...summary(s), train: materialise(parts.train), validation: materialise(parts.validation) };
}

/**
 * Like `prepareDataset` (same split, same scaler, the same windows), but the windows are cut when
 * asked for: a training run then holds the scaled table, not every window of it at once, and
 * preparing a long series does not hold the event loop while thousands of windows are built.
 */
export function prepareSeries(series: unknown, opts: PrepareOptions): PreparedSeries {
  const s = scaleSeries(series, opts);
  return { ...summary(s), ...lazyParts(s) };
}
