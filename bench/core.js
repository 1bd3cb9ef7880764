#!/usr/bin/env node
'use strict';
/**
 * `npm run bench`: training-epoch and one-window inference times of the core (fast and mathjs
 * reference backends) against a hand-written Float64Array loop, on the reference task, in one
 * process. Before any clock starts it checks that every implementation computes the same thing:
 * same starting weights, same loss after the first epoch, same weights after it.
 */
const bench = require('./task');
const { PlainElman } = require('./plain-loop');

const RUNS = { warmup: 2, runs: 7 };
// The mathjs reference backend is tens of times slower: its first (checked) epoch is its warm-up.
const REFERENCE_RUNS = { warmup: 0, runs: 3 };
const INFERENCE = { reps: 2000, rounds: 5 };
const REFERENCE_INFERENCE = { reps: 100, rounds: 3 };
/** Agreement required between our core and the plain loops: both are float64 and exact. */
const TOLERANCE = 1e-9;

/** The hand-written loop on the task, with the same adapter shape as `createOurs`. */
function plain(data, w0, variant) {
  const { task } = data;
  const net = new PlainElman(w0, { inputSize: task.inputSize, hiddenSize: task.hiddenSize, outputSize: task.outputSize, window: task.window });
  const opts = { batchSize: task.batchSize, learningRate: task.learningRate, variant };
  const sample = data.x.slice(0, task.window * task.inputSize);
  const out = new Float64Array(task.outputSize);
  return {
    name: variant === 'rows' ? 'plain loop (a), 1 row at a time' : 'plain loop (b), 4 rows at a time',
    initialLoss: () => net.loss(data.x, data.y, data.N),
    epoch: () => net.trainEpoch(data.x, data.y, data.N, opts).loss,
    weights: () => net.weights,
    predictOne: () => net.predict(sample, out),
  };
}

/**
 * The plain loop is the yardstick, so its gradient is itself checked against central finite
 * differences of its own loss on the first batch, over a spread of entries of every parameter.
 */
function checkPlainGradient(data, w0) {
  const { task } = data;
  const dims = { inputSize: task.inputSize, hiddenSize: task.hiddenSize, outputSize: task.outputSize, window: task.window };
  const B = task.batchSize;
  const lossAt = (w) => new PlainElman(w, dims).trainBatch(data.x, data.y, 0, B, 0);
  const net = new PlainElman(w0, dims);
  net.trainBatch(data.x, data.y, 0, B, 0);
  const grads = { W_xh: net.gW_xh, W_hh: net.gW_hh, b_h: net.gb_h, W_hy: net.gW_hy, b_y: net.gb_y };
  const eps = 1e-6;
  let worst = 0;
  let checked = 0;
  for (const [name, g] of Object.entries(grads)) {
    const stride = Math.max(1, Math.floor(g.length / 11));
    for (let i = 0; i < g.length; i += stride) {
      const plus = bench.copyWeights(w0);
      const minus = bench.copyWeights(w0);
      plus[name][i] += eps;
      minus[name][i] -= eps;
      const fd = (lossAt(plus) - lossAt(minus)) / (2 * eps);
      worst = Math.max(worst, Math.abs(fd - g[i]) / Math.max(1e-7, Math.abs(fd) + Math.abs(g[i])));
      checked++;
    }
  }
  return { worst, checked };
}

function ratio(theirs, ours) {
  return `${(theirs / ours).toFixed(2)}×`;
}

