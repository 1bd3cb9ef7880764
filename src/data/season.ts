/**
 * Season-length detection from the autocorrelation function (ACF). A forecaster that knows the
 * series repeats every s rows can pick a window of at least s rows, or a seasonal baseline;
 * guessing s from a plot is error-prone, so this reads it from the training data.
 *
 * Only the training part should be passed: reading the cycle off validation rows would let
 * them influence the model that is validated on them.
 */

export interface SeasonResult {
  /** Detected season length in rows, or null when no clear cycle. */
  season: number | null;
  /**
   * Autocorrelation at that lag (of the series after removing a trend, see `detectSeason`),
   * or the best one seen when none passed.
   */
  strength: number;
}

export interface SeasonOptions {
  /** Largest lag considered; default min(floor(n/2), 400). Clamped to floor(n/2). */
  maxLag?: number;
  /**
   * If given, only these lags are considered (e.g. [24, 168] for hourly data, [7, 365] daily,
   * [12] monthly). They still have to pass the strength threshold.
   */
  candidates?: number[];
}

/** Only the most recent rows are read: enough for many cycles of any lag ≤ 400, and it bounds the cost. */
export const SEASON_MAX_ROWS = 20_000;
/** Default cap on the lags searched (unless `candidates` names longer ones). */
export const SEASON_MAX_LAG = 400;
/** Raw lag-1 autocorrelation above which the series is treated as trending and differenced. */
const TREND_LAG1 = 0.9;
/** Smallest autocorrelation accepted as a season, whatever the series length. */
const MIN_STRENGTH = 0.3;
/** A shorter lag wins over the best peak when its r is at least this fraction of the best's. */
const PREFER_SHORTER = 0.9;
/** Fewer values leave no lag with two whole cycles worth speaking of. */
const MIN_VALUES = 8;

/**
 * Detects the season length of a series from its autocorrelation.
 *
 * `values`: one column of finite numbers (an array or a typed array), oldest first.
 *
 * The rule:
 *
 * 1. Only the last 20,000 values are used (`SEASON_MAX_ROWS`), so the work is bounded by
 *    20,000 × maxLag multiply-adds (8 million at the default cap of 400 lags) whatever n is.
 * 2. Remove the trend. If the lag-1 autocorrelation of the raw values is > 0.9 the series is
 *    trending or random-walk-like: its ACF would be near 1 at every lag and hide any cycle, so
 *    the first differences are used instead (a cycle of period s in the series is still a
 *    cycle of period s in its differences; a random walk becomes white noise). Otherwise the
 *    values are used as they are. Either way the ACF below is centred on the mean.
 * 3. Compute the sample ACF r_k = Σ (x_t − x̄)(x_{t+k} − x̄) / Σ (x_t − x̄)², for k = 2..maxLag,
 *    where maxLag defaults to min(floor(m/2), 400) for the m values left after step 2 and is
 *    never above floor(m/2): a season needs at least 2 full cycles to be seen repeating. The
 *    sum over m − k products (not rescaled) shrinks r_k a little at long lags, which is the
 *    usual estimator and slightly favours the shorter of two equal cycles.
 * 4. Candidate lags are the local maxima of r_k (r_k ≥ r_{k−1} and r_k ≥ r_{k+1}) that follow a
 *    dip: r fell to ≤ r_k / 2 at some lag in 1..k−1. Each is then settled on k − 1, k or k + 1,
 *    whichever one's multiples line up best with the ACF (see `refine`), because noise moves
 *    the top of a flat peak by a row. With `options.candidates` the candidates are exactly the
 *    given lags that are ≤ floor(m/2) (and ≤ maxLag if given), peak or not and unsettled: the
 *    caller already knows the cycles its time step implies. Lags beyond that are ignored.
 * 5. Take the candidate with the highest r_k. A cycle of s also peaks at 2s, 3s, ..., and noise
 *    can lift one of those above r_s; so prefer the smallest candidate L whose r_L is at least
 *    0.9 × the best r and of which the best lag is a multiple (±1 row; exact for L ≤ 3, where
 *    ±1 would make every lag a multiple). Hourly data with a daily cycle thus gives 24, not 48,
 *    and not 168 unless the weekly peak is clearly higher.
 * 6. Accept the chosen lag when r ≥ 0.3 and r > 2/√m (the approximate 95% bound of white
 *    noise's ACF; it only matters for short series, below m ≈ 44). Otherwise season is null
 *    and strength is the highest r_k among the lags considered.
 *
 * Thresholds (0.9 for differencing, the half-height dip, 0.9 for preferring a shorter lag,
 * 0.3 for acceptance) were checked on seeded series: trend + daily cycle, daily + weak or
 * strong weekly cycle, weekly in daily data, airline-like monthly growth, a pure sine, white
 * noise and random walks of 2,000 rows (no false season in 300 seeds each). Limits: on short
 * series (≈ 100 rows) white noise or a random walk shows a false season a few % of the time,
 * as the maximum over many lags often exceeds 0.3; and differencing weakens a cycle of period
 * s by 2·sin(π/s) relative to noise, so a long, faint cycle on a trend (s = 90 under noise of
 * an eighth of its amplitude) is not found.
 *
 * A series without variation (constant, or a perfectly straight line once differenced) has no
 * cycle: season null, strength 0.
 *
 * Errors on a non-array, a non-finite value, fewer than 8 values, or bad options.
 */
