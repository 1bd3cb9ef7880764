#!/usr/bin/env node
'use strict';
/**
 * Where the resident memory a training run leaves behind sits, per backend and per "Train on"
 * setting: each case in a fresh process trains two sessions one after the other (the reference
 * task's data, 10 epochs each) and reads /proc/self/smaps before and after, both after forced full
 * collections. The growth is split by mapping:
 *
 *   C heap     — `[heap]`, the C allocator's main arena (the main thread's malloc/calloc, which is
 *                where the backing stores of ArrayBuffers and typed arrays come from);
 *   arenas     — anonymous mappings starting on a 64 MiB boundary: glibc's per-thread arenas
 *                (worker threads allocate there; an arena outlives its thread and is reused by the
 *                next one, with the pages it touched);
 *   V8 heap    — the main isolate's heap pages (v8.getHeapStatistics().total_physical_size);
 *   rest       — everything else (V8's code space, the binary's pages, stacks, …).
 *
 * It also counts the WebAssembly instances the main thread created (none unless it trained), the
 * process's threads after the sessions ended (the workers must be gone), and the main thread's
 * WebAssembly memory when training ran there. Linux only.
 *
 *   node bench/allocator-memory.js [--runs 2] [--root <package dir>] [--json out.json]
 *
 * --root measures another build of the package (an older commit, built), to compare.
 */
const fs = require('fs');
const path = require('path');
const v8 = require('v8');
const { fork } = require('child_process');

const MB = 1024;
/** glibc's HEAP_MAX_SIZE on 64-bit: every thread arena is a mapping aligned to it. */
const ARENA_ALIGN = 64 * 1024 * 1024;
const SESSIONS = 2;

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}

/** Resident kB of the process by kind of mapping (see the header). */
function residentByKind() {
  const kinds = { total: 0, heap: 0, arenas: 0 };
  let current = null;
  for (const line of fs.readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (m) {
      const start = parseInt(m[1], 16);
      const anonymous = m[4] === '0' && m[5] === '';
      current = m[5] === '[heap]' ? 'heap' : anonymous && start % ARENA_ALIGN === 0 && parseInt(m[2], 16) - start <= ARENA_ALIGN ? 'arenas' : null;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) {
      kinds.total += Number(rss[1]);
      if (current) kinds[current] += Number(rss[1]);
    }
  }
  kinds.v8 = v8.getHeapStatistics().total_physical_size / 1024;
  kinds.rest = kinds.total - kinds.heap - kinds.arenas - kinds.v8;
  return kinds;
}

async function settle() {
  for (let i = 0; i < 4; i++) {
    global.gc();
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Counts the instances this thread creates; worker threads have a WebAssembly object of their own. */
function countInstances() {
  const counter = { instances: 0 };
  WebAssembly.Instance = new Proxy(WebAssembly.Instance, {
    construct(target, args) {
      counter.instances++;
      return new target(...args);
    },
  });
  return counter;
}

async function child({ root, threads }) {
  const counter = countInstances();
  const core = require(path.join(root, 'dist', 'src'));
  const series = Array.from({ length: 2000 }, (_, i) => Math.sin((2 * Math.PI * i) / 50) + 0.05 * Math.sin(i * 1.7));
  const data = core.prepareRun(series, { length: 24, horizon: 1, validationSplit: 0.2, scaling: 'zscore', targetMode: 'last' });
  const backend = core.defaultBackendName();
  await settle();
  const before = residentByKind();
  const threadsBefore = fs.readdirSync('/proc/self/task').length;
  for (let k = 0; k < SESSIONS; k++) {
    const model = core.Model.create({ inputSize: data.inputSize, layers: [{ hiddenSize: 32, outputSize: 1 }] });
    const session = new core.TrainingSession(model, data.train, data.validation, { epochs: 10, threads, optimizer: 'sgd' });
    await session.run();
    await session.close();
  }
  await settle();
  const after = residentByKind();
  const delta = {};
  for (const k of Object.keys(after)) delta[k] = (after[k] - before[k]) / MB;
  let wasmMemory = null;
  if (threads === 'main' && backend === 'wasm') wasmMemory = require(path.join(root, 'dist', 'src', 'wasm', 'module')).wasmKernels().arena.size / 2 ** 20;
  const threadsAfter = fs.readdirSync('/proc/self/task').length;
  return { backend, threads, before: before.total / MB, after: after.total / MB, delta, wasmMemory, instances: counter.instances, threadsBefore, threadsAfter };
}

function runCase(root, backend, threads) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NODE_RED_RNN_BACKEND: backend };
    const c = fork(__filename, ['--child'], { execArgv: ['--expose-gc'], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result = null;
    c.on('message', (m) => (result = m));
    c.on('exit', (code) => (result && !result.error ? resolve(result) : reject(new Error(`case ${backend}/${threads} failed (exit ${code}): ${result ? result.error : ''}`))));
    c.send({ root, threads });
  });
}

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

