"use strict";
// Differencing (src/data/transform.ts): the transformed table, its inverse, the leads, and the auto rule.
const assert = require("assert");
const { transformRows, naiveBase, tableLead, transformLead, chooseDifferencing } = require("../dist/src/data/transform");

const { mulberry32, gaussian } = require("./helpers/random");


const tr = (difference, season = null) => ({ difference, season, calendar: [], step: null });
const S = 4;
const CASES = [tr("none"), tr("first"), tr("seasonal", S), tr("both", S)];
const HORIZONS = [1, 3, 5]; // 5 > season 4: the seasonal rule reaches two seasons back

/** Three columns: integer-valued (so every sum and difference is exact), a real-valued feature, an integer target. */
function table(n, seed) {
  const u = mulberry32(seed);
  const g = gaussian(seed + 1);
  return Array.from({ length: n }, (_, t) => [
    Math.round(1000 * u()) - 500 + 3 * t,
    100 * Math.sin(t / 3) + g(),
    Math.round(50 * u()) + (t % S) * 40,
  ]);
}

/** The naive rule written out from its definition, one case per differencing. */
function handNaive(rows, t, c, h, d, s) {
  const k = Math.ceil(h / s);
  switch (d) {
    case "none":
      return 0;
    case "first":
      return rows[t][c];
    case "seasonal":
      return rows[t + h - k * s][c];
    case "both":
      return rows[t + h - k * s][c] + rows[t][c] - rows[t - k * s][c];
  }
}

function handDifference(rows, j, c, d, s) {
  switch (d) {
    case "none":
      return rows[j][c];
    case "first":
      return rows[j][c] - rows[j - 1][c];
    case "seasonal":
      return rows[j][c] - rows[j - s][c];
    case "both":
      return rows[j][c] - rows[j - 1][c] - (rows[j - s][c] - rows[j - s - 1][c]);
  }
}

describe("transform: transformRows and its inverse", function () {
  const rows = table(60, 7);
  const features = [0, 1, 2];
  const targets = [0, 2];
  for (const t of CASES) {
    for (const h of HORIZONS) {
      it(`naiveBase + residual gives back every target value exactly (${t.difference}, h=${h})`, function () {
        const { rows: out, lead } = transformRows(rows, features, targets, t, h);
        assert.strictEqual(lead, tableLead(t, h));
        assert.strictEqual(out.length, rows.length - lead);
        for (let i = 0; i < out.length; i++) {
          const j = i + lead;
          for (let o = 0; o < targets.length; o++) {
            const back = naiveBase(rows, j - h, targets[o], h, t) + out[i][features.length + o];
            assert.strictEqual(back, rows[j][targets[o]], `row ${j}, target ${o}`);
          }
        }
      });

      it(`the inverse needs no row after the origin, and the naive rule is the one defined (${t.difference}, h=${h})`, function () {
        const lead = tableLead(t, h);
        for (let j = lead; j < rows.length; j++) {
          const origin = j - h;
          // Only rows up to the origin are known at forecast time: any later row is not there.
          const known = rows.slice(0, origin + 1);
          for (const c of targets) {
            const n = naiveBase(known, origin, c, h, t);
            assert.ok(Number.isFinite(n), `row ${j}: naive rule read past the origin`);
            assert.strictEqual(n, handNaive(rows, origin, c, h, t.difference, S), `row ${j}, column ${c}`);
          }
        }
      });
    }

    it(`the differenced features equal a hand computation (${t.difference})`, function () {
      const h = 3;
      const { rows: out, lead } = transformRows(rows, features, targets, t, h);
      for (let i = 0; i < out.length; i++) {
        for (let f = 0; f < features.length; f++) {
          const hand = handDifference(rows, i + lead, features[f], t.difference, S);
          // Column 1 is real-valued: the order of the three subtractions may round differently.
          if (f === 1) assert.ok(Math.abs(out[i][f] - hand) <= 1e-12 * 400, `row ${i + lead}, feature ${f}: ${out[i][f]} vs ${hand}`);
          else assert.strictEqual(out[i][f], hand, `row ${i + lead}, feature ${f}`);
        }
      }
    });
  }

  it("real-valued targets come back to 1e-12 as well", function () {
    const g = gaussian(99);
    let level = 1e3;
    const real = Array.from({ length: 80 }, (_, t) => [(level += g()) + 50 * Math.sin((2 * Math.PI * t) / S)]);
    for (const t of CASES) {
      for (const h of HORIZONS) {
        const { rows: out, lead } = transformRows(real, [0], [0], t, h);
        for (let i = 0; i < out.length; i++) {
          const back = naiveBase(real, i + lead - h, 0, h, t) + out[i][1];
          assert.ok(Math.abs(back - real[i + lead][0]) <= 1e-12 * Math.abs(real[i + lead][0]), `${t.difference} h=${h} row ${i + lead}`);
        }
      }
    }
  });

  it("a row holds the differenced features first, then the target residuals (none: the plain values)", function () {
    const { rows: out, lead } = transformRows([[1, 10], [2, 20], [3, 30]], [1, 0], [0], tr("none"), 1);
    assert.strictEqual(lead, 0);
    assert.deepStrictEqual(out, [[10, 1, 1], [20, 2, 2], [30, 3, 3]]);
  });

  it("refuses seasonal differencing without a season, naming the setting", function () {
    assert.throws(() => transformRows(rows, [0], [0], tr("seasonal", null), 1), /season: null is not a season length/);
    assert.throws(() => transformRows(rows, [0], [0], tr("both", 1), 1), /season: 1 is not a season length/);
    assert.throws(() => transformLead(tr("diff"), 1), /difference must be one of/);
  });
});

