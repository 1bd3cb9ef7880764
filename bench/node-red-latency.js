#!/usr/bin/env node
'use strict';
/**
 * How long Node-RED's event loop is held while this package trains,
 * in a real Node-RED runtime (each run a fresh process; see node-red-runtime.js), then the memory
 * table of memory.js.
 *
 * Two flows are trained:
 *   reference — the reference task as a flow: 2,000 points, window 24, H=32, batch 32, SGD 0.01,
 *               20 % validation, 10 epochs, best model saved to a file;
 *   example   — the package's first example as shipped (600 points, H=16, Adam, 30 epochs,
 *               early stopping, model file, and a predictor fed every second during training),
 *               its train button pressed by the bench instead of firing by itself at deploy.
 * For each run, `perf_hooks.monitorEventLoopDelay` (1 ms resolution) covers the whole run, from
 * the inject button to the trainer's "done" message. Before it, the runtime settles (forced
 * full GCs) and a warm-up button with the same series generator is pressed three times, so the
 * press runs on warm code, as in a Node-RED that has been up for a while.
 *
 *   node bench/node-red-latency.js [--runs 5] [--memory-runs 3] [--no-memory] [--diagnose]
 *                                  [--warm-kernels] [--threads auto|main|N] [--json results.json]
 */
const os = require('os');
const bench = require('./task');
const { runNodeRed, REFERENCE_FLOW } = require('./node-red-runtime');
const { measureMemory, printMemory } = require('./memory');

/** The target for the longest event-loop delay during training (training runs in worker threads). */
const BOUND_MS = 5;

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const flag = (name) => process.argv.includes(name);

function describeStalls(run) {
  const longest = [...run.stalls].sort((a, b) => b.ms - a.ms).slice(0, 3);
  return longest.map((s) => `${s.ms} ms @${s.at} ms (epoch ${s.epoch + 1})`).join(', ') || '—';
}

