"use strict";
// The forecasting path (src/forecast.ts): readings in real units → differences → scaler → calendar →
// network → unscale → naive rule added back; recursion; intervals; errors. Random weights are
// enough: every check here is of exact arithmetic, not of forecast quality.
const assert = require("assert");
const { Model, forecast, historyLength, canRecurse, calibrateIntervals, prepareDataset, calendarValues } = require("../dist/src");

const { mulberry32, gaussian } = require("./helpers/random");


const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 2, 4, 5); // 05:00 UTC

/** Hourly readings: a random walk on a trend with a daily cycle, in units far from 0..1. */
function readings(n, seed) {
  const g = gaussian(seed);
  let walk = 0;
  const values = Array.from({ length: n }, (_, t) => 500 + 0.2 * t + (walk += g()) + 15 * Math.sin((2 * Math.PI * t) / 24));
  const times = Array.from({ length: n }, (_, t) => T0 + t * HOUR);
  return { values, times };
}

/** An untrained model carrying the scaler, window and transform of a prepared dataset. */
function modelFor(ds, seed = 1) {
  const inputSize = ds.train.inputs[0][0].length;
  const model = Model.create({ inputSize, layers: [{ hiddenSize: 4, outputSize: ds.window.targets.length }], seed });
  model.scaler = ds.scaler.toJSON();
  model.window = ds.window;
  model.transform = ds.transform;
  return model;
}

/** The network's last-step output for one window, through model.predict (not the Forecaster). */
function net(model, window) {
  const out = model.predict([window])[0];
  return out[out.length - 1];
}

