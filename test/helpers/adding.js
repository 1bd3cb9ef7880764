"use strict";
// The adding problem (Hochreiter & Schmidhuber, 1997): the standard task an Elman RNN cannot learn
// because the signal lies far back. One generator for every test that uses it.
const { Random } = require("../../dist/src/random");

/**
 * n sequences of T steps, each step [value ∈ U(0, 1), marker]; two steps are marked, one in each
 * half, and the target at the last step (only there) is the sum of their values, so the first
 * marked value lies T/2…T steps back. Answering the mean sum scores an MSE of Var(U + U) = 1/6.
 * Packed for Model.fit: x is n×T×2, target n×T with NaN where nothing is scored; `nested()` gives
 * the same sequences as nested arrays (null targets) for the calls that take those.
 */
function addingProblem(n, T, seed) {
  const rng = new Random(seed);
  const x = new Float64Array(n * T * 2);
  const target = new Float64Array(n * T).fill(NaN);
  const sums = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    const first = Math.floor(rng.uniform(0, T / 2));
    const second = Math.floor(rng.uniform(T / 2, T));
    for (let t = 0; t < T; t++) {
      const v = rng.uniform(0, 1);
      x[(s * T + t) * 2] = v;
      if (t === first || t === second) {
        x[(s * T + t) * 2 + 1] = 1;
        sums[s] += v;
      }
    }
    target[s * T + T - 1] = sums[s];
  }
  return {
    x,
    target,
    B: n,
    T,
    /** MSE of always answering the mean sum of these sequences. */
    meanRule() {
      const mean = sums.reduce((a, v) => a + v, 0) / n;
      return sums.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
    },
    nested() {
      const inputs = [];
      const targets = [];
      for (let s = 0; s < n; s++) {
        inputs.push(Array.from({ length: T }, (_, t) => [x[(s * T + t) * 2], x[(s * T + t) * 2 + 1]]));
        targets.push(Array.from({ length: T }, (_, t) => (t === T - 1 ? [sums[s]] : null)));
      }
      return { inputs, targets };
    },
  };
}

module.exports = { addingProblem };
