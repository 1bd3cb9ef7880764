#!/usr/bin/env node
'use strict';
/**
 * Training speed through the nodes: the reference flow (see node-red-runtime.js) trained in a real
 * Node-RED with the trainer's "Train on" set to two workers, one worker and the main thread, beside
 * `Model.fit` on the same prepared data in this process, and the trained weights compared with
 * that fit's (the same loop, options and seed: one worker and the main thread must be equal bit
 * for bit, two workers equal to rounding).
 *
 *   node bench/node-training.js [--runs 3]
 */
const path = require('path');
const bench = require('./task');
const { runNodeRed, REFERENCE_FLOW: c } = require('./node-red-runtime');

const core = require(path.join(__dirname, '..', 'dist', 'src'));

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}

/** The reference flow's series, generated exactly as its function node does. */
function referenceSeries() {
  let seed = 7;
  const u = () => {
    seed = (seed * 1664525 + 1013904223) % 4294967296;
    return seed / 4294967296;
  };
  return Array.from({ length: c.points }, (_, i) => Math.sin((2 * Math.PI * i) / 50) + 0.1 * (u() - 0.5));
}

/** What the trainer node does with the reference flow's settings, written out again here. */
function fitHere(data) {
  const layer = core.RnnLayer.create({ inputSize: data.inputSize, hiddenSize: c.hidden, activation: 'tanh', outputSize: 1, outputActivation: 'linear' }, { seed: 1, recurrent: 'orthogonal' });
  const model = new core.Model(data.inputSize, [layer]);
  const result = model.fit(data.train, {
    validation: data.validation, epochs: c.epochs, batchSize: c.batchSize, shuffle: true, seed: 1, loss: 'mse', delta: 1,
    optimizer: 'sgd', learningRate: c.learningRate, momentum: 0.9, nesterov: false, weightDecay: 0, clipNorm: 0, clipValue: 0, truncate: 0, patience: 0,
    restoreBest: true, gradientReport: false,
    realUnits: { offset: data.scaler.targets.offset, scale: data.scaler.targets.scale, mape: data.transform.difference === 'none' },
  });
  return { model, epochMs: result.history.map((e) => e.ms) };
}

function maxDifference(a, b) {
  const fa = a.layers.flatMap((l) => l.list().flatMap((p) => Array.from(p)));
  const fb = b.layers.flatMap((l) => l.list().flatMap((p) => Array.from(p)));
  if (fa.length !== fb.length) return Infinity;
  return fa.reduce((m, v, i) => Math.max(m, Math.abs(v - fb[i])), 0);
}

async function main() {
  const runs = Number(arg('--runs', 3));
  console.log('# node-red-rnn: training speed through the nodes (reference flow in a real Node-RED) vs Model.fit');
  console.log(`machine: ${bench.machine()}; ${c.points} points, window ${c.window}, H=${c.hidden}, batch ${c.batchSize}, SGD ${c.learningRate}, ${c.epochs} epochs`);
  // The sequence node's settings in the reference flow (differencing, season and calendar auto).
  const data = core.prepareRun(referenceSeries(), { length: c.window, horizon: 1, targetMode: 'last', scaling: 'zscore', validationSplit: c.validationSplit, difference: 'auto', season: 'auto', timeField: 'auto', calendar: 'auto', gaps: 'linear', direct: false });
  const variants = ['2', '1', 'main'];
  const rows = { fit: [] };
  for (const v of variants) rows[v] = [];
  const differences = {};
  let reference = null;
  for (let i = 0; i < runs; i++) {
    // Interleaved, so that a slow minute of a shared machine touches every variant alike.
    const here = fitHere(data);
    reference = here.model;
    rows.fit.push(...here.epochMs.slice(1));
    for (const v of variants) {
      process.stderr.write(`run ${i + 1}/${runs}: threads ${v}…\n`);
      const r = await runNodeRed({ flow: 'reference', withPackage: true, train: true, threads: v, keepModel: true });
      // The first epoch includes starting the workers and compiling the kernels: steady state only.
      rows[v].push(...r.run.epochMs.slice(1));
      differences[v] = Math.max(differences[v] ?? 0, r.model ? maxDifference(core.Model.fromJSON(r.model), reference) : Infinity);
    }
  }
  const fit = bench.summary(rows.fit).median;
  bench.printTable(
    ['where', 'epoch ms (median)', 'speed vs Model.fit', 'max |Δw| vs Model.fit'],
    [['Model.fit, this process', fit.toFixed(1), '1.00×', '—'], ...variants.map((v) => {
      const m = bench.summary(rows[v]).median;
      return [v === 'main' ? 'trainer node, main thread' : `trainer node, ${v} worker${v === '1' ? '' : 's'}`, m.toFixed(1), `${(fit / m).toFixed(2)}×`, differences[v].toExponential(1)];
    })],
  );
  console.log('Epoch ms as each reports it (training and validation; epochs 2 on, the first carries the start-up).');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
