/**
 * The naive rules a forecast must beat, measured on the validation part: persistence and seasonal
 * naive, in real units, on exactly the targets the model is scored on.
 */
import { WindowJSON } from "../types";
import { TargetMode } from "./windows";

/** The error of a naive rule on the validation targets, real units. */
export interface Baseline {
  rmse: number;
  mae: number;
}

/** What the network has to beat, measured on exactly the targets it is validated on. */
export interface Baselines {
  /** Target values compared (all targets pooled, as in the model's own metrics). */
  count: number;
  /** "The next value is the last one": y_{t+h} ≈ y_t. */
  persistence: Baseline | null;
  /** "The same as one season ago": y_{t+h} ≈ y_{t+h−ks}; null without a season. */
  seasonal: (Baseline & { season: number }) | null;
  /** The better of the two by RMSE. */
  best: "persistence" | "seasonal" | null;
}

/** Which targets the model is scored on: the windows of the validation part and how they are cut. */
export interface ScoredTargets {
  window: WindowJSON;
  mode: TargetMode;
  /** Table row i is original row i + lead. */
  lead: number;
  season: number | null;
  /** First validation row of the table: targets before it are training rows (masked). */
  boundary: number;
  /** Table rows where the validation windows start. */
  validationStarts: number[];
  /** First row of each original row's segment when gaps were split; null otherwise. */
  segmentStart: Int32Array | null;
}

/**
 * Persistence and seasonal naive on every validation target the model is scored on (the same
 * windows, the same masked steps), in real units.
 */
export function measureBaselines(rows: number[][], targetCols: number[], at: ScoredTargets): Baselines {
  const { horizon, length } = at.window;
  const { lead, season } = at;
  // Direct: every step h = 1…horizon from the window's origin; otherwise the one horizon.
  const aheads = at.window.direct ? Array.from({ length: horizon }, (_, k) => k + 1) : [horizon];
  let count = 0, pSq = 0, pAbs = 0, sCount = 0, sSq = 0, sAbs = 0;
  for (const start of at.validationStarts) {
    for (let t = at.mode === "last" ? length - 1 : 0; t < length; t++) for (const h of aheads) {
      const i = start + t + h;
      if (i < at.boundary) continue;
      const j = i + lead;
      const back = season ? Math.ceil(h / season) * season : 0;
      for (const c of targetCols) {
        const y = rows[j][c];
        const e = y - rows[j - h][c];
        count++;
        pSq += e * e;
        pAbs += Math.abs(e);
        if (season && j - back >= (at.segmentStart ? at.segmentStart[j] : 0)) {
          const es = y - rows[j - back][c];
          sCount++;
          sSq += es * es;
          sAbs += Math.abs(es);
        }
      }
    }
  }
  const persistence = count ? { rmse: Math.sqrt(pSq / count), mae: pAbs / count } : null;
  // A seasonal rule that could be applied to only part of the targets is not comparable.
  const seasonal = season && sCount === count && count > 0 ? { rmse: Math.sqrt(sSq / sCount), mae: sAbs / sCount, season } : null;
  const best = persistence && seasonal ? (seasonal.rmse < persistence.rmse ? "seasonal" : "persistence") : persistence ? "persistence" : null;
  return { count, persistence, seasonal, best };
}