export function detectSeason(values: ArrayLike<number>, options: SeasonOptions = {}): SeasonResult {
  const n = checkValues(values);
  const { maxLag, candidates } = checkOptions(options);

  // Step 1: the most recent SEASON_MAX_ROWS values.
  const start = Math.max(0, n - SEASON_MAX_ROWS);
  const x = new Float64Array(n - start);
  for (let i = start; i < n; i++) x[i - start] = values[i];

  // Step 2: difference a trending series.
  const centredRaw = centre(x);
  if (centredRaw === null) return { season: null, strength: 0 };
  let c: Float64Array | null = centredRaw;
  if (lagProduct(centredRaw, 1) / sumSquares(centredRaw) > TREND_LAG1) {
    const d = new Float64Array(x.length - 1);
    for (let i = 0; i < d.length; i++) d[i] = x[i + 1] - x[i];
    c = centre(d);
  }
  if (c === null) return { season: null, strength: 0 };
  const m = c.length;
  const denom = sumSquares(c);
  const acf = (k: number): number => lagProduct(c, k) / denom;

  const lagLimit = Math.floor(m / 2);
  const passes = (r: number): boolean => r >= MIN_STRENGTH && r > 2 / Math.sqrt(m);

  if (candidates) {
    // The caller's lags, each usable one with its r; no peak search, so no refinement either.
    const usable = [...new Set(candidates)]
      .filter((k) => k <= lagLimit && (maxLag === undefined || k <= maxLag))
      .sort((a, b) => a - b);
    if (usable.length === 0) return { season: null, strength: 0 };
    const peaks: Peak[] = usable.map((k) => [k, acf(k)]);
    const best = strongest(peaks);
    const [lag, r] = shorterCycle(peaks, best) ?? best;
    return passes(r) ? { season: lag, strength: r } : { season: null, strength: best[1] };
  }

  const top = Math.min(maxLag ?? SEASON_MAX_LAG, lagLimit);
  if (top < 2) return { season: null, strength: 0 };
  // r_1 .. r_{top+1}: the neighbours of every lag in 2..top (r_{top+1} exists since top ≤ m/2).
  const r = new Float64Array(top + 2);
  for (let k = 1; k <= top + 1; k++) r[k] = acf(k);
  const peaks: Peak[] = [];
  let bestSeen = -Infinity;
  let lowest = r[1];
  for (let k = 2; k <= top; k++) {
    if (r[k] > bestSeen) bestSeen = r[k];
    // A peak must follow a dip to at most half its height: the series has to drift out of
    // phase before it comes back in phase. Without this, differencing (which gives noise a
    // lag-1 autocorrelation of −0.5) makes lag 2 a "peak" of any smooth cycle.
    if (r[k] >= r[k - 1] && r[k] >= r[k + 1] && lowest <= r[k] / 2) peaks.push([k, r[k]]);
    if (r[k] < lowest) lowest = r[k];
  }
  if (peaks.length === 0) return { season: null, strength: bestSeen };

  // Settle each peak on its exact lag before comparing lags as multiples of one another:
  // a daily peak found at 23 would otherwise not see 48 as its second cycle.
  const settled: Peak[] = [];
  for (const [k] of peaks) {
    const L = refine(r, k, top);
    if (settled.length === 0 || settled[settled.length - 1][0] < L) settled.push([L, r[L]]);
  }
  const best = strongest(settled);
  const lag = (shorterCycle(settled, best) ?? best)[0];
  return passes(r[lag]) ? { season: lag, strength: r[lag] } : { season: null, strength: bestSeen };
}

/** A lag and its autocorrelation. */
type Peak = [number, number];

function strongest(peaks: Peak[]): Peak {
  let best = peaks[0];
  for (const p of peaks) if (p[1] > best[1]) best = p;
  return best;
}

/**
 * Whether `lag` is a multiple (at least the second) of `of`, give or take one row. For `of` ≤ 3
 * the ±1 would make every lag a multiple of it, so there the multiple must be exact.
 */
