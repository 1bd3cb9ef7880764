/**
 * Differencing: how a trending or seasonal series is made learnable, and undone at forecast time.
 *
 * A network with bounded activations cannot forecast outside the range it was trained on, and a
 * cycle it has to rebuild from raw levels costs it most of its capacity. Both problems go away when
 * the network learns what the naive rule gets wrong instead of the level itself:
 *
 *   inputs:  x'_t = (1 − B)^d (1 − B^s)^D x_t                    (B is the backshift, B x_t = x_{t−1})
 *   target:  r_{t+h} = y_{t+h} − N_h(t)
 *   inverse: ŷ_{t+h} = N_h(t) + r̂_{t+h}
 *
 * where N_h(t) is the h-step forecast of the naive rule the differencing implies, computed from
 * rows up to t only:
 *
 *   none      N = 0                                    (the network forecasts the level)
 *   first     N = y_t                                  (persistence)
 *   seasonal  N = y_{t+h−ks}, k = ⌈h/s⌉                (the same time one season back)
 *   both      N = y_{t+h−ks} + (y_t − y_{t−ks})        (last season plus the change since)
 *
 * For h = 1 the target is exactly the differenced series at t+1, so inputs and targets live in one
 * space; for h > 1 the inverse still needs nothing that is unknown at t. Nothing is fitted, so the
 * transform cannot leak validation rows; only the choice of `difference` and `season` is learned,
 * from the training part (see `chooseDifferencing`): differencing is for levels that wander.
 */
import { Differencing, TransformJSON } from "../types";
import { KPSS_CRITICAL, kpssStatistic } from "./stationarity";

export const DIFFERENCINGS: readonly Differencing[] = ["none", "first", "seasonal", "both"];

/** A longer season could not be learned from any series this package accepts in one window span. */
export const MAX_SEASON = 10_000;

function usesSeason(d: Differencing): boolean {
  return d === "seasonal" || d === "both";
}

function usesFirst(d: Differencing): boolean {
  return d === "first" || d === "both";
}

/** Seasons back that the naive rule of horizon h reaches: k = ⌈h/s⌉. */
function seasonsBack(h: number, s: number): number {
  return Math.ceil(h / s);
}

/** Checks a transform against a horizon; returns the season it uses (0 for none). */
function checkedSeason(t: TransformJSON): number {
  if (!DIFFERENCINGS.includes(t.difference)) throw new Error(`difference must be one of ${DIFFERENCINGS.join(", ")}, got ${String(t.difference)}`);
  if (!usesSeason(t.difference)) return 0;
  const s = t.season;
  if (typeof s !== "number" || !Number.isInteger(s) || s < 2 || s > MAX_SEASON) {
    throw new Error(`season: ${String(s)} is not a season length (an integer from 2 to ${MAX_SEASON} rows) — "${t.difference}" differencing needs one`);
  }
  return s;
}

/**
 * Rows at the start of a series that have no transformed value: the differences look back this
 * far, and so does the naive rule of every target (its origin t = j − h is itself ≥ lead).
 */
export function transformLead(t: TransformJSON, horizon: number): number {
  const s = checkedSeason(t);
  const first = usesFirst(t.difference) ? 1 : 0;
  if (!s) return first;
  return Math.max(s + first, seasonsBack(horizon, s) * s + first);
}

/** (1 − B)^d (1 − B^s)^D applied to column c at row r (r ≥ the lead). */
function difference(rows: ArrayLike<number>[], r: number, c: number, d: Differencing, s: number): number {
  switch (d) {
    case "none":
      return rows[r][c];
    case "first":
      return rows[r][c] - rows[r - 1][c];
    case "seasonal":
      return rows[r][c] - rows[r - s][c];
    case "both":
      return rows[r][c] - rows[r - 1][c] - rows[r - s][c] + rows[r - s - 1][c];
  }
}

