/**
 * Gradient clipping and finiteness checks: the answers to exploding gradients in BPTT. They work
 * on the same lists of Float64Arrays the optimizers take, in place.
 */

/**
 * Σ x² over all arrays, as `scale²·sum`, so that the norm can be formed without overflow: the
 * exploding gradients this exists for can reach magnitudes whose squares are not representable.
 */
function sumOfSquares(arrays: readonly Float64Array[]): { scale: number; sum: number } {
  let sum = 0;
  for (const a of arrays) {
    for (let j = 0; j < a.length; j++) sum += a[j] * a[j];
  }
  // The plain sum is exact enough unless it overflowed or underflowed; only then pay for the
  // second, scaled pass. NaN is passed through so that callers see it.
  if (sum !== Infinity && sum !== 0) return { scale: 1, sum };
  let max = 0;
  for (const a of arrays) {
    for (let j = 0; j < a.length; j++) {
      const x = Math.abs(a[j]);
      if (x > max) max = x;
    }
  }
  if (max === 0 || max === Infinity) return { scale: 1, sum: max };
  sum = 0;
  for (const a of arrays) {
    for (let j = 0; j < a.length; j++) {
      const x = a[j] / max;
      sum += x * x;
    }
  }
  return { scale: max, sum };
}

/**
 * The L2 norm of all entries of all arrays taken as one vector. NaN if any entry is NaN,
 * Infinity if an entry is infinite or the norm exceeds the largest double.
 */
export function globalNorm(grads: readonly Float64Array[]): number {
  const { scale, sum } = sumOfSquares(grads);
  return scale * Math.sqrt(sum);
}

/**
 * When the global norm exceeds `maxNorm`, scales every array in place by maxNorm / norm, so the
 * clipped gradient has norm maxNorm and the same direction. Returns the norm before clipping
 * (what a trainer reports as gradNorm). A `maxNorm` that is ≤ 0 or not finite turns clipping off.
 * A NaN or infinite entry leaves the arrays untouched: there is no direction to keep, and the
 * caller's finiteness guard should reject the step instead.
 */
export function clipByGlobalNorm(grads: readonly Float64Array[], maxNorm: number): number {
  const { scale, sum } = sumOfSquares(grads);
  const norm = scale * Math.sqrt(sum);
  if (!(maxNorm > 0 && maxNorm !== Infinity)) return norm;
  // A non-finite sum means a non-finite entry; a finite sum with an infinite norm is a finite
  // gradient too large for a double, which the scaled form can still clip.
  if (!Number.isFinite(sum) || !(norm > maxNorm)) return norm;
  const factor = maxNorm / scale / Math.sqrt(sum);
  for (const a of grads) {
    for (let j = 0; j < a.length; j++) a[j] *= factor;
  }
  return norm;
}

/**
 * Clamps every entry to [−maxValue, maxValue] in place and returns how many entries were
 * changed. A `maxValue` that is ≤ 0 or not finite turns clipping off (returns 0). NaN entries are
 * left as they are (and not counted), for the finiteness guard to see.
 */
export function clipByValue(grads: readonly Float64Array[], maxValue: number): number {
  if (!(maxValue > 0 && maxValue !== Infinity)) return 0;
  let clamped = 0;
  for (const a of grads) {
    for (let j = 0; j < a.length; j++) {
      const x = a[j];
      if (x > maxValue) {
        a[j] = maxValue;
        clamped++;
      } else if (x < -maxValue) {
        a[j] = -maxValue;
        clamped++;
      }
    }
  }
  return clamped;
}

/**
 * True when no entry is NaN or ±Infinity. Each entry is tested on its own: a running sum is not a
 * substitute, since large finite entries can overflow it (1e308 + 1e308 = ∞, and then ∞ − ∞ is
 * NaN) and report a fault that is not there.
 */
export function allFinite(arrays: readonly Float64Array[]): boolean {
  for (const a of arrays) {
    for (let j = 0; j < a.length; j++) {
      const x = a[j];
      // x − x is 0 for every finite x and NaN for NaN and ±Infinity.
      if (x - x !== 0) return false;
    }
  }
  return true;
}