function close(actual, expected, what, tol = 1e-12) {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

describe("forecast: one step in real units", function () {
  const { values, times } = readings(300, 31);
  const T = 6;

  it('"first": the last reading plus the unscaled network output on the scaled differenced window', function () {
    const ds = prepareDataset(values, { length: T, horizon: 1, scaling: "zscore", validationSplit: 0.2, difference: "first" });
    const model = modelFor(ds);
    const lead = ds.report.lead;
    assert.strictEqual(historyLength(model), T + 1);
    // The last validation window's origin is the second-to-last reading: forecast from the series up to it.
    const last = ds.validation.inputs.length - 1;
    const origin = ds.split.validation.start + last + lead + T - 1;
    assert.strictEqual(origin, values.length - 2);
    const history = values.slice(0, origin + 1).map((v) => [v]);
    const sc = model.scaler;
    const window = [];
    for (let j = origin - T + 1; j <= origin; j++) window.push([(values[j] - values[j - 1] - sc.features.offset[0]) / sc.features.scale[0]]);
    // The network sees exactly the inputs its validation window has.
    assert.deepStrictEqual(window, ds.validation.inputs[last]);
    const expected = values[origin] + net(model, window)[0] * sc.targets.scale[0] + sc.targets.offset[0];
    const got = forecast(model, history);
    close(got.values[0][0], expected, "forecast");
    assert.strictEqual(got.values.length, 1);
    assert.strictEqual(got.lower, null);
    assert.strictEqual(got.upper, null);
    assert.strictEqual(got.times, null);
    // Only the last historyLength rows matter.
    assert.deepStrictEqual(forecast(model, history.slice(-historyLength(model))).values, got.values);
    // A perfect network output (the window's own target) would give back the true next reading.
    const perfect = values[origin] + ds.validation.targets[last][T - 1][0] * sc.targets.scale[0] + sc.targets.offset[0];
    close(perfect, values[origin + 1], "inverse of the validation target");
  });

  it('"none": the unscaled network output on the scaled raw window', function () {
    const ds = prepareDataset(values, { length: T, horizon: 1, scaling: "minmax", validationSplit: 0.2 });
    const model = modelFor(ds, 2);
    assert.strictEqual(historyLength(model), T);
    const history = values.slice(0, 250).map((v) => [v]);
    const sc = model.scaler;
    const window = history.slice(-T).map(([v]) => [(v - sc.features.offset[0]) / sc.features.scale[0]]);
    close(forecast(model, history).values[0][0], net(model, window)[0] * sc.targets.scale[0] + sc.targets.offset[0], "forecast");
  });

  it('"both", horizon 2, season 4: adds back y_{t+2−4} + (y_t − y_{t−4}); times step by 2 steps', function () {
    const ds = prepareDataset(values, { length: T, horizon: 2, scaling: "zscore", validationSplit: 0.2, difference: "both", season: 4, times });
    const model = modelFor(ds, 3);
    assert.strictEqual(historyLength(model), T + 5);
    const o = 240;
    const history = values.slice(0, o + 1).map((v) => [v]);
    const sc = model.scaler;
    const window = [];
    for (let j = o - T + 1; j <= o; j++) window.push([(values[j] - values[j - 1] - values[j - 4] + values[j - 5] - sc.features.offset[0]) / sc.features.scale[0]]);
    const naive = values[o - 2] + values[o] - values[o - 4];
    const got = forecast(model, history, { times: times.slice(0, o + 1) });
    const want = naive + net(model, window)[0] * sc.targets.scale[0] + sc.targets.offset[0];
    close(got.values[0][0], want, "forecast", 1e-11);
    assert.deepStrictEqual(got.times, [times[o] + 2 * HOUR]);
  });
});

describe("forecast: several steps", function () {
  const { values, times } = readings(200, 32);

  for (const [difference, season] of [["none", null], ["first", null], ["seasonal", 24], ["both", 4]]) {
    it(`each step feeds the forecast back as the next reading (${difference})`, function () {
      const ds = prepareDataset(values, { length: 5, horizon: 1, scaling: "zscore", validationSplit: 0.2, difference, season });
      const model = modelFor(ds, 4);
      assert.ok(canRecurse(model));
      const history = values.slice(0, 150).map((v) => [v]);
      const steps = 6;
      const got = forecast(model, history, { steps });
      const hist = history.map((r) => r.slice());
      const byHand = [];
      for (let k = 0; k < steps; k++) {
        const y = forecast(model, hist).values[0];
        byHand.push(y);
        hist.push([y[0]]);
      }
      assert.deepStrictEqual(got.values, byHand);
      // The steps really differ (the recursion is not repeating one value).
      assert.ok(new Set(got.values.map((v) => v[0])).size === steps);
    });
  }

  it("the second step is computed from the window that ends with the first forecast (by hand, through predict)", function () {
    const ds = prepareDataset(values, { length: 5, horizon: 1, scaling: "zscore", validationSplit: 0.2, difference: "first" });
    const model = modelFor(ds, 5);
    const sc = model.scaler;
    const history = values.slice(0, 120);
    const got = forecast(model, history.map((v) => [v]), { steps: 2 }).values;
    const series = history.concat([got[0][0]]);
    const n = series.length;
    const window = [];
    for (let j = n - 5; j < n; j++) window.push([(series[j] - series[j - 1] - sc.features.offset[0]) / sc.features.scale[0]]);
    close(got[1][0], series[n - 1] + net(model, window)[0] * sc.targets.scale[0] + sc.targets.offset[0], "step 2");
  });

  it("features that are not targets keep their last value in the fed-back rows", function () {
    const g = gaussian(6);
    const rows = values.map((v) => ({ a: v, b: 20 + g() }));
    const ds = prepareDataset(rows, { features: ["a", "b"], targets: ["a"], length: 4, horizon: 1, scaling: "zscore", validationSplit: 0.2, difference: "first" });
    const model = modelFor(ds, 7);
    const history = rows.slice(0, 100).map((r) => [r.a, r.b]);
    const got = forecast(model, history, { steps: 4 });
    const hist = history.map((r) => r.slice());
    for (let k = 0; k < 4; k++) {
      const y = forecast(model, hist).values[0];
      assert.deepStrictEqual(got.values[k], y, `step ${k}`);
      hist.push([y[0], hist[hist.length - 1][1]]);
    }
  });
});

describe("forecast: calendar features of future steps", function () {
  const { values, times } = readings(24 * 12, 33);
  const T = 5;
  const calendar = ["hourOfDay", "dayOfWeek"];
  const ds = prepareDataset(values, { length: T, horizon: 1, scaling: "zscore", validationSplit: 0.2, difference: "first", calendar, times });
  const model = modelFor(ds, 8);
  const sc = model.scaler;

  /** The network input of a window ending at the last row of `series`, calendar from `rowTimes`. */
  function handWindow(series, rowTimes) {
    const n = series.length;
    const w = [];
    for (let j = n - T; j < n; j++) w.push([(series[j] - series[j - 1] - sc.features.offset[0]) / sc.features.scale[0], ...calendarValues(rowTimes[j], calendar)]);
    return w;
  }

  it("the first step's window equals the last validation window, calendar included", function () {
    assert.strictEqual(model.inputSize, 1 + 4);
    const last = ds.validation.inputs.length - 1;
    const origin = values.length - 2;
    const w = handWindow(values.slice(0, origin + 1), times);
    assert.deepStrictEqual(w, ds.validation.inputs[last]);
    const got = forecast(model, values.slice(0, origin + 1).map((v) => [v]), { times: times.slice(0, origin + 1) });
    close(got.values[0][0], values[origin] + net(model, w)[0] * sc.targets.scale[0] + sc.targets.offset[0], "step 1");
  });

  it("each future step's calendar is that of last time + k·step, not a frozen copy", function () {
    const o = 200;
    const history = values.slice(0, o + 1).map((v) => [v]);
    const rowTimes = times.slice(0, o + 1);
    const steps = 4;
    const got = forecast(model, history, { steps, times: rowTimes });
    assert.deepStrictEqual(got.times, [1, 2, 3, 4].map((k) => times[o] + k * HOUR));
    // By hand, through predict: append each forecast with the time last + k·step.
    const series = values.slice(0, o + 1);
    const tm = rowTimes.slice();
    const frozenSeries = values.slice(0, o + 1);
    const frozenTimes = rowTimes.slice();
    for (let k = 0; k < steps; k++) {
      const y = series[series.length - 1] + net(model, handWindow(series, tm))[0] * sc.targets.scale[0] + sc.targets.offset[0];
      close(got.values[k][0], y, `step ${k + 1}`);
      series.push(y);
      tm.push(times[o] + (k + 1) * HOUR);
      // A frozen calendar (every new row with the last known time) gives other forecasts.
      const yf = frozenSeries[frozenSeries.length - 1] + net(model, handWindow(frozenSeries, frozenTimes))[0] * sc.targets.scale[0] + sc.targets.offset[0];
      if (k > 0) assert.ok(Math.abs(yf - got.values[k][0]) > 1e-6, `step ${k + 1}: the frozen calendar gives the same forecast, so this check would not see it`);
      frozenSeries.push(yf);
      frozenTimes.push(times[o]);
    }
    // And the same as forecasting one step at a time with the times extended by hand.
    const hist = history.map((r) => r.slice());
    const ht = rowTimes.slice();
    for (let k = 0; k < steps; k++) {
      const one = forecast(model, hist, { times: ht });
      assert.deepStrictEqual(one.values[0], got.values[k]);
      hist.push(one.values[0].slice());
      ht.push(one.times[0]);
    }
  });

  it("needs the time of every reading", function () {
    const history = values.slice(0, 100).map((v) => [v]);
    assert.throws(() => forecast(model, history), /every reading needs its time/);
    assert.throws(() => forecast(model, history, { times: times.slice(0, 99) }), /every reading needs its time/);
    const bad = times.slice(0, 100);
    bad[99] = NaN;
    assert.throws(() => forecast(model, history, { times: bad }), /times of the readings must be finite/);
  });
});

describe("forecast: prediction intervals", function () {
  const { values } = readings(200, 34);
  const ds = prepareDataset(values, { length: 5, horizon: 1, scaling: "zscore", validationSplit: 0.2, difference: "first" });
  const model = modelFor(ds, 9);
  const g = gaussian(35);
  // 300 origins × 2 calibrated steps × 1 target; errors grow with the step.
  const scores = Array.from({ length: 300 }, () => [[Math.abs(g())], [Math.abs(3 * g())]]);
  model.intervals = calibrateIntervals(scores);
  const history = values.slice(0, 150).map((v) => [v]);

  it("lower/upper are value ∓ the half-width of the chosen level and step; later steps use the last width", function () {
    const levels = model.intervals.levels;
    for (const [asked, used] of [[0.9, 0.9], [0.93, 0.95], [0.5, 0.5], [0.999, 0.99], [0.7, 0.8]]) {
      const got = forecast(model, history, { steps: 5, level: asked });
      assert.strictEqual(got.level, used, `level ${asked}`);
      const L = levels.indexOf(used);
      for (let s = 0; s < 5; s++) {
        const w = model.intervals.halfWidth[L][Math.min(s, 1)][0];
        assert.ok(w > 0);
        assert.strictEqual(got.lower[s][0], got.values[s][0] - w, `level ${asked}, step ${s}`);
        assert.strictEqual(got.upper[s][0], got.values[s][0] + w, `level ${asked}, step ${s}`);
      }
    }
    // The default level is 0.9, and step 2 is wider than step 1 here.
    const d = forecast(model, history, { steps: 2 });
    assert.strictEqual(d.level, 0.9);
    assert.ok(d.upper[1][0] - d.values[1][0] > d.upper[0][0] - d.values[0][0]);
  });

  it("the intervals do not move the forecast itself", function () {
    const plain = modelFor(ds, 9);
    assert.deepStrictEqual(forecast(model, history, { steps: 3 }).values, forecast(plain, history, { steps: 3 }).values);
  });
});

describe("forecast: errors", function () {
  const { values } = readings(200, 36);
  const ds = prepareDataset(values, { length: 6, horizon: 1, scaling: "zscore", validationSplit: 0.2, difference: "first" });
  const model = modelFor(ds, 10);
  const history = values.slice(0, 50).map((v) => [v]);

  it("a history too short says how many readings are needed", function () {
    assert.throws(() => forecast(model, history.slice(-6)), /needs the last 7 readings \(a window of 6 and 1 more for the differences\), got 6/);
    assert.doesNotThrow(() => forecast(model, history.slice(-7)));
    const plain = modelFor(prepareDataset(values, { length: 6, horizon: 1, scaling: "zscore", validationSplit: 0.2 }));
    assert.throws(() => forecast(plain, history.slice(-5)), /needs the last 6 readings, got 5/);
  });

  it("a reading of the wrong width", function () {
    const h = history.map((r) => r.slice());
    h[45] = [1, 2];
    assert.throws(() => forecast(model, h), /reading 45: expected 1 values \(value\), got 2/);
  });

  it("a reading that is not a finite number", function () {
    for (const bad of [NaN, Infinity, "12", null]) {
      const h = history.map((r) => r.slice());
      h[49] = [bad];
      assert.throws(() => forecast(model, h), /reading 49, value: .* is not a finite number/, String(bad));
    }
    // a bad reading older than the history used does not matter
    const h = history.map((r) => r.slice());
    h[0] = [NaN];
    assert.doesNotThrow(() => forecast(model, h));
  });

  it("several steps need horizon 1", function () {
    const h2 = modelFor(prepareDataset(values, { length: 6, horizon: 2, scaling: "zscore", validationSplit: 0.2, difference: "first" }));
    assert.strictEqual(canRecurse(h2), false);
    assert.doesNotThrow(() => forecast(h2, history));
    assert.throws(() => forecast(h2, history, { steps: 2 }), /needs a model trained with horizon 1/);
    assert.throws(() => forecast(model, history, { steps: 0 }), /steps must be an integer ≥ 1/);
  });

  it("a model without window or scaler", function () {
    const bare = Model.create({ inputSize: 1, layers: [{ hiddenSize: 4, outputSize: 1 }], seed: 1 });
    assert.throws(() => forecast(bare, history), /no window or scaler information/);
  });
});
