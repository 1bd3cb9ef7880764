#!/usr/bin/env node
'use strict';
/**
 * The memory worker threads leave resident: (a) a bare worker that allocates garbage, started and
 * ended three times; (b) four training sessions one after another in one process, on the main
 * thread, one worker and two workers (the reference task's data). RSS after forced full GCs.
 *
 *   node --expose-gc bench/worker-memory.js
 */
const path = require('path');
const { Worker } = require('worker_threads');
const core = require(path.join(__dirname, '..', 'dist', 'src'));

if (typeof global.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(1);
}
const rss = () => (process.memoryUsage().rss / 1048576).toFixed(1);
const settle = async () => {
  for (let i = 0; i < 4; i++) {
    global.gc();
    await new Promise((r) => setTimeout(r, 100));
  }
};

async function bareWorkers(young) {
  const code = 'let a = []; for (let i = 0; i < 2e6; i++) { a.push(new Float64Array(16)); if (a.length > 100) a = []; } require("worker_threads").parentPort.postMessage(1);';
  const out = [rss()];
  for (let k = 0; k < 3; k++) {
    await new Promise((resolve) => {
      const w = new Worker(code, { eval: true, resourceLimits: young ? { maxYoungGenerationSizeMb: young } : undefined });
      w.on('message', () => w.terminate().then(resolve));
    });
    await settle();
    out.push(rss());
  }
  return out.join(' → ');
}

async function sessions(threads) {
  const series = Array.from({ length: 2000 }, (_, i) => Math.sin((2 * Math.PI * i) / 50) + 0.05 * Math.sin(i * 1.7));
  const data = core.prepareRun(series, { length: 24, horizon: 1, validationSplit: 0.2, scaling: 'zscore', targetMode: 'last', difference: 'auto', season: 'auto', calendar: 'auto' });
  await settle();
  const out = [rss()];
  for (let k = 0; k < 4; k++) {
    const model = core.Model.create({ inputSize: data.inputSize, layers: [{ hiddenSize: 32, outputSize: 1 }] });
    const s = new core.TrainingSession(model, data.train, data.validation, { epochs: 10, threads, optimizer: 'sgd' });
    await s.run();
    await s.close();
    await settle();
    out.push(rss());
  }
  return out.join(' → ');
}

(async () => {
  // Each case in a process of its own would be cleaner; in one process they stack, so the bare
  // workers go first and the sessions are read as steps from where they start.
  console.log(`bare worker, default young generation: ${await bareWorkers(0)} MB`);
  console.log(`bare worker, young generation 4 MB:    ${await bareWorkers(4)} MB`);
  for (const t of ['main', 1, 2]) console.log(`four training sessions, threads ${t}: ${await sessions(t)} MB`);
})();