/** N_h(t) for column c, from rows up to t. */
export function naiveBase(rows: ArrayLike<number>[], t: number, c: number, h: number, tr: TransformJSON): number {
  const s = checkedSeason(tr);
  switch (tr.difference) {
    case "none":
      return 0;
    case "first":
      return rows[t][c];
    case "seasonal":
      return rows[t + h - seasonsBack(h, s) * s][c];
    case "both": {
      const back = seasonsBack(h, s) * s;
      return rows[t + h - back][c] + rows[t][c] - rows[t - back][c];
    }
  }
}

/**
 * Rows dropped from the start of the table: the lead, and h more so that every row's target has an
 * origin j − h whose own differences exist. Without differencing nothing is dropped.
 */
export function tableLead(tr: TransformJSON, horizon: number): number {
  return tr.difference === "none" ? 0 : transformLead(tr, horizon) + horizon;
}

/**
 * The transformed table: row i holds, for original row j = i + tableLead, the differenced
 * features then the target residuals y_j − N_h(j − h). Windows are cut from it exactly as from a
 * plain table.
 */
export function transformRows(rows: number[][], featureCols: number[], targetCols: number[], tr: TransformJSON, horizon: number): { rows: number[][]; lead: number } {
  const s = checkedSeason(tr);
  const lead = tableLead(tr, horizon);
  const out: number[][] = new Array(Math.max(0, rows.length - lead));
  const F = featureCols.length;
  for (let j = lead; j < rows.length; j++) {
    const row = new Array<number>(F + targetCols.length);
    for (let f = 0; f < F; f++) row[f] = difference(rows, j, featureCols[f], tr.difference, s);
    for (let o = 0; o < targetCols.length; o++) {
      const c = targetCols[o];
      row[F + o] = rows[j][c] - naiveBase(rows, j - horizon, c, horizon, tr);
    }
    out[j - lead] = row;
  }
  return { rows: out, lead };
}

/**
 * The transformed table for direct multi-step forecasting: row i holds, for original row
 * j = i + lead (the forecast origin), the differenced features, then for each step h = 1…k and
 * each target the residual y_{j+h} − N_h(j), step-major. The k rows at the end, whose steps run
 * past the series, get NaN there: no window ends on them.
 */
export function transformRowsDirect(rows: number[][], featureCols: number[], targetCols: number[], tr: TransformJSON, steps: number): { rows: number[][]; lead: number } {
  const s = checkedSeason(tr);
  const lead = transformLead(tr, steps);
  const out: number[][] = new Array(Math.max(0, rows.length - lead));
  const F = featureCols.length;
  const O = targetCols.length;
  for (let j = lead; j < rows.length; j++) {
    const row = new Array<number>(F + O * steps);
    for (let f = 0; f < F; f++) row[f] = difference(rows, j, featureCols[f], tr.difference, s);
    for (let h = 1; h <= steps; h++) {
      for (let o = 0; o < O; o++) {
        const c = targetCols[o];
        row[F + (h - 1) * O + o] = j + h < rows.length ? rows[j + h][c] - naiveBase(rows, j, c, h, tr) : NaN;
      }
    }
    out[j - lead] = row;
  }
  return { rows: out, lead };
}

/** The differenced features of the last `length` rows of `history` (real units), row-major. */
export function differencedWindow(history: ArrayLike<number>[], length: number, F: number, tr: TransformJSON, into: Float64Array, stride: number): void {
  const s = checkedSeason(tr);
  const start = history.length - length;
  for (let t = 0; t < length; t++) {
    for (let f = 0; f < F; f++) into[t * stride + f] = difference(history, start + t, f, tr.difference, s);
  }
}

export interface DifferencingChoice {
  difference: Differencing;
  /** Mean squared h-step error of each candidate's naive rule on the training part, real units. */
  scores: Partial<Record<Differencing, number>>;
  /** The largest KPSS statistic η of the targets' levels (see stationarity.ts). */
  stationarity: number;
}

