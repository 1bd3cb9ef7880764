#!/usr/bin/env node
'use strict';
/**
 * Resident memory (RSS) of a real Node-RED runtime without this package,
 * with it (flow deployed, then a model trained), and, for comparison, with mathjs loaded: the
 * core's own mathjs subset (the reference backend) and the full mathjs bundle. Every figure is
 * taken in a fresh process, after four forced full garbage collections, and each configuration
 * runs several times; the table shows medians.
 *
 *   node bench/memory.js [--runs 3] [--json results.json]
 */
const bench = require('./task');
const { runNodeRed, REFERENCE_FLOW } = require('./node-red-runtime');

/** The target: Node-RED with the package loaded and a model trained, over Node-RED alone. */
const BUDGET_MB = 25;
/**
 * V8 grows its young generation up to 16 MB per semi-space (Node 20, 64-bit) when a program
 * allocates fast, as training does, and the pages it has touched stay resident. Measuring again
 * with the semi-space capped shows how much of the difference is that, not memory the package keeps.
 */
const CAPPED_SEMI_SPACE = ['--max-semi-space-size=4'];

function median(values) {
  return bench.summary(values).median;
}

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}

/**
 * Runs both configurations `runs` times, alternating, so that a change in the machine's state
 * over time lands on both.
 */
async function measureMemory({ runs = 3, log = () => undefined } = {}) {
  const alone = [];
  const withPackage = [];
  const cappedAlone = [];
  const cappedTrained = [];
  for (let i = 0; i < runs; i++) {
    log(`run ${i + 1}/${runs}: Node-RED alone…`);
    alone.push(await runNodeRed({ flow: 'reference', withPackage: false, train: false, extras: ['mathjs'] }));
    log(`run ${i + 1}/${runs}: Node-RED with the package, training…`);
    withPackage.push(await runNodeRed({ flow: 'reference', withPackage: true, train: true, extras: ['reference-backend', 'mathjs'] }));
    log(`run ${i + 1}/${runs}: both again with ${CAPPED_SEMI_SPACE.join(' ')}…`);
    cappedAlone.push(await runNodeRed({ flow: 'reference', withPackage: false, train: false, nodeOptions: CAPPED_SEMI_SPACE }));
    cappedTrained.push(await runNodeRed({ flow: 'reference', withPackage: true, train: true, nodeOptions: CAPPED_SEMI_SPACE }));
  }
  const pick = (reports, stage, field = 'rss') => median(reports.map((r) => r.memory[stage][field]));
  const base = pick(alone, 'loaded');
  const rows = [
    { what: 'node process before Node-RED is loaded', rss: pick(alone, 'process'), heap: pick(alone, 'process', 'heapUsed') },
    { what: 'Node-RED alone (same flow without the rnn nodes, its inject pressed)', rss: base, heap: pick(alone, 'loaded', 'heapUsed'), base: true },
    { what: 'Node-RED + this package, training flow deployed', rss: pick(withPackage, 'loaded'), heap: pick(withPackage, 'loaded', 'heapUsed') },
    { what: `… and a model trained (${REFERENCE_FLOW.epochs} epochs, model file saved)`, rss: pick(withPackage, 'trained'), heap: pick(withPackage, 'trained', 'heapUsed'), target: true },
    { what: '… and the mathjs reference backend loaded (core\'s mathjs subset)', rss: pick(withPackage, 'reference-backend'), heap: pick(withPackage, 'reference-backend', 'heapUsed') },
    { what: '… and the full mathjs bundle (require("mathjs"))', rss: pick(withPackage, 'mathjs'), heap: pick(withPackage, 'mathjs', 'heapUsed') },
    { what: 'Node-RED alone + the full mathjs bundle', rss: pick(alone, 'mathjs'), heap: pick(alone, 'mathjs', 'heapUsed') },
  ];
  for (const r of rows) r.delta = r.rss - base;
  const capped = {
    flags: CAPPED_SEMI_SPACE.join(' '),
    alone: pick(cappedAlone, 'loaded'),
    trained: pick(cappedTrained, 'trained'),
    trainingMs: median(cappedTrained.map((r) => r.run.ms)),
  };
  capped.delta = capped.trained - capped.alone;
  const trainingMs = median(withPackage.map((r) => r.run.ms));
  const peak = median(withPackage.map((r) => r.run.peak.rss));
  const peakArrayBuffers = median(withPackage.map((r) => r.run.peak.arrayBuffers));
  return {
    runs,
    rows,
    trainedDelta: rows.find((r) => r.target).delta,
    perRun: { alone: alone.map((r) => r.memory.loaded.rss), trained: withPackage.map((r) => r.memory.trained.rss) },
    duringTraining: { peakRss: peak, peakArrayBuffers, trainingMs },
    capped,
    versions: withPackage[0].versions,
  };
}

function printMemory(m) {
  bench.printTable(
    ['configuration', 'RSS MB', 'Δ vs alone', 'heap used MB'],
    m.rows.map((r) => [r.what, r.rss.toFixed(1), r.base ? '—' : `${r.delta >= 0 ? '+' : ''}${r.delta.toFixed(1)}`, r.heap.toFixed(1)]),
  );
  console.log(`medians of ${m.runs} runs, each in a fresh process, after forced full GCs. RSS per run: alone ${m.perRun.alone.map((v) => v.toFixed(1)).join(', ')};`);
  console.log(`with a model trained ${m.perRun.trained.map((v) => v.toFixed(1)).join(', ')}.`);
  console.log(`During training (median of runs): peak RSS ${m.duringTraining.peakRss.toFixed(1)} MB, peak ArrayBuffer memory ${m.duringTraining.peakArrayBuffers.toFixed(1)} MB.`);
  const c = m.capped;
  console.log(`With node ${c.flags} on both sides: alone ${c.alone.toFixed(1)} MB, model trained ${c.trained.toFixed(1)} MB, Δ ${c.delta >= 0 ? '+' : ''}${c.delta.toFixed(1)} MB`);
  console.log(`(training took ${c.trainingMs} ms against ${m.duringTraining.trainingMs} ms by default): the rest of the default difference is V8's young generation grown by training's allocation rate.`);
  const ok = m.trainedDelta <= BUDGET_MB;
  console.log(`package loaded + model trained vs Node-RED alone: ${m.trainedDelta >= 0 ? '+' : ''}${m.trainedDelta.toFixed(1)} MB (bound ${BUDGET_MB} MB): ${ok ? 'within' : 'OVER'}`);
}

async function main() {
  const runs = Number(arg('--runs', 3));
  console.log('# node-red-rnn: memory in a real Node-RED runtime');
  console.log(`machine: ${bench.machine()}`);
  const m = await measureMemory({ runs, log: (s) => process.stderr.write(`${s}\n`) });
  console.log(`Node-RED ${m.versions.nodeRed}, node ${m.versions.node}`);
  console.log('');
  printMemory(m);
  const file = arg('--json', null);
  if (file) require('fs').writeFileSync(file, JSON.stringify({ machine: bench.machine(), memory: m }, null, 2));
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}

module.exports = { measureMemory, printMemory, BUDGET_MB };
