'use strict';
/**
 * The reference task every benchmark runs, and the helpers they share: the data, the starting
 * weights, the timing and the printing. Keeping them in one place is what makes the figures of
 * different implementations comparable: same series, same windows, same batches, same weights.
 */
const os = require('os');

/** The compiled core; the benchmarks time what users run, so they need the build. */
function requireCore() {
  try {
    return require('../dist/src');
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist')) {
      throw new Error('the core is not built: run `npm run build` first (npm run bench does it)');
    }
    throw err;
  }
}

const core = requireCore();
const { Random, RnnLayer } = core;

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

const WEIGHTS = ['W_xh', 'W_hh', 'b_h', 'W_hy', 'b_y'];

/** Float64 copies of one layer's five parameter arrays. */
function copyWeights(p) {
  const out = {};
  for (const k of WEIGHTS) out[k] = Float64Array.from(p[k]);
  return out;
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

/**
 * Our core on the task, starting from `w0`: an epoch is `model.fit` with epochs 1, exactly as a
 * user of the library calls it (the nested arrays are packed inside the call, as they would be).
 * With another `cell` than Elman, `w0` is null and the layer keeps its own seeded weights.
 */
function createOurs(data, w0, { backend = 'fast', activation = 'tanh', cell } = {}) {
  const { task } = data;
  const model = core.Model.create({
    inputSize: task.inputSize,
    layers: [{ cell, hiddenSize: task.hiddenSize, activation, outputSize: task.outputSize, outputActivation: 'linear' }],
    seed: task.weightSeed,
  });
  const p = model.layers[0].params;
  if (w0) for (const k of WEIGHTS) p[k].set(w0[k]);
  const fitOptions = { epochs: 1, batchSize: task.batchSize, optimizer: 'sgd', learningRate: task.learningRate, shuffle: false, backend };
  const sample = [data.inputs[0]];
  // One window is forecast the way the rnn predictor node does it: the allocation-free Forecaster
  // on a Float64Array window (the fast and wasm backends); the reference backend has only model.predict.
  const forecaster = backend !== 'reference' ? new core.Forecaster(model, backend) : null;
  const flatWindow = Float64Array.from(data.inputs[0].flat());
  return {
    name: cell ? `ours, ${cell} cell, ${backend} backend` : `ours, ${backend} backend`,
    model,
    initialLoss: () => model.evaluate(data.inputs, data.targets, { backend }),
    epoch: () => model.fit({ inputs: data.inputs, targets: data.targets }, fitOptions).history[0].loss,
    weights: () => model.layers[0].params,
    predictOne: forecaster ? () => forecaster.run(flatWindow, flatWindow.length / task.inputSize) : () => model.predict(sample, { backend }),
  };
}

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Largest difference over the five parameter arrays. */
function weightsDiff(a, b) {
  return Math.max(...WEIGHTS.map((k) => maxAbsDiff(a[k], b[k])));
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

/**
 * Times several functions together: warm-up calls of each, then `runs` rounds in which each runs
 * once in turn, so that a slow spell of the machine (other processes) lands on all of them
 * instead of on whichever was running. Returns one summary (ms) per function, in order.
 */
async function timeInterleaved(fns, { warmup = 2, runs = 7 } = {}) {
  for (let i = 0; i < warmup; i++) for (const fn of fns) await fn();
  const ms = fns.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < fns.length; i++) {
      const t0 = process.hrtime.bigint();
      await fns[i]();
      ms[i].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return ms.map((m) => summary(m));
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

/**
 * With `--json <file>` on the command line, writes the figures of a run there (what
 * scripts/plot-bench.js draws from); without it, does nothing.
 */
function writeJsonIfAsked(results) {
  const i = process.argv.indexOf('--json');
  if (i < 0 || !process.argv[i + 1]) return;
  require('fs').writeFileSync(process.argv[i + 1], JSON.stringify({ machine: machine(), ...results }, null, 2));
}

module.exports = {
  core,
  TASK,
  WEIGHTS,
  makeSeries,
  makeWindows,
  loadTask,
  initialWeights,
  copyWeights,
  createOurs,
  maxAbsDiff,
  weightsDiff,
  machine,
  summary,
  timeRuns,
  timeInterleaved,
  timeCalls,
  fmt,
  printTable,
  describeTask,
  writeJsonIfAsked,
};
