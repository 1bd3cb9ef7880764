"use strict";
// The naive baselines prepareDataset measures on the validation part (src/data/prepare.ts).
const assert = require("assert");
const { prepareDataset, prepareSeries } = require("../dist/src/data");

const { mulberry32, gaussian } = require("./helpers/random");


/** Two columns with a weekly cycle (daily rows), a drift and noise; in units far from 0..1. */
function series(n, seed) {
  const g = gaussian(seed);
  let walk = 0;
  return Array.from({ length: n }, (_, t) => {
    walk += 0.5 * g();
    return {
      a: 1000 + walk + 40 * Math.sin((2 * Math.PI * t) / 7) + 3 * g(),
      b: -50 + 10 * Math.cos((2 * Math.PI * t) / 7) + g(),
    };
  });
}

/**
 * Every validation target the model is scored on, found from first principles: the transformed
 * table has n − lead rows, its last V = max(1, ⌊(n − lead)·split⌋) are validation targets, the
 * validation windows are all windows whose last target is one of them, and a step counts when
 * its target row is a validation row ("last": only the last step).
 */
function bruteForce(values, cols, { length, horizon, targetMode, validationSplit }, lead, season) {
  const n = values.length;
  const m = n - lead;
  const V = Math.max(1, Math.floor(m * validationSplit));
  const boundary = m - V;
  const span = length + horizon;
  const back = season ? Math.ceil(horizon / season) * season : 0;
  const p = [], s = [];
  for (let start = boundary - span + 1; start <= m - span; start++) {
    for (let t = 0; t < length; t++) {
      if (targetMode === "last" && t !== length - 1) continue;
      const i = start + t + horizon;
      if (i < boundary) continue;
      const j = i + lead;
      for (const c of cols) {
        p.push(values[j][c] - values[j - horizon][c]);
        if (season) s.push(values[j][c] - values[j - back][c]);
      }
    }
  }
  const stats = (e) => ({ rmse: Math.sqrt(e.reduce((a, v) => a + v * v, 0) / e.length), mae: e.reduce((a, v) => a + Math.abs(v), 0) / e.length });
  return { count: p.length, persistence: stats(p), seasonal: season ? stats(s) : null };
}