describe("transform: tableLead / transformLead", function () {
  it("give the rows each differencing looks back (season 4; horizons 1, 3 and 5)", function () {
    // transformLead: what the differences reach (1 for first, s for seasonal, s + 1 for both), or
    // the ⌈h/s⌉·s (+1) rows the naive rule reaches when that is further. tableLead adds h.
    const expected = {
      none: { 1: [0, 0], 3: [0, 0], 5: [0, 0] },
      first: { 1: [1, 2], 3: [1, 4], 5: [1, 6] },
      seasonal: { 1: [4, 5], 3: [4, 7], 5: [8, 13] },
      both: { 1: [5, 6], 3: [5, 8], 5: [9, 14] },
    };
    for (const t of CASES) {
      for (const h of HORIZONS) {
        assert.deepStrictEqual([transformLead(t, h), tableLead(t, h)], expected[t.difference][h], `${t.difference} h=${h}`);
      }
    }
    assert.strictEqual(transformLead(tr("both", 12), 1), 13);
    assert.strictEqual(tableLead(tr("seasonal", 12), 25), 36 + 25);
  });

  it("the first kept row's target origin has its own differences: tableLead = transformLead + h", function () {
    // The origin of the first kept row, j − h, is itself a row the differences exist for, so a
    // window ending there can be fed to the network; one row earlier it would not be.
    const rows = table(40, 3);
    for (const t of CASES.slice(1)) {
      for (const h of HORIZONS) {
        const lead = tableLead(t, h);
        const origin = lead - h;
        assert.strictEqual(origin, transformLead(t, h));
        const reach = t.difference === "first" ? 1 : t.difference === "seasonal" ? S : S + 1;
        assert.ok(origin - reach >= 0, `${t.difference} h=${h}: origin differences defined`);
        const { rows: out } = transformRows(rows, [0], [0], t, h);
        assert.ok(out[0].every(Number.isFinite), `${t.difference} h=${h}: first row finite`);
      }
    }
  });
});

