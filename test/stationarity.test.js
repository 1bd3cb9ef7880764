"use strict";
// The KPSS statistic (src/data/stationarity.ts) against what is known of its distribution, not
// against another implementation: under white noise η converges to ∫₀¹ V(r)² dr for a Brownian
// bridge V, whose mean is 1/6 and whose upper 10 % point is 0.347 (Kwiatkowski et al. 1992); under a
// random walk or a trend it grows with n.
const assert = require("assert");
const { kpssStatistic, kpssLags, KPSS_CRITICAL } = require("../dist/src/data/stationarity");
const { gaussian } = require("./helpers/random");

const eta = (x) => kpssStatistic(x.length, (t) => x[t]);

describe("stationarity: the KPSS statistic", function () {
  it("white noise: mean η near 1/6 and about one series in ten above the 10 % point", function () {
    const runs = 400;
    let sum = 0;
    let above = 0;
    for (let r = 0; r < runs; r++) {
      const g = gaussian(1000 + r);
      const x = Array.from({ length: 500 }, () => 3 + 2 * g());
      const e = eta(x);
      sum += e;
      if (e > KPSS_CRITICAL["10%"]) above++;
    }
    const mean = sum / runs;
    // The Bartlett weights shrink η a little in finite samples; 400 runs give a standard error of
    // about 0.007 on the mean and 1.5 points on the share.
    assert.ok(mean > 0.14 && mean < 0.19, `mean η ${mean}`);
    assert.ok(above / runs > 0.05 && above / runs < 0.15, `share above 0.347: ${above / runs}`);
  });

  it("1, 2, 3, 4 by hand: η = 0.5", function () {
    // e = (−1.5, −0.5, 0.5, 1.5), S = (−1.5, −2, −1.5, 0), ΣS² = 8.5; l = min(⌊12·0.04^¼⌋, n − 1) = 3;
    // γ₀…γ₃ = 1.25, 0.3125, −0.375, −0.5625; σ̂² = 1.25 + 2(¾·0.3125 − ½·0.375 − ¼·0.5625) = 1.0625;
    // η = 8.5 / (4² · 1.0625) = 0.5.
    assert.ok(Math.abs(eta([1, 2, 3, 4]) - 0.5) < 1e-15, String(eta([1, 2, 3, 4])));
  });

  it("does not depend on the units: η of a·x + b is η of x", function () {
    const g = gaussian(7);
    const x = Array.from({ length: 300 }, () => g());
    const y = x.map((v) => 1e6 + 250 * v);
    assert.ok(Math.abs(eta(x) - eta(y)) < 1e-9 * eta(x), `${eta(x)} vs ${eta(y)}`);
  });

  it("a random walk and a trend: above the 5 % point at n 500, and growing with n", function () {
    const g = gaussian(8);
    let w = 0;
    const walk = Array.from({ length: 4000 }, () => (w += g()));
    const trend = Array.from({ length: 4000 }, (_, t) => 0.01 * t + g());
    for (const [name, x] of [["walk", walk], ["trend", trend]]) {
      const short = eta(x.slice(0, 500));
      const long = eta(x);
      assert.ok(short > KPSS_CRITICAL["5%"], `${name}, n 500: η ${short}`);
      assert.ok(long > 2 * short, `${name}: η ${short} at n 500, ${long} at n 4000`);
    }
  });

  it("a cycle under persistent noise stays stationary: the long-run variance takes the persistence in", function () {
    const g = gaussian(9);
    let u = 0;
    const x = Array.from({ length: 1500 }, (_, t) => 2 * Math.sin((2 * Math.PI * t) / 24) + (u = 0.9 * u + 0.3 * g()));
    assert.ok(eta(x) < KPSS_CRITICAL["10%"], `η ${eta(x)}`);
  });

  it("a constant series is 0 (even when its mean is not exact in floating point); fewer than 2 values NaN", function () {
    assert.strictEqual(eta(new Array(777).fill(0.1)), 0);
    assert.strictEqual(eta([5, 5]), 0);
    assert.ok(Number.isNaN(eta([1])));
  });

  it("the bandwidth is ⌊12 (n/100)^¼⌋, below n", function () {
    assert.strictEqual(kpssLags(100), 12);
    assert.strictEqual(kpssLags(1600), 24);
    assert.strictEqual(kpssLags(5), 4);
    assert.strictEqual(kpssLags(2), 1);
  });
});
