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
  if (!(level > 0 && level < 1)) throw new Error(`an interval level is between 0 and 1, got ${String(level)}`);
  const sorted = Array.from(scores).filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = Math.ceil((n + 1) * level);
  return sorted[Math.min(n, rank) - 1];
}

/**
 * Intervals from absolute errors `scores[origin][step][target]` (NaN where the truth is unknown),
 * origins in time order.
 */
export function calibrateIntervals(scores: number[][][], levels: readonly number[] = INTERVAL_LEVELS): IntervalsJSON | null {
  if (scores.length === 0) return null;
  const targets = scores[0].length ? scores[0][0].length : 0;
  const known = (s: number, o: number) => scores.reduce((n, origin) => n + (Number.isFinite(origin[s][o]) ? 1 : 0), 0);
  let steps = 0;
  while (steps < scores[0].length && Array.from({ length: targets }, (_, o) => known(steps, o)).every((n) => n >= MIN_SCORES_PER_STEP)) steps++;
  if (steps === 0) return null;
  const column = (from: number, to: number, s: number, o: number): number[] => {
    const out: number[] = [];
    for (let i = from; i < to; i++) out.push(scores[i][s][o]);
    return out;
  };
  const widths = (from: number, to: number, level: number): number[][] =>
    Array.from({ length: steps }, (_, s) => Array.from({ length: targets }, (_, o) => conformalHalfWidth(column(from, to, s, o), level)));
  const half = Math.floor(scores.length / 2);
  const coverage = levels.map((level) => {
    if (half < MIN_COVERAGE_ORIGINS) return null;
    const w = widths(0, half, level);
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
  const halfWidth = levels.map((level) => widths(0, scores.length, level).map((row) => row.map((v) => (Number.isFinite(v) ? v : 0))));
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