async function main() {
  if (process.platform !== 'linux') throw new Error('this benchmark reads /proc/self/smaps (Linux only)');
  const root = path.resolve(arg('--root', path.join(__dirname, '..')));
  const runs = Number(arg('--runs', 2));
  const bench = require('./task');
  console.log('# node-red-rnn: the resident memory training leaves, by mapping');
  console.log(`machine: ${bench.machine()}; package at ${path.relative(process.cwd(), root) || '.'}`);
  console.log(`each case: a fresh process, ${SESSIONS} training sessions (reference task, 10 epochs), medians of ${runs} runs; MB after − before, after forced full GCs`);
  const results = [];
  for (const threads of ['main', 1, 2]) {
    for (const backend of ['fast', 'wasm']) {
      const reports = [];
      for (let i = 0; i < runs; i++) reports.push(await runCase(root, backend, threads));
      const pick = (k) => median(reports.map((r) => r.delta[k]));
      results.push({
        backend: reports[0].backend,
        threads,
        before: median(reports.map((r) => r.before)),
        rss: pick('total'),
        heap: pick('heap'),
        arenas: pick('arenas'),
        v8: pick('v8'),
        rest: pick('rest'),
        wasmMemory: reports[0].wasmMemory,
        instances: Math.max(...reports.map((r) => r.instances)),
        threadsBefore: Math.max(...reports.map((r) => r.threadsBefore)),
        threadsAfter: Math.max(...reports.map((r) => r.threadsAfter)),
        perRun: reports.map((r) => r.delta.total),
      });
    }
  }
  const f = (v) => `${v >= 0 ? '+' : ''}${v.toFixed(1)}`;
  bench.printTable(
    ['backend', 'train on', 'RSS before', 'RSS Δ', 'C heap Δ', 'arenas Δ', 'V8 heap Δ', 'rest Δ', 'RSS Δ per run', 'main-thread instances', 'threads before → after'],
    results.map((r) => [r.backend, r.threads, r.before.toFixed(1), f(r.rss), f(r.heap), f(r.arenas), f(r.v8), f(r.rest), r.perRun.map(f).join(' '), r.instances, `${r.threadsBefore} → ${r.threadsAfter}`]),
  );
  for (const r of results) if (r.wasmMemory !== null) console.log(`main thread's WebAssembly memory after training there: ${r.wasmMemory.toFixed(2)} MB`);
  for (const threads of ['main', 1, 2]) {
    const fast = results.find((r) => r.threads === threads && r.backend === 'fast');
    const wasm = results.find((r) => r.threads === threads && r.backend === 'wasm');
    if (fast && wasm && wasm.backend === 'wasm') console.log(`train on ${threads}: wasm − fast RSS Δ ${f(wasm.rss - fast.rss)} MB, of which C heap + arenas ${f(wasm.heap + wasm.arenas - fast.heap - fast.arenas)} MB`);
  }
  const json = arg('--json', null);
  if (json) fs.writeFileSync(json, JSON.stringify({ machine: bench.machine(), root, runs, results }, null, 2));
}

if (process.argv.includes('--child')) {
  process.once('message', (m) => {
    child(m).then(
      (r) => process.send(r, () => process.exit(0)),
      (err) => process.send({ error: err && err.stack ? err.stack : String(err) }, () => process.exit(1)),
    );
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
