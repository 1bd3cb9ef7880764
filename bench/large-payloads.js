#!/usr/bin/env node
'use strict';
/**
 * What one very large message does to a real Node-RED: for each case a fresh process starts
 * Node-RED (RED.init / RED.start, a temporary user directory, this package found through
 * `nodesDir`), deploys inject → function → one rnn node → function, with one Catch node, and
 * presses the inject button through the admin API. The payload is made before the button is
 * pressed, so the figures are the node's and Node-RED's own. The predictor reads a model file
 * written for it (one feature, 16 units, a window of 24).
 *
 * Printed per case: how the message ended (sent on, or the error a Catch node saw, or the process
 * died), the time from the button to that end, the longest event-loop stall in between
 * (monitorEventLoopDelay, 1 ms resolution) and the process's peak RSS (resourceUsage().maxRSS).
 *
 *   node bench/large-payloads.js [--heap 512] [--root <package dir>] [--case <name>] [--json out.json]
 *
 * --heap runs Node-RED with --max-old-space-size=<MB> (512 is a Raspberry Pi's Node-RED);
 * --root measures another build of the package (e.g. an older commit, built), to compare.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { fork } = require('child_process');
const { monitorEventLoopDelay } = require('perf_hooks');

const CASES = [
  { name: '3,000,000 numbers → rnn layer, 16 units', node: 'rnn-layer', hiddenSize: 16, values: 3_000_000 },
  { name: '3,000,000 numbers → rnn layer, 32 units', node: 'rnn-layer', hiddenSize: 32, values: 3_000_000 },
  { name: '300,000 numbers → rnn layer, 128 units', node: 'rnn-layer', hiddenSize: 128, values: 300_000 },
  { name: '2,000,000 numbers → rnn layer, 16 units', node: 'rnn-layer', hiddenSize: 16, values: 2_000_000 },
  { name: '1,000,000 numbers and targets → rnn loss', node: 'rnn-loss', values: 1_000_000 },
  { name: '2,000,000 readings as one window → rnn predictor', node: 'rnn-predictor', values: 2_000_000 },
];

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}

// ---------------------------------------------------------------------------------------------
// Parent side

function runCase(c, { heap, root }) {
  return new Promise((resolve) => {
    const execArgv = heap ? [`--max-old-space-size=${heap}`] : [];
    const child = fork(__filename, ['--child'], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let report = null;
    child.stderr.on('data', (d) => (stderr += d));
    child.on('message', (m) => (report = m));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (report && report.type === 'report') resolve(report.report);
      else {
        const oom = /heap out of memory|Allocation failed/.test(stderr);
        resolve({ outcome: `Node-RED died (${oom ? 'JavaScript heap out of memory' : signal || `exit ${code}`})`, died: true, ms: null, stallMs: null, peakRssMb: null, error: report && report.message });
      }
    });
    child.send({ case: c, root });
  });
}

async function main() {
  const heap = arg('--heap', null);
  const root = path.resolve(arg('--root', path.join(__dirname, '..')));
  const only = arg('--case', null);
  const cases = CASES.filter((c) => !only || c.name.includes(only));
  const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  console.log(`Large payloads in a real Node-RED: Node.js ${process.version}, ${os.cpus().length} cores, heap ${heap ? `--max-old-space-size=${heap}` : 'default'}, package at ${path.relative(process.cwd(), root) || '.'} (${version})`);
  console.log('');
  console.log('| case | outcome | time | longest stall | peak RSS |');
  console.log('|---|---|---|---|---|');
  const results = [];
  for (const c of cases) {
    const r = await runCase(c, { heap, root });
    results.push({ case: c.name, ...r });
    const ms = (v) => (v === null ? '–' : `${Math.round(v).toLocaleString('en-US')} ms`);
    console.log(`| ${c.name} | ${r.outcome} | ${ms(r.ms)} | ${ms(r.stallMs)} | ${r.peakRssMb === null ? '–' : `${Math.round(r.peakRssMb).toLocaleString('en-US')} MB`} |`);
  }
  const json = arg('--json', null);
  if (json) fs.writeFileSync(json, JSON.stringify({ heap, root, results }, null, 2));
}

// ---------------------------------------------------------------------------------------------
// Child side

function post(port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method: 'POST' }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`POST ${urlPath}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

function flowFor(c) {
  const z = 'bench-tab';
  const take = 'const b = global.get("bench");\nmsg.payload = b.payload;\nif (b.target) msg.target = b.target;\nreturn msg;';
  const nodes = {
    'rnn-layer': { type: 'rnn-layer', name: '', hiddenSize: c.hiddenSize, activation: 'tanh', projection: true, outputSize: 1, outputActivation: 'linear', init: 'orthogonal', seed: 1, stateful: false },
    'rnn-loss': { type: 'rnn-loss', name: '', loss: 'mse', delta: 1 },
    'rnn-predictor': { type: 'rnn-predictor', name: '', source: 'file', trainer: '', modelPath: 'models/bench.json', steps: 1, anomalyFactor: 3 },
  };
  const rnn = { id: 'bench-rnn', z, ...nodes[c.node], wires: [['bench-out']] };
  return [
    { id: z, type: 'tab', label: 'large payload' },
    { id: 'bench-inject', z, type: 'inject', name: 'go', props: [{ p: 'payload' }], repeat: '', once: false, topic: '', payload: '', payloadType: 'date', wires: [['bench-take']] },
    { id: 'bench-take', z, type: 'function', name: 'payload', func: take, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [['bench-rnn']] },
    rnn,
    { id: 'bench-out', z, type: 'function', name: 'sent on', func: 'global.get("bench").end("sent on");\nreturn null;', outputs: 1, wires: [[]] },
    { id: 'bench-catch', z, type: 'catch', name: '', scope: null, uncaught: false, wires: [['bench-caught']] },
    { id: 'bench-caught', z, type: 'function', name: 'caught', func: 'global.get("bench").end("error: " + msg.error.message);\nreturn null;', outputs: 1, wires: [[]] },
  ];
}

async function child({ case: c, root }) {
  const payload = new Array(c.values);
  for (let i = 0; i < c.values; i++) payload[i] = Math.sin(i / 10);
  let end;
  const ended = new Promise((r) => (end = r));
  const bench = { payload, target: c.node === 'rnn-loss' ? payload.map((v) => v + 0.1) : null, end: (text) => end(text) };
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-large-'));
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flowFor(c)));
  if (c.node === 'rnn-predictor') {
    // A model file for the predictor: one feature, 16 units, a window of 24 readings.
    const core = require(path.join(root, 'dist', 'src'));
    const model = core.Model.create({ inputSize: 1, layers: [{ hiddenSize: 16, outputSize: 1 }], seed: 1 });
    model.scaler = { kind: 'zscore', features: { offset: [0], scale: [1] }, targets: { offset: [0], scale: [1] } };
    model.window = { length: 24, horizon: 1, features: ['value'], targets: ['value'] };
    await core.saveModelFile(path.join(userDir, 'models', 'bench.json'), model.toJSON());
  }
  const settings = {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    httpAdminRoot: '/',
    nodesDir: [root],
    functionGlobalContext: { bench },
    logging: { console: { level: 'off', metrics: false, audit: false } },
    editorTheme: { tours: false, projects: { enabled: false } },
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false },
  };
  const RED = require('node-red');
  const express = require('express');
  const app = express();
  const server = http.createServer(app);
  RED.init(server, settings);
  app.use(settings.httpAdminRoot, RED.httpAdmin);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const started = new Promise((r) => RED.events.once('flows:started', r));
  await RED.start();
  await started;
  // Time for the nodes to settle (the predictor reads its model file at deploy).
  await new Promise((r) => setTimeout(r, 1000));
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  await new Promise((r) => setTimeout(r, 20));
  const t0 = Date.now();
  await post(server.address().port, '/inject/bench-inject');
  const outcome = await ended;
  const ms = Date.now() - t0;
  // A last turn, so that a stall that ended the wait is recorded.
  await new Promise((r) => setTimeout(r, 20));
  loop.disable();
  const report = { outcome: outcome.length > 160 ? `${outcome.slice(0, 157)}…` : outcome, ms, stallMs: loop.max / 1e6, peakRssMb: process.resourceUsage().maxRSS / 1024 };
  process.send({ type: 'report', report }, () => process.exit(0));
}

if (process.argv.includes('--child')) {
  process.on('message', (m) => child(m).catch((e) => process.send({ type: 'error', message: String(e && e.stack) }, () => process.exit(1))));
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
