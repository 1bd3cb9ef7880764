/**
 * From a raw series to scaled training and validation windows in one call: what the sequence
 * node does with a "train" message, and what examples and tests use.
 */
import { WindowJSON } from "../types";
import { toTable } from "./rows";
import { Scaler, ScalerKind, SCALER_KINDS } from "./scaler";
import { RowSplit, splitRows } from "./split";
import { makeWindows, TargetMode, TARGET_MODES, Windows } from "./windows";

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

/**
 * Read, split, scale and window a series. The scaler is fitted on the training rows only and
 * the split follows `splitRows`, so no validation row reaches training in any form.
 */
export function prepareDataset(series: unknown, opts: PrepareOptions): PreparedDataset {
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

  // One scaled row per table row: features first, then targets, as the window cutter reads them.
  const F = featureCols.length;
  const O = targetCols.length;
  const scaled = rows.map((row) => [
    ...scaler.transformFeatures(featureCols.map((c) => row[c])),
    ...scaler.transformTargets(targetCols.map((c) => row[c])),
  ]);
  const windowOpts = {
    length,
    horizon,
    targetMode: mode,
    featureCols: Array.from({ length: F }, (_, i) => i),
    targetCols: Array.from({ length: O }, (_, i) => F + i),
  };

  const train = makeWindows(scaled.slice(split.train.start, split.train.end), windowOpts);
  let validation: Windows = { inputs: [], targets: [] };
  if (split.validation) {
    const start = split.validation.start;
    validation = makeWindows(scaled.slice(start, split.validation.end), windowOpts);
    if (mode === "every") {
      // Steps whose target is a training row would measure fit, not forecast: no loss there.
      validation.targets.forEach((steps, n) => {
        for (let t = 0; t < steps.length; t++) {
          if (start + n + t + horizon < split.boundary) steps[t] = null;
        }
      });
    }
  }

  return {
    columns,
    window: {
      length,
      horizon,
      features: featureCols.map((c) => columns[c]),
      targets: targetCols.map((c) => columns[c]),
    },
    scaler,
    split,
    train,
    validation,
  };
}