describe("transform: chooseDifferencing (the auto rule: wandering levels, then the best naive rule)", function () {
  const n = 400;
  const col = (f) => Array.from({ length: n }, (_, t) => [f(t)]);

  it("picks none for white noise (differencing doubles its error)", function () {
    for (const seed of [1, 2, 3]) {
      const g = gaussian(seed);
      const c = chooseDifferencing(col(() => 5 + g()), [0], 1, null);
      assert.strictEqual(c.difference, "none", `seed ${seed}`);
      // the raw scores show why: first ≈ 2 × none
      assert.ok(c.scores.first / c.scores.none > 1.6 && c.scores.first / c.scores.none < 2.4, JSON.stringify(c.scores));
    }
  });

  it("picks first for a random walk", function () {
    for (const seed of [4, 5, 6]) {
      const g = gaussian(seed);
      let level = 0;
      assert.strictEqual(chooseDifferencing(col(() => (level += g())), [0], 1, null).difference, "first", `seed ${seed}`);
    }
  });

  it("picks first for a linear trend with noise (and at horizon 3)", function () {
    const g = gaussian(7);
    const rows = col((t) => 0.5 * t + g());
    assert.strictEqual(chooseDifferencing(rows, [0], 1, null).difference, "first");
    assert.strictEqual(chooseDifferencing(rows, [0], 3, null).difference, "first");
  });

  it("picks both for a strong season on a trend: seasonal naive alone misses the trend by slope × season", function () {
    // y = 0.5 t + 10 sin(2πt/12) + ε. first leaves the cycle's step (≈ 10·2π/12 ≈ 5 per row);
    // seasonal leaves the trend's rise over one season, 0.5 × 12 = 6; both leaves only noise
    // (four noise terms, 4σ² = 4), far below the other two even after its 20 % cost.
    const g = gaussian(8);
    const rows = col((t) => 0.5 * t + 10 * Math.sin((2 * Math.PI * t) / 12) + g());
    const c = chooseDifferencing(rows, [0], 1, 12);
    assert.strictEqual(c.difference, "both", JSON.stringify(c.scores));
    assert.ok(Math.abs(c.scores.seasonal - (36 + 2)) < 4, `seasonal score ≈ 6² + 2σ², got ${c.scores.seasonal}`);
    assert.ok(Math.abs(c.scores.both - 4) < 1, `both score ≈ 4σ², got ${c.scores.both}`);
  });

  it("picks none for a strong season without a trend: the levels do not wander, so nothing is differenced", function () {
    // Seasonal naive leaves only 2σ² of a variance of 51: the variance rule alone would take
    // `seasonal`, and the network could then at best tie that rule (e_t − e_{t−12} cannot be
    // inverted). The KPSS statistic says the levels are stationary, so they are kept.
    const g = gaussian(9);
    const rows = col((t) => 10 * Math.sin((2 * Math.PI * t) / 12) + g());
    const c = chooseDifferencing(rows, [0], 1, 12);
    assert.strictEqual(c.difference, "none", JSON.stringify(c));
    assert.ok(c.stationarity < 0.347, `η ${c.stationarity}`);
    assert.ok(c.scores.seasonal / c.scores.none < 0.1, JSON.stringify(c.scores));
  });

  it("a stationary but persistent series (AR(1), φ 0.9, with a cycle) is not differenced; the same with a trend is", function () {
    const g = gaussian(31);
    let u = 0;
    const level = Array.from({ length: 1000 }, (_, t) => (u = 0.9 * u + 0.3 * g()) + 2 * Math.sin((2 * Math.PI * t) / 24));
    const flat = chooseDifferencing(level.map((v) => [v]), [0], 1, 24);
    assert.strictEqual(flat.difference, "none", JSON.stringify(flat));
    const rising = chooseDifferencing(level.map((v, t) => [v + 0.01 * t]), [0], 1, 24);
    assert.notStrictEqual(rising.difference, "none", JSON.stringify(rising));
    assert.ok(rising.stationarity > 0.347 && flat.stationarity < 0.347, `η ${flat.stationarity} → ${rising.stationarity}`);
  });

  it("with several targets, one that wanders is enough to difference", function () {
    const g = gaussian(32);
    let walk = 0;
    const rows = Array.from({ length: 600 }, (_, t) => [Math.sin((2 * Math.PI * t) / 24) + 0.1 * g(), (walk += g())]);
    assert.strictEqual(chooseDifferencing(rows.map((r) => [r[0]]), [0], 1, null).difference, "none");
    assert.strictEqual(chooseDifferencing(rows, [0, 1], 1, null).difference, "first");
  });

  it("never picks a seasonal differencing without a season, even for a seasonal series", function () {
    const g = gaussian(10);
    const rows = col((t) => 0.5 * t + 10 * Math.sin((2 * Math.PI * t) / 12) + g());
    for (const h of [1, 3]) {
      const c = chooseDifferencing(rows, [0], h, null);
      assert.ok(c.difference === "none" || c.difference === "first", c.difference);
      assert.deepStrictEqual(Object.keys(c.scores).sort(), ["first", "none"]);
    }
  });

  it("each difference taken costs 10 %: a candidate that lowers the error by less is not taken", function () {
    // A random walk under loud white noise: the levels wander (the KPSS test says so), but first
    // differences, which double the noise, lower the error only a little below the variance. The
    // choice must be the argmin of (score / none score) × (1 + 0.1 × differences).
    let decidedByCost = 0;
    for (const [noise, seed] of [[18, 41], [20, 42], [21, 43], [22, 44], [24, 45], [19, 46], [23, 47], [21, 48]]) {
      const g = gaussian(seed);
      let w = 0;
      const rows = Array.from({ length: 3000 }, () => [(w += g()) + noise * g()]);
      const c = chooseDifferencing(rows, [0], 1, null);
      assert.ok(c.stationarity > 0.347, `seed ${seed}: the walk must be found wandering (η ${c.stationarity})`);
      const ratio = c.scores.first / c.scores.none;
      if (ratio < 1 && ratio * 1.1 > 1) decidedByCost++;
      assert.strictEqual(c.difference, ratio * 1.1 < 1 ? "first" : "none", `noise ${noise}, seed ${seed}: ratio ${ratio}`);
    }
    assert.ok(decidedByCost >= 1, "no case where only the cost decides");
  });

  it("refuses a training part too short to choose", function () {
    assert.throws(() => chooseDifferencing(col((t) => t).slice(0, 5), [0], 1, null), /too few to choose a differencing/);
  });
});

