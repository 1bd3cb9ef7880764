#!/usr/bin/env node
'use strict';
/**
 * `npm run bench`: training-epoch and one-window inference times of the core (fast, wasm and
 * mathjs reference backends) against a hand-written Float64Array loop and the same task in C (the
 * native limit, where a C compiler exists), on the reference task, in one run. Before any clock
 * starts it checks that every implementation computes the same thing: same starting weights, same
 * loss after the first epoch, same weights after it. Then the same on a bigger model, and what the
 * wasm backend's copies between JavaScript and its memory cost.
 */
const bench = require('./task');
const { PlainElman } = require('./plain-loop');
const { PARAMS: GATED_PARAMS, createPlainGated, checkPlainGatedGradient } = require('./plain-gated');
const { runNative } = require('./native');

const RUNS = { warmup: 2, runs: 7 };
// The mathjs reference backend is tens of times slower: its first (checked) epoch is its warm-up.
const REFERENCE_RUNS = { warmup: 0, runs: 3 };
const INFERENCE = { reps: 2000, rounds: 5 };
const REFERENCE_INFERENCE = { reps: 100, rounds: 3 };
/** Agreement required between our core and the plain loops: both are float64 and exact. */
const TOLERANCE = 1e-9;
/** A bigger model, to see whether the gains hold as the work per step grows (fewer points: a shorter epoch). */
const BIG_TASK = { hiddenSize: 128, window: 48, points: 600 };
const BIG_RUNS = { warmup: 1, runs: 3 };

