#!/usr/bin/env node
'use strict';
/**
 * How much a busy worker thread delays the main thread's event loop on this machine: N workers
 * spin for 3 s (at an optional nice value, Linux), while the main thread's event-loop delay is
 * measured. A baseline for the delays of bench/node-red-latency.js.
 *
 *   node bench/worker-contention.js        (prints 0, 1 and 2 workers, at nice 0 and 10)
 */
const { Worker } = require('worker_threads');
const { monitorEventLoopDelay } = require('perf_hooks');

function spin(workers, nice) {
  const code = `
    const fs = require('fs'), os = require('os');
    if (${nice}) { try { os.setPriority(Number(fs.readlinkSync('/proc/thread-self').split('/').pop()), ${nice}); } catch (e) { /* not Linux, or not allowed */ } }
    const end = Date.now() + 3000; let x = 0;
    while (Date.now() < end) for (let i = 0; i < 1e5; i++) x += Math.sqrt(i);
    require('worker_threads').parentPort.postMessage(x);`;
  const threads = Array.from({ length: workers }, () => new Worker(code, { eval: true }));
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  return new Promise((resolve) => setTimeout(() => {
    h.disable();
    Promise.all(threads.map((w) => w.terminate())).then(() => resolve({ max: h.max / 1e6, p99: h.percentile(99) / 1e6 }));
  }, 3000));
}

(async () => {
  console.log('workers  nice  max delay ms  p99 ms');
  for (const [n, nice] of [[0, 0], [1, 0], [2, 0], [1, 10], [2, 10]]) {
    const r = await spin(n, nice);
    console.log(`${String(n).padStart(7)}  ${String(nice).padStart(4)}  ${r.max.toFixed(1).padStart(12)}  ${r.p99.toFixed(1).padStart(6)}`);
  }
})();
