"use strict";
// The default preparation in real flows: a sequence node left at its defaults chooses the
// differencing, the season, the time field and the calendar from the series; the trainer compares
// the network with the naive rules, warns when it does not beat them and calibrates prediction
// intervals; the predictor forecasts out of the training range with those intervals and flags
// readings outside them; bad input is refused with a message that says what is wrong; the model
// file keeps the transform and the intervals. (test/helpers/nodes.js `chain()` pins the plain
// preparation for the mechanics tests; the flows here leave those settings out altogether, as a
// node dropped from the palette and deployed without opening its dialog would.)
const assert = require("assert");
const fs = require("fs");
const path = require("path");
const { Random } = require("../../dist/src");
const { helper, NODES, placed, chain, withCatch, nextMessage, collect, lastStatus, waitFor, tmpUserDir, noisySineSeries } = require("../helpers/nodes");

const HOUR = 3_600_000;
const START = Date.UTC(2024, 0, 1);

/** Hourly rows {time: ISO, value}: 20 + 0.05·t + 4·sin(2πt/24) + N(0, 0.3²), seeded. */
function trendingSeasonal(n, seed = 7) {
  const rng = new Random(seed);
  return Array.from({ length: n }, (_, t) => ({
    time: new Date(START + t * HOUR).toISOString(),
    value: 20 + 0.05 * t + 4 * Math.sin((2 * Math.PI * t) / 24) + 0.3 * rng.normal(),
  }));
}

/**
 * Hourly rows {time: ISO, value} of a room temperature: 21 + 2·sin(2π(t − 8)/24) + u_t with
 * u_t = 0.9·u_{t−1} + N(0, 0.3²), seeded. Stationary: a daily cycle under persistent deviations.
 */
function stationaryRoom(n, seed = 5) {
  const rng = new Random(seed);
  let u = 0;
  return Array.from({ length: n }, (_, t) => ({
    time: new Date(START + t * HOUR).toISOString(),
    value: 21 + 2 * Math.sin((2 * Math.PI * (t - 8)) / 24) + (u = 0.9 * u + 0.3 * rng.normal()),
  }));
}

/** x₀ = 50, x_t = x_{t−1} + N(0, 1), seeded: nothing to learn beyond "the next value is the last". */
function randomWalk(n, seed = 3) {
  const rng = new Random(seed);
  let x = 50;
  return Array.from({ length: n }, () => (x += rng.normal()));
}

/** A straight line with a small wiggle: plain numbers, no time. */
const line = (n) => Array.from({ length: n }, (_, t) => 10 + 0.5 * t + Math.sin(t));

/**
 * sequence → one rnn layer (with its projection) → loss → trainer, carrying only the settings
 * given: everything else, the preparation included, is left to the nodes' defaults.
 */
function defaultChain({ sequence = {}, trainer = {}, extra = [], z = "f1" } = {}) {
  return placed([
    { id: z, type: "tab", label: "forecasting" },
    { id: "seq", z, type: "rnn-sequence", ...sequence, wires: [["layer1"]] },
    { id: "layer1", z, type: "rnn-layer", projection: true, wires: [["loss"]] },
    { id: "loss", z, type: "rnn-loss", wires: [["trainer"]] },
    { id: "trainer", z, type: "rnn-trainer", patience: 5, ...trainer, wires: [["epochs"], ["done"], ["chart"]] },
    { id: "epochs", z, type: "helper", wires: [] },
    { id: "done", z, type: "helper", wires: [] },
    { id: "chart", z, type: "helper", wires: [] },
    ...extra.map((n) => ({ z, ...n })),
  ]);
}

/** A predictor on the live trainer's model, wired to a helper `${id}Out`; other settings as given (or defaults). */
function livePredictor(id, config = {}) {
  return [
    { id, type: "rnn-predictor", source: "trainer", trainer: "trainer", ...config, wires: [[`${id}Out`]] },
    { id: `${id}Out`, type: "helper", wires: [] },
  ];
}

/**
 * Sends readings one by one (each tagged msg.n = its index) and resolves with the output of each
 * one that gave a forecast, by index, once the last one has come out.
 */
async function feed(pred, out, readings) {
  const got = new Map();
  const listener = (msg) => got.set(msg.n, msg);
  out.on("input", listener);
  try {
    readings.forEach((payload, n) => pred.receive({ payload, n }));
    await waitFor(() => got.has(readings.length - 1), 20000, "the forecast of the last reading");
  } finally {
    out.removeListener("input", listener);
  }
  return got;
}

