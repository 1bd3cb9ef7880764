/**
 * Sliding windows over a table: each window is one training sequence for the RNN.
 */
import { MAX_TENSOR_ELEMENTS } from "./batches";

export type TargetMode = "last" | "every";
export const TARGET_MODES: readonly TargetMode[] = ["last", "every"];

export interface WindowOptions {
  /** Time steps per window (T). */
  length: number;
  /** How many rows ahead of an input step its target lies (1 = next row). */
  horizon: number;
  /** Table columns fed to the network at each step (F of them). */
  featureCols: number[];
  /** Table columns to forecast (O of them). */
  targetCols: number[];
  /** "last" (default): only the last step has a target; "every": every step has one. */
  targetMode?: TargetMode;
}

export interface Windows {
  /** N × length × F */
  inputs: number[][][];
  /** N × length × O; `null` steps carry no loss. */
  targets: (number[] | null)[][];
}

function checkInt(value: unknown, name: string, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

function checkCols(cols: unknown, width: number, name: string): number[] {
  if (!Array.isArray(cols) || cols.length === 0) throw new Error(`${name} must be a non-empty array of column indices`);
  cols.forEach((c, i) => {
    if (typeof c !== "number" || !Number.isInteger(c) || c < 0 || c >= width) {
      throw new Error(`${name}[${i}]: ${String(c)} is not a column index in 0..${width - 1}`);
    }
  });
  return cols as number[];
}

/** Rows needed to make at least one window. */
export function rowsNeeded(length: number, horizon: number): number {
  return length + horizon;
}

/** How many windows a table of `rowCount` rows gives (0 when too short). */
export function windowCount(rowCount: number, length: number, horizon: number): number {
  return Math.max(0, rowCount - length - horizon + 1);
}

/**
 * Cut a table into windows. Window n reads rows [n, n+length). Its targets:
 * * "last": the last step's target is row n+length−1+horizon; earlier steps are `null`;
 * * "every": step t's target is row n+t+horizon.
 * Either way the furthest row a window touches is n+length−1+horizon, so there are
 * rows − length − horizon + 1 windows. Every window gets its own arrays (none are shared),
 * so scaling or editing one never changes another.
 */
export function makeWindows(rows: number[][], opts: WindowOptions): Windows {
  const length = checkInt(opts.length, "length", 1);
  const horizon = checkInt(opts.horizon, "horizon", 1);
  const mode = opts.targetMode ?? "last";
  if (!TARGET_MODES.includes(mode)) throw new Error(`targetMode must be "last" or "every", got ${String(mode)}`);
  if (!Array.isArray(rows) || rows.length === 0) throw new Error("rows must be a non-empty array of rows");
  if (!Array.isArray(rows[0])) throw new Error("rows[0]: expected an array of numbers");
  const width = rows[0].length;
  const featureCols = checkCols(opts.featureCols, width, "featureCols");
  const targetCols = checkCols(opts.targetCols, width, "targetCols");

  const N = windowCount(rows.length, length, horizon);
  if (N < 1) {
    throw new Error(
      `a window of length ${length} with horizon ${horizon} needs at least ${rowsNeeded(length, horizon)} rows, got ${rows.length}`,
    );
  }
  const F = featureCols.length;
  const O = targetCols.length;
  const stepsWithTarget = mode === "every" ? length : 1;
  const total = N * length * F + N * stepsWithTarget * O;
  if (total > MAX_TENSOR_ELEMENTS) {
    throw new Error(`${N} windows of ${length} steps would hold ${total} numbers, at most ${MAX_TENSOR_ELEMENTS} allowed`);
  }
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (!Array.isArray(row) || row.length !== width) {
      throw new Error(`rows[${r}]: expected ${width} values, got ${Array.isArray(row) ? row.length : String(row)}`);
    }
  }

  const inputs: number[][][] = new Array(N);
  const targets: (number[] | null)[][] = new Array(N);
  for (let n = 0; n < N; n++) {
    const w = cutWindow(rows, n, length, horizon, mode, featureCols, targetCols);
    inputs[n] = w.input;
    targets[n] = w.target;
  }
  return { inputs, targets };
}

/**
 * Window n of a table whose rows are already checked (the rule of `makeWindows`): fresh arrays,
 * so a window can be cut when a batch needs it instead of all of them up front.
 */
export function cutWindow(rows: number[][], n: number, length: number, horizon: number, mode: TargetMode, featureCols: number[], targetCols: number[]): { input: number[][]; target: (number[] | null)[] } {
  const pick = (r: number, cols: number[]): number[] => {
    const row = rows[r];
    const out = new Array<number>(cols.length);
    for (let i = 0; i < cols.length; i++) out[i] = row[cols[i]];
    return out;
  };
  const input: number[][] = new Array(length);
  const target: (number[] | null)[] = new Array(length);
  for (let t = 0; t < length; t++) {
    input[t] = pick(n + t, featureCols);
    target[t] = mode === "every" || t === length - 1 ? pick(n + t + horizon, targetCols) : null;
  }
  return { input, target };
}