async function main() {
  const data = bench.loadTask();
  const w0 = bench.initialWeights();
  console.log('# node-red-rnn core benchmark');
  console.log(`machine: ${bench.machine()}`);
  console.log(bench.describeTask(data));
  console.log('float64 everywhere; every implementation starts from the same weights (the core\'s seeded initialisers).');
  console.log('');

  const oursFast = bench.createOurs(data, w0, { backend: 'fast' });
  const oursReference = bench.createOurs(data, w0, { backend: 'reference' });
  const yardstick = plain(data, w0, 'rows');
  const impls = [oursFast, oursReference, yardstick, plain(data, w0, 'rows4')];

  // --- Correctness -----------------------------------------------------------------------
  console.log('## correctness (before timing)');
  const fdCheck = checkPlainGradient(data, w0);
  const fdOk = fdCheck.worst < 1e-6;
  console.log(`plain loop gradient vs central finite differences (ε=1e-6, ${fdCheck.checked} entries, first batch): worst relative error ${fdCheck.worst.toExponential(2)} ${fdOk ? 'ok' : 'FAIL'}`);
  const firstEpoch = new Map();
  for (const m of impls) {
    const initial = m.initialLoss();
    const loss = m.epoch();
    firstEpoch.set(m, { initial, loss, weights: bench.copyWeights(m.weights()) });
  }
  const ref = firstEpoch.get(yardstick);
  let allOk = fdOk;
  const rows = impls.map((m) => {
    const r = firstEpoch.get(m);
    const dLoss = Math.abs(r.loss - ref.loss);
    const dW = bench.weightsDiff(r.weights, ref.weights);
    const ok = Math.abs(r.initial - ref.initial) <= TOLERANCE && dLoss <= TOLERANCE && dW <= TOLERANCE;
    allOk = allOk && ok;
    return [m.name, r.initial.toFixed(12), r.loss.toFixed(12), dLoss.toExponential(1), dW.toExponential(1), ok ? 'ok' : 'FAIL'];
  });
  bench.printTable(['implementation', 'loss before', 'epoch-1 loss', '|Δloss| vs (a)', 'max |Δw| vs (a)', `≤ ${TOLERANCE}`], rows);
  console.log('(epoch loss = mean over the windows of the loss each had when its batch was trained)');
  if (!allOk) {
    console.log('\nFAIL: the implementations do not compute the same thing; the timings below compare different work.');
    process.exitCode = 1;
  }
  console.log('');

  // --- Training epochs ---------------------------------------------------------------------
  console.log('## training: one epoch (ms; training continues from epoch to epoch)');
  const epochTimes = new Map();
  for (const m of impls) {
    const runs = m === oursReference ? REFERENCE_RUNS : RUNS;
    epochTimes.set(m, { ...(await bench.timeRuns(m.epoch, runs)), warmup: m === oursReference ? 1 : runs.warmup });
  }
  const oursMs = epochTimes.get(oursFast).median;
  bench.printTable(
    ['implementation', 'runs', 'min', 'median', 'max', 'windows/s', 'time ÷ ours fast'],
    impls.map((m) => {
      const s = epochTimes.get(m);
      return [m.name, `${s.runs} (+${s.warmup} warm-up)`, bench.fmt(s.min), bench.fmt(s.median), bench.fmt(s.max), Math.round((data.N * 1000) / s.median), ratio(s.median, oursMs)];
    }),
  );
  console.log('reference backend: full epochs over all windows (not a scaled-up subset); its first, checked epoch served as warm-up.');
  console.log('time ÷ ours fast: above 1 means that implementation is slower than our fast backend.');
  console.log('');

  // --- Cells -------------------------------------------------------------------------------
  // The gated cells on the same task, layer size and batches (each from its own seeded weights).
  console.log('## cells: one training epoch, fast backend (ms)');
  const cellTimes = [['elman', epochTimes.get(oursFast)]];
  for (const cell of ['lstm', 'gru']) cellTimes.push([cell, await bench.timeRuns(bench.createOurs(data, null, { cell }).epoch, RUNS)]);
  bench.printTable(
    ['cell', 'runs', 'min', 'median', 'max', 'windows/s', 'time ÷ elman'],
    cellTimes.map(([cell, s]) => [cell, s.runs, bench.fmt(s.min), bench.fmt(s.median), bench.fmt(s.max), Math.round((data.N * 1000) / s.median), ratio(s.median, oursMs)]),
  );
  console.log('');

  // --- Inference ---------------------------------------------------------------------------
  console.log('## inference: forecast of one window of 24 (µs per call)');
  const inferRows = [];
  const inferRaw = [];
  let oursUs = 0;
  // Both plain variants forecast one window with the same code, so it is timed once.
  for (const m of [oursFast, oursReference, yardstick]) {
    const s = await bench.timeCalls(m.predictOne, m === oursReference ? REFERENCE_INFERENCE : INFERENCE);
    if (m === oursFast) oursUs = s.median;
    const name = m === yardstick ? 'plain loop' : m.name;
    inferRaw.push({ name, ...s });
    inferRows.push([name, `${s.runs}×${s.reps}`, bench.fmt(s.min), bench.fmt(s.median), bench.fmt(s.max), Math.round(1e6 / s.median), ratio(s.median, oursUs)]);
  }
  bench.printTable(['implementation', 'rounds×calls', 'min', 'median', 'max', 'calls/s', 'time ÷ ours fast'], inferRows);
  console.log('min/median/max are over rounds; each round is the mean of its calls.');
  console.log('ours, fast: Forecaster.run on a Float64Array window (what the rnn predictor node uses), last output;');
  console.log('ours, reference: model.predict on a nested 1×24×1 array, returning the outputs of every step;');
  console.log('plain loop: a Float64Array of 24 in, the last output into a reused buffer (no conversion).');
  bench.writeJsonIfAsked({
    bench: 'core',
    ok: allOk,
    training: impls.map((m) => ({ name: m.name, ...epochTimes.get(m) })),
    inference: inferRaw,
    cells: cellTimes.map(([cell, s]) => ({ cell, ...s })),
  });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