const flagged = (msg) => Boolean(msg && msg.forecast.previous && msg.forecast.previous.anomaly);
const shifted = (rows, by) => rows.map((r) => ({ ...r, value: r.value + by }));

function startServer(dir) {
  helper.settings({ userDir: dir });
  return new Promise((resolve) => helper.startServer(resolve));
}

async function stopServer() {
  await helper.unload();
  await new Promise((resolve) => helper.stopServer(resolve));
}

describe("forecasting with the default preparation: a trending, seasonal hourly series", function () {
  this.timeout(120000);
  const N = 1200;
  // The series keeps rising after the part trained on: the readings fed to the predictors follow it.
  const all = trendingSeasonal(N + 300);
  const series = all.slice(0, N);
  const trainingMax = Math.max(...series.map((r) => r.value));
  const modelPath = "models/forecast.json";
  let userDir;
  let done;

  before(async function () {
    userDir = tmpUserDir();
    await startServer(userDir);
    await helper.load(NODES, defaultChain({
      sequence: { epochs: 15 },
      trainer: { modelPath },
      extra: [
        ...livePredictor("ahead", { steps: 24 }),
        ...livePredictor("spike"),
        ...livePredictor("shift"),
        ...livePredictor("shiftError", { anomaly: "error" }),
      ],
    }));
    const finished = nextMessage(helper.getNode("done"), 60000);
    helper.getNode("seq").receive({ topic: "train", payload: series });
    done = (await finished).payload;
  });

  after(async function () {
    await stopServer();
  });

  it("chooses differencing, the daily season, the hourly calendar and the time field by itself, beats the naive rules and calibrates intervals", function () {
    const s = done.series;
    assert.notStrictEqual(s.difference, "none", "a trending series is differenced");
    assert.strictEqual(s.differenceAuto, true);
    assert.strictEqual(s.season, 24);
    assert.strictEqual(s.seasonAuto, true);
    assert.ok(s.calendar.includes("hourOfDay"), `calendar ${JSON.stringify(s.calendar)}`);
    assert.strictEqual(s.timeField, "time");
    assert.strictEqual(s.step, HOUR);

    const b = done.baselines;
    assert.ok(b.persistence && b.persistence.rmse > 0, "persistence baseline");
    assert.ok(b.seasonal && b.seasonal.rmse > 0 && b.seasonal.season === 24, "seasonal baseline");
    const bestBaseline = Math.min(b.persistence.rmse, b.seasonal.rmse);
    assert.strictEqual(done.beatsBaseline, true);
    assert.ok(done.metrics.rmse < bestBaseline, `network rmse ${done.metrics.rmse} < best naive ${bestBaseline}`);

    const iv = done.intervals;
    assert.ok(iv, "intervals after training");
    assert.deepStrictEqual(iv.levels, [0.5, 0.8, 0.9, 0.95, 0.99]);
    assert.strictEqual(iv.coverage.length, iv.levels.length);
    for (const c of iv.coverage) assert.ok(c > 0 && c <= 1, `coverage ${c}`);
    assert.ok(iv.origins > 0);

    const st = lastStatus(helper.getNode("trainer"));
    assert.match(st.text, /^val rmse [\d.]+ · naive [\d.]+$/);
    assert.strictEqual(st.fill, "green");
  });

  it("forecasts 24 hours ahead above the training maximum (the series keeps rising), inside widening intervals, at the next 24 hours", async function () {
    const readings = all.slice(N + 120, N + 200);
    const got = await feed(helper.getNode("ahead"), helper.getNode("aheadOut"), readings);
    const f = got.get(readings.length - 1).forecast;
    assert.strictEqual(f.values.length, 24);
    const values = f.values.map((v) => v[0]);
    for (const [k, v] of values.entries()) assert.ok(v > trainingMax, `step ${k + 1}: ${v} is above the training maximum ${trainingMax}`);
    // …and close to where the series goes (the trend and the daily cycle), not just anywhere above it.
    const truth = all.slice(N + 200, N + 224).map((r) => r.value);
    const rmse = Math.sqrt(values.reduce((s, v, k) => s + (v - truth[k]) ** 2, 0) / 24);
    assert.ok(rmse < 2, `24-hour forecast rmse ${rmse}`);
    for (let k = 0; k < 24; k++) assert.ok(f.lower[k][0] < values[k] && values[k] < f.upper[k][0], `step ${k + 1}: ${f.lower[k][0]} < ${values[k]} < ${f.upper[k][0]}`);
    const width = (k) => f.upper[k][0] - f.lower[k][0];
    assert.ok(width(23) > width(0), `the 24th step's interval (${width(23)}) is wider than the first's (${width(0)})`);
    assert.strictEqual(f.level, 0.9);
    const last = Date.parse(readings[readings.length - 1].time);
    assert.deepStrictEqual(f.times, Array.from({ length: 24 }, (_, k) => last + (k + 1) * HOUR));
  });

  it("interval rule (the default): few normal readings are flagged, a reading 50 above the series is", async function () {
    const normal = all.slice(N, N + 150);
    const spike = { ...all[N + 150], value: all[N + 150].value + 50 };
    const got = await feed(helper.getNode("spike"), helper.getNode("spikeOut"), [...normal, spike]);
    const checked = [...got.values()].filter((m) => m.forecast.previous && m.n < normal.length);
    assert.ok(checked.length >= 90, `${checked.length} normal readings checked against their forecast`);
    const flags = checked.filter(flagged).length;
    assert.ok(flags <= 0.2 * checked.length, `${flags} of ${checked.length} normal readings flagged at the 90 % interval`);
    const prev = got.get(normal.length).forecast.previous;
    assert.strictEqual(prev.rule, "interval");
    assert.strictEqual(prev.anomaly, true);
    assert.strictEqual(prev.actual, spike.value);
    assert.ok(prev.actual > prev.upper && prev.lower < prev.predicted && prev.predicted < prev.upper, JSON.stringify(prev));
  });

  it("interval rule after a permanent level shift (+30): the first shifted reading is flagged, then the flags stop within a few readings", async function () {
    const normal = all.slice(N, N + 150);
    const after = shifted(all.slice(N + 150, N + 170), 30);
    const got = await feed(helper.getNode("shift"), helper.getNode("shiftOut"), [...normal, ...after]);
    const at = (i) => got.get(normal.length + i);
    assert.strictEqual(at(0).forecast.previous.rule, "interval");
    assert.strictEqual(at(0).forecast.previous.anomaly, true, "the jump itself is flagged");
    const late = after.map((_, i) => i).filter((i) => i >= 8 && flagged(at(i)));
    assert.deepStrictEqual(late, [], "no flags from the 9th shifted reading on: the differenced forecast follows the new level");
  });

  it("error rule after a permanent level shift (+30): flagged at the jump, then no more", async function () {
    const normal = all.slice(N, N + 150);
    const after = shifted(all.slice(N + 150, N + 170), 30);
    const got = await feed(helper.getNode("shiftError"), helper.getNode("shiftErrorOut"), [...normal, ...after]);
    const at = (i) => got.get(normal.length + i);
    assert.strictEqual(at(0).forecast.previous.rule, "error");
    assert.strictEqual(at(0).forecast.previous.anomaly, true, "the jump itself is flagged");
    const late = after.map((_, i) => i).filter((i) => i >= 8 && flagged(at(i)));
    assert.deepStrictEqual(late, [], "no flags from the 9th shifted reading on");
  });

  // Last in this block: it replaces the flow with one that reads the model file.
  it("the trainer's model file is version 2 with the transform and the intervals; a file predictor forecasts exactly what the live one did", async function () {
    const file = path.join(userDir, modelPath);
    assert.strictEqual(done.path, file);
    const json = JSON.parse(fs.readFileSync(file, "utf8"));
    assert.strictEqual(json.format, "node-red-rnn/model");
    assert.strictEqual(json.version, 2);
    assert.deepStrictEqual(json.transform, { difference: done.series.difference, season: 24, calendar: done.series.calendar, step: HOUR });
    assert.ok(json.intervals, "intervals in the file");
    assert.deepStrictEqual(json.intervals.levels, done.intervals.levels);
    assert.deepStrictEqual(json.intervals.coverage, done.intervals.coverage);

    const readings = all.slice(N + 40, N + 100);
    const ahead = helper.getNode("ahead");
    ahead.receive({ topic: "reset" });
    const live = (await feed(ahead, helper.getNode("aheadOut"), readings)).get(readings.length - 1).forecast;

    await helper.unload();
    await helper.load(NODES, placed([
      { id: "f2", type: "tab" },
      { id: "filePred", z: "f2", type: "rnn-predictor", source: "file", modelPath, steps: 24, wires: [["fileOut"]] },
      { id: "fileOut", z: "f2", type: "helper", wires: [] },
    ]));
    const filePred = helper.getNode("filePred");
    await waitFor(() => lastStatus(filePred) && lastStatus(filePred).text === "ready", 5000, "the model file to load");
    const fromFile = (await feed(filePred, helper.getNode("fileOut"), readings)).get(readings.length - 1).forecast;
    assert.strictEqual(fromFile.model, "file");
    for (const k of ["values", "lower", "upper", "level", "times", "targets", "horizon", "window", "steps"]) assert.deepStrictEqual(fromFile[k], live[k], k);
  });
});

