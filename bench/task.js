'use strict';
/**
 * The reference task every benchmark runs, and the helpers they share: the data, the starting
 * weights, the timing and the printing. Keeping them in one place is what makes the figures of
 * different implementations comparable: same series, same windows, same batches, same weights.
 */
const os = require('os');
const { Random } = require('../dist/src/random');
const { RnnLayer } = require('../dist/src/layer');

const TASK = Object.freeze({
  points: 2000,
  period: 50,
  noise: 0.05,
  dataSeed: 7,
  window: 24,
  inputSize: 1,
  hiddenSize: 32,
  outputSize: 1,
  batchSize: 32,
  learningRate: 0.01,
  weightSeed: 1,
});

/** x_i = sin(2π i / period) + U(−noise, noise), from a seeded generator. */
function makeSeries(task = TASK) {
  const rng = new Random(task.dataSeed);
  const x = new Float64Array(task.points);
  for (let i = 0; i < task.points; i++) x[i] = Math.sin((2 * Math.PI * i) / task.period) + rng.uniform(-task.noise, task.noise);
  return x;
}

/**
 * Every window of `window` consecutive values with the value that follows it, in order.
 * Returned both as the flat arrays the hand-written loops use and as the nested arrays of
 * the public API (targets null everywhere but the last step, so the loss is on that step only).
 */
function makeWindows(series, task = TASK) {
  const T = task.window;
  const N = series.length - T;
  const x = new Float64Array(N * T);
  const y = new Float64Array(N);
  const inputs = new Array(N);
  const targets = new Array(N);
  for (let n = 0; n < N; n++) {
    const rowIn = new Array(T);
    const rowTarget = new Array(T);
    for (let t = 0; t < T; t++) {
      x[n * T + t] = series[n + t];
      rowIn[t] = [series[n + t]];
      rowTarget[t] = null;
    }
    y[n] = series[n + T];
    rowTarget[T - 1] = [series[n + T]];
    inputs[n] = rowIn;
    targets[n] = rowTarget;
  }
  return { N, T, x, y, inputs, targets };
}

/** The task's data in every form the benchmarks need. */
function loadTask(task = TASK) {
  const series = makeSeries(task);
  return { task, series, ...makeWindows(series, task) };
}

/** Copies of one layer's five parameter arrays. */
function copyWeights(p) {
  return { W_xh: p.W_xh.slice(), W_hh: p.W_hh.slice(), b_h: p.b_h.slice(), W_hy: p.W_hy.slice(), b_y: p.b_y.slice() };
}

/**
 * Starting weights drawn by the project's own initialisers (glorot for W_xh and W_hy,
 * orthogonal for W_hh, zero biases), so no implementation starts from a friendlier point.
 */
function initialWeights(task = TASK) {
  const layer = RnnLayer.create(
    { inputSize: task.inputSize, hiddenSize: task.hiddenSize, activation: 'tanh', outputSize: task.outputSize, outputActivation: 'linear' },
    { seed: task.weightSeed },
  );
  return copyWeights(layer.params);
}

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Largest difference over the five parameter arrays. */
function weightsDiff(a, b) {
  return Math.max(...['W_xh', 'W_hh', 'b_h', 'W_hy', 'b_y'].map((k) => maxAbsDiff(a[k], b[k])));
}

function machine() {
  const cpus = os.cpus();
  const model = cpus.length ? cpus[0].model.trim() : 'unknown CPU';
  return `${model} · ${cpus.length} logical CPUs · ${Math.round(os.totalmem() / 2 ** 30)} GB RAM · node ${process.version} · ${os.platform()} ${os.arch()}`;
}

/** Min / median / max of a list of numbers. */
function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: s[0], median, max: s[s.length - 1], runs: s.length };
}

/**
 * Times `fn` (sync or async) `runs` times after `warmup` untimed calls, so the JIT has compiled
 * the hot loops before the clock starts. Returns the summary in milliseconds.
 */
async function timeRuns(fn, { warmup = 2, runs = 7 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return summary(ms);
}

/** Times `reps` back-to-back calls and reports microseconds per call (min/median/max over rounds). */
async function timeCalls(fn, { reps = 1000, rounds = 5, warmup = 1 } = {}) {
  const perRound = async () => {
    for (let i = 0; i < reps; i++) await fn();
  };
  const s = await timeRuns(perRound, { warmup, runs: rounds });
  const us = (v) => (v * 1000) / reps;
  return { min: us(s.min), median: us(s.median), max: us(s.max), runs: s.runs, reps };
}

function fmt(v, digits = 1) {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return v.toFixed(0);
  if (Math.abs(v) >= 100) return v.toFixed(digits);
  return v.toFixed(digits + 1);
}

/** Prints rows of strings as a table with columns padded to width (first column left-aligned). */
function printTable(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => String(r[c]).length)));
  const line = (r) => r.map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

function describeTask(data) {
  const t = data.task;
  const batches = Math.ceil(data.N / t.batchSize);
  return (
    `task: sin(2πi/${t.period}) + U(±${t.noise}), ${t.points} points → ${data.N} windows of ${t.window} predicting the next value; ` +
    `Elman tanh H=${t.hiddenSize}, I=${t.inputSize}, O=${t.outputSize}, linear output at the last step; ` +
    `MSE, SGD lr ${t.learningRate}, batch ${t.batchSize} (${batches} batches/epoch, no shuffle)`
  );
}

module.exports = {
  TASK,
  makeSeries,
  makeWindows,
  loadTask,
  initialWeights,
  copyWeights,
  maxAbsDiff,
  weightsDiff,
  machine,
  summary,
  timeRuns,
  timeCalls,
  fmt,
  printTable,
  describeTask,
};
