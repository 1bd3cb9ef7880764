"use strict";
// rnn predictor alone, on model files written by hand: warming up, whole windows, recursive
// forecasts, error and anomaly reporting, "reset", and its errors. Forecasts are checked against
// numbers worked out by hand or a naive forward pass.
const assert = require("assert");
const plain = require("../helpers/plain-rnn");
const { makeModel } = require("../fixtures/models");
const { Model } = require("../../dist/src");
const { helper, NODES, useNodeRedServer, withCatch, collect, lastStatus, waitFor, sleep } = require("../helpers/nodes");
const { writeModelFile } = require("../helpers/models");

/**
 * One linear unit with no recurrence: y = a·s + c on the scaled last reading s = (x − 10) / 2,
 * so in real units the forecast is x ↦ 2(a(x − 10)/2 + c) + 10 = a·x + 10(1 − a) + 2c.
 */
function affineModel(a, c, { length = 4, horizon = 1 } = {}) {
  return {
    format: "node-red-rnn/model",
    version: 1,
    inputSize: 1,
    layers: [{ type: "rnn", hiddenSize: 1, activation: "linear", outputSize: 1, outputActivation: "linear", weights: { W_xh: [[1]], W_hh: [[0]], b_h: [0], W_hy: [[a]], b_y: [c] } }],
    scaler: { kind: "zscore", features: { offset: [10], scale: [2] }, targets: { offset: [10], scale: [2] } },
    window: { length, horizon, features: ["level"], targets: ["level"] },
  };
}
const affine = (a, c) => (x) => a * x + 10 * (1 - a) + 2 * c;

/** Forecast of a model file's object for a window of real-unit rows, by a naive forward pass. */
function referenceForecast(json, rows) {
  const model = Model.fromJSON(json);
  const { features, targets } = json.scaler;
  const scaled = rows.map((row) => row.map((v, f) => (v - features.offset[f]) / features.scale[f]));
  const out = plain.forward(plain.describe(model), [scaled]).outputs[0];
  return out[out.length - 1].map((v, o) => v * targets.scale[o] + targets.offset[o]);
}

async function loadPredictor(config) {
  await helper.load(NODES, withCatch([
    { id: "f1", type: "tab" },
    { id: "pred", z: "f1", type: "rnn-predictor", source: "file", trainer: "", steps: 1, anomalyFactor: 3, ...config, wires: [["out"]] },
    { id: "out", z: "f1", type: "helper", wires: [] },
  ]));
  const pred = helper.getNode("pred");
  if (config.source !== "trainer") await waitFor(() => lastStatus(pred) && ["ready", "no model yet", "bad model file"].includes(lastStatus(pred).text), 5000, "the model file to load");
  return { pred, out: collect(helper.getNode("out")), caught: collect(helper.getNode("errors")) };
}

