"use strict";
// Split-conformal prediction intervals (src/intervals.ts).
const assert = require("assert");
const { conformalHalfWidth, calibrateIntervals, halfWidthAt, INTERVAL_LEVELS } = require("../dist/src");

const { mulberry32, gaussian } = require("./helpers/random");


/** 1..n in a seeded shuffled order, so the rank rule has to sort. */
function shuffled(n, seed) {
  const u = mulberry32(seed);
  const a = Array.from({ length: n }, (_, i) => i + 1);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

describe("intervals: conformalHalfWidth (the ⌈(n + 1)α⌉-th smallest score)", function () {
  it("on small exact examples", function () {
    const nine = shuffled(9, 1).map((v) => v * 10); // 10, 20, … 90 in some order
    // n = 9: α = 0.9 → rank ⌈9⌉ = 9 (the largest); 0.8 → ⌈8⌉ = 8; 0.5 → ⌈5⌉ = 5; 0.75 → ⌈7.5⌉ = 8; 0.1 → ⌈1⌉ = 1.
    assert.strictEqual(conformalHalfWidth(nine, 0.9), 90);
    assert.strictEqual(conformalHalfWidth(nine, 0.8), 80);
    assert.strictEqual(conformalHalfWidth(nine, 0.5), 50);
    assert.strictEqual(conformalHalfWidth(nine, 0.75), 80);
    assert.strictEqual(conformalHalfWidth(nine, 0.1), 10);
    const nineteen = shuffled(19, 2);
    // n = 19: α = 0.95 → ⌈19⌉ = 19; 0.9 → ⌈18⌉ = 18; 0.5 → ⌈10⌉ = 10; 0.8 → ⌈16⌉ = 16.
    assert.strictEqual(conformalHalfWidth(nineteen, 0.95), 19);
    assert.strictEqual(conformalHalfWidth(nineteen, 0.9), 18);
    assert.strictEqual(conformalHalfWidth(nineteen, 0.5), 10);
    assert.strictEqual(conformalHalfWidth(nineteen, 0.8), 16);
    // n = 4, α = 0.5 → ⌈2.5⌉ = 3.
    assert.strictEqual(conformalHalfWidth([4, 1, 3, 2], 0.5), 3);
  });

  it("agrees with the rank formula for every n up to 200 and every stored level", function () {
    for (let n = 1; n <= 200; n++) {
      const s = shuffled(n, n);
      for (const level of INTERVAL_LEVELS) {
        const rank = Math.min(n, Math.ceil(((n + 1) * Math.round(level * 100)) / 100));
        assert.strictEqual(conformalHalfWidth(s, level), rank, `n=${n}, level ${level}`);
      }
    }
  });

  it("too few scores for the rank: the largest one", function () {
    // n = 3, α = 0.9: ⌈3.6⌉ = 4 > 3
    assert.strictEqual(conformalHalfWidth([0.3, 0.1, 0.2], 0.9), 0.3);
    assert.strictEqual(conformalHalfWidth([5], 0.5), 5);
  });

  it("ignores NaN and infinite scores; none left gives NaN", function () {
    assert.strictEqual(conformalHalfWidth([NaN, 40, 10, NaN, 30, 20, Infinity, -Infinity, 50, 60, 70, 80, 90], 0.9), 90);
    assert.strictEqual(conformalHalfWidth([NaN, 3, NaN, 1, 2, 4], 0.5), 3);
    assert.ok(Number.isNaN(conformalHalfWidth([NaN, NaN], 0.9)));
    assert.ok(Number.isNaN(conformalHalfWidth([], 0.9)));
    // a typed array works as well
    assert.strictEqual(conformalHalfWidth(Float64Array.from([4, 1, 3, 2]), 0.5), 3);
  });

  it("refuses a level outside (0, 1)", function () {
    for (const bad of [0, 1, -0.5, 90, NaN]) assert.throws(() => conformalHalfWidth([1, 2, 3], bad), /between 0 and 1/, String(bad));
  });
});

describe("intervals: calibrateIntervals", function () {
  // Exchangeable scores: |N(0, σ_s²)| with σ growing with the step, two targets of different size.
  const ORIGINS = 2000;
  const sd = [[1, 10], [2, 20], [3, 30]];
  const g = gaussian(42);
  const scores = Array.from({ length: ORIGINS }, () => sd.map((row) => row.map((s) => Math.abs(s * g()))));
  const iv = calibrateIntervals(scores);

  it("has one half-width per level, step and target, and records the origins", function () {
    assert.strictEqual(iv.method, "split-conformal");
    assert.deepStrictEqual(iv.levels, INTERVAL_LEVELS.slice());
    assert.strictEqual(iv.origins, ORIGINS);
    assert.strictEqual(iv.halfWidth.length, INTERVAL_LEVELS.length);
    for (const perLevel of iv.halfWidth) {
      assert.strictEqual(perLevel.length, 3);
      for (const perStep of perLevel) assert.strictEqual(perStep.length, 2);
    }
    assert.strictEqual(iv.coverage.length, INTERVAL_LEVELS.length);
  });

  it("the widths are the conformal half-widths of all origins' scores per step and target", function () {
    INTERVAL_LEVELS.forEach((level, L) => {
      for (let s = 0; s < 3; s++) {
        for (let o = 0; o < 2; o++) {
          assert.strictEqual(iv.halfWidth[L][s][o], conformalHalfWidth(scores.map((x) => x[s][o]), level), `level ${level}, step ${s}, target ${o}`);
        }
      }
    });
  });

  it("the widths match the half-normal quantiles σ·Φ⁻¹((1 + α)/2) within 10 %", function () {
    const z = { 0.5: 0.6745, 0.8: 1.2816, 0.9: 1.6449, 0.95: 1.96, 0.99: 2.5758 };
    INTERVAL_LEVELS.forEach((level, L) => {
      for (let s = 0; s < 3; s++) {
        for (let o = 0; o < 2; o++) {
          const want = sd[s][o] * z[level];
          const got = iv.halfWidth[L][s][o];
          assert.ok(Math.abs(got / want - 1) < 0.1, `level ${level}, step ${s}, target ${o}: ${got} vs ${want}`);
        }
      }
    });
  });

  it("the coverage measured on the later half lands within 3 points of every level", function () {
    INTERVAL_LEVELS.forEach((level, L) => {
      const c = iv.coverage[L];
      assert.ok(typeof c === "number" && Math.abs(c - level) < 0.03, `level ${level}: coverage ${c}`);
    });
    // …and it is computed on the later half with the earlier half's widths, by hand:
    const half = ORIGINS / 2;
    const L = INTERVAL_LEVELS.indexOf(0.9);
    let hits = 0, count = 0;
    for (let s = 0; s < 3; s++) {
      for (let o = 0; o < 2; o++) {
        const w = conformalHalfWidth(scores.slice(0, half).map((x) => x[s][o]), 0.9);
        for (let i = half; i < ORIGINS; i++) {
          count++;
          if (scores[i][s][o] <= w) hits++;
        }
      }
    }
    assert.strictEqual(iv.coverage[L], hits / count);
  });

  it("a score equal to the half-width counts as covered (ties, integer scores)", function () {
    // Scores 1..10 repeating: at level 0.5 the width of the first 20 origins is the 11th (⌈21·0.5⌉) of
    // 1,1,2,2,…, i.e. 6; the later half holds 1..6 for 12 of its 20 origins: 0.6 (0.5 if "≤" became "<").
    const ints = Array.from({ length: 40 }, (_, i) => [[(i % 10) + 1]]);
    const c = calibrateIntervals(ints, [0.5]);
    assert.strictEqual(conformalHalfWidth(ints.slice(0, 20).map((x) => x[0][0]), 0.5), 6);
    assert.strictEqual(c.coverage[0], 0.6);
  });

  it("more origins than the rank needs make the intervals nested: a higher level is never narrower", function () {
    for (let L = 1; L < INTERVAL_LEVELS.length; L++) {
      for (let s = 0; s < 3; s++) for (let o = 0; o < 2; o++) assert.ok(iv.halfWidth[L][s][o] >= iv.halfWidth[L - 1][s][o]);
    }
  });

  it("too few origins for a coverage figure give null coverage; no origins, or a target never scored, give no intervals", function () {
    const few = calibrateIntervals(Array.from({ length: 19 }, (_, i) => [[i + 1]]), [0.5, 0.9]);
    assert.deepStrictEqual(few.coverage, [null, null]);
    assert.deepStrictEqual(few.halfWidth, [[[10]], [[18]]]);
    assert.strictEqual(calibrateIntervals(Array.from({ length: 20 }, (_, i) => [[i + 1]]), [0.5]).coverage[0] !== null, true);
    assert.strictEqual(calibrateIntervals([]), null);
    // A width of 0 would be an interval that claims certainty: a target without scores gets none.
    assert.strictEqual(calibrateIntervals(Array.from({ length: 19 }, (_, i) => [[i + 1, NaN]]), [0.5]), null);
  });

  it("steps the validation part hardly reached get no widths of their own: the calibrated steps end before them", function () {
    // 30 origins; step 2 is known for 12 of them, step 3 for 5 (fewer than 10).
    const scores = Array.from({ length: 30 }, (_, i) => [[1 + i], [i < 12 ? 2 + i : NaN], [i < 5 ? 3 : NaN]]);
    const iv = calibrateIntervals(scores, [0.5]);
    assert.strictEqual(iv.halfWidth[0].length, 2);
  });

  it("NaN scores (truth unknown) are left out of the widths and of the coverage count", function () {
    const u = mulberry32(7);
    const clean = Array.from({ length: 400 }, () => [[u()]]);
    const holed = clean.map((x, i) => (i % 3 === 0 ? [[NaN]] : x));
    const iv2 = calibrateIntervals(holed, [0.8]);
    assert.strictEqual(iv2.halfWidth[0][0][0], conformalHalfWidth(clean.filter((_, i) => i % 3 !== 0).map((x) => x[0][0]), 0.8));
    assert.ok(Math.abs(iv2.coverage[0] - 0.8) < 0.08, String(iv2.coverage[0]));
  });
});

describe("intervals: halfWidthAt", function () {
  const iv = {
    method: "split-conformal",
    levels: [0.5, 0.8, 0.9, 0.95, 0.99],
    halfWidth: [0.5, 0.8, 0.9, 0.95, 0.99].map((l) => [[l, 10 * l], [2 * l, 20 * l]]),
    coverage: [null, null, null, null, null],
    origins: 100,
  };

  it("picks the stored level nearest the one asked for", function () {
    for (const [asked, used] of [[0.9, 0.9], [0.91, 0.9], [0.93, 0.95], [0.97, 0.95], [0.98, 0.99], [0.999, 0.99], [0.6, 0.5], [0.7, 0.8], [0.1, 0.5]]) {
      const hw = halfWidthAt(iv, asked, 0);
      assert.strictEqual(hw.level, used, `asked ${asked}`);
      assert.deepStrictEqual(hw.width, [used, 10 * used]);
    }
  });

  it("gives each calibrated step its own widths and the last one beyond them", function () {
    assert.deepStrictEqual(halfWidthAt(iv, 0.8, 0).width, [0.8, 8]);
    assert.deepStrictEqual(halfWidthAt(iv, 0.8, 1).width, [1.6, 16]);
    assert.deepStrictEqual(halfWidthAt(iv, 0.8, 2).width, [1.6, 16]);
    assert.deepStrictEqual(halfWidthAt(iv, 0.8, 50).width, [1.6, 16]);
  });
});
