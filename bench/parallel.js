#!/usr/bin/env node
'use strict';
/**
 * One training epoch of the reference task on the calling thread
 * (`model.fit`) against the same epoch in worker threads (`ParallelTrainer`, 1 and 2 workers,
 * data-parallel over the minibatch), at batch 32 (the reference task) and 128. Before timing, it
 * checks that the parallel fits end on the single-threaded weights. It also measures how long the
 * calling thread's event loop is held during a multi-epoch fit, which is what the workers are for.
 *
 *   node bench/parallel.js [--json results.json]
 */
const path = require('path');
const { monitorEventLoopDelay } = require('perf_hooks');
const { Worker } = require('worker_threads');
const bench = require('./task');
const { ParallelTrainer } = require('../dist/src/parallel');

const BATCHES = [32, 128];
const WORKERS = [1, 2];
/** Each worker compiles the hot loops on its own, so workers get more warm-up than the main thread. */
const WARMUP = 5;
const RUNS = 9;
const TOLERANCE = 1e-9;
const LATENCY_EPOCHS = 5;

function now() {
  return Number(process.hrtime.bigint()) / 1e6;
}

function fitOptions(data, batchSize) {
  return { epochs: 1, batchSize, optimizer: 'sgd', learningRate: data.task.learningRate, shuffle: false };
}

/** The contenders on one batch size; each keeps training from epoch to epoch, as in `npm run bench`. */
function contenders(data, w0, batchSize) {
  const set = { inputs: data.inputs, targets: data.targets };
  const options = fitOptions(data, batchSize);
  const single = bench.createOurs(data, w0);
  const list = [{ name: 'model.fit, calling thread', workers: 0, model: single.model, epoch: async () => single.model.fit(set, options), close: async () => undefined }];
  for (const workers of WORKERS) {
    const ours = bench.createOurs(data, w0);
    const trainer = new ParallelTrainer(ours.model, { workers });
    list.push({
      name: `ParallelTrainer, ${workers} worker${workers > 1 ? 's' : ''}`,
      workers,
      model: ours.model,
      epoch: () => trainer.fit(set, options),
      close: () => trainer.close(),
    });
  }
  return list;
}

/** Weights after the first epoch: every parallel contender against the calling thread's. */
async function check(list) {
  for (const c of list) c.first = (await c.epoch()).history[0].loss;
  const ref = list[0];
  return list.slice(1).map((c) => ({
    name: c.name,
    dLoss: Math.abs(c.first - ref.first),
    dW: bench.weightsDiff(c.model.layers[0].params, ref.model.layers[0].params),
  }));
}

/** Event-loop delay of the calling thread (1 ms resolution) during a fit of several epochs. */
async function loopDelay(data, w0, workers) {
  const set = { inputs: data.inputs, targets: data.targets };
  const options = { ...fitOptions(data, 32), epochs: LATENCY_EPOCHS };
  const ours = bench.createOurs(data, w0);
  const trainer = workers ? new ParallelTrainer(ours.model, { workers }) : null;
  if (trainer) await trainer.fit(set, { ...options, epochs: WARMUP });
  else ours.model.fit(set, { ...options, epochs: 2 });
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  // The first interval after enable() is never recorded: let it pass before the fit starts.
  await new Promise((r) => setTimeout(r, 20));
  const t0 = now();
  if (trainer) await trainer.fit(set, options);
  else ours.model.fit(set, options);
  // A blocked loop is only measured once it runs again: give it the chance.
  await new Promise((r) => setTimeout(r, 5));
  h.disable();
  const took = now() - t0;
  if (trainer) await trainer.close();
  return { workers, ms: took, max: h.max / 1e6, p99: h.percentile(99) / 1e6, mean: h.mean / 1e6 };
}

/**
 * The most a data-parallel split can gain here: one worker computing every row of a minibatch
 * against two workers computing half the rows each, at the same time, sharing nothing and never
 * waiting for each other (bench/ceiling-worker.js), an epoch's worth of steps per timed call. Two
 * threads on cores that share their execution units or their cache (SMT siblings, a busy host)
 * each run slower than one alone; this is that cost, which no protocol can remove.
 */
