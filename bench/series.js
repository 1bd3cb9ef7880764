'use strict';
/**
 * Series for bench/accuracy.js: the Seattle weather CSV shipped with the package, and five
 * synthetic series from a seeded generator (mulberry32 + Box-Muller), so every run sees the same
 * numbers. Each series is described by:
 *
 *   name, unit, rows (what is sent to the nodes: objects or numbers), values (the target, in real
 *   units, one per row), times (ms since the epoch per row, or null when the series has none),
 *   features / targets (field names to set on rnn sequence, or null to leave its default),
 *   timeField (the rows' time field, or null), seasons (for the seasonal-naive rule: each with
 *   its period in rows, or in milliseconds when the series has times), steps (k of the
 *   multi-step test) and notes (what was generated, for the report).
 *
 * Nothing here uses Math.random or the clock.
 */
const fs = require('fs');
const path = require('path');

const HOUR = 3600e3;
const DAY = 24 * HOUR;

/** mulberry32: a small 32-bit PRNG; uniform() in [0, 1). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return function uniform() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded generator of uniforms and standard normals (Box-Muller, both values used). */
function rng(seed) {
  const uniform = mulberry32(seed);
  let spare = null;
  function normal() {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  return { uniform, normal, int: (lo, hi) => lo + Math.floor(uniform() * (hi - lo + 1)) };
}

/** A series of rows {time, value} (or plain numbers without times): the value is the target. */
function valueSeries({ name, unit = '', rows, values = rows.map((x) => x.value), times = null, seasons, steps, notes }) {
  return { name, unit, rows, values, times, features: null, targets: null, timeField: times ? 'time' : null, seasons, steps, notes };
}

/** data/seattle-weather.csv as objects (numeric cells as numbers, the date and weather as text). */
function seattleRows() {
  const text = fs.readFileSync(path.join(__dirname, '..', 'data', 'seattle-weather.csv'), 'utf8');
  const [header, ...lines] = text.trim().split(/\r?\n/);
  const cols = header.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    const row = {};
    cols.forEach((c, i) => {
      const v = Number(cells[i]);
      row[c] = cells[i] !== '' && Number.isFinite(v) ? v : cells[i];
    });
    return row;
  });
}

/** Daily maximum temperature in Seattle 2012–2015 (NOAA); --quick keeps the last 800 days. */
function seattle({ quick = false } = {}) {
  let rows = seattleRows();
  if (quick) rows = rows.slice(-800);
  return {
    name: 'seattle',
    unit: '°C',
    rows,
    values: rows.map((r) => r.temp_max),
    times: rows.map((r) => Date.parse(`${r.date}T00:00:00Z`)),
    features: ['temp_max'],
    targets: ['temp_max'],
    timeField: 'date',
    seasons: [
      { label: '7', rows: 7 },
      { label: '365', rows: 365 },
    ],
    steps: 7,
    notes: `data/seattle-weather.csv, ${rows.length} days from ${rows[0].date} to ${rows[rows.length - 1].date}, target temp_max`,
  };
}

/**
 * Hourly: 120 days (--quick: 40) of 10 + 0.02·t (t in hours) + 5·sin(2πt/24) + 2·sin(2πt/168)
 * + N(0, 0.8²), with 5 gaps of 3–10 missing hours (one gap in each fifth of the series, so the
 * last one falls in or near the test part). Rows are {time: ISO string, value}.
 */
function hourly({ quick = false, seed = 11 } = {}) {
  const r = rng(seed);
  const hours = (quick ? 40 : 120) * 24;
  const start = Date.UTC(2024, 0, 1);
  const missing = new Set();
  const gaps = [];
  const part = Math.floor(hours / 5);
  for (let g = 0; g < 5; g++) {
    const len = r.int(3, 10);
    const at = g * part + r.int(48, part - 48 - len);
    gaps.push({ at, hours: len });
    for (let h = at; h < at + len; h++) missing.add(h);
  }
  const rows = [];
  const times = [];
  for (let t = 0; t < hours; t++) {
    const value = 10 + 0.02 * t + 5 * Math.sin((2 * Math.PI * t) / 24) + 2 * Math.sin((2 * Math.PI * t) / 168) + 0.8 * r.normal();
    if (missing.has(t)) continue;
    const time = start + t * HOUR;
    rows.push({ time: new Date(time).toISOString(), value });
    times.push(time);
  }
  return valueSeries({
    name: 'hourly',
    rows,
    times,
    seasons: [{ label: '24h', ms: DAY }],
    steps: 24,
    notes:
      `${hours / 24} days hourly, 10 + 0.02/h trend + daily (amp 5) + weekly (amp 2) + N(0, 0.8²); ` +
      `gaps of ${gaps.map((g) => `${g.hours} h at hour ${g.at}`).join(', ')}; ${rows.length} rows`,
  });
}