describe("forecasting with the default preparation: a stationary daily cycle", function () {
  this.timeout(120000);
  before(async function () {
    await startServer(tmpUserDir());
  });
  after(async function () {
    await stopServer();
  });

  it("keeps the levels (the series does not wander), learns the cycle from them and beats both naive rules clearly", async function () {
    // Differenced (the old auto rule took "both" here) the network only ties persistence: the
    // deviations' persistence is all a difference leaves to learn, and the naive rule has it too.
    await helper.load(NODES, defaultChain({ sequence: { epochs: 15 } }));
    const finished = nextMessage(helper.getNode("done"), 60000);
    helper.getNode("seq").receive({ topic: "train", payload: stationaryRoom(1200) });
    const done = (await finished).payload;
    const s = done.series;
    assert.strictEqual(s.difference, "none", JSON.stringify(s));
    assert.strictEqual(s.differenceAuto, true);
    assert.ok(s.differenceStationarity < 0.347, `KPSS η ${s.differenceStationarity}`);
    assert.strictEqual(s.season, 24);
    assert.ok(s.calendar.includes("hourOfDay"), `calendar ${JSON.stringify(s.calendar)}`);
    const b = done.baselines;
    const best = Math.min(b.persistence.rmse, b.seasonal.rmse);
    assert.strictEqual(done.beatsBaseline, true);
    assert.ok(done.metrics.rmse < 0.85 * best, `network rmse ${done.metrics.rmse} vs best naive ${best}`);
  });
});