function nearMultiple(lag: number, of: number): boolean {
  const q = Math.round(lag / of);
  return q >= 2 && Math.abs(lag - q * of) <= (of > 3 ? 1 : 0);
}

/** The smallest peak `best` is a multiple of that is at least PREFER_SHORTER as strong, if any. */
function shorterCycle(peaks: Peak[], best: Peak): Peak | undefined {
  // Peaks are in increasing lag order, so the first match is the smallest.
  return peaks.find(([k, rk]) => k < best[0] && nearMultiple(best[0], k) && rk >= PREFER_SHORTER * best[1]);
}

/**
 * Settles a peak found at `k` on k − 1, k or k + 1: the one whose multiples line up best with
 * the ACF. Near its top a cycle's ACF changes by only r·(1 − cos(2π/k)) per row, so noise can
 * put the local maximum a row off; but the multiples of a wrong lag drift further off the ACF's
 * later peaks with each cycle, which noise does not mimic. Score of L: Σ_j r_{j·L} over the
 * same number of multiples for all three, each r smoothed with a triangle of half-width
 * floor(k/24) rows (0 below 24) — for long cycles there are few multiples, and the average of
 * neighbouring lags is steadier than one lag. The triangle, unlike a box, lets a shorter
 * cycle's wiggles in and out gradually at its edges, so they do not favour one shift.
 */
function refine(r: Float64Array, k: number, top: number): number {
  const options = [k, k - 1, k + 1].filter((L) => L >= 2 && L <= top);
  const half = Math.floor(k / 24);
  // r is known up to lag top + 1; every smoothed multiple of every option must fit.
  const multiples = Math.max(1, Math.floor((top + 1 - half) / Math.max(...options)));
  let bestLag = k;
  let bestScore = -Infinity;
  for (const L of options) {
    let score = 0;
    for (let j = 1; j <= multiples; j++) {
      for (let i = -half; i <= half; i++) {
        const lag = j * L + i;
        if (lag >= 1 && lag <= top + 1) score += (half + 1 - Math.abs(i)) * r[lag];
      }
    }
    if (score > bestScore) [bestLag, bestScore] = [L, score];
  }
  return bestLag;
}

function checkValues(values: ArrayLike<number>): number {
  const isTyped = ArrayBuffer.isView(values) && !(values instanceof DataView);
  if (!Array.isArray(values) && !isTyped) {
    throw new Error(`season detection needs an array of numbers, got ${values === null ? "null" : typeof values}`);
  }
  const n = values.length;
  if (n < MIN_VALUES) throw new Error(`season detection needs at least ${MIN_VALUES} values, got ${n}`);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new Error(`season detection needs finite numbers, but value ${i} is ${typeof v === "string" ? JSON.stringify(v) : String(v)}`);
    }
  }
  return n;
}

function checkOptions(options: SeasonOptions): { maxLag?: number; candidates?: number[] } {
  if (options === null || typeof options !== "object") throw new Error("season options must be an object");
  const { maxLag, candidates } = options;
  if (maxLag !== undefined && (!Number.isInteger(maxLag) || maxLag < 2)) {
    throw new Error(`maxLag must be an integer ≥ 2, got ${String(maxLag)}`);
  }
  if (candidates !== undefined) {
    if (!Array.isArray(candidates) || candidates.length === 0) {
      throw new Error("candidates must be a non-empty array of lags");
    }
    for (const k of candidates) {
      if (!Number.isInteger(k) || k < 2) throw new Error(`candidate lags must be integers ≥ 2, got ${String(k)}`);
    }
  }
  return { maxLag, candidates };
}

/**
 * The values minus their mean, or null when they do not vary. "Do not vary" is relative to
 * their size: the differences of a straight line 3 + 0.1·t are 0.1 give or take ~1e-15 of
 * rounding, and the ACF of that rounding would be read as a cycle of the series.
 */
function centre(x: Float64Array): Float64Array | null {
  let sum = 0;
  let maxAbs = 0;
  for (let i = 0; i < x.length; i++) {
    sum += x[i];
    if (Math.abs(x[i]) > maxAbs) maxAbs = Math.abs(x[i]);
  }
  const mean = sum / x.length;
  const c = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) c[i] = x[i] - mean;
  const rms = Math.sqrt(sumSquares(c) / x.length);
  return rms <= 1e-9 * maxAbs || rms === 0 ? null : c;
}

function sumSquares(c: Float64Array): number {
  let s = 0;
  for (let i = 0; i < c.length; i++) s += c[i] * c[i];
  return s;
}

/** Σ c_t · c_{t+k} over the m − k pairs. */
function lagProduct(c: Float64Array, k: number): number {
  let s = 0;
  for (let t = 0, end = c.length - k; t < end; t++) s += c[t] * c[t + k];
  return s;
}