/**
 * Monthly, airline-passengers-like: 30 years (--quick: 15) of L·S·(1 + ε), with a level L growing
 * 4× over the span (exponentially), a yearly factor S = 1 + 0.18·sin(2π(m − 3)/12) +
 * 0.06·cos(4πm/12) (a summer peak; its amplitude grows with the level) and ε ~ N(0, 0.025²).
 * Rows are {time: "YYYY-MM-01", value}.
 */
function monthly({ quick = false, seed = 12 } = {}) {
  const r = rng(seed);
  const years = quick ? 15 : 30;
  const n = years * 12;
  const rows = [];
  const times = [];
  for (let i = 0; i < n; i++) {
    const m = i % 12;
    const level = 100 * Math.pow(4, i / (n - 1));
    const season = 1 + 0.18 * Math.sin((2 * Math.PI * (m - 3)) / 12) + 0.06 * Math.cos((4 * Math.PI * m) / 12);
    const value = level * season * (1 + 0.025 * r.normal());
    const time = Date.UTC(1990 + Math.floor(i / 12), m, 1);
    rows.push({ time: new Date(time).toISOString().slice(0, 10), value });
    times.push(time);
  }
  return valueSeries({
    name: 'monthly',
    rows,
    times,
    seasons: [{ label: '12', rows: 12 }],
    steps: 12,
    notes: `${years} years monthly, level ×4 (100 → 400), multiplicative yearly cycle (±~20 %), noise 2.5 %`,
  });
}

/** A gaussian random walk, x_0 = 0, x_t = x_{t−1} + N(0, 1): 3,000 steps (--quick: 800). Plain numbers. */
function randomwalk({ quick = false, seed = 13 } = {}) {
  const r = rng(seed);
  const n = quick ? 800 : 3000;
  const values = new Array(n);
  let x = 0;
  for (let i = 0; i < n; i++) {
    x += r.normal();
    values[i] = x;
  }
  return valueSeries({
    name: 'randomwalk',
    rows: values.slice(),
    values,
    seasons: [],
    steps: 10,
    notes: `${n} steps of a gaussian random walk (sd 1 per step); persistence is the optimal forecast`,
  });
}

/**
 * Wave: the series of example 01 (sin(2πt/50) plus uniform noise of width 0.1, the example's own
 * linear congruential generator and seed 42), 1,200 readings instead of its 600 so that the test
 * part holds several cycles. A stationary cycle under white noise: the case where seasonal
 * differencing over-differences (d_t = e_t − e_{t−50} is an MA that cannot be inverted).
 */
function wave({ quick = false } = {}) {
  const n = quick ? 600 : 1200;
  let seed = 42;
  const noise = () => {
    seed = (seed * 1664525 + 1013904223) % 4294967296;
    return seed / 4294967296 - 0.5;
  };
  const values = [];
  for (let t = 0; t < n; t++) values.push(Math.sin((2 * Math.PI * t) / 50) + 0.1 * noise());
  return valueSeries({
    name: 'wave',
    rows: values.slice(),
    values,
    seasons: [{ label: '50', rows: 50 }],
    steps: 10,
    notes: `${n} readings of example 01's noisy sine (period 50, uniform noise ±0.05); the noise-free wave is the best forecast`,
  });
}

/**
 * Sensor: 60 days (--quick: 30) of an hourly room temperature, 21 + 2·sin(2π(t − 8)/24) (warmest
 * in the afternoon) + u_t, where u_t = 0.9·u_{t−1} + N(0, 0.3²) is the weather and the people in
 * the room: a stationary daily cycle under persistent deviations, no trend. Rows are {time, value}.
 */
function sensor({ quick = false, seed = 14 } = {}) {
  const r = rng(seed);
  const hours = (quick ? 30 : 60) * 24;
  const start = Date.UTC(2024, 2, 1);
  const rows = [];
  const times = [];
  let u = 0;
  for (let t = 0; t < hours; t++) {
    u = 0.9 * u + 0.3 * r.normal();
    const value = 21 + 2 * Math.sin((2 * Math.PI * (t - 8)) / 24) + u;
    const time = start + t * HOUR;
    rows.push({ time: new Date(time).toISOString(), value });
    times.push(time);
  }
  return valueSeries({
    name: 'sensor',
    unit: '°C',
    rows,
    times,
    seasons: [{ label: '24h', ms: DAY }],
    steps: 24,
    notes: `${hours / 24} days hourly, 21 + daily cycle (amp 2) + AR(1) deviations (φ 0.9, sd 0.3 per step); stationary`,
  });
}

const SERIES = { seattle, hourly, monthly, randomwalk, wave, sensor };

module.exports = { SERIES, mulberry32, rng, seattleRows, HOUR, DAY };