describe("forecasting with the default preparation: a random walk", function () {
  this.timeout(120000);
  before(async function () {
    await startServer(tmpUserDir());
  });
  after(async function () {
    await stopServer();
  });

  it("does not claim to beat persistence: beatsBaseline false, a warning naming persistence, a yellow status", async function () {
    await helper.load(NODES, defaultChain({ sequence: { epochs: 15 } }));
    const finished = nextMessage(helper.getNode("done"), 60000);
    helper.getNode("seq").receive({ topic: "train", payload: randomWalk(2000) });
    const done = (await finished).payload;
    assert.strictEqual(done.series.difference, "first", "a random walk is differenced once");
    assert.strictEqual(done.baselines.best, "persistence");
    assert.strictEqual(done.beatsBaseline, false, `network rmse ${done.metrics.rmse} vs persistence ${done.baselines.persistence.rmse}`);
    const log = helper.log();
    const warnings = log.args.map((a) => a[0]).filter((e) => e && e.level === log.WARN && e.id === "trainer").map((e) => String(e.msg));
    assert.ok(warnings.some((m) => /persistence/.test(m)), `a warning naming persistence: ${JSON.stringify(warnings)}`);
    const st = lastStatus(helper.getNode("trainer"));
    assert.strictEqual(st.fill, "yellow");
    assert.match(st.text, /^val rmse [\d.]+ · naive [\d.]+$/);
  });
});

