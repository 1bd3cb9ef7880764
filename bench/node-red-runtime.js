'use strict';
/**
 * A real Node-RED runtime for the benchmarks, in a child process of its own so that the memory
 * figures of one configuration never include another's. The parent calls `runNodeRed(options)`;
 * the child (this file, forked) starts Node-RED in-process with `RED.init(server, settings)`, its
 * editor and admin API on a free local port and a fresh user directory, deploys a flow, presses
 * the flow's inject button through the admin API (as the editor does), and reports over IPC.
 *
 * This package's nodes are installed the way Node-RED finds a module: `nodesDir` points at the
 * package root, whose package.json has the "node-red" section. Without the package, the same
 * flow minus the rnn nodes is deployed, so both runtimes carry the same inject and function nodes
 * and generate the same series.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { fork } = require('child_process');
const { monitorEventLoopDelay, PerformanceObserver, performance } = require('perf_hooks');

const ROOT = path.join(__dirname, '..');
const EXAMPLE_FLOW = path.join(ROOT, 'examples', '01 - Sine wave - first RNN.json');
/** Stalls of the event loop longer than this are listed with the time and epoch they fell in. */
const STALL_MS = 8;

/** The reference task as a Node-RED flow: 2,000 points, window 24, H=32, batch 32, SGD 0.01. */
const REFERENCE_FLOW = Object.freeze({ points: 2000, window: 24, hidden: 32, batchSize: 32, learningRate: 0.01, epochs: 10, validationSplit: 0.2 });

// ---------------------------------------------------------------------------------------------
// Parent side

/**
 * Runs one configuration in a fresh process and resolves with its report.
 * @param {object} options
 *   flow: 'reference' | 'example' — the reference-task flow, or the package's first example as shipped;
 *   withPackage: boolean — install this package's nodes (otherwise the flow loses its rnn nodes);
 *   train: boolean — run the training and measure the event loop until the trainer's "done";
 *   extras: ('reference-backend' | 'mathjs')[] — loaded one after the other at the end, each measured;
 *   threads: 'auto' | 'main' | number — the trainers' "Train on" setting (default: as the flow has it);
 *   keepModel: boolean — return the model file the reference flow's trainer saved (report.model);
 *   controlMs: number — with train false: the control run. The reference flow is deployed without its rnn
 *     nodes (the package loaded all the same), its button pressed, and the event loop watched this long;
 *   warmKernels: boolean — an experiment: optimise the kernels before training (see warmKernels);
 *   diagnose: boolean — also list the node input handlers that took more than 3 ms;
 *   log: boolean — let Node-RED log to the console (warnings and up);
 *   nodeOptions: string[] — extra node command-line options for the child (e.g. V8 heap flags);
 *   timeoutMs: give up after this long.
 */
function runNodeRed(options) {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--child'], { execArgv: ['--expose-gc', ...(options.nodeOptions || [])], stdio: ['ignore', options.log ? 'inherit' : 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let report = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Node-RED child timed out after ${options.timeoutMs} ms\n${stderr}`));
    }, options.timeoutMs ?? 300000);
    child.on('message', (m) => {
      if (m && m.type === 'report') report = m.report;
      if (m && m.type === 'error') report = { error: m.message };
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (report && !report.error) resolve(report);
      else reject(new Error(`Node-RED child failed (exit ${code}): ${report ? report.error : ''}\n${stderr}`));
    });
    child.send({ type: 'run', options });
  });
}

// ---------------------------------------------------------------------------------------------
// Child side

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

const MB = 2 ** 20;

/** RSS and heap after full collections, once allocation has calmed down. */
async function settledMemory() {
  await sleep(300);
  for (let i = 0; i < 4; i++) {
    global.gc();
    await sleep(100);
  }
  const m = process.memoryUsage();
  return { rss: m.rss / MB, heapTotal: m.heapTotal / MB, heapUsed: m.heapUsed / MB, external: m.external / MB };
}

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

/** Function-node code that hands msg.payload to the benchmark (functionGlobalContext.bench). */
const HOOK = (what) => `global.get("bench").${what}(msg.payload);\nreturn null;`;

/** The reference flow's series generator: a seeded noisy sine of REFERENCE_FLOW.points values. */
function sineCode() {
  const c = REFERENCE_FLOW;
  return (
    'let seed = 7;\n' +
    'const u = () => { seed = (seed * 1664525 + 1013904223) % 4294967296; return seed / 4294967296; };\n' +
    `const series = new Array(${c.points});\n` +
    `for (let i = 0; i < ${c.points}; i++) series[i] = Math.sin(2 * Math.PI * i / 50) + 0.1 * (u() - 0.5);\n` +
    'return { topic: "train", payload: series };'
  );
}

