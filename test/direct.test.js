"use strict";
// Direct multi-step forecasting: every step 1…k as one output vector, trained at once, instead of
// one step fed back k times. Transform inverse, windows, no leak, baselines, forecast, intervals.
const assert = require("assert");
const { Model, forecast, historyLength, prepareDataset, calibrateOnValidation, validateModelJSON } = require("../dist/src");
const { transformRowsDirect, naiveBase } = require("../dist/src/data/transform");
const { gaussian } = require("./helpers/random");

/** A trend, a cycle of 6 and noise, in units far from 0..1. */
function series(n, seed = 5) {
  const g = gaussian(seed);
  return Array.from({ length: n }, (_, t) => 300 + 0.5 * t + 20 * Math.sin((2 * Math.PI * t) / 6) + g());
}

const close = (a, b, what, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

describe("direct multi-step: the transformed table", function () {
  for (const tr of [{ difference: "none", season: null }, { difference: "first", season: null }, { difference: "seasonal", season: 4 }, { difference: "both", season: 4 }]) {
    it(`"${tr.difference}": row i holds, for origin j = i + lead, y_{j+h} − N_h(j) for h = 1…k, and adding N_h(j) back gives every value exactly`, function () {
      const rows = series(60).map((v, t) => [v, t]);
      const k = 5;
      const t = { ...tr, calendar: [], step: null };
      const { rows: table, lead } = transformRowsDirect(rows, [0], [0], t, k);
      table.forEach((row, i) => {
        const j = i + lead;
        for (let h = 1; h <= k; h++) {
          if (j + h >= rows.length) assert.ok(Number.isNaN(row[h]), "steps past the end are NaN");
          else assert.strictEqual(row[h] + naiveBase(rows, j, 0, h, t), rows[j + h][0], `origin ${j}, step ${h}`);
        }
      });
    });
  }
});

describe("direct multi-step: prepareDataset", function () {
  const values = series(400);
  const opts = { length: 12, horizon: 4, scaling: "zscore", validationSplit: 0.25, difference: "first", direct: true };

  it("gives each window one target step of k values (step-major), and records window.direct", function () {
    const ds = prepareDataset(values, opts);
    assert.strictEqual(ds.window.direct, true);
    assert.strictEqual(ds.scaler.targetCount, 4);
    const target = ds.train.targets[0];
    assert.ok(target.slice(0, -1).every((s) => s === null));
    assert.strictEqual(target[target.length - 1].length, 4);
    // Window 0 of "first" differencing: origin j = 11 + lead, step h = y_{j+h} − y_j, scaled by column h.
    const j = 11 + ds.report.lead;
    for (let h = 1; h <= 4; h++) {
      const { offset, scale } = ds.scaler.targets;
      close(target[11][h - 1] * scale[h - 1] + offset[h - 1], values[j + h] - values[j], `step ${h}`);
    }
  });

  it("fits nothing on validation rows: changing them leaves the scaler and every training window as they were", function () {
    const a = prepareDataset(values, opts);
    const changed = values.map((v, i) => (i >= a.split.boundary + a.report.lead ? v * 1000 : v));
    const b = prepareDataset(changed, opts);
    assert.deepStrictEqual(b.scaler.toJSON(), a.scaler.toJSON());
    assert.deepStrictEqual(b.train, a.train);
    assert.notDeepStrictEqual(b.validation, a.validation);
  });

  it("masks the steps of the first validation windows that land on training rows, and measures the baselines on the same steps", function () {
    const ds = prepareDataset(values, opts);
    const first = ds.validation.targets[0][11];
    // The first validation window's steps 1…3 are training rows; step 4 is the first validation row.
    assert.deepStrictEqual(first.slice(0, 3), [null, null, null]);
    assert.ok(Number.isFinite(first[3]));
    let count = 0, sq = 0;
    ds.validation.targets.forEach((w, n) => w[11].forEach((v, k) => {
      if (v === null) return;
      const j = ds.split.validation.start + n + 11 + ds.report.lead;
      const e = values[j + k + 1] - values[j];
      count++;
      sq += e * e;
    }));
    assert.strictEqual(ds.baselines.count, count);
    close(ds.baselines.persistence.rmse, Math.sqrt(sq / count), "persistence rmse");
  });

  it("refuses target mode every", function () {
    assert.throws(() => prepareDataset(values, { ...opts, targetMode: "every" }), /needs target mode "last"/);
  });
});

describe("direct multi-step: forecast", function () {
  const values = series(400);
  const ds = prepareDataset(values, { length: 12, horizon: 4, scaling: "zscore", validationSplit: 0.25, difference: "first", direct: true });
  const model = Model.create({ inputSize: 1, layers: [{ hiddenSize: 5, outputSize: 4 }], seed: 2 });
  model.scaler = ds.scaler.toJSON();
  model.window = ds.window;
  model.transform = ds.transform;

  it("gives all k steps from one pass: the last reading plus each unscaled output", function () {
    const history = values.slice(0, 300).map((v) => [v]);
    assert.strictEqual(historyLength(model), 13);
    const sc = model.scaler;
    const window = [];
    for (let j = 300 - 12; j < 300; j++) window.push([(values[j] - values[j - 1] - sc.features.offset[0]) / sc.features.scale[0]]);
    const out = model.predict([window])[0][11];
    const f = forecast(model, history);
    assert.strictEqual(f.values.length, 4);
    f.values.forEach((v, k) => close(v[0], values[299] + out[k] * sc.targets.scale[k] + sc.targets.offset[k], `step ${k + 1}`));
    assert.strictEqual(forecast(model, history, { steps: 2 }).values.length, 2);
    assert.throws(() => forecast(model, history, { steps: 5 }), /forecasts 4 steps at once/);
  });

  it('"seasonal" (s = 6): step h adds back the value one season before it, y_{t+h−6}', function () {
    const sds = prepareDataset(values, { length: 12, horizon: 4, scaling: "zscore", validationSplit: 0.25, difference: "seasonal", season: 6, direct: true });
    const m = Model.create({ inputSize: 1, layers: [{ hiddenSize: 5, outputSize: 4 }], seed: 3 });
    m.scaler = sds.scaler.toJSON();
    m.window = sds.window;
    m.transform = sds.transform;
    const sc = m.scaler;
    const window = [];
    for (let j = 300 - 12; j < 300; j++) window.push([(values[j] - values[j - 6] - sc.features.offset[0]) / sc.features.scale[0]]);
    const out = m.predict([window])[0][11];
    const f = forecast(m, values.slice(0, 300).map((v) => [v]));
    f.values.forEach((v, k) => close(v[0], values[299 + k + 1 - 6] + out[k] * sc.targets.scale[k] + sc.targets.offset[k], `step ${k + 1}`));
  });

  it("calibrates one interval width per step from the validation forecasts", function () {
    const intervals = calibrateOnValidation(model, ds.history);
    assert.strictEqual(intervals.halfWidth[0].length, 4);
    assert.ok(intervals.origins > 50);
    model.intervals = intervals;
    const f = forecast(model, values.slice(0, 300).map((v) => [v]), { level: 0.9 });
    f.values.forEach((v, k) => close(f.upper[k][0] - v[0], intervals.halfWidth[2][k][0], `width of step ${k + 1}`));
    model.intervals = null;
  });

  it("round-trips through the model file, which checks targets × steps against the output width", function () {
    const json = model.toJSON();
    assert.strictEqual(json.window.direct, true);
    assert.deepStrictEqual(validateModelJSON(json).window, json.window);
    const bad = JSON.parse(JSON.stringify(json));
    bad.window.horizon = 3;
    assert.throws(() => validateModelJSON(bad), /window.targets: 1 targets × 3 steps but the last layer emits 4 values/);
    const v1 = { ...JSON.parse(JSON.stringify(json)), version: 1 };
    delete v1.transform;
    assert.throws(() => validateModelJSON(v1), /window: unexpected key "direct"|window.*direct/);
  });
});