async function ceiling(data, batchSize) {
  const start = () => new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'ceiling-worker.js'));
    w.once('message', () => resolve(w));
    w.once('error', reject);
  });
  const workers = [await start(), await start()];
  const steps = Math.ceil(data.N / batchSize);
  const ask = (w, rows) => new Promise((resolve) => {
    w.once('message', resolve);
    w.postMessage({ rows, steps });
  });
  const half = Math.ceil(batchSize / 2);
  const one = async () => ask(workers[0], batchSize);
  const two = async () => Promise.all([ask(workers[0], half), ask(workers[1], half)]);
  try {
    const times = await bench.timeInterleaved([one, two], { warmup: WARMUP, runs: RUNS });
    return { one: times[0], two: times[1], ceiling: times[0].median / times[1].median };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function jsonPath() {
  const i = process.argv.indexOf('--json');
  return i > 0 ? process.argv[i + 1] : null;
}

async function main() {
  const data = bench.loadTask();
  const w0 = bench.initialWeights();
  const out = { bench: 'parallel', machine: bench.machine(), task: data.task, batches: [] };
  console.log('# node-red-rnn: training in worker threads');
  console.log(`machine: ${out.machine}`);
  console.log(bench.describeTask(data));
  console.log('Every minibatch is split between the workers by rows; each worker computes its rows\' gradient sums,');
  console.log('the leader adds them, divides once by the target count and takes the SGD step: the step of a single thread.');
  console.log('');
  let allOk = true;
  for (const batchSize of BATCHES) {
    const list = contenders(data, w0, batchSize);
    try {
      console.log(`## batch ${batchSize} (${Math.ceil(data.N / batchSize)} steps per epoch)`);
      const checks = await check(list);
      for (const c of checks) {
        const ok = c.dLoss <= TOLERANCE && c.dW <= TOLERANCE;
        allOk = allOk && ok;
        console.log(`check after epoch 1, ${c.name} vs calling thread: |Δloss| ${c.dLoss.toExponential(1)}, max |Δw| ${c.dW.toExponential(1)} ${ok ? 'ok' : 'FAIL'} (≤ ${TOLERANCE})`);
      }
      const times = await bench.timeInterleaved(list.map((c) => c.epoch), { warmup: WARMUP, runs: RUNS });
      const base = times[0].median;
      bench.printTable(
        ['implementation', 'runs', 'min', 'median', 'max', 'windows/s', 'speed-up'],
        list.map((c, i) => {
          const s = times[i];
          return [c.name, `${s.runs} (+${WARMUP} warm-up)`, bench.fmt(s.min), bench.fmt(s.median), bench.fmt(s.max), Math.round((data.N * 1000) / s.median), `${(base / s.median).toFixed(2)}×`];
        }),
      );
      const roof = await ceiling(data, batchSize);
      console.log(
        `ceiling: two workers on ${Math.ceil(batchSize / 2)} rows each at once, nothing shared: ${bench.fmt(roof.two.median)} ms per epoch's steps ` +
          `against one worker on all ${batchSize} rows ${bench.fmt(roof.one.median)} ms = ${roof.ceiling.toFixed(2)}× (the most any split of this minibatch can gain here)`,
      );
      out.batches.push({ batchSize, rows: list.map((c, i) => ({ name: c.name, workers: c.workers, ...times[i], speedup: base / times[i].median })), ceiling: roof });
    } finally {
      for (const c of list) await c.close();
    }
    console.log('');
  }
  console.log('ms per epoch; speed-up = median of model.fit on the calling thread ÷ this median (above 1 is faster).');
  console.log('Each timed call is one `fit` of one epoch, with everything a caller pays: packing the nested arrays,');
  console.log('copying them into shared memory, and the messages to the workers and back.');
  console.log('');

  console.log(`## calling thread's event loop during a ${LATENCY_EPOCHS}-epoch fit (batch 32; monitorEventLoopDelay, 1 ms resolution)`);
  const delays = [];
  for (const workers of [0, ...WORKERS]) delays.push(await loopDelay(data, w0, workers));
  bench.printTable(
    ['training on', 'fit ms', 'max delay ms', 'p99 ms', 'mean ms'],
    delays.map((d) => [d.workers ? `${d.workers} worker${d.workers > 1 ? 's' : ''}` : 'calling thread (model.fit)', bench.fmt(d.ms), bench.fmt(d.max), bench.fmt(d.p99), bench.fmt(d.mean)]),
  );
  console.log('model.fit is synchronous: the loop is held for the whole fit. In workers, the calling thread only');
  console.log('packs the data and waits for one message at the end.');
  out.loopDelay = delays;

  const file = jsonPath();
  if (file) require('fs').writeFileSync(file, JSON.stringify(out, null, 2));
  if (!allOk) {
    console.log('\nFAIL: a parallel fit did not end on the single-threaded weights.');
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