/**
 * A second button and a series generator, ending in a hook instead of the rnn chain: pressed
 * before the measured run, so that the measured press runs with Node-RED's code warm (childRun).
 */
function warmUpNodes(z, func) {
  return [
    { id: 'bench-warm-inject', z, type: 'inject', name: 'warm up', props: [{ p: 'payload' }], repeat: '', once: false, topic: '', payload: '', payloadType: 'date', wires: [['bench-warm-sine']] },
    { id: 'bench-warm-sine', z, type: 'function', name: 'series (warm-up)', func, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [['bench-warm-hook']] },
    { id: 'bench-warm-hook', z, type: 'function', name: 'warm-up hook', func: HOOK('warmed'), outputs: 1, wires: [[]] },
  ];
}

/**
 * The reference-task flow: inject → noisy sine (seeded) → sequence → layer → loss → trainer,
 * the trainer saving its best model as the example does. Ids never equal a property value:
 * Node-RED would take such a value for a reference to that node.
 */
function referenceFlow(withPackage) {
  const c = REFERENCE_FLOW;
  const z = 'bench-tab';
  const sine = sineCode();
  const flow = [
    { id: z, type: 'tab', label: 'reference task' },
    { id: 'bench-inject', z, type: 'inject', name: 'train', props: [{ p: 'payload' }], repeat: '', once: false, topic: '', payload: '', payloadType: 'date', wires: [['bench-sine']] },
    { id: 'bench-sine', z, type: 'function', name: 'noisy sine', func: sine, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [[withPackage ? 'bench-seq' : 'bench-sink']] },
    ...warmUpNodes(z, sine),
  ];
  if (!withPackage) {
    flow.push({ id: 'bench-sink', z, type: 'function', name: 'sink', func: HOOK('done'), outputs: 1, wires: [[]] });
    return { flow, trigger: 'bench-inject' };
  }
  flow.push(
    { id: 'bench-seq', z, type: 'rnn-sequence', name: '', windowLength: c.window, horizon: 1, features: '', targets: '', targetMode: 'last', scaling: 'zscore', validationSplit: c.validationSplit, batchSize: c.batchSize, epochs: c.epochs, shuffle: true, seed: 1, bufferSize: 10000, trainAfter: 0, ackTimeout: 60, wires: [['bench-layer']] },
    { id: 'bench-layer', z, type: 'rnn-layer', name: '', hiddenSize: c.hidden, activation: 'tanh', projection: true, outputSize: 1, outputActivation: 'linear', init: 'orthogonal', seed: 1, stateful: false, wires: [['bench-loss']] },
    { id: 'bench-loss', z, type: 'rnn-loss', name: '', loss: 'mse', delta: 1, wires: [['bench-trainer']] },
    { id: 'bench-trainer', z, type: 'rnn-trainer', name: '', optimizer: 'sgd', learningRate: c.learningRate, momentum: 0.9, nesterov: false, weightDecay: 0, clipNorm: 0, clipValue: 0, truncate: 0, patience: 0, modelPath: 'models/sine.json', saveMode: 'best', saveEvery: 10, resume: false, gradientReport: false, wires: [['bench-epochs'], ['bench-done'], []] },
    { id: 'bench-epochs', z, type: 'function', name: 'epoch hook', func: HOOK('epoch'), outputs: 1, wires: [[]] },
    { id: 'bench-done', z, type: 'function', name: 'done hook', func: HOOK('done'), outputs: 1, wires: [[]] },
  );
  return { flow, trigger: 'bench-inject' };
}

/**
 * The package's first example as shipped (a second inject feeds its predictor every second), with
 * two hook nodes added on the trainer's outputs. Its train button fires by itself half a second
 * after deploy; here it is pressed instead, once the runtime has settled and been warmed up like
 * the reference flow's, so that the run does not include Node-RED's own start-up (its first
 * scavenges of the start-up garbage took 12–20 ms on the main thread when the button fired by
 * itself).
 */
function exampleFlow() {
  const flow = JSON.parse(fs.readFileSync(EXAMPLE_FLOW, 'utf8'));
  const trainer = flow.find((n) => n.type === 'rnn-trainer');
  const z = trainer.z;
  const trainInject = flow.find((n) => n.type === 'inject' && n.once && !n.repeat);
  if (!trainInject) throw new Error('the example has no train button that fires once');
  trainInject.once = false;
  const generator = flow.find((n) => n.id === trainInject.wires[0][0]);
  trainer.wires[0] = [...trainer.wires[0], 'bench-epochs'];
  trainer.wires[1] = [...trainer.wires[1], 'bench-done'];
  flow.push(
    { id: 'bench-epochs', z, type: 'function', name: 'epoch hook', func: HOOK('epoch'), outputs: 1, wires: [[]] },
    { id: 'bench-done', z, type: 'function', name: 'done hook', func: HOOK('done'), outputs: 1, wires: [[]] },
    ...warmUpNodes(z, generator.type === 'function' ? generator.func : sineCode()),
  );
  return { flow, trigger: trainInject.id };
}