// ---------------------------------------------------------------------------------------------
// prepareSeries / prepareDataset with differencing, season, times, calendar and gaps.
// ---------------------------------------------------------------------------------------------
const { prepareDataset, prepareSeries, calendarValues, splitRows } = require("../dist/src/data");

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1, 0, 30); // a Monday, half past midnight

/** Hourly load with a trend, a daily cycle and noise, and a temperature column; `times` regular. */
function hourlySeries(n, seed) {
  const g = gaussian(seed);
  const rows = Array.from({ length: n }, (_, t) => ({
    load: 100 + 0.05 * t + 20 * Math.sin((2 * Math.PI * t) / 24) + 2 * g(),
    temp: 10 + 5 * Math.cos((2 * Math.PI * t) / 24) + g(),
  }));
  const times = Array.from({ length: n }, (_, t) => T0 + t * HOUR);
  return { rows, times };
}

function allWindows(p, part) {
  const out = [];
  for (let n = 0; n < p[part].count; n++) out.push(p[part].at(n));
  return out;
}

describe("prepare: nothing is fitted on validation rows", function () {
  const opts = {
    features: ["load", "temp"],
    targets: ["load"],
    length: 12,
    horizon: 2,
    targetMode: "every",
    scaling: "zscore",
    validationSplit: 0.2,
    difference: "auto",
    season: "auto",
    calendar: "auto",
  };
  const { rows, times } = hourlySeries(24 * 30, 11);
  const base = prepareSeries(rows, { ...opts, times });

  it("the automatic choices are real ones on this series (so the comparison below means something)", function () {
    assert.strictEqual(base.report.season, 24);
    assert.ok(base.report.difference !== "none", base.report.difference);
    assert.deepStrictEqual(base.report.calendar, ["hourOfDay", "dayOfWeek"]);
    assert.ok(base.train.count > 100 && base.validation.count > 100);
  });

  const changes = {
    "every validation row × 1000": (v) => v * 1000,
    "a step of +1e6 at the boundary": (v) => v + 1e6,
  };
  for (const [what, change] of Object.entries(changes)) {
    it(`${what}: scaler, difference, season, calendar, split and every training window unchanged`, function () {
      const boundary = base.history.boundary; // first row (after filling) that is a validation target
      const edited = rows.map((r, i) => (i >= boundary ? { load: change(r.load), temp: change(r.temp) } : r));
      const p = prepareSeries(edited, { ...opts, times });
      assert.deepStrictEqual(p.scaler.toJSON(), base.scaler.toJSON());
      assert.deepStrictEqual(p.transform, base.transform);
      assert.deepStrictEqual(p.report, base.report); // difference, its scores, season, its strength, calendar, lead…
      assert.deepStrictEqual(p.split, base.split);
      assert.deepStrictEqual(allWindows(p, "train"), allWindows(base, "train"));
      // The eager path cuts the same training windows.
      const eager = prepareDataset(edited, { ...opts, times });
      assert.deepStrictEqual(eager.train, prepareDataset(rows, { ...opts, times }).train);
      // …and the change did reach the validation part.
      assert.notDeepStrictEqual(allWindows(p, "validation"), allWindows(base, "validation"));
      assert.notDeepStrictEqual(p.baselines, base.baselines);
    });
  }

  // A gap just before the boundary, filled by a line towards the first validation reading, would
  // make training rows (and the scaler, and every training window) depend on a validation value.
  it("a linearly filled gap right before the validation part does not carry a validation reading into training", function () {
    const n = 200;
    const k = 159; // 5 rows missing before reading k: after filling, reading k is row 164, the first validation row
    const ts = [];
    let t = T0;
    for (let i = 0; i < n; i++) {
      if (i === k) t += 5 * HOUR;
      ts.push(t);
      t += HOUR;
    }
    const vals = Array.from({ length: n }, (_, i) => 10 * Math.sin(i / 5) + 0.01 * i);
    const o = { length: 6, horizon: 1, scaling: "zscore", validationSplit: 0.2, gaps: "linear" };
    const p = prepareSeries(vals, { ...o, times: ts });
    assert.strictEqual(p.report.filled, 5);
    assert.strictEqual(p.history.boundary, 164, "reading k is the first validation row");
    const q = prepareSeries(vals.map((v, i) => (i >= k ? v * 1000 : v)), { ...o, times: ts });
    assert.deepStrictEqual(q.scaler.toJSON(), p.scaler.toJSON(), "scaler fitted on rows interpolated towards a validation reading");
    assert.deepStrictEqual(allWindows(q, "train"), allWindows(p, "train"));
  });
});

