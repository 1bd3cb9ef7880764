/**
 * Is a series level-stationary? The KPSS test (Kwiatkowski, Phillips, Schmidt and Shin, 1992),
 * whose null hypothesis is that it is: the series wanders around a fixed mean with bounded
 * variance, as a cycle under noise does, while a trend or a random walk does not.
 *
 *   e_t = x_t − x̄,   S_t = e_1 + … + e_t,   η = Σ S_t² / (n² σ̂²)
 *
 * σ̂² is the long-run variance of e (its autocovariances γ_k weighted by the Bartlett kernel
 * 1 − k/(l+1) up to lag l), so that a stationary but persistent series is not mistaken for a
 * wandering one. A wandering series makes the partial sums S_t grow like n^{3/2}, and η with n;
 * a stationary one keeps η of order one.
 *
 * The lag l = ⌊12 (n/100)^{1/4}⌋ is the longer of the two the authors tabulate: with the shorter
 * one, a daily or yearly cycle and strongly autocorrelated noise are too often taken for a trend.
 */

/** Critical values of η for level stationarity (Kwiatkowski et al. 1992, table 1). */
export const KPSS_CRITICAL = { "10%": 0.347, "5%": 0.463, "2.5%": 0.574, "1%": 0.739 } as const;

/** The Bartlett bandwidth used for n values. */
export function kpssLags(n: number): number {
  return Math.max(0, Math.min(n - 1, Math.floor(12 * Math.pow(n / 100, 0.25))));
}

/**
 * η of `x[0…n)` read through `at` (so a table column needs no copy). 0 for a constant series (it
 * is as stationary as a series can be); NaN for fewer than 2 values.
 */
export function kpssStatistic(n: number, at: (t: number) => number): number {
  if (n < 2) return NaN;
  let mean = 0;
  for (let t = 0; t < n; t++) mean += at(t);
  mean /= n;
  const e = new Float64Array(n);
  let largest = 0;
  for (let t = 0; t < n; t++) {
    e[t] = at(t) - mean;
    largest = Math.max(largest, Math.abs(at(t)));
  }
  let partial = 0;
  let sumSq = 0;
  for (let t = 0; t < n; t++) {
    partial += e[t];
    sumSq += partial * partial;
  }
  const l = kpssLags(n);
  let longRun = 0;
  for (let k = 0; k <= l; k++) {
    let g = 0;
    for (let t = k; t < n; t++) g += e[t] * e[t - k];
    longRun += (k === 0 ? 1 : 2 * (1 - k / (l + 1))) * (g / n);
  }
  // The Bartlett weights keep σ̂² ≥ 0. A series whose spread is rounding error of its mean (a
  // constant one: the mean of n equal values need not be exactly that value) is stationary.
  const roundoff = 1e-12 * largest;
  if (!(longRun > roundoff * roundoff)) return 0;
  return sumSq / (n * n * longRun);
}
