/**
 * From a raw series to scaled training and validation windows in one call: what the sequence
 * node does with a "train" message, and what examples and tests use.
 */
import { WindowJSON } from "../types";
import { toTable } from "./rows";
import { Scaler, ScalerKind, SCALER_KINDS } from "./scaler";
import { RowSplit, splitRows } from "./split";
import { cutWindow, makeWindows, TargetMode, TARGET_MODES, windowCount, Windows } from "./windows";

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
}

export interface PreparedDataset {
  /** Every column read from the series. */
  columns: string[];
  /** What the model file records about the windows. */
  window: WindowJSON;
  /** Fitted on the training rows only. */
  scaler: Scaler;
  /** Where the series was cut (row indices into the table). */
  split: RowSplit;
  /** Scaled windows; inputs N × length × F, targets N × length × O. */
  train: Windows;
  /** Scaled windows, empty arrays when validationSplit is 0. */
  validation: Windows;
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

/** A series read, split and scaled, windows not yet cut: what both ways of preparing share. */
interface ScaledSeries {
  columns: string[];
  window: WindowJSON;
  scaler: Scaler;
  split: RowSplit;
  /** One row per table row: the scaled features, then the scaled targets. */
  scaled: number[][];
  mode: TargetMode;
  featureCols: number[];
  targetCols: number[];
}

function scaleSeries(series: unknown, opts: PrepareOptions): ScaledSeries {
  const { length, horizon } = opts;
  const mode = opts.targetMode ?? "last";
  if (!Number.isInteger(length) || length < 1) throw new Error(`length must be an integer ≥ 1, got ${String(length)}`);
  if (!Number.isInteger(horizon) || horizon < 1) throw new Error(`horizon must be an integer ≥ 1, got ${String(horizon)}`);
  if (!TARGET_MODES.includes(mode)) throw new Error(`targetMode must be "last" or "every", got ${String(mode)}`);
  if (!SCALER_KINDS.includes(opts.scaling)) {
    throw new Error(`scaling must be "none", "minmax" or "zscore", got ${String(opts.scaling)}`);
  }

  const { columns, rows } = toTable(series, opts.fields);
  const featureCols = resolve(opts.features ?? columns, columns, "features");
  const targetCols = resolve(opts.targets ?? featureCols.map((c) => columns[c]), columns, "targets");
  const split = splitRows(rows.length, opts.validationSplit, length + horizon);
  const scaler = Scaler.fit(rows.slice(split.train.start, split.train.end), featureCols, targetCols, opts.scaling);

  const F = featureCols.length;
  const O = targetCols.length;
  const scaled = rows.map((row) => [
    ...scaler.transformFeatures(featureCols.map((c) => row[c])),
    ...scaler.transformTargets(targetCols.map((c) => row[c])),
  ]);
  return {
    columns,
    window: { length, horizon, features: featureCols.map((c) => columns[c]), targets: targetCols.map((c) => columns[c]) },
    scaler,
    split,
    scaled,
    mode,
    featureCols: Array.from({ length: F }, (_, i) => i),
    targetCols: Array.from({ length: O }, (_, i) => F + i),
  };
}

/**
 * In "every" mode the first validation windows start before the boundary: steps whose target is a
 * training row would measure fit, not forecast, so they get no loss.
 */
function maskTrainingTargets(s: ScaledSeries, n: number, target: (number[] | null)[]): void {
  if (s.mode !== "every") return;
  const start = s.split.validation ? s.split.validation.start : 0;
  for (let t = 0; t < target.length; t++) if (start + n + t + s.window.horizon < s.split.boundary) target[t] = null;
}

/**
 * Read, split, scale and window a series. The scaler is fitted on the training rows only and
 * the split follows `splitRows`, so no validation row reaches training in any form.
 */
export function prepareDataset(series: unknown, opts: PrepareOptions): PreparedDataset {
  const s = scaleSeries(series, opts);
  const { length, horizon } = s.window;
  const windowOpts = { length, horizon, targetMode: s.mode, featureCols: s.featureCols, targetCols: s.targetCols };
  const train = makeWindows(s.scaled.slice(s.split.train.start, s.split.train.end), windowOpts);
  let validation: Windows = { inputs: [], targets: [] };
  if (s.split.validation) {
    validation = makeWindows(s.scaled.slice(s.split.validation.start, s.split.validation.end), windowOpts);
    validation.targets.forEach((steps, n) => maskTrainingTargets(s, n, steps));
  }
  return { columns: s.columns, window: s.window, scaler: s.scaler, split: s.split, train, validation };
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

/**
 * Like `prepareDataset` (same split, same scaler, the same windows), but the windows are cut when
 * asked for: a training run then holds the scaled table, not every window of it at once, and
 * preparing a long series does not hold the event loop while thousands of windows are built.
 */
export function prepareSeries(series: unknown, opts: PrepareOptions): PreparedSeries {
  const s = scaleSeries(series, opts);
  const { length, horizon } = s.window;
  const part = (range: { start: number; end: number } | null, validation: boolean): LazyWindows => {
    if (!range) return { count: 0, at: () => { throw new Error("there are no validation windows"); } };
    const count = windowCount(range.end - range.start, length, horizon);
    return {
      count,
      at(n: number) {
        if (!Number.isInteger(n) || n < 0 || n >= count) throw new Error(`window ${String(n)} is out of range 0..${count - 1}`);
        const w = cutWindow(s.scaled, range.start + n, length, horizon, s.mode, s.featureCols, s.targetCols);
        if (validation) maskTrainingTargets(s, n, w.target);
        return w;
      },
    };
  };
  return { columns: s.columns, window: s.window, scaler: s.scaler, split: s.split, train: part(s.split.train, false), validation: part(s.split.validation, true) };
}