describe("prepare: calendar inputs", function () {
  it("each window step carries calendarValues of its own row's time, after the scaled features", function () {
    const { rows, times } = hourlySeries(24 * 10, 12);
    const calendar = ["hourOfDay", "dayOfWeek"];
    const p = prepareSeries(rows, { features: ["load", "temp"], targets: ["load"], length: 8, horizon: 1, scaling: "minmax", validationSplit: 0.25, difference: "first", calendar, times });
    const { lead } = p.report;
    assert.strictEqual(lead, 2);
    assert.deepStrictEqual(p.transform.calendar, calendar);
    assert.strictEqual(p.transform.step, HOUR);
    const check = (part, firstStart) => {
      for (let n = 0; n < p[part].count; n++) {
        const { input } = p[part].at(n);
        for (let t = 0; t < input.length; t++) {
          assert.strictEqual(input[t].length, 2 + 4);
          assert.deepStrictEqual(input[t].slice(2), calendarValues(times[firstStart + n + t + lead], calendar), `${part} window ${n}, step ${t}`);
        }
      }
    };
    check("train", p.split.train.start);
    check("validation", p.split.validation.start);
  });
});

describe("prepare: gaps", function () {
  /** Readings k = 0..n−1 with value k², hourly, with `missing` hours skipped before the given readings. */
  function gapped(n, missing) {
    const times = [];
    let t = T0;
    for (let k = 0; k < n; k++) {
      if (missing[k]) t += missing[k] * HOUR;
      times.push(t);
      t += HOUR;
    }
    return { values: Array.from({ length: n }, (_, k) => k * k), times };
  }
  const segmentOf = (starts) => (k) => starts.filter((s) => s <= k).length;

  for (const difference of ["none", "first"]) {
    for (const targetMode of ["last", "every"]) {
      it(`"split": no window spans a gap, training or validation (${difference}, ${targetMode})`, function () {
        const n = 200;
        const gapsAt = [40, 175]; // one in the training part, one in the validation part
        const { values, times } = gapped(n, { 40: 3, 175: 2 });
        const length = 5, horizon = 2, span = length + horizon;
        const o = { length, horizon, targetMode, scaling: "none", validationSplit: 0.2, difference, times };
        const p = prepareSeries(values, { ...o, gaps: "split" });
        assert.strictEqual(p.report.gaps, 2);
        assert.strictEqual(p.report.filled, 0);
        const seg = segmentOf(gapsAt);
        const lead = p.report.lead;
        // Readings each window depends on, decoded from the values (k² has differences 2k − 1).
        const readingsOf = (w) => {
          const ks = [];
          for (const row of w.input) {
            if (difference === "none") ks.push(Math.sqrt(row[0]));
            else ks.push((row[0] + 1) / 2, (row[0] + 1) / 2 - 1);
          }
          for (const tgt of w.target) {
            if (!tgt) continue;
            if (difference === "none") ks.push(Math.sqrt(tgt[0]));
            else {
              const j = (tgt[0] + horizon * horizon) / (2 * horizon); // y_j − y_{j−h} = 2jh − h²
              ks.push(j, j - horizon);
            }
          }
          return ks.map((v) => Math.round(v));
        };
        for (const part of ["train", "validation"]) {
          for (let w = 0; w < p[part].count; w++) {
            const ks = readingsOf(p[part].at(w));
            const segs = new Set(ks.map(seg));
            assert.strictEqual(segs.size, 1, `${part} window ${w} reads readings ${ks.join(",")} across a gap`);
          }
        }
        // Counts: the windows of the regular series minus those whose rows (differences included) cross a gap.
        const regular = prepareSeries(values, { ...o, times: Array.from({ length: n }, (_, k) => T0 + k * HOUR) });
        assert.strictEqual(regular.report.gaps, 0);
        const split = splitRows(n - lead, 0.2, span);
        const crosses = (start) => gapsAt.some((g) => start < g && g <= start + lead + span - 1);
        let train = 0, validation = 0;
        for (let s = split.train.start; s <= split.train.end - span; s++) if (!crosses(s)) train++;
        for (let s = split.validation.start; s <= split.validation.end - span; s++) if (!crosses(s)) validation++;
        assert.strictEqual(p.train.count, train);
        assert.strictEqual(p.validation.count, validation);
        assert.strictEqual(regular.train.count - p.train.count, span + lead - 1);
        assert.strictEqual(regular.validation.count - p.validation.count, span + lead - 1);
      });
    }
  }

  it('"linear" fills each gap on the straight line and reports the rows it added; "previous" repeats', function () {
    const n = 60;
    const { times } = gapped(n, { 20: 3, 41: 2 });
    const values = Array.from({ length: n }, (_, k) => 2 * k);
    const o = { length: 4, horizon: 1, scaling: "none", validationSplit: 0.2, times };
    const lin = prepareSeries(values, { ...o, gaps: "linear" });
    assert.strictEqual(lin.report.gaps, 2);
    assert.strictEqual(lin.report.filled, 5);
    assert.strictEqual(lin.report.rows, n + 5);
    assert.strictEqual(lin.history.times.length, n + 5);
    assert.ok(lin.history.times.every((t, i) => t === T0 + i * HOUR), "times become regular");
    // Values sit on the line through the readings either side: reading 20 (value 40) is 3 hours late.
    assert.deepStrictEqual(lin.history.rows.slice(19, 24).map((r) => r[0]), [38, 38.5, 39, 39.5, 40]);
    assert.deepStrictEqual(lin.history.rows.slice(43, 47).map((r) => r[0]), [80, 80 + 2 / 3, 80 + 4 / 3, 82]);
    const prev = prepareSeries(values, { ...o, gaps: "previous" });
    assert.strictEqual(prev.report.filled, 5);
    assert.deepStrictEqual(prev.history.rows.slice(19, 24).map((r) => r[0]), [38, 38, 38, 38, 40]);
  });
});