/** Relative cost of each difference taken: a candidate must beat a simpler one by more than this. */
const COST_PER_DIFFERENCE = 0.1;

/**
 * η above this: the levels wander (a trend, a random walk), so they are differenced. The 10 %
 * point of the KPSS table rather than 5 %, because the two mistakes do not cost the same: on the
 * benchmark series (bench/accuracy.js) leaving a trend or a random walk in the levels cost
 * 1.1–7.2× the error of the best differencing, differencing a stationary cycle 1.03–1.30× that
 * of keeping its levels.
 */
const WANDERING = KPSS_CRITICAL["10%"];

/**
 * The `auto` rule, in two steps.
 *
 * 1. Do the levels wander? The KPSS test on each target's training rows. If none does, the answer
 *    is `none`: a network learns a stationary cycle, its noise and its persistence from the levels
 *    themselves, and every difference only adds noise it must undo. Seasonal differencing of a
 *    clean cycle is the worst case: e_t − e_{t−s} is an MA that cannot be inverted, so the network
 *    can at best tie the seasonal naive rule.
 * 2. If one does, which difference removes it? For each candidate, the mean squared error over
 *    the training rows of the naive rule it implies, h steps ahead (for `none`, the rule "the
 *    training mean", i.e. the variance); each difference taken adds 10 % to its score, and the
 *    lowest score wins. Differencing that removes a trend or a cycle lowers the error a lot; a
 *    difference that removes nothing raises it (it doubles for white noise, so the one white
 *    series in ten that a test at 10 % takes for wandering still gets `none`). Seasonal
 *    candidates are only tried when a season is known. Targets are compared after dividing by
 *    the `none` score, so a column in large units does not decide alone.
 */
export function chooseDifferencing(rows: number[][], targetCols: number[], horizon: number, season: number | null): DifferencingChoice {
  const candidates: Differencing[] = season ? ["none", "first", "seasonal", "both"] : ["none", "first"];
  const raw: Partial<Record<Differencing, number[]>> = {};
  for (const difference of candidates) {
    const tr: TransformJSON = { difference, season: season ?? null, calendar: [], step: null };
    const lead = tableLead(tr, horizon);
    if (rows.length - lead < 8) continue;
    raw[difference] = targetCols.map((c) => {
      let mean = 0;
      if (difference === "none") {
        for (let j = lead; j < rows.length; j++) mean += rows[j][c];
        mean /= rows.length - lead;
      }
      let sq = 0;
      for (let j = lead; j < rows.length; j++) {
        const e = rows[j][c] - (difference === "none" ? mean : naiveBase(rows, j - horizon, c, horizon, tr));
        sq += e * e;
      }
      return sq / (rows.length - lead);
    });
  }
  const base = raw.none;
  if (!base) throw new Error(`${rows.length} training rows are too few to choose a differencing (at least 8 are needed)`);
  const scores: Partial<Record<Differencing, number>> = {};
  for (const d of candidates) {
    const r = raw[d];
    if (r) scores[d] = r.reduce((a, b) => a + b, 0) / r.length;
  }
  const stationarity = Math.max(...targetCols.map((c) => kpssStatistic(rows.length, (t) => rows[t][c])));
  if (!(stationarity > WANDERING)) return { difference: "none", scores, stationarity };
  let best: Differencing = "none";
  let bestScore = Infinity;
  for (const d of candidates) {
    const r = raw[d];
    if (!r) continue;
    const rel = r.reduce((sum, v, o) => sum + (base[o] > 0 ? v / base[o] : v === 0 ? 1 : Infinity), 0) / r.length;
    const differences = (usesFirst(d) ? 1 : 0) + (usesSeason(d) ? 1 : 0);
    const score = rel * (1 + COST_PER_DIFFERENCE * differences);
    if (score < bestScore) {
      best = d;
      bestScore = score;
    }
  }
  return { difference: best, scores, stationarity };
}