/**
 * An experiment from when training ran on the main thread: runs the fast kernel's forward and backward on a tiny
 * layer two hundred times, in slices that yield to the event loop, so that V8 has optimised them
 * before the first real batch (which otherwise runs, and stalls, in the interpreter).
 */
async function warmKernels() {
  const core = require(path.join(ROOT, 'dist', 'src'));
  const layer = core.RnnLayer.create({ inputSize: 1, hiddenSize: 8, activation: 'tanh', outputSize: 1, outputActivation: 'linear' });
  const B = 5;
  const T = 6;
  const x = Float64Array.from({ length: B * T }, (_, i) => Math.sin(i));
  const target = new Float64Array(B * T).fill(NaN);
  for (let b = 0; b < B; b++) target[b * T + T - 1] = 0.5;
  for (let slice = 0; slice < 20; slice++) {
    for (let i = 0; i < 10; i++) {
      const fwd = core.fastBackend.forward(layer, x, B, T, null);
      const loss = core.computeLoss('mse', fwd.y, target, 1, 'linear');
      // The options object the trainer node passes, field for field: V8 throws away code
      // optimised for one shape of it (truncate undefined) when it meets another (truncate 0).
      core.fastBackend.backward(layer, fwd, loss.dY, layer.zeros(), { truncate: 0, dYIsLogit: false, needInputGrad: false, dhNormSq: undefined });
    }
    await new Promise((r) => setImmediate(r));
  }
}

/** Watches the event loop during a run: the histogram, plus when the long stalls and GCs fell. */
function watchLoop(epochCount) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const started = Date.now();
  const stalls = [];
  const gcs = [];
  let last = Date.now();
  let peakRss = 0;
  let peakArrayBuffers = 0;
  const ticker = setInterval(() => {
    const t = Date.now();
    if (t - last > STALL_MS) stalls.push({ at: last - started, ms: t - last, epoch: epochCount() });
    last = t;
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers);
  }, 1);
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.duration >= 2) gcs.push({ at: Math.round(e.startTime + performance.timeOrigin - started), ms: e.duration, major: (e.detail ? e.detail.kind : e.kind) !== 1 });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    started,
    stop() {
      histogram.disable();
      clearInterval(ticker);
      observer.disconnect();
      return {
        ms: Date.now() - started,
        loop: { max: histogram.max / 1e6, p99: histogram.percentile(99) / 1e6, p50: histogram.percentile(50) / 1e6, mean: histogram.mean / 1e6, samples: histogram.count },
        stalls,
        gcs,
        peak: { rss: peakRss / MB, arrayBuffers: peakArrayBuffers / MB },
      };
    },
  };
}

