#!/usr/bin/env node
'use strict';
/**
 * How long the calling thread is held while a training run's data is prepared: `prepareRun` (on
 * the thread) against `prepareRunOffThread` (in a worker), on three series:
 *   a  10,000 numbers, daily + weekly season, hourly times given apart (as the sequence node's
 *      buffer passes msg.timestamp), difference/season/calendar "auto", window 24;
 *   b  data/seattle-weather.csv as object rows (1,461), times from the "date" field, window 14;
 *   c  the same rows repeated to 10,000 (dates continued), to see what cloning 10,000 objects costs.
 * Two probes run during each call: a setInterval(1 ms) whose longest gap between ticks, less the
 * 1 ms, is the longest block; and perf_hooks.monitorEventLoopDelay at 1 ms resolution (its max).
 * A gap is not only work on the thread: on a small or loaded machine the thread also waits for a
 * CPU. So each call is made once more without probes, and on Linux the calling thread's own CPU
 * time and run-queue wait are read from /proc (schedstat): all the work the call did on the thread,
 * whatever the slices. For the worker, the longest single step is timed too (starting the worker,
 * one postMessage of a slice). The first call of each is cold (code not yet optimised, the first
 * worker ever); then --runs warm.
 *
 *   npm run build && node --expose-gc bench/prepare-run.js [--runs 7] [--json out.json]
 */
const fs = require('fs');
const { performance, monitorEventLoopDelay } = require('perf_hooks');
const { Worker } = require('worker_threads');
const { prepareRun, prepareRunOffThread } = require('../dist/src');
const { prepareWorkerHooks: hooks } = require('../dist/src/data/prepareRun');
const { seattleRows } = require('../test/helpers/series');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function hourlyNumbers(n) {
  // Deterministic "noise" so every run prepares the same series.
  const series = Array.from({ length: n }, (_, i) => 20 + 5 * Math.sin((2 * Math.PI * i) / 24) + 3 * Math.sin((2 * Math.PI * i) / 168) + 0.5 * Math.sin(i * 12.9898));
  const t0 = Date.UTC(2023, 0, 1);
  return { series, times: series.map((_, i) => t0 + i * HOUR) };
}

function seattleRepeated(n) {
  const base = seattleRows();
  const t0 = Date.parse(base[0].date);
  return Array.from({ length: n }, (_, i) => ({ ...base[i % base.length], date: new Date(t0 + i * DAY).toISOString().slice(0, 10) }));
}

const numbers = hourlyNumbers(10_000);
const auto = { difference: 'auto', season: 'auto', calendar: 'auto', scaling: 'zscore', validationSplit: 0.2, horizon: 1 };
const CASES = [
  { name: 'a: 10,000 numbers, hourly times', series: numbers.series, options: { ...auto, length: 24, times: numbers.times } },
  { name: 'b: Seattle CSV, 1,461 object rows', series: seattleRows(), options: { ...auto, length: 14, timeField: 'date' } },
  { name: 'c: Seattle rows ×7, 10,000 object rows', series: seattleRepeated(10_000), options: { ...auto, length: 14, timeField: 'date' } },
];

/** Runs `call` with both probes on; the longest block seen by each, ms, and the call's wall time. */
async function probe(call) {
  if (global.gc) global.gc();
  await new Promise((r) => setTimeout(r, 20));
  const h = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let longestGap = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 1);
  h.enable();
  await new Promise((r) => setTimeout(r, 5));
  const t0 = performance.now();
  await call();
  const wall = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 5));
  h.disable();
  clearInterval(tick);
  return { block: Math.max(0, longestGap - 1), eld: h.max / 1e6, wall };
}

/** The calling thread's time on a CPU and waiting for one, ms (Linux; null elsewhere). */
function threadTimes() {
  try {
    const [cpu, wait] = fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return { cpu: cpu / 1e6, wait: wait / 1e6 };
  } catch {
    return null;
  }
}

/**
 * The call without probes: the calling thread's CPU and run-queue time over it, and for the worker
 * the longest step of our own (new Worker, one postMessage), timed by wrapping the test hook.
 */
async function costs(call) {
  if (global.gc) global.gc();
  await new Promise((r) => setTimeout(r, 20));
  let longestStep = 0;
  const spawn = hooks.spawn;
  hooks.spawn = (file) => {
    const t0 = performance.now();
    const w = spawn(file);
    longestStep = Math.max(longestStep, performance.now() - t0);
    const post = w.postMessage.bind(w);
    w.postMessage = (m, transfer) => {
      const t1 = performance.now();
      post(m, transfer);
      longestStep = Math.max(longestStep, performance.now() - t1);
    };
    return w;
  };
  const before = threadTimes();
  try {
    await call();
  } finally {
    hooks.spawn = spawn;
  }
  const after = threadTimes();
  return { cpu: after ? after.cpu - before.cpu : null, wait: after ? after.wait - before.wait : null, longestStep };
}

/** One postMessage of the whole series (what a worker would cost without slices), ms. */
async function oneClone(series) {
  const w = new Worker("require('worker_threads').parentPort.on('message', () => process.exit(0))", { eval: true });
  await new Promise((r) => w.once('online', r));
  const t0 = performance.now();
  w.postMessage(series);
  const ms = performance.now() - t0;
  await new Promise((r) => w.once('exit', r));
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x) => x.toFixed(1);

async function main() {
  const runs = Number(arg('--runs', 7));
  const out = { node: process.version, gcBetweenRuns: !!global.gc, runs, cases: [] };
  console.log(`# the calling thread while a run is prepared (${process.version}${global.gc ? ', gc between runs' : ''}; ${runs} warm runs)`);
  console.log('block = longest gap between setInterval(1 ms) ticks − 1 ms; eld = monitorEventLoopDelay max; all ms');
  for (const c of CASES) {
    const row = { name: c.name, rows: c.series.length };
    for (const [label, fn] of [['prepareRun', () => prepareRun(c.series, c.options)], ['prepareRunOffThread', () => prepareRunOffThread(c.series, c.options)]]) {
      const cold = await probe(fn);
      const warm = [];
      for (let i = 0; i < runs; i++) warm.push(await probe(fn));
      const spent = [];
      for (let i = 0; i < runs; i++) spent.push(await costs(fn));
      row[label] = { cold, warm, costs: spent };
      const stat = (key, xs = warm) => `${key} median ${f(median(xs.map((w) => w[key])))} max ${f(Math.max(...xs.map((w) => w[key])))}`;
      console.log(`${c.name} — ${label}`);
      console.log(`    cold: block ${f(cold.block)}, eld ${f(cold.eld)}, wall ${f(cold.wall)}`);
      console.log(`    warm: ${stat('block')}; ${stat('eld')}; wall median ${f(median(warm.map((w) => w.wall)))}`);
      if (spent[0].cpu !== null) console.log(`    calling thread, whole call: ${stat('cpu', spent)} on a CPU; ${stat('wait', spent)} waiting for one`);
      if (label === 'prepareRunOffThread') console.log(`    longest step of ours (new Worker, one postMessage): ${stat('longestStep', spent)}`);
    }
    const clones = [];
    for (let i = 0; i < 5; i++) clones.push(await oneClone(c.series));
    row.oneClone = clones;
    console.log(`${c.name} — one postMessage of the whole series, for comparison: median ${f(median(clones))}, max ${f(Math.max(...clones))}`);
    out.cases.push(row);
  }
  const json = arg('--json', null);
  if (json) fs.writeFileSync(json, JSON.stringify(out, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