/** The C version as one more implementation of the tables; it runs once, out of process, with every figure. */
function native(data, w0, extraFlags = []) {
  const r = runNative(data, w0, { ...RUNS, reps: INFERENCE.reps, rounds: INFERENCE.rounds, extraFlags });
  if (!r.ok) return { ok: false, why: r.why };
  return { ...r, name: `native C (${r.flags})` };
}

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
 * A gated cell on the task: ours (fast backend, from the cell's own seeded weights) and its
 * hand-written loop from a copy of them, checked before they are timed: the loop's gradient
 * against finite differences, then the loss before training, the first epoch's loss and the
 * weights after it, which must agree to TOLERANCE. Both have then trained one epoch.
 */
function gatedPair(data, cell) {
  const { task } = data;
  const ours = bench.createOurs(data, null, { cell });
  const w0 = {};
  for (const k of GATED_PARAMS) w0[k] = Float64Array.from(ours.weights()[k]);
  const dims = { inputSize: task.inputSize, hiddenSize: task.hiddenSize, outputSize: task.outputSize, window: task.window };
  const fd = checkPlainGatedGradient(cell, w0, dims, data.x, data.y, task.batchSize);
  const net = createPlainGated(cell, w0, dims);
  const plain = { epoch: () => net.trainEpoch(data.x, data.y, data.N, task).loss };
  const initial = [ours.initialLoss(), net.loss(data.x, data.y, data.N)];
  const loss = [ours.epoch(), plain.epoch()];
  let dW = 0;
  for (const k of GATED_PARAMS) dW = Math.max(dW, bench.maxAbsDiff(ours.weights()[k], net.weights[k]));
  const fdOk = fd.worst < 1e-6;
  const ok = fdOk && Math.abs(initial[0] - initial[1]) <= TOLERANCE && Math.abs(loss[0] - loss[1]) <= TOLERANCE && dW <= TOLERANCE;
  console.log(
    `${cell}: plain loop gradient vs central finite differences (ε=${fd.eps.toExponential(0)}, ${fd.checked} entries, first batch) worst ${fd.worst.toExponential(1)} ${fdOk ? 'ok' : 'FAIL'}; ` +
      `ours vs plain loop: loss before ${initial[0].toFixed(12)} |Δ| ${Math.abs(initial[0] - initial[1]).toExponential(1)}, ` +
      `epoch-1 loss ${loss[0].toFixed(12)} |Δ| ${Math.abs(loss[0] - loss[1]).toExponential(1)}, max |Δw| ${dW.toExponential(1)} (≤ ${TOLERANCE}) ${ok ? 'ok' : 'FAIL'}`,
  );
  if (!ok) console.log(`FAIL: the ${cell} plain loop and ours do not compute the same thing; their timings compare different work.`);
  return { cell, ok, ours, plain };
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

  const wasm = bench.core.wasmAvailable();
  console.log(`default backend here: ${bench.core.defaultBackendName()}${wasm ? '' : ` (no wasm: ${bench.core.wasmUnavailableReason()})`}`);
  const oursFast = bench.createOurs(data, w0, { backend: 'fast' });
  const oursWasm = wasm ? bench.createOurs(data, w0, { backend: 'wasm' }) : null;
  const oursReference = bench.createOurs(data, w0, { backend: 'reference' });
  const yardstick = plain(data, w0, 'rows');
  const impls = [oursFast, ...(oursWasm ? [oursWasm] : []), oursReference, yardstick, plain(data, w0, 'rows4')];
  // The native limit runs now, before the JavaScript timings, once per set of flags.
  const natives = [native(data, w0), native(data, w0, ['-ffast-math'])].filter((n, i) => n.ok || i === 0);
  const nativeRows = natives.filter((n) => n.ok);
  if (!nativeRows.length) console.log(`native C: skipped, ${natives[0].why}`);
  else console.log(`native C: ${nativeRows[0].compiler}`);

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
  for (const n of nativeRows) {
    const dLoss = Math.abs(n.loss - ref.loss);
    const dW = bench.weightsDiff(n.weights, ref.weights);
    const ok = Math.abs(n.initial - ref.initial) <= TOLERANCE && dLoss <= TOLERANCE && dW <= TOLERANCE;
    allOk = allOk && ok;
    rows.push([n.name, n.initial.toFixed(12), n.loss.toFixed(12), dLoss.toExponential(1), dW.toExponential(1), ok ? 'ok' : 'FAIL']);
  }
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
  for (const n of nativeRows) epochTimes.set(n, { ...bench.summary(n.epochMs), warmup: RUNS.warmup });
  const oursMs = epochTimes.get(oursFast).median;
  const nativeMs = nativeRows.length ? epochTimes.get(nativeRows[0]).median : NaN;
  const trainRows = [...impls, ...nativeRows];
  bench.printTable(
    ['implementation', 'runs', 'min', 'median', 'max', 'windows/s', 'time ÷ ours fast', 'time ÷ native'],
    trainRows.map((m) => {
      const s = epochTimes.get(m);
      return [m.name, `${s.runs} (+${s.warmup} warm-up)`, bench.fmt(s.min), bench.fmt(s.median), bench.fmt(s.max), Math.round((data.N * 1000) / s.median), ratio(s.median, oursMs), nativeRows.length ? ratio(s.median, nativeMs) : '–'];
    }),
  );
  console.log('reference backend: full epochs over all windows (not a scaled-up subset); its first, checked epoch served as warm-up.');
  console.log('time ÷ ours fast: above 1 means that implementation is slower than our fast backend;');
  console.log(`time ÷ native: the same against ${nativeRows.length ? nativeRows[0].name : 'the C version (skipped)'}, the native limit (native C epochs time the C loop alone, ours include model.fit's packing of nested arrays).`);
  console.log('');

  // --- Cells -------------------------------------------------------------------------------
  // The gated cells on the same task, layer size and batches (each from its own seeded weights),
  // each against its hand-written loop started from the same weights.
  console.log('## cells: one training epoch, fast backend (ms)');
  const gated = ['lstm', 'gru'].map((cell) => gatedPair(data, cell));
  if (!gated.every((g) => g.ok)) {
    allOk = false;
    process.exitCode = 1;
  }
  const cellTimes = [['elman', epochTimes.get(oursFast)]];
  const plainOf = new Map();
  for (const g of gated) {
    // In alternating rounds: the ratio of two close figures must not depend on which ran during a busy spell.
    const [ours, plainLoop] = await bench.timeInterleaved([g.ours.epoch, g.plain.epoch], RUNS);
    cellTimes.push([g.cell, ours], [`${g.cell}, plain loop (4 rows at a time)`, plainLoop]);
    plainOf.set(g.cell, plainLoop.median);
  }
  bench.printTable(
    ['cell', 'runs', 'min', 'median', 'max', 'windows/s', 'time ÷ elman', 'ours ÷ plain loop'],
    cellTimes.map(([cell, s]) => [cell, s.runs, bench.fmt(s.min), bench.fmt(s.median), bench.fmt(s.max), Math.round((data.N * 1000) / s.median), ratio(s.median, oursMs), plainOf.has(cell) ? ratio(s.median, plainOf.get(cell)) : '']),
  );
  console.log('plain loop: bench/plain-gated.js, the same LSTM / GRU (sigmoid gates, tanh) by hand, from the cell\'s own starting weights;');
  console.log('  each gated cell and its plain loop timed in alternating rounds (2 warm-up epochs each, then 7 rounds of one epoch each).');
  console.log('ours ÷ plain loop: above 1 means our fast backend is slower than the hand-written loop of the same cell.');
  console.log('');
  const gatedWasm = oursWasm ? await gatedOnWasm(data) : null;
  if (gatedWasm && !gatedWasm.ok) process.exitCode = 1;

  // --- Inference ---------------------------------------------------------------------------
  console.log('## inference: forecast of one window of 24 (µs per call)');
  const inferRows = [];
  const inferRaw = [];
  let oursUs = 0;
  // Both plain variants forecast one window with the same code, so it is timed once.
  let wasmUs = NaN;
  for (const m of [oursFast, ...(oursWasm ? [oursWasm] : []), oursReference, yardstick]) {
    const s = await bench.timeCalls(m.predictOne, m === oursReference ? REFERENCE_INFERENCE : INFERENCE);
    if (m === oursFast) oursUs = s.median;
    if (m === oursWasm) wasmUs = s.median;
    const name = m === yardstick ? 'plain loop' : m === oursFast ? 'ours, Forecaster, fast (steps in JavaScript)' : m === oursWasm ? 'ours, Forecaster, wasm (window runner)' : m.name;
    inferRaw.push({ name, ...s });
    inferRows.push([name, `${s.runs}×${s.reps}`, bench.fmt(s.min), bench.fmt(s.median), bench.fmt(s.max), Math.round(1e6 / s.median), ratio(s.median, oursUs)]);
  }
  for (const n of nativeRows) {
    const s = bench.summary(n.forecastUs);
    inferRaw.push({ name: n.name, ...s, reps: INFERENCE.reps });
    inferRows.push([n.name, `${s.runs}×${INFERENCE.reps}`, bench.fmt(s.min), bench.fmt(s.median), bench.fmt(s.max), Math.round(1e6 / s.median), ratio(s.median, oursUs)]);
  }
  bench.printTable(['implementation', 'rounds×calls', 'min', 'median', 'max', 'calls/s', 'time ÷ ours fast'], inferRows);
  console.log('min/median/max are over rounds; each round is the mean of its calls.');
  console.log('ours, Forecaster: Forecaster.run on a Float64Array window (what the rnn predictor node uses), last output, stepping in');
  console.log('  JavaScript (fast) or running the window through WebAssembly layer by layer (wasm, the default);');
  console.log('ours, reference: model.predict on a nested 1×24×1 array, returning the outputs of every step;');
  console.log('plain loop: a Float64Array of 24 in, the last output into a reused buffer (no conversion); native C: the same in C.');
  if (nativeRows.length) {
    const fc = bench.summary(nativeRows[0].forecastUs).median;
    console.log(`ours ÷ native: training epoch ${oursWasm ? `${ratio(epochTimes.get(oursWasm).median, nativeMs)} (wasm), ` : ''}${ratio(oursMs, nativeMs)} (fast); one-window forecast ${oursWasm ? `${ratio(wasmUs, fc)} (wasm), ` : ''}${ratio(oursUs, fc)} (fast).`);
  }
  console.log('');

  const big = await bigger(oursWasm !== null);
  const copies = oursWasm ? copyCosts(data.task, epochTimes.get(oursWasm).median / Math.ceil(data.N / data.task.batchSize)) : null;
  bench.writeJsonIfAsked({
    bench: 'core',
    ok: allOk && big.ok,
    training: trainRows.map((m) => ({ name: m.name, ...epochTimes.get(m) })),
    inference: inferRaw,
    cells: cellTimes.map(([cell, s]) => ({ cell, ...s })),
    gatedOnWasm: gatedWasm && gatedWasm.rows,
    bigger: big.rows,
    copies,
  });
  if (!big.ok) process.exitCode = 1;
}

/**
 * The gated cells on the wasm backend against the fast one: the same task and the same seeded
 * weights for both backends of a cell, checked to agree after the first epoch (loss before, epoch
 * loss, every weight) before the clock starts; then epochs and one-window forecasts (the wasm
 * window runner against stepping in JavaScript), the two backends' runs alternating.
 */
async function gatedOnWasm(data) {
  console.log('## gated cells: wasm backend against fast (same task, same seeded weights per cell)');
  let ok = true;
  const rows = [];
  const table = [];
  for (const cell of ['lstm', 'gru']) {
    const fast = bench.createOurs(data, null, { cell, backend: 'fast' });
    const wasm = bench.createOurs(data, null, { cell, backend: 'wasm' });
    const [f, w] = [fast, wasm].map((m) => ({ initial: m.initialLoss(), loss: m.epoch(), weights: m.model.parameters() }));
    const dW = Math.max(...f.weights.map((v, i) => bench.maxAbsDiff(v, w.weights[i])));
    const dLoss = Math.max(Math.abs(f.initial - w.initial), Math.abs(f.loss - w.loss));
    const agree = dW <= TOLERANCE && dLoss <= TOLERANCE;
    ok = ok && agree;
    console.log(`${cell}: first epoch, |Δloss| ${dLoss.toExponential(1)}, max |Δw| ${dW.toExponential(1)} (≤ ${TOLERANCE}: ${agree ? 'ok' : 'FAIL'})`);
    const epochs = { fast: [], wasm: [] };
    const forecasts = { fast: [], wasm: [] };
    // One epoch and one forecast round of each in turn, so that the machine's drift hits both alike.
    for (let i = 0; i < RUNS.warmup + RUNS.runs; i++) {
      for (const [name, m] of [['fast', fast], ['wasm', wasm]]) {
        const e = await bench.timeRuns(m.epoch, { warmup: 0, runs: 1 });
        const c = await bench.timeCalls(m.predictOne, { reps: INFERENCE.reps, rounds: 1, warmup: i === 0 ? 1 : 0 });
        if (i >= RUNS.warmup) {
          epochs[name].push(e.median);
          forecasts[name].push(c.median);
        }
      }
    }
    const s = { fast: bench.summary(epochs.fast), wasm: bench.summary(epochs.wasm) };
    const c = { fast: bench.summary(forecasts.fast), wasm: bench.summary(forecasts.wasm) };
    rows.push({ cell, epochMs: s, forecastUs: c });
    for (const name of ['fast', 'wasm']) {
      table.push([`${cell}, ${name}`, `${RUNS.runs} (+${RUNS.warmup} warm-up)`, bench.fmt(s[name].min), bench.fmt(s[name].median), bench.fmt(s[name].max), Math.round((data.N * 1000) / s[name].median),
        ratio(s[name].median, s.fast.median), bench.fmt(c[name].median), ratio(c[name].median, c.fast.median)]);
    }
  }
  bench.printTable(['cell, backend', 'epochs', 'min ms', 'median ms', 'max ms', 'windows/s', 'epoch ÷ fast', 'forecast µs (median)', 'forecast ÷ fast'], table);
  console.log(`÷ fast: the median divided by the same cell's fast-backend median from this run (below 1: wasm is faster). Forecast: Forecaster.run on one window, ${INFERENCE.reps} calls per round,`);
  console.log('one round after each epoch; fast steps in JavaScript, wasm runs the window through the cell\'s window runner.');
  console.log('');
  return { ok, rows };
}

/** The bigger model: epochs of both backends and of the C version, after the same agreement check. */
async function bigger(withWasm) {
  const task = { ...bench.TASK, ...BIG_TASK };
  const data = bench.loadTask(task);
  const w0 = bench.initialWeights(task);
  console.log(`## bigger model: one epoch (ms), H=${task.hiddenSize}, window ${task.window}, ${data.N} windows of a ${task.points}-point series, otherwise as above`);
  const impls = [bench.createOurs(data, w0, { backend: 'fast' }), ...(withWasm ? [bench.createOurs(data, w0, { backend: 'wasm' })] : [])];
  const first = impls.map((m) => {
    m.epoch();
    return bench.copyWeights(m.weights());
  });
  const n = runNative(data, w0, { ...BIG_RUNS, reps: 10, rounds: 1 });
  let ok = true;
  const agree = [];
  for (let i = 1; i < impls.length; i++) agree.push(bench.weightsDiff(first[i], first[0]));
  if (n.ok) agree.push(bench.weightsDiff(n.weights, first[0]));
  if (agree.some((d) => !(d <= TOLERANCE))) {
    ok = false;
    console.log(`FAIL: after one epoch the weights differ by ${agree.map((d) => d.toExponential(1)).join(', ')} (> ${TOLERANCE})`);
  }
  const rows = [];
  for (const m of impls) rows.push({ name: m.name, ...(await bench.timeRuns(m.epoch, BIG_RUNS)) });
  if (n.ok) rows.push({ name: `native C (${n.flags})`, ...bench.summary(n.epochMs) });
  const fastMs = rows[0].median;
  const nativeMs = n.ok ? rows[rows.length - 1].median : NaN;
  bench.printTable(
    ['implementation', 'runs', 'min', 'median', 'max', 'time ÷ ours fast', 'time ÷ native'],
    rows.map((r) => [r.name, `${r.runs} (+${BIG_RUNS.warmup} warm-up)`, bench.fmt(r.min), bench.fmt(r.median), bench.fmt(r.max), ratio(r.median, fastMs), n.ok ? ratio(r.median, nativeMs) : '–']),
  );
  console.log(`agreement after the first epoch, max |Δw| against ours fast: ${agree.map((d) => d.toExponential(1)).join(', ') || '–'}${n.ok ? '' : `; native C skipped: ${n.why}`}`);
  console.log('');
  return { ok, rows };
}

/**
 * What the wasm backend copies between JavaScript arrays and the module's memory in one minibatch
 * of the reference task, timed as plain copies of the same sizes against a WebAssembly memory, next
 * to the minibatch's time: in, the weights, x and ∂L/∂z; out, h and ∂L/∂h (into arrays reused from
 * minibatch to minibatch, as the kernels do), y and the gradients (fresh, they are small).
 */
function copyCosts(task, minibatchMs) {
  const B = task.batchSize, T = task.window, I = task.inputSize, H = task.hiddenSize, O = task.outputSize;
  const weights = H * I + H * H + H + O * H + O;
  const into = [weights, B * T * I, T * B * O];
  const reused = [(T + 1) * B * H, T * B * H].map((n) => new Float64Array(n));
  const fresh = [B * T * O, weights];
  const memory = new WebAssembly.Memory({ initial: 64 });
  const mem = new Float64Array(memory.buffer);
  const sources = into.map((n) => new Float64Array(n).fill(0.5));
  const once = () => {
    let at = 0;
    for (const s of sources) {
      mem.set(s, at);
      at += s.length;
    }
    for (const r of reused) {
      r.set(mem.subarray(at, at + r.length));
      at += r.length;
    }
    for (const n of fresh) {
      mem.slice(at, at + n);
      at += n;
    }
  };
  const reps = 2000;
  for (let i = 0; i < 200; i++) once();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) once();
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / reps;
  const bytes = 8 * [...into, ...reused.map((r) => r.length), ...fresh].reduce((a, b) => a + b, 0);
  console.log('## wasm backend: copies between JavaScript and the module\'s memory, per minibatch of the reference task');
  console.log(`${Math.round(bytes / 1024)} KiB copied (in: weights, x, ∂L/∂z; out: h, y, ∂L/∂h, gradients): ${bench.fmt(us)} µs of a ${bench.fmt(minibatchMs * 1000)} µs minibatch (${bench.fmt((100 * us) / (minibatchMs * 1000))} %); forward's states and ∂L/∂h stay in the module's memory between the kernels, not copied back.`);
  return { bytes, us, minibatchUs: minibatchMs * 1000 };
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