describe("prepare: errors name the setting", function () {
  const { rows, times } = hourlySeries(100, 13);
  const base = { features: ["load"], length: 5, horizon: 1, scaling: "zscore", validationSplit: 0.2 };

  it("a season longer than half the training part", function () {
    // 100 rows, 20 for validation: 80 training rows hold two seasons of 40 but not of 41.
    assert.doesNotThrow(() => prepareSeries(rows, { ...base, season: 40 }));
    assert.throws(() => prepareSeries(rows, { ...base, season: 41 }), /^TooFewRowsError: season 41: the training part has 80 rows/);
  });

  it("differencing that leaves too few rows says so", function () {
    // 8 rows: 7 for training hold one window of 6 without differencing; "first" drops 2 rows.
    const short = rows.slice(0, 8);
    assert.doesNotThrow(() => prepareSeries(short, { ...base, validationSplit: 0.1 }));
    assert.throws(() => prepareSeries(short, { ...base, validationSplit: 0.1, difference: "first" }), /after "first" differencing, whose first 2 rows serve only as history/);
  });

  it("a time field that does not parse names the row and the field", function () {
    const withTime = rows.slice(0, 30).map((r, i) => ({ when: new Date(T0 + i * HOUR).toISOString(), ...r }));
    withTime[7] = { ...withTime[7], when: "yesterday" };
    assert.throws(() => prepareSeries(withTime, { ...base, timeField: "when" }), /row 7, field "when"/);
    assert.throws(() => prepareSeries(rows, { ...base, timeField: "when" }), /row 0, field "when": missing/);
  });

  it("calendar features without times", function () {
    assert.throws(() => prepareSeries(rows, { ...base, calendar: ["hourOfDay"] }), /calendar features need the time of each reading/);
    assert.throws(() => prepareSeries(rows, { ...base, calendar: ["hour"] }), /calendar must be "auto" or a list of/);
    // "auto" without times simply adds none
    assert.deepStrictEqual(prepareSeries(rows, { ...base, calendar: "auto" }).transform.calendar, []);
    assert.ok(prepareSeries(rows, { ...base, calendar: ["hourOfDay"], times }).transform.calendar.length === 1);
  });

  it("explicit seasonal differencing without a season", function () {
    assert.throws(() => prepareSeries(rows, { ...base, difference: "seasonal" }), /difference "seasonal" needs a season/);
    assert.throws(() => prepareSeries(rows, { ...base, difference: "both", season: null }), /difference "both" needs a season/);
    assert.throws(() => prepareSeries(rows, { ...base, difference: "yearly" }), /difference must be "auto"/);
    assert.throws(() => prepareSeries(rows, { ...base, season: 1 }), /season must be "auto", 0 \(none\) or a whole number/);
  });

  it("a differenced target that is not a feature", function () {
    const o = { ...base, features: ["temp"], targets: ["load"] };
    assert.doesNotThrow(() => prepareSeries(rows, o));
    assert.throws(() => prepareSeries(rows, { ...o, difference: "first" }), /difference "first": every target must also be a feature/);
    // "auto" falls back to none rather than fail
    assert.strictEqual(prepareSeries(rows, { ...o, difference: "auto" }).transform.difference, "none");
  });
});