const close = (a, b, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

describe("rnn predictor node", function () {
  this.timeout(20000);
  const server = useNodeRedServer({ userDir: true });
  const writeModel = (name, json) => writeModelFile(server.userDir, name, json);

  it("warms up without output until the window is full, then forecasts each reading; the next reading reports the error", async function () {
    const { pred, out } = await loadPredictor({ modelPath: writeModel("affine.json", affineModel(0.5, 0.3)) });
    const f = affine(0.5, 0.3);
    pred.receive({ payload: 12, topic: "tank" });
    pred.receive({ payload: 14, topic: "tank" });
    pred.receive({ payload: 11, topic: "tank" });
    await waitFor(() => lastStatus(pred).text === "warming 3/4", 2000, "status warming 3/4");
    assert.strictEqual(out.length, 0, "no output while warming up");
    pred.receive({ payload: 13, topic: "tank" });
    pred.receive({ payload: 16, topic: "tank" });
    await waitFor(() => out.length === 2, 2000, "two forecasts");
    close(out[0].payload, f(13));
    assert.strictEqual(out[0].topic, "tank");
    // A version 1 file has no intervals and no calendar: no bounds and no times.
    assert.deepStrictEqual(out[0].forecast, { steps: 1, values: [[out[0].payload]], lower: null, upper: null, level: null, times: null, targets: ["level"], horizon: 1, window: 4, model: "file" });
    close(out[1].payload, f(16));
    const prev = out[1].forecast.previous;
    close(prev.predicted, f(13));
    assert.strictEqual(prev.actual, 16);
    close(prev.error, 16 - f(13));
    assert.strictEqual(prev.anomaly, false);
    await waitFor(() => lastStatus(pred).text === `→ ${Number(f(16).toPrecision(4))}`, 2000, "the forecast in the status");
  });

  it("a whole window forecasts at once (multi-layer model, naive reference to 1e-12) and leaves the reading stream alone", async function () {
    const json = makeModel({ inputSize: 1, hidden: [4, 3], outputSize: 1, seed: 5 });
    const { pred, out } = await loadPredictor({ modelPath: writeModel("deep.json", json) });
    const window = Array.from({ length: 30 }, (_, i) => Math.sin(i / 3));
    pred.receive({ payload: window });
    await waitFor(() => out.length === 1, 2000, "a forecast");
    close(out[0].payload, referenceForecast(json, window.slice(-24).map((v) => [v]))[0]);
    pred.receive({ payload: 0.5 });
    await waitFor(() => lastStatus(pred).text === "warming 1/24", 2000, "status warming 1/24");
    // The same 24 readings one by one give the same forecast as the whole window.
    pred.receive({ topic: "reset" });
    for (const v of window.slice(-24)) pred.receive({ payload: v });
    await waitFor(() => out.length === 2, 2000, "a forecast from readings");
    close(out[1].payload, out[0].payload);
  });

  it("several features: readings as objects or arrays, a window of objects; the forecast is the target in real units", async function () {
    const json = makeModel({ inputSize: 2, hidden: [3], outputSize: 1, seed: 9 });
    json.window.length = 3;
    const { pred, out } = await loadPredictor({ modelPath: writeModel("two.json", json) });
    const rows = [[0.2, 1.5], [0.4, 1.1], [-0.3, 0.9]];
    pred.receive({ payload: rows.map(([f0, f1]) => ({ f1, f0, other: "x" })) });
    pred.receive({ payload: { f0: rows[0][0], f1: rows[0][1] } });
    pred.receive({ payload: rows[1] });
    pred.receive({ payload: { f0: rows[2][0], f1: rows[2][1] } });
    await waitFor(() => out.length === 2, 2000, "two forecasts");
    const expected = referenceForecast(json, rows)[0];
    close(out[0].payload, expected);
    close(out[1].payload, expected);
  });

  it("steps > 1 forecasts recursively, feeding each forecast back in as the next reading", async function () {
    const { pred, out } = await loadPredictor({ modelPath: writeModel("affine.json", affineModel(0.8, -0.1)), steps: 3 });
    const f = affine(0.8, -0.1);
    pred.receive({ payload: [5, 7, 9, 20] });
    await waitFor(() => out.length === 1, 2000, "a forecast");
    const expected = [f(20), f(f(20)), f(f(f(20)))];
    assert.strictEqual(out[0].payload.length, 3);
    out[0].payload.forEach((v, i) => close(v, expected[i]));
    assert.strictEqual(out[0].forecast.steps, 3);
    assert.deepStrictEqual(out[0].forecast.values.map((v) => v[0]), out[0].payload);
  });

  it("steps > 1 with a model that has memory: each step's window drops its oldest reading and ends with the forecast before it (by hand)", async function () {
    // h_t = s_t + 0.6·h_{t−1} from h_0 = 0 on the scaled readings s = (x − 10) / 2, and
    // y = 2(0.8·h_T − 0.1) + 10: every reading of the window counts, the older ones less.
    const json = affineModel(0.8, -0.1);
    json.layers[0].weights.W_hh = [[0.6]];
    const byHand = (window) => 2 * (0.8 * window.reduce((h, x) => (x - 10) / 2 + 0.6 * h, 0) - 0.1) + 10;
    const { pred, out } = await loadPredictor({ modelPath: writeModel("memory.json", json), steps: 3 });
    pred.receive({ payload: [5, 7, 9, 20] });
    await waitFor(() => out.length === 1, 2000, "a forecast");
    const y1 = byHand([5, 7, 9, 20]);
    const y2 = byHand([7, 9, 20, y1]);
    const y3 = byHand([9, 20, y1, y2]);
    assert.strictEqual(out[0].payload.length, 3);
    out[0].payload.forEach((v, i) => close(v, [y1, y2, y3][i]));
    // The windows matter: a step from a window that kept its oldest reading would differ.
    assert.ok(Math.abs(byHand([5, 7, 9, y1]) - y2) > 0.1);
  });

  it("flags a planted spike as an anomaly (error beyond 3× the recent RMS error) and nothing before it", async function () {
    // A persistence model (forecast = last reading): on a smooth sine the errors are the small
    // steps between readings; a spike of +5 is far beyond them.
    const { pred, out } = await loadPredictor({ modelPath: writeModel("persist.json", affineModel(1, 0)) });
    const series = Array.from({ length: 60 }, (_, i) => 10 + Math.sin((2 * Math.PI * i) / 50));
    series[45] += 5;
    for (const v of series) pred.receive({ payload: v });
    await waitFor(() => out.length === 57, 2000, "57 forecasts");
    close(out[0].payload, series[3]);
    const flagged = out.map((m, j) => (m.forecast.previous && m.forecast.previous.anomaly ? j + 3 : null)).filter((i) => i !== null);
    assert.strictEqual(flagged[0], 45, `flagged readings: ${flagged}`);
    assert.ok(flagged.length <= 2, `only the spike and the return from it: ${flagged}`);
    const spike = out[45 - 3].forecast.previous;
    close(spike.error, series[45] - series[44]);
    assert.ok(Math.abs(spike.error) > 3 * spike.rms);
  });

  it("'reset' clears the window and the error statistics: warming up again", async function () {
    const { pred, out } = await loadPredictor({ modelPath: writeModel("affine.json", affineModel(0.5, 0.3)) });
    for (const v of [1, 2, 3, 4, 5]) pred.receive({ payload: v });
    await waitFor(() => out.length === 2, 2000, "two forecasts");
    pred.receive({ topic: "reset" });
    for (const v of [6, 7, 8]) pred.receive({ payload: v });
    await sleep(50);
    assert.strictEqual(out.length, 2, "warming up again after the reset");
    pred.receive({ payload: 9 });
    await waitFor(() => out.length === 3, 2000, "a forecast");
    assert.strictEqual(out[2].forecast.previous, undefined, "no error for a forecast made before the reset");
  });

  it("errors: text reading, a missing field, a window shorter than the model's; each is caught and the stream goes on", async function () {
    const json = makeModel({ inputSize: 2, hidden: [3], outputSize: 1, seed: 9 });
    json.window.length = 2;
    const { pred, out, caught } = await loadPredictor({ modelPath: writeModel("two.json", json) });
    pred.receive({ payload: [1, 2] });
    pred.receive({ payload: "hot" });
    pred.receive({ payload: { f0: 1 } });
    pred.receive({ payload: [[1, 2]] });
    pred.receive({});
    pred.receive({ payload: [3, 4] });
    await waitFor(() => caught.length === 4 && out.length === 1, 2000, "four errors and one forecast");
    const messages = caught.map((m) => m.error.message);
    assert.match(messages[0], /msg.payload cannot be used: reading/);
    assert.match(messages[1], /field "f1" is missing/);
    assert.match(messages[2], /a window needs at least 2 readings, got 1/);
    assert.match(messages[3], /msg.payload is missing/);
    close(out[0].payload, referenceForecast(json, [[1, 2], [3, 4]])[0]);
  });

  it("a model file that does not exist yet: 'no model yet' and one warning, no errors; once it is written the predictor reads it and forecasts", async function () {
    const { pred, out, caught } = await loadPredictor({ modelPath: "models/later.json" });
    assert.deepStrictEqual(lastStatus(pred), { fill: "yellow", shape: "ring", text: "no model yet" });
    for (let i = 0; i < 20; i++) pred.receive({ payload: 12 });
    await sleep(200);
    assert.strictEqual(caught.length, 0, "no error per message");
    assert.strictEqual(out.length, 0);
    const warnings = helper.log().args.map((a) => a[0]).filter((e) => e && e.level === helper.log().WARN && e.id === "pred").map((e) => String(e.msg));
    assert.strictEqual(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0], /later\.json does not exist yet: forecasts start once it is written/);
    writeModel("later.json", affineModel(0.5, 0.3));
    // Looked at again at most once a second, when a message arrives.
    await waitFor(() => {
      pred.receive({ payload: 12 });
      return lastStatus(pred).text === "ready" || out.length > 0;
    }, 5000, "the predictor to read the new file");
    const f = affine(0.5, 0.3);
    // Four readings fill the window whatever was kept before: the last one is forecast from 13.
    const before = out.length;
    for (const x of [12, 14, 11, 13]) pred.receive({ payload: x });
    await waitFor(() => out.length > before && Math.abs(out[out.length - 1].payload - f(13)) < 1e-9, 2000, "the forecast from the last reading");
    assert.strictEqual(caught.length, 0);
  });

  it("a model file that changes is read again: the forecasts follow the new version", async function () {
    const modelPath = writeModel("changing.json", affineModel(0.5, 0.3));
    const { pred, out } = await loadPredictor({ modelPath });
    for (const x of [12, 14, 11, 13]) pred.receive({ payload: x });
    await waitFor(() => out.length === 1, 2000, "a forecast");
    close(out[0].payload, affine(0.5, 0.3)(13));
    await sleep(50);
    writeModel("changing.json", affineModel(0.8, -0.1));
    await sleep(1100);
    pred.receive({ payload: 13 });
    await waitFor(() => {
      pred.receive({ payload: 13 });
      return Math.abs(out[out.length - 1].payload - affine(0.8, -0.1)(13)) < 1e-9;
    }, 5000, "forecasts of the new version");
  });

  it("a model file that cannot be used: red status, and one error for the messages it stops, not one each", async function () {
    const { pred, caught } = await loadPredictor({ modelPath: writeModel("broken.json", "{ not json") });
    assert.deepStrictEqual(lastStatus(pred), { fill: "red", shape: "ring", text: "bad model file" });
    for (let i = 0; i < 30; i++) pred.receive({ payload: 1 });
    await sleep(300);
    assert.strictEqual(caught.length, 1, "one error for thirty messages");
    assert.match(caught[0].error.message, /Could not load the model: .*broken\.json/);
    assert.strictEqual(lastStatus(pred).fill, "red");
  });

  it("steps > 1 with a model whose horizon is not 1 is refused", async function () {
    const { pred, caught } = await loadPredictor({ modelPath: writeModel("h2.json", affineModel(0.5, 0, { horizon: 2 })), steps: 2 });
    pred.receive({ payload: [1, 2, 3, 4] });
    await waitFor(() => caught.length === 1, 2000, "an error");
    assert.match(caught[0].error.message, /more than one step ahead needs a model trained with horizon 1/);
  });

  it("source trainer: 'no model yet' while the trainer has none, an error when the trainer is missing", async function () {
    await helper.load(NODES, withCatch([
      { id: "f1", type: "tab" },
      { id: "pred", z: "f1", type: "rnn-predictor", source: "trainer", trainer: "t1", wires: [["out"]] },
      { id: "t1", z: "f1", type: "rnn-trainer", wires: [[], [], []] },
      { id: "lost", z: "f1", type: "rnn-predictor", source: "trainer", trainer: "gone", wires: [["out"]] },
      { id: "out", z: "f1", type: "helper", wires: [] },
    ]));
    const out = collect(helper.getNode("out"));
    const caught = collect(helper.getNode("errors"));
    helper.getNode("pred").receive({ payload: 1 });
    helper.getNode("lost").receive({ payload: 1 });
    await waitFor(() => caught.length === 1, 2000, "an error");
    await waitFor(() => lastStatus(helper.getNode("pred")).text === "no model yet", 2000, "status no model yet");
    assert.strictEqual(out.length, 0);
    assert.strictEqual(caught[0].error.source.id, "lost");
    assert.match(caught[0].error.message, /rnn trainer node does not exist/);
  });

  it("source trainer: a trainer whose configuration is invalid is named as such, once for thirty messages, with a red status", async function () {
    await helper.load(NODES, withCatch([
      { id: "f1", type: "tab" },
      { id: "pred", z: "f1", type: "rnn-predictor", source: "trainer", trainer: "t1", wires: [["out"]] },
      { id: "t1", z: "f1", type: "rnn-trainer", modelPath: "/elsewhere/model.json", wires: [[], [], []] },
      { id: "out", z: "f1", type: "helper", wires: [] },
    ]));
    const caught = collect(helper.getNode("errors"));
    const pred = helper.getNode("pred");
    for (let i = 0; i < 30; i++) pred.receive({ payload: 1 });
    await sleep(300);
    assert.strictEqual(caught.length, 1, caught.map((m) => m.error.message).join("\n"));
    assert.match(caught[0].error.message, /The selected rnn trainer is deployed but not running: its configuration is invalid/);
    assert.strictEqual(lastStatus(pred).fill, "red");
  });

  it("keeps one stream per msg.topic: two sensors interleaved get the forecasts each would get alone", async function () {
    // A model with memory (W_hh ≠ 0), so a window mixed from two streams gives other forecasts.
    const json = affineModel(0.5, 0.3);
    json.layers[0].weights.W_hh = [[0.6]];
    const { pred, out } = await loadPredictor({ modelPath: writeModel("memory.json", json) });
    const a = [12, 14, 11, 13, 16, 15];
    const b = [30, 28, 33, 31, 29, 35];
    a.forEach((v, i) => {
      pred.receive({ payload: v, topic: "a" });
      pred.receive({ payload: b[i], topic: "b" });
    });
    await waitFor(() => out.length === 6, 2000, "three forecasts per stream");
    const of = (topic) => out.filter((m) => m.topic === topic).map((m) => m.payload);
    const expect = (series) => [4, 5, 6].map((end) => referenceForecast(json, series.slice(end - 4, end).map((v) => [v]))[0]);
    of("a").forEach((v, i) => close(v, expect(a)[i]));
    of("b").forEach((v, i) => close(v, expect(b)[i]));
    // The error of a's forecast is measured against a's next reading, not b's.
    const prevA = out.filter((m) => m.topic === "a")[1].forecast.previous;
    close(prevA.actual, 16);
    close(prevA.predicted, expect(a)[0]);
  });

  it("keeps at most 100 streams: the least recently used is forgotten and warms up again, the others go on", async function () {
    const { pred, out } = await loadPredictor({ modelPath: writeModel("affine.json", affineModel(0.5, 0.3)) });
    const forecastsOf = (topic) => out.filter((m) => m.topic === topic).length;
    for (const v of [12, 14, 11, 13]) pred.receive({ payload: v, topic: "a" });
    // 99 more: 100 streams, "a" the least recently used, and still kept.
    for (let i = 0; i < 99; i++) pred.receive({ payload: 10, topic: `t${i}` });
    pred.receive({ payload: 12, topic: "a" });
    await waitFor(() => forecastsOf("a") === 2, 2000, "a's second forecast");
    // 100 new streams push out the 99 and then "a".
    for (let i = 0; i < 100; i++) pred.receive({ payload: 10, topic: `u${i}` });
    pred.receive({ payload: 12, topic: "a" });
    // A whole window forecasts at once and keeps no stream: once its forecast is out, so would a's be.
    pred.receive({ payload: [10, 11, 12, 13], topic: "probe" });
    await waitFor(() => forecastsOf("probe") === 1, 2000, "the probe's forecast");
    assert.strictEqual(forecastsOf("a"), 2, "a warms up again");
    assert.strictEqual(out.length, 3, "the streams of one reading have not forecast");
  });

  it("the running RMS error is over the last 100 errors of its stream", async function () {
    // Forecast f(x) = 0.5x + 5.6: big errors on a zigzag first, then small ones on a slow sine.
    const { pred, out } = await loadPredictor({ modelPath: writeModel("affine.json", affineModel(0.5, 0.3)), anomaly: "off" });
    const series = Array.from({ length: 140 }, (_, i) => (i < 30 ? (i % 2) * 40 : 20 + Math.sin(i / 7)));
    for (const v of series) pred.receive({ payload: v, topic: "s" });
    await waitFor(() => out.length === 137, 5000, "a forecast per reading once the window is full");
    const reports = out.map((m) => m.forecast.previous).filter(Boolean);
    assert.strictEqual(reports.length, 136);
    const rms = (errors) => Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / errors.length);
    const errors = reports.map((p) => p.error);
    // Each report's RMS is of the errors before it, at most the 100 latest.
    for (const j of [1, 50, 100, 101, 135]) close(reports[j].rms, rms(errors.slice(Math.max(0, j - 100), j)));
    // The bound shows: over every error before it, the last report's RMS would be far larger.
    assert.ok(rms(errors.slice(0, 135)) > 3 * reports[135].rms);
  });

  it("a [ISO date, value] pair is one reading, not a window of two", async function () {
    const json = { ...affineModel(0.5, 0.3), version: 2, transform: { difference: "none", season: null, calendar: [], step: 86400000 } };
    const { pred, out, caught } = await loadPredictor({ modelPath: writeModel("daily.json", json) });
    ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"].forEach((d, i) => pred.receive({ payload: [d, 10 + i] }));
    await waitFor(() => out.length === 1, 2000, "a forecast from four dated readings");
    assert.deepStrictEqual(caught, []);
    close(out[0].payload, referenceForecast(json, [[10], [11], [12], [13]])[0]);
  });

  it("readings with times: one after a gap restarts the window (no window spans it), one out of order is an error", async function () {
    const json = { ...affineModel(0.5, 0.3), version: 2, transform: { difference: "none", season: null, calendar: [], step: 3600000 } };
    const { pred, out, caught } = await loadPredictor({ modelPath: writeModel("hourly.json", json) });
    const at = (h) => new Date(Date.UTC(2024, 0, 1) + h * 3600000).toISOString();
    [0, 1, 2, 3].forEach((h) => pred.receive({ payload: { time: at(h), level: 10 + h } }));
    await waitFor(() => out.length === 1, 2000, "a forecast once four hourly readings are in");
    pred.receive({ payload: { time: at(9), level: 20 } });
    await waitFor(() => lastStatus(pred).text === "gap · warming 1/4", 2000, "the gap status");
    assert.strictEqual(out.length, 1, "no forecast from a window that spans the gap");
    [10, 11, 12].forEach((h) => pred.receive({ payload: { time: at(h), level: 20 + h } }));
    await waitFor(() => out.length === 2, 2000, "forecasts again once the window after the gap is full");
    close(out[1].payload, referenceForecast(json, [[20], [30], [31], [32]])[0]);
    pred.receive({ payload: { time: at(11), level: 5 } });
    await waitFor(() => caught.length === 1, 2000, "the error at the Catch node");
    assert.match(caught[0].error.message, /not after the previous one's/);
  });

  for (const [anomalyLevel, flagged] of [[undefined, false], [0.9, true]]) {
    it(`interval anomaly rule at ${anomalyLevel ?? "the default 99 %"} level: an error of 3 against ±${anomalyLevel === 0.9 ? 1 : 5} is ${flagged ? "" : "not "}flagged; the output interval stays the 90 % one`, async function () {
      // Widths: ±1 at 90 %, ±5 at 99 % (first step; later steps are not used here).
      const intervals = { method: "split-conformal", levels: [0.9, 0.99], halfWidth: [[[1]], [[5]]], coverage: [null, null], origins: 100 };
      const json = { ...affineModel(0.5, 0.3), version: 2, intervals };
      const f = affine(0.5, 0.3);
      const { pred, out } = await loadPredictor({ modelPath: writeModel("iv.json", json), anomaly: "interval", ...(anomalyLevel ? { anomalyLevel } : {}) });
      [12, 14, 11, 13].forEach((v) => pred.receive({ payload: v }));
      await waitFor(() => out.length === 1, 2000, "the first forecast");
      close(out[0].forecast.lower[0][0], f(13) - 1);
      close(out[0].forecast.upper[0][0], f(13) + 1);
      assert.strictEqual(out[0].forecast.level, 0.9);
      pred.receive({ payload: f(13) + 3 });
      await waitFor(() => out.length === 2, 2000, "the next forecast");
      const prev = out[1].forecast.previous;
      assert.strictEqual(prev.rule, "interval");
      assert.strictEqual(prev.anomaly, flagged);
      close(prev.anomalyUpper, f(13) + (anomalyLevel === 0.9 ? 1 : 5));
    });
  }
});
