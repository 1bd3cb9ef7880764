"use strict";
const assert = require("assert");
const { detectSeason } = require("../dist/src/data/season");

const { mulberry32, gaussian } = require("./helpers/random");


const wave = (t, period) => Math.sin((2 * Math.PI * t) / period);
const series = (n, f) => Array.from({ length: n }, (_, t) => f(t));

/** Hourly: a daily cycle of amplitude `daily`, a weekly one of amplitude `weekly`, noise of sd `sd`. */
function hourly(weeks, daily, weekly, sd, seed) {
  const noise = gaussian(seed);
  return series(24 * 7 * weeks, (t) => daily * wave(t, 24) + weekly * wave(t, 168) + sd * noise());
}

function randomWalk(n, seed) {
  const noise = gaussian(seed);
  let level = 0;
  return series(n, () => (level += noise()));
}

describe("data: detectSeason", function () {
  it("finds the daily cycle (24) of hourly data on a rising trend", function () {
    // 30 days; the trend makes lag-1 autocorrelation ≈ 1, so the series is differenced first.
    const noise = gaussian(1);
    const values = series(24 * 30, (t) => 0.05 * t + 10 * wave(t, 24) + noise());
    const { season, strength } = detectSeason(values);
    assert.strictEqual(season, 24);
    assert.ok(strength > 0.5, `strength ${strength}`);
  });

  it("gives the daily cycle (24), not the weekly one, when the weekly cycle is weak", function () {
    // r at 168 is a little above r at 24 here (the weekly cycle adds to it), but within 0.9.
    const values = hourly(20, 3, 1.5, 1.5, 2);
    assert.strictEqual(detectSeason(values).season, 24);
  });

  it("gives the weekly cycle when candidates are [168], and the daily one from [24, 168]", function () {
    const values = hourly(20, 3, 1.5, 1.5, 2);
    const weekly = detectSeason(values, { candidates: [168] });
    assert.strictEqual(weekly.season, 168);
    assert.ok(weekly.strength >= 0.3, `strength ${weekly.strength}`);
    assert.strictEqual(detectSeason(values, { candidates: [24, 168] }).season, 24);
  });

  it("gives the weekly cycle (168) when it is clearly the stronger", function () {
    // Equal amplitudes: r at 24 is a peak, but only ≈ 0.86 × r at 168, below the 0.9 that
    // would make the shorter lag win.
    const values = hourly(20, 2, 2, 1, 3);
    assert.strictEqual(detectSeason(values).season, 168);
  });

  it("settles a flat weekly peak on 168, not the 167 or 169 that noise lifts", function () {
    // Here r at 169 is the highest of the flat weekly top (and the weekly slope swallows the
    // daily peak, so there is no shorter lag to prefer); settling by the multiples gives 168.
    const values = hourly(20, 1, 3, 1, 154);
    assert.strictEqual(detectSeason(values).season, 168);
  });

  it("does not take lag 2 for a smooth cycle on a trend (half-hourly data, 48)", function () {
    // Differencing gives the noise a lag-1 autocorrelation of −0.5, so r_2 > r_1 and r_2 is a
    // local maximum; and r_2 ≈ cos(2π·2/48) × r_48 = 0.97 × r_48 would count as "nearly as
    // strong". A peak must follow a dip to half its height, which lag 2 does not.
    const noise = gaussian(3);
    const values = series(48 * 30, (t) => 0.05 * t + 10 * wave(t, 48) + 0.5 * noise());
    assert.strictEqual(detectSeason(values).season, 48);
  });

  it("finds a 7-day cycle in daily data", function () {
    const noise = gaussian(4);
    const values = series(730, (t) => 5 * wave(t, 7) + 2 * noise());
    assert.strictEqual(detectSeason(values).season, 7);
  });

  it("finds the yearly cycle (12) of monthly data growing multiplicatively, like airline passengers", function () {
    // 12 years; the seasonal swing grows with the level, and the noise is a share of it.
    const noise = gaussian(5);
    const values = series(144, (t) => 100 * Math.exp(0.01 * t) * (1 + 0.2 * wave(t, 12)) * (1 + 0.03 * noise()));
    const { season, strength } = detectSeason(values);
    assert.strictEqual(season, 12);
    assert.ok(strength > 0.5, `strength ${strength}`);
  });

  it("finds no season in white noise, even among given candidates", function () {
    const noise = gaussian(6);
    const values = series(2000, () => noise());
    const found = detectSeason(values);
    assert.strictEqual(found.season, null);
    assert.ok(Number.isFinite(found.strength) && found.strength < 0.3, `strength ${found.strength}`);
    assert.strictEqual(detectSeason(values, { candidates: [7, 24] }).season, null);
  });

  it("finds no season in a random walk", function () {
    assert.strictEqual(detectSeason(randomWalk(2000, 7)).season, null);
  });

  it("finds no season in a constant series, and reports strength 0, not NaN", function () {
    assert.deepStrictEqual(detectSeason(new Array(500).fill(0.1)), { season: null, strength: 0 });
    // A straight line is constant once differenced, up to rounding that must not read as a cycle.
    assert.deepStrictEqual(detectSeason(series(500, (t) => 3 + 0.1 * t)), { season: null, strength: 0 });
  });

  it("gives 50 for a pure sine of period 50, not its multiple 100", function () {
    const { season, strength } = detectSeason(series(1000, (t) => wave(t, 50)));
    assert.strictEqual(season, 50);
    assert.ok(strength > 0.9, `strength ${strength}`);
  });

  it("gives the shorter lag when the best is a multiple of it give or take a row (12.5 rows → 12, not 25)", function () {
    // r peaks highest at 25 (two cycles exactly), and 25 = 2 × 12 + 1.
    const { season } = detectSeason(series(1000, (t) => wave(t, 12.5)));
    assert.strictEqual(season, 12);
  });

  it("considers no lag above maxLag, nor above half the series", function () {
    const values = series(1000, (t) => wave(t, 50));
    assert.strictEqual(detectSeason(values, { maxLag: 40 }).season, null);
    // 80 rows hold 1.6 cycles of 50: too few to call it a season.
    assert.strictEqual(detectSeason(values.slice(0, 80)).season, null);
    assert.strictEqual(detectSeason(values.slice(0, 80), { candidates: [50] }).season, null);
  });

  it("accepts typed arrays", function () {
    const values = Float64Array.from(series(1000, (t) => wave(t, 50)));
    assert.strictEqual(detectSeason(values).season, 50);
  });

  it("rejects bad input with a clear error", function () {
    assert.throws(() => detectSeason("1,2,3,4,5,6,7,8"), /array of numbers/);
    assert.throws(() => detectSeason(null), /array of numbers/);
    assert.throws(() => detectSeason({ length: 10 }), /array of numbers/);
    assert.throws(() => detectSeason([1, 2, 3, 4, 5, 6, 7]), /at least 8 values, got 7/);
    assert.throws(() => detectSeason([1, 2, 3, NaN, 5, 6, 7, 8, 9]), /value 3 is NaN/);
    assert.throws(() => detectSeason([1, 2, 3, 4, 5, 6, 7, 8, Infinity]), /value 8 is Infinity/);
    assert.throws(() => detectSeason([1, 2, 3, "4", 5, 6, 7, 8]), /value 3 is "4"/);
    const ok = series(100, (t) => t % 5);
    assert.throws(() => detectSeason(ok, { maxLag: 1 }), /maxLag must be an integer ≥ 2/);
    assert.throws(() => detectSeason(ok, { maxLag: 2.5 }), /maxLag must be an integer ≥ 2/);
    assert.throws(() => detectSeason(ok, { candidates: [] }), /non-empty array/);
    assert.throws(() => detectSeason(ok, { candidates: [24, 1] }), /integers ≥ 2, got 1/);
  });

  it("reads only the last 20,000 of 1,000,000 rows", function () {
    // The old part cycles every 10 rows, the recent part every 24: only the recent one counts.
    const noise = gaussian(8);
    const n = 1_000_000;
    const values = new Float64Array(n);
    for (let t = 0; t < n; t++) values[t] = (t < n - 20_000 ? wave(t, 10) : wave(t, 24)) + 0.5 * noise();
    assert.strictEqual(detectSeason(values).season, 24);
  });
});