function close(actual, expected, what) {
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

describe("baselines: persistence and seasonal naive on the validation targets", function () {
  const rows = series(300, 21);
  for (const difference of ["none", "first"]) {
    for (const targetMode of ["last", "every"]) {
      for (const horizon of [1, 2]) {
        it(`equal a brute-force computation in real units (${difference}, ${targetMode}, horizon ${horizon})`, function () {
          const opts = { features: ["a", "b"], targets: ["a", "b"], length: 6, horizon, targetMode, scaling: "zscore", validationSplit: 0.2, difference, season: 7 };
          const p = prepareDataset(rows, opts);
          const lead = p.report.lead;
          assert.strictEqual(lead, difference === "none" ? 0 : 1 + horizon);
          const values = rows.map((r) => [r.a, r.b]);
          const want = bruteForce(values, [0, 1], opts, lead, 7);
          const got = p.baselines;
          assert.strictEqual(got.count, want.count);
          // The count is that of the targets the model is validated on: the non-null target entries.
          const entries = p.validation.targets.reduce((a, w) => a + w.reduce((b, step) => b + (step ? step.length : 0), 0), 0);
          assert.strictEqual(got.count, entries);
          close(got.persistence.rmse, want.persistence.rmse, "persistence rmse");
          close(got.persistence.mae, want.persistence.mae, "persistence mae");
          close(got.seasonal.rmse, want.seasonal.rmse, "seasonal rmse");
          close(got.seasonal.mae, want.seasonal.mae, "seasonal mae");
          assert.strictEqual(got.seasonal.season, 7);
          assert.strictEqual(got.best, got.seasonal.rmse < got.persistence.rmse ? "seasonal" : "persistence");
          // Real units: the errors are of the size of the series' own changes, not of scaled ones.
          assert.ok(got.persistence.mae > 5, `persistence mae ${got.persistence.mae} looks scaled`);
        });
      }
    }
  }

  it("a horizon beyond the season reaches ⌈h/s⌉ seasons back (h = 5, s = 2 and 3)", function () {
    for (const season of [2, 3]) {
      for (const targetMode of ["last", "every"]) {
        const opts = { features: ["a", "b"], length: 6, horizon: 5, targetMode, scaling: "zscore", validationSplit: 0.2, season };
        const p = prepareDataset(rows, opts);
        const want = bruteForce(rows.map((r) => [r.a, r.b]), [0, 1], opts, 0, season);
        close(p.baselines.seasonal.rmse, want.seasonal.rmse, `s=${season} ${targetMode} seasonal rmse`);
        close(p.baselines.seasonal.mae, want.seasonal.mae, `s=${season} ${targetMode} seasonal mae`);
        close(p.baselines.persistence.rmse, want.persistence.rmse, `s=${season} ${targetMode} persistence rmse`);
      }
    }
  });

  it("a single target among several features pools only that target", function () {
    const opts = { features: ["a", "b"], targets: ["b"], length: 5, horizon: 1, targetMode: "last", scaling: "minmax", validationSplit: 0.25, season: 7 };
    const p = prepareDataset(rows, opts);
    const want = bruteForce(rows.map((r) => [r.a, r.b]), [1], opts, 0, 7);
    assert.strictEqual(p.baselines.count, want.count);
    close(p.baselines.persistence.rmse, want.persistence.rmse, "persistence rmse");
    close(p.baselines.seasonal.rmse, want.seasonal.rmse, "seasonal rmse");
  });

  for (const horizon of [1, 2, 6]) {
    it(`a purely seasonal series (y_t = y_{t−s}) has seasonal RMSE 0 and best "seasonal" (horizon ${horizon}, s = 5)`, function () {
      const u = mulberry32(5);
      const pattern = Array.from({ length: 5 }, () => Math.round(100 * u()));
      const pure = Array.from({ length: 120 }, (_, t) => pattern[t % 5]);
      for (const difference of ["none", "seasonal"]) {
        const p = prepareDataset(pure, { length: 4, horizon, targetMode: "every", scaling: "zscore", validationSplit: 0.3, difference, season: 5 });
        assert.strictEqual(p.baselines.seasonal.rmse, 0, difference);
        assert.strictEqual(p.baselines.seasonal.mae, 0, difference);
        assert.ok(p.baselines.persistence.rmse > 1, difference);
        assert.strictEqual(p.baselines.best, "seasonal", difference);
      }
    });
  }

  it("without a season there is no seasonal baseline; without a validation part no baselines", function () {
    const p = prepareDataset(rows, { features: ["a"], length: 5, horizon: 1, scaling: "zscore", validationSplit: 0.2 });
    assert.strictEqual(p.baselines.seasonal, null);
    assert.strictEqual(p.baselines.best, "persistence");
    const want = bruteForce(rows.map((r) => [r.a]), [0], { length: 5, horizon: 1, targetMode: "last", validationSplit: 0.2 }, 0, null);
    close(p.baselines.persistence.rmse, want.persistence.rmse, "persistence rmse");
    assert.strictEqual(prepareDataset(rows, { features: ["a"], length: 5, horizon: 1, scaling: "zscore", validationSplit: 0 }).baselines, null);
  });

  it('with gaps "split", a seasonal rule that would read across a gap is not reported', function () {
    const HOUR = 3_600_000;
    const values = rows.map((r) => r.a);
    const times = values.map((_, k) => k * HOUR + (k >= 270 ? 3 * HOUR : 0)); // a gap in the validation part
    const o = { length: 3, horizon: 1, scaling: "zscore", validationSplit: 0.2, season: 7, times, gaps: "split" };
    const p = prepareSeries(values, o);
    assert.strictEqual(p.report.gaps, 1);
    assert.ok(p.baselines.count > 0);
    assert.strictEqual(p.baselines.seasonal, null);
    // the same readings without the gap do get one
    assert.ok(prepareSeries(values, { ...o, times: values.map((_, k) => k * HOUR) }).baselines.seasonal);
  });
});
