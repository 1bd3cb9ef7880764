/**
 * Prediction intervals by split conformal prediction: the network is trained on the training
 * part, its absolute forecast errors on the validation part (never trained on) are the
 * calibration scores, and the interval at level α is the forecast ± the ⌈(n + 1) α⌉-th smallest
 * score. When the errors are exchangeable this covers the truth with probability at least α,
 * whatever the network; a time series only approximates that, so the coverage actually reached is
 * measured (calibrate on the earlier half of the origins, count hits on the later half) and stored
 * beside the widths. Each step ahead gets its own widths: errors grow with the horizon.
 */
import { IntervalsJSON } from "./types";

/** Levels stored in every model file; a predictor picks one of them. */
export const INTERVAL_LEVELS: readonly number[] = [0.5, 0.8, 0.9, 0.95, 0.99];

/** Fewer scores than this in one half and no coverage is reported: it would be noise. */
const MIN_COVERAGE_ORIGINS = 10;
/**
 * Scores a step needs to get widths of its own. A step the validation part hardly reached (a
 * short validation part, many steps ahead) would otherwise get the width of one lucky error, or
 * none; such steps are left out, and later steps use the last calibrated width.
 */
export const MIN_SCORES_PER_STEP = 10;

/**
 * The split-conformal half-width: the ⌈(n + 1) α⌉-th smallest of n scores. With too few scores
 * for that rank (n < α / (1 − α)) the largest one is used: the guarantee is lost, which the
 * reported coverage then shows. Non-finite scores (no truth to compare with) are ignored.
 */
export function conformalHalfWidth(scores: ArrayLike<number>, level: number): number {
  return rankValue(finiteSorted(scores, 0, scores.length), level);
}

/** The finite scores among scores[from..to), ascending. */
function finiteSorted(scores: ArrayLike<number>, from: number, to: number): Float64Array {
  const out = new Float64Array(Math.max(0, to - from));
  let n = 0;
  for (let i = from; i < to; i++) if (Number.isFinite(scores[i])) out[n++] = scores[i];
  return out.subarray(0, n).sort();
}

/** The split-conformal rank of a sorted set: the ⌈(n + 1) α⌉-th smallest, or the largest. */
function rankValue(sorted: Float64Array, level: number): number {
  if (!(level > 0 && level < 1)) throw new Error(`an interval level is between 0 and 1, got ${String(level)}`);
  const n = sorted.length;
  if (n === 0) return NaN;
  return sorted[Math.min(n, Math.ceil((n + 1) * level)) - 1];
}

/**
 * Intervals from absolute errors `scores[origin][step][target]` (NaN where the truth is unknown),
 * origins in time order. Each (step, target) column is sorted once, for all levels: the trainer
 * runs this in one turn of the event loop after its sliced validation forecasts.
 */
export function calibrateIntervals(scores: number[][][], levels: readonly number[] = INTERVAL_LEVELS): IntervalsJSON | null {
  if (scores.length === 0) return null;
  const targets = scores[0].length ? scores[0][0].length : 0;
  const half = Math.floor(scores.length / 2);
  const column = new Float64Array(scores.length);
  const all: Float64Array[][] = [];
  const early: Float64Array[][] = [];
  // Steps are taken while every target has enough scores; later steps use the last one's widths.
  for (let s = 0; s < scores[0].length; s++) {
    const rowAll: Float64Array[] = [];
    const rowEarly: Float64Array[] = [];
    for (let o = 0; o < targets; o++) {
      for (let i = 0; i < scores.length; i++) column[i] = scores[i][s][o];
      rowAll.push(finiteSorted(column, 0, scores.length));
      rowEarly.push(finiteSorted(column, 0, half));
    }
    if (!rowAll.every((c) => c.length >= MIN_SCORES_PER_STEP)) break;
    all.push(rowAll);
    early.push(rowEarly);
  }
  const steps = all.length;
  if (steps === 0) return null;
  const coverage = levels.map((level) => {
    if (half < MIN_COVERAGE_ORIGINS) return null;
    const w = early.map((row) => row.map((c) => rankValue(c, level)));
    let hits = 0;
    let count = 0;
    for (let i = half; i < scores.length; i++) {
      for (let s = 0; s < steps; s++) {
        for (let o = 0; o < targets; o++) {
          const e = scores[i][s][o];
          if (!Number.isFinite(e) || !Number.isFinite(w[s][o])) continue;
          count++;
          if (e <= w[s][o]) hits++;
        }
      }
    }
    return count ? hits / count : null;
  });
  const halfWidth = levels.map((level) => all.map((row) => row.map((c) => rankValue(c, level))));
  return { method: "split-conformal", levels: levels.slice(), halfWidth, coverage, origins: scores.length };
}

/** The half-widths for `step` (0-based) at the stored level nearest `level`; beyond the calibrated steps, the last one. */
export function halfWidthAt(intervals: IntervalsJSON, level: number, step: number): { level: number; width: number[] } {
  let best = 0;
  intervals.levels.forEach((l, i) => {
    if (Math.abs(l - level) < Math.abs(intervals.levels[best] - level)) best = i;
  });
  const perStep = intervals.halfWidth[best];
  return { level: intervals.levels[best], width: perStep[Math.min(step, perStep.length - 1)] };
}