async function childRun(options) {
  const withPackage = !!options.withPackage;
  if (options.flow === 'example' && !withPackage) throw new Error('the example flow needs the package');
  // The control deploys the reference flow without its rnn nodes (the package still loaded), so
  // that pressing its button costs what it costs in a training run: the HTTP request of the
  // inject and the function node that generates the series.
  const { flow, trigger } = options.flow === 'example' ? exampleFlow() : referenceFlow(withPackage && !options.controlMs);
  // Where the trainer trains (its "Train on" setting); the flows' own setting when not given.
  if (options.threads !== undefined) for (const n of flow) if (n.type === 'rnn-trainer') n.threads = String(options.threads);
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-bench-'));
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));

  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  const epochs = [];
  const bench = {
    epoch: (p) => epochs.push({ epoch: p.epoch, loss: p.loss, valLoss: p.valLoss, ms: p.ms }),
    done: (p) => resolveDone(p),
    warmed: () => undefined,
  };
  const settings = {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    httpAdminRoot: '/',
    httpNodeRoot: '/api',
    functionGlobalContext: { bench },
    logging: { console: { level: options.log ? 'warn' : 'off', metrics: false, audit: false } },
    editorTheme: { tours: false, projects: { enabled: false } },
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false },
  };
  if (withPackage) settings.nodesDir = [ROOT];

  const memory = { process: await settledMemory() };
  const RED = require('node-red');
  const express = require('express');
  const app = express();
  const server = http.createServer(app);
  RED.init(server, settings);
  app.use(settings.httpAdminRoot, RED.httpAdmin);
  app.use(settings.httpNodeRoot, RED.httpNode);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const flowsStarted = new Promise((r) => RED.events.once('flows:started', r));
  await RED.start();
  await flowsStarted;
  const broken = RED.nodes.getNodeList().filter((n) => n.err).map((n) => `${n.id}: ${n.err}`);
  if (broken.length) throw new Error(`nodes failed to load: ${broken.join('; ')}`);
  const report = { versions: { node: process.version, nodeRed: RED.version() }, memory, withPackage, flow: options.flow };

  // Both flows wait for their button. It is pressed over HTTP from this same process. The first
  // press in a process runs the HTTP client, Node-RED's admin routes, the inject and the function
  // node cold (12–30 ms on a 2-core VM, measured with --cpu-prof); a Node-RED that has been up for
  // a while, pressed from a browser, pays none of that. Three presses of the warm-up button first.
  for (let i = 0; i < 3; i++) {
    const warmed = new Promise((r) => (bench.warmed = r));
    await post(port, '/inject/bench-warm-inject');
    await warmed;
  }
  await sleep(200);
  if (!options.train && !options.controlMs) {
    // Without the package: the same button, the same series generated, then dropped.
    await post(port, `/inject/${trigger}`);
    await done;
  }
  memory.loaded = await settledMemory();
  if (options.controlMs) {
    // The control: the same runtime and package, the same button pressed and the same series
    // generated, nothing trained, watched as long as a training run lasts. What it shows is the
    // cost of the press itself plus the machine's own noise (other processes, GC).
    const idle = watchLoop(() => 0);
    const until = Date.now() + 20 + options.controlMs;
    await sleep(20);
    await post(port, `/inject/${trigger}`);
    await done;
    await sleep(Math.max(0, until - Date.now()));
    report.run = { ...idle.stop(), result: null, epochs: 0, epochMs: [], slowNodes: [] };
  }
  if (options.warmKernels) await warmKernels();
  if (options.train) {
    const slowNodes = [];
    if (options.diagnose) {
      const entered = new Map();
      RED.hooks.add('onReceive.bench', (ev) => void entered.set(ev.msg, Date.now()));
      RED.hooks.add('postReceive.bench', (ev) => {
        const t = entered.get(ev.msg);
        // A run message carries msg.rnn.run (the run id); any other message is named by its topic.
        const rnn = ev.msg.rnn;
        const what = rnn && rnn.run !== undefined ? `run message (${rnn.layers ? rnn.layers.length : 0} layers so far)` : `topic ${JSON.stringify(ev.msg.topic ?? '')}`;
        if (t !== undefined && Date.now() - t > 3) slowNodes.push({ at: t - watch.started, ms: Date.now() - t, node: ev.destination.node.type, batch: what });
      });
    }
    const watch = watchLoop(() => epochs.length);
    // The first interval after enable() is never recorded: let it pass before the run starts.
    await sleep(20);
    await post(port, `/inject/${trigger}`);
    const result = await done;
    await sleep(20);
    report.run = { ...watch.stop(), result, epochs: epochs.length, epochMs: epochs.map((e) => e.ms), slowNodes };
    memory.trained = await settledMemory();
  }
  for (const extra of options.extras || []) {
    if (extra === 'reference-backend') {
      // This package's mathjs reference backend: the core's own mathjs instance, functions it uses only.
      require(path.join(ROOT, 'dist', 'src')).getBackend('reference');
    } else if (extra === 'mathjs') {
      // The full mathjs bundle, as `require('mathjs')` gives it.
      require('mathjs');
    }
    memory[extra] = await settledMemory();
  }
  await RED.stop();
  await new Promise((r) => server.close(r));
  // The trained model as the trainer saved it, for benchmarks that compare it with a fit of their own.
  const saved = path.join(userDir, 'models', 'sine.json');
  if (options.keepModel && fs.existsSync(saved)) report.model = JSON.parse(fs.readFileSync(saved, 'utf8'));
  fs.rmSync(userDir, { recursive: true, force: true });
  return report;
}

if (require.main === module && process.argv.includes('--child')) {
  process.on('message', (m) => {
    if (!m || m.type !== 'run') return;
    childRun(m.options).then(
      (report) => process.send({ type: 'report', report }, () => process.exit(0)),
      (err) => process.send({ type: 'error', message: err && err.stack ? err.stack : String(err) }, () => process.exit(1)),
    );
  });
}

module.exports = { runNodeRed, REFERENCE_FLOW, EXAMPLE_FLOW };