describe("forecasting with the default preparation: bad input", function () {
  this.timeout(60000);
  before(async function () {
    await startServer(tmpUserDir());
  });
  afterEach(async function () {
    await helper.unload();
  });
  after(async function () {
    await stopServer();
  });

  /** Loads a default chain with a Catch node; sends `bad` (expecting one caught error) and returns it. */
  async function refuse(sequence, bad) {
    await helper.load(NODES, withCatch(defaultChain({ sequence: { epochs: 1, ...sequence } })));
    const caught = collect(helper.getNode("errors"));
    helper.getNode("seq").receive({ topic: "train", payload: bad });
    await waitFor(() => caught.length === 1, 5000, "an error at the Catch node");
    assert.strictEqual(caught[0].error.source.id, "seq");
    assert.strictEqual(lastStatus(helper.getNode("seq")).fill, "red");
    return { message: caught[0].error.message, caught };
  }

  /** A valid series then trains to the end. */
  async function trains(good) {
    const finished = nextMessage(helper.getNode("done"), 30000);
    helper.getNode("seq").receive({ topic: "train", payload: good });
    assert.strictEqual((await finished).payload.reason, "completed");
  }

  it("season 500 on a 300-row series: the error names the season; a series long enough then trains", async function () {
    const { message } = await refuse({ season: "500" }, line(300));
    assert.match(message, /season 500/);
    assert.match(message, /rows/);
    await trains(line(1300));
  });

  it("a date that does not parse in one row (time field 'date'): the error names the row, the field and the value; a clean series then trains", async function () {
    const day = (t) => new Date(Date.UTC(2012, 0, 1) + t * 86_400_000).toISOString().slice(0, 10);
    const rows = Array.from({ length: 300 }, (_, t) => ({ date: day(t), value: Math.sin(t / 3) }));
    const { message } = await refuse({ timeField: "date" }, rows.map((r, t) => (t === 120 ? { ...r, date: "2012-13-45" } : r)));
    assert.match(message, /row 120/);
    assert.match(message, /"date"/);
    assert.match(message, /2012-13-45/);
    await trains(rows);
  });

  it("difference 'seasonal' with season 0: the error names the season, and says so again on the next message (not 'busy')", async function () {
    const { message, caught } = await refuse({ difference: "seasonal", season: "0" }, line(300));
    assert.match(message, /difference "seasonal" needs a season/);
    helper.getNode("seq").receive({ topic: "train", payload: line(300) });
    await waitFor(() => caught.length === 2, 5000, "a second error");
    assert.strictEqual(caught[1].error.message, message);
  });

  it("a series too short once differenced: the error says so and names the rows needed; that many rows then train", async function () {
    const sent = 31;
    const { message } = await refuse({}, line(sent));
    assert.match(message, /too few/);
    assert.match(message, /differencing/);
    const needed = Number(/at least (\d+) rows are needed/.exec(message)[1]);
    // The number a user reads is the number of readings to send: more than the ones that were too few.
    assert.ok(needed > sent, `the error asks for at least ${needed} rows, but ${sent} were sent and refused: "${message}"`);
    await trains(line(needed));
  });
});

describe("forecasting: the error rule after a level shift the forecast does not follow", function () {
  this.timeout(60000);
  before(async function () {
    await startServer(tmpUserDir());
  });
  after(async function () {
    await stopServer();
  });

  it("takes the shifted errors in after 3 flags in a row, so the flags stop instead of lasting for ever", async function () {
    // The plain preparation (no differencing): the forecast stays near the levels it was trained on.
    await helper.load(NODES, chain({ sequence: { epochs: 5 }, predictor: { anomaly: "error", anomalyFactor: 3 } }));
    const finished = nextMessage(helper.getNode("done"), 30000);
    helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(600) });
    await finished;
    const rest = noisySineSeries(700).slice(600);
    const normal = rest.slice(0, 60);
    const after = rest.slice(60, 80).map((v) => v + 30);
    const got = await feed(helper.getNode("pred"), helper.getNode("forecasts"), [...normal, ...after]);
    const flags = after.map((_, i) => flagged(got.get(normal.length + i)));
    assert.deepStrictEqual(flags.slice(0, 3), [true, true, true], "the shift is flagged");
    assert.ok(got.get(normal.length + 5).forecast.previous.error > 20, "the forecast does not follow the new level");
    const last = flags.lastIndexOf(true);
    assert.ok(last < 15, `flags stop after the shift became the yardstick: ${flags.map((f) => (f ? "X" : ".")).join("")}`);
    const rmsBefore = got.get(normal.length).forecast.previous.rms;
    const rmsAfter = got.get(normal.length + after.length - 1).forecast.previous.rms;
    assert.ok(rmsAfter > 10 * rmsBefore, `the yardstick took the shift in: rms ${rmsBefore} → ${rmsAfter}`);
  });
});