async function main() {
  const runs = Number(arg('--runs', 5));
  const diagnose = flag('--diagnose');
  const warmKernels = flag('--warm-kernels');
  const threads = arg('--threads', undefined);
  const out = { machine: bench.machine(), loadavg: os.loadavg(), flows: {}, bound: BOUND_MS };
  console.log('# node-red-rnn: the event loop of a real Node-RED runtime during training');
  console.log(`machine: ${out.machine}; load average before: ${out.loadavg.map((v) => v.toFixed(2)).join(' ')}`);
  if (warmKernels) console.log('EXPERIMENT: the fast kernel is optimised on the main thread before training (--warm-kernels).');
  const c = REFERENCE_FLOW;
  const flows = [
    ['reference', `reference task as a flow: ${c.points} points, window ${c.window}, H=${c.hidden}, batch ${c.batchSize}, SGD ${c.learningRate}, ${c.epochs} epochs, ${c.validationSplit * 100} % validation`],
    ['example', 'examples/01 - Sine wave - first RNN.json as shipped (600 points, H=16, Adam, 30 epochs, patience 10, predictor fed every second), its train button pressed'],
  ];
  let versions = null;
  let worst = 0;
  for (const [flow, description] of flows) {
    console.log('');
    console.log(`## ${flow}: ${description}`);
    const reports = [];
    for (let i = 0; i < runs; i++) {
      process.stderr.write(`${flow}: run ${i + 1}/${runs}…\n`);
      reports.push(await runNodeRed({ flow, withPackage: true, train: true, diagnose, threads, warmKernels: warmKernels && flow === 'reference' }));
    }
    versions = reports[0].versions;
    bench.printTable(
      ['run', 'training ms', 'epochs', 'max delay ms', 'p99 ms', 'mean ms', 'longest GC ms', 'stalls > 8 ms: longest three'],
      reports.map((r, i) => {
        const gc = Math.max(0, ...r.run.gcs.map((g) => g.ms));
        return [String(i + 1), String(r.run.ms), String(r.run.epochs), r.run.loop.max.toFixed(1), r.run.loop.p99.toFixed(1), r.run.loop.mean.toFixed(2), gc.toFixed(1), describeStalls(r.run)];
      }),
    );
    const max = bench.summary(reports.map((r) => r.run.loop.max));
    const p99 = bench.summary(reports.map((r) => r.run.loop.p99));
    worst = Math.max(worst, max.max);
    console.log(`max delay over runs: min ${max.min.toFixed(1)}, median ${max.median.toFixed(1)}, max ${max.max.toFixed(1)} ms; p99 median ${p99.median.toFixed(1)} ms; bound ${BOUND_MS} ms.`);
    // The control: as many runs of the same runtime, the reference flow's button pressed in a flow
    // without the rnn nodes, each watched for as long as the median training run took.
    const controlMs = Math.round(bench.summary(reports.map((r) => r.run.ms)).median);
    const controls = [];
    for (let i = 0; i < runs; i++) {
      process.stderr.write(`${flow}: control ${i + 1}/${runs}…\n`);
      controls.push(await runNodeRed({ flow: 'reference', withPackage: true, train: false, controlMs }));
    }
    const cmax = bench.summary(controls.map((r) => r.run.loop.max));
    const cp99 = bench.summary(controls.map((r) => r.run.loop.p99));
    console.log(`control (same runtime and package, the same button pressed in the flow without its rnn nodes, ${controlMs} ms each): max delay min ${cmax.min.toFixed(1)}, median ${cmax.median.toFixed(1)}, max ${cmax.max.toFixed(1)} ms; p99 median ${cp99.median.toFixed(1)} ms.`);
    console.log(`final losses (run 1): ${JSON.stringify({ reason: reports[0].run.result.reason, loss: round(reports[0].run.result.loss), valLoss: round(reports[0].run.result.valLoss), bestEpoch: reports[0].run.result.bestEpoch })}`);
    if (diagnose) {
      for (const [i, r] of reports.entries()) {
        const slow = [...r.run.slowNodes].sort((a, b) => b.ms - a.ms).slice(0, 6);
        console.log(`run ${i + 1} slowest input handlers: ${slow.map((s) => `${s.node} ${s.batch} ${s.ms} ms @${s.at}`).join('; ')}`);
        const gcs = [...r.run.gcs].sort((a, b) => b.ms - a.ms).slice(0, 4);
        console.log(`run ${i + 1} longest GC pauses: ${gcs.map((g) => `${g.major ? 'major' : 'minor'} ${g.ms.toFixed(1)} ms @${g.at}`).join('; ')}`);
      }
    }
    out.flows[flow] = reports.map((r) => ({ ms: r.run.ms, epochs: r.run.epochs, loop: r.run.loop, stalls: r.run.stalls, gcs: r.run.gcs, result: r.run.result }));
    out.flows[`${flow} control`] = controls.map((r) => ({ ms: r.run.ms, loop: r.run.loop, stalls: r.run.stalls, gcs: r.run.gcs }));
  }
  out.versions = versions;
  console.log('');
  console.log(`Node-RED ${versions.nodeRed}, node ${versions.node}. Delays include everything the runtime does meanwhile`);
  console.log('(garbage collection, other processes on the machine); a stall is a gap of a 1 ms timer.');
  console.log(`longest delay of all runs: ${worst.toFixed(1)} ms (bound ${BOUND_MS} ms): ${worst <= BOUND_MS ? 'within' : 'OVER'}`);

  if (!flag('--no-memory')) {
    console.log('');
    console.log('## memory (RSS)');
    const m = await measureMemory({ runs: Number(arg('--memory-runs', 3)), log: (s) => process.stderr.write(`memory: ${s}\n`) });
    printMemory(m);
    out.memory = m;
  }
  const file = arg('--json', null);
  if (file) require('fs').writeFileSync(file, JSON.stringify(out, null, 2));
}

function round(v) {
  return typeof v === 'number' ? Number(v.toPrecision(4)) : v;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
