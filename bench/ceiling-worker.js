'use strict';
/**
 * A worker of bench/parallel.js's ceiling measurement: on each message {rows, steps} it computes
 * `steps` minibatch gradients of `rows` rows of the reference task (RowWork, the arithmetic every
 * training thread runs) and answers with the milliseconds it took. It shares nothing with any
 * other thread, so two of them at once show what the machine gives two threads, before any
 * synchronisation.
 */
const { parentPort } = require('worker_threads');
const bench = require('./task');
const { RowWork } = require('../dist/src/localWork');
const { toPackedData } = require('../dist/src/packedData');

const data = bench.loadTask();
const model = bench.createOurs(data, bench.initialWeights()).model;
const packed = toPackedData({ inputs: data.inputs, targets: data.targets }, model.inputSize, model.outputSize, 'train');
const order = Int32Array.from({ length: packed.B }, (_, i) => i);
const work = new RowWork(model, packed, null, { batchSize: packed.B }, packed.B);

parentPort.on('message', ({ rows, steps }) => {
  const t0 = process.hrtime.bigint();
  for (let s = 0; s < steps; s++) work.train(order, (s * rows) % (packed.B - rows), rows);
  parentPort.postMessage(Number(process.hrtime.bigint() - t0) / 1e6);
});
parentPort.postMessage('ready');
