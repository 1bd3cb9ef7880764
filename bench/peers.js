#!/usr/bin/env node
'use strict';
/**
 * `npm run bench:peers`: our core against brain.js `recurrent.RNNTimeStep` and TensorFlow.js
 * `simpleRNN` (pure-JavaScript cpu backend) on the reference task, in one process, on the same
 * data. Each peer is first loaded with our starting weights and checked to compute the same
 * model, so the timings compare like with like, and what each library really does per epoch
 * (which differs for brain.js) is printed next to the figures.
 *
 * The peers live in their own private package (bench/peers) so that installing node-red-rnn
 * never downloads them; this script installs them there on first use.
 */
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { createRequire } = require('module');
const bench = require('./task');

const PEERS_DIR = path.join(__dirname, 'peers');
const RUNS = { warmup: 2, runs: 7 };
const INFERENCE = { ours: { reps: 2000, rounds: 5 }, tfjs: { reps: 300, rounds: 5 }, brain: { reps: 1000, rounds: 5 } };
/** tfjs and brain.js compute in float32: agreement is expected to float32 rounding, not better. */
const FLOAT32_LOSS_REL = 1e-5;
const FLOAT32_OUTPUT_ABS = 1e-5;
/** After 62 SGD steps in float32, weights and loss drift from the float64 ones by rounding only. */
const FLOAT32_EPOCH_WEIGHTS_ABS = 1e-4;
const FLOAT32_EPOCH_LOSS_REL = 1e-4;
/**
 * brain.js's default learning rate, 0.01, makes its RMSProp-style update diverge on this task
 * (shown in the checks); its training epochs are timed at this rate, where it does learn.
 */
const BRAIN_TIMED_LEARNING_RATE = 0.001;

function ensurePeersInstalled() {
  const have = (name) => fs.existsSync(path.join(PEERS_DIR, 'node_modules', name, 'package.json'));
  if (have('brain.js') && have('@tensorflow/tfjs')) return;
  console.log('Installing the peer libraries into bench/peers (first run only)…');
  // --ignore-scripts: nothing there needs an install script, and it rules out any native build.
  const r = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: PEERS_DIR,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (r.status !== 0) throw new Error(`npm ci in bench/peers failed (exit ${r.status})`);
}

function transpose(a, rows, cols) {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/**
 * TensorFlow.js: simpleRNN(tanh) + dense(linear), compiled with sgd and mean squared error.
 * Its kernels multiply from the right (x·K), so every matrix is the transpose of ours:
 * kernel I×H = W_xhᵀ, recurrent kernel H×H = W_hhᵀ, dense kernel H×O = W_hyᵀ.
 */
async function createTfjs(tf, data, w0, learningRate) {
  const { task, N, T } = data;
  const { inputSize: I, hiddenSize: H, outputSize: O } = task;
  const model = tf.sequential();
  model.add(tf.layers.simpleRNN({ units: H, inputShape: [T, I] }));
  model.add(tf.layers.dense({ units: O }));
  model.compile({ optimizer: tf.train.sgd(learningRate), loss: 'meanSquaredError' });
  // tfjs takes float32 (it rejects Float64Array): our weights are rounded once, here.
  const f32 = (a) => Float32Array.from(a);
  const tensors = [
    tf.tensor2d(f32(transpose(w0.W_xh, H, I)), [I, H]),
    tf.tensor2d(f32(transpose(w0.W_hh, H, H)), [H, H]),
    tf.tensor1d(f32(w0.b_h)),
    tf.tensor2d(f32(transpose(w0.W_hy, O, H)), [H, O]),
    tf.tensor1d(f32(w0.b_y)),
  ];
  model.setWeights(tensors);
  tensors.forEach((t) => t.dispose());
  const x = tf.tensor3d(f32(data.x), [N, T, I]);
  const y = tf.tensor2d(f32(data.y), [N, O]);
  const sample = Array.from(data.x.subarray(0, T * I));
  return {
    name: `tfjs ${tf.version.tfjs} simpleRNN, cpu`,
    initialLoss: () => {
      const l = model.evaluate(x, y, { batchSize: task.batchSize });
      const v = l.dataSync()[0];
      l.dispose();
      return v;
    },
    epoch: async () => {
      const h = await model.fit(x, y, { batchSize: task.batchSize, epochs: 1, shuffle: false, verbose: 0 });
      return h.history.loss[0];
    },
    weights: () => {
      const [K, R, b, D, c] = model.getWeights().map((t) => Float64Array.from(t.dataSync()));
      return { W_xh: transpose(K, I, H), W_hh: transpose(R, H, H), b_h: b, W_hy: transpose(D, H, O), b_y: c };
    },
    // What a user does for one forecast: a tensor from the window, predict, read the number back.
    predictOne: () => {
      const out = tf.tidy(() => model.predict(tf.tensor3d(sample, [1, T, I])));
      const v = out.dataSync()[0];
      out.dispose();
      return v;
    },
  };
}

/**
 * brain.js RNNTimeStep, loaded with our weights through its own toJSON/fromJSON. Its matrices
 * use our layout (rows are output units): weight = W_xh, transition = W_hh, bias = b_h,
 * outputConnector = W_hy, output = b_y.
 */
function createBrain(brain, data, w0, learningRate) {
  const version = brain.version ? ` ${brain.version}` : '';
  const { task, N, T } = data;
  const net = new brain.recurrent.RNNTimeStep({ inputSize: task.inputSize, hiddenLayers: [task.hiddenSize], outputSize: task.outputSize });
  const json = net.toJSON();
  const layer = json.hiddenLayers[0];
  layer.weight.weights = Array.from(w0.W_xh);
  layer.transition.weights = Array.from(w0.W_hh);
  layer.bias.weights = Array.from(w0.b_h);
  json.outputConnector.weights = Array.from(w0.W_hy);
  json.output.weights = Array.from(w0.b_y);
  net.fromJSON(json);
  const windows = [];
  for (let n = 0; n < N; n++) windows.push(Array.from(data.x.subarray(n * T, (n + 1) * T)));
  const trainingSet = windows.map((input, n) => ({ input, output: [data.y[n]] }));
  const lastStepMse = () => {
    let sq = 0;
    for (let n = 0; n < N; n++) sq += (net.run(windows[n]) - data.y[n]) ** 2;
    return sq / N;
  };
  return {
    name: `brain.js${version} RNNTimeStep`,
    net,
    windows,
    trainingSet,
    lastStepMse,
    initialLoss: lastStepMse,
    // One epoch = one pass over the windows: `train` with one iteration. It returns its own error
    // measure (mean absolute error over all steps), not the MSE of the task.
    epoch: () => net.train(trainingSet, { iterations: 1, learningRate, errorThresh: 0, log: false }).error,
    predictOne: () => net.run(windows[0]),
  };
}

/**
 * brain.js's gradient of one window, read from its matrices' `deltas` after its own forward and
 * backward pass (internal methods of 1.6.1), against our BPTT of the same model: relu hidden
 * layer, loss on every step. brain.js's deltas are ∂/∂θ of ½Σ_t (y_t − x_{t+1})², ours the
 * gradient of the mean over the 24 steps of (y_t − x_{t+1})², so brain's = ours × 24/2.
 */
function brainGradientCheck(brain, data, w0) {
  const { task, T } = data;
  const b = createBrain(brain, data, w0, task.learningRate);
  const n = 5;
  const win = b.windows[n];
  b.net.trainInputOutput({ input: win.map((v) => Float32Array.from([v])), output: [Float32Array.from([data.y[n]])] });
  b.net.backpropagate();
  const ours = bench.createOurs(data, w0, { activation: 'relu' });
  const seq = [...win, data.y[n]];
  const g = ours.model.gradients([win.map((v) => [v])], [seq.slice(1).map((v) => [v])], { loss: 'mse' }).grads[0];
  const m = b.net.model;
  const theirs = { W_xh: m.hiddenLayers[0].weight, W_hh: m.hiddenLayers[0].transition, b_h: m.hiddenLayers[0].bias, W_hy: m.outputConnector, b_y: m.output };
  const scale = T / 2;
  return bench.WEIGHTS.map((k) => {
    const o = g[k].flat();
    let diff = 0;
    let size = 0;
    for (let i = 0; i < o.length; i++) {
      diff = Math.max(diff, Math.abs(theirs[k].deltas[i] - scale * o[i]));
      size = Math.max(size, Math.abs(scale * o[i]));
    }
    return { name: k, diff, size, ok: diff <= 1e-5 * Math.max(1, size) };
  });
}

function relDiff(a, b) {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);
}

/** 1e-5 rather than 0.00001. */
function exp(v) {
  return v.toExponential(0);
}

function okText(ok) {
  return ok ? 'ok' : 'FAIL';
}

async function main() {
  ensurePeersInstalled();
  const peerRequire = createRequire(path.join(PEERS_DIR, 'package.json'));
  const tf = peerRequire('@tensorflow/tfjs');
  const brain = { ...peerRequire('brain.js'), version: peerRequire('brain.js/package.json').version };
  // Production mode only silences tfjs's log output (its advice to install the native backend).
  tf.enableProdMode();
  await tf.setBackend('cpu');
  await tf.ready();

  const data = bench.loadTask();
  const w0 = bench.initialWeights();
  const { task } = data;
  console.log('# node-red-rnn against brain.js and TensorFlow.js');
  console.log(`machine: ${bench.machine()}`);
  console.log(bench.describeTask(data));
  console.log(`tfjs backend: ${tf.getBackend()} (pure JavaScript; tfjs-node, a native addon, is deliberately not used)`);
  console.log('');

  console.log('## what one epoch is for each');
  bench.printTable(
    ['implementation', 'numbers', 'hidden', 'loss on', 'updates/epoch', 'update rule'],
    [
      ['ours, fast backend', 'float64', 'tanh', 'last step', String(Math.ceil(data.N / task.batchSize)), `SGD lr ${task.learningRate}, batch ${task.batchSize}`],
      [`tfjs simpleRNN`, 'float32', 'tanh', 'last step', String(Math.ceil(data.N / task.batchSize)), `SGD lr ${task.learningRate}, batch ${task.batchSize}`],
      ['brain.js RNNTimeStep', 'float32', 'relu', 'all 24 steps', String(data.N), `RMSProp-like, batch 1, lr ${BRAIN_TIMED_LEARNING_RATE}`],
    ],
  );
  console.log('brain.js, from its source (dist/recurrent/rnn.js, rnn-time-step.js, matrix/*):');
  console.log('  · the hidden activation is relu, hard-coded in RNN.getEquation; there is no tanh option for RNNTimeStep;');
  console.log('  · train() on {input, output} windows predicts every next value: an output, a loss and a gradient at all 24 steps;');
  console.log('  · it updates after every window (batch size 1): w ← w − lr·g/√(cache + 1e-8) − 1e-6·w, with');
  console.log('    cache ← 0.999·cache + 0.001·g² (no bias correction) and g clipped to ±5 in the step (not in the');
  console.log('    cache), so its first steps move every weight by about 31.6 × lr; `learningRate` is that lr.');
  console.log('So a brain.js epoch is the same pass over the same windows, but not the same arithmetic: it is the');
  console.log('cost of an epoch as brain.js does it. relu is cheaper than tanh, which favours brain.js.');
  console.log('');

  // --- Correctness -----------------------------------------------------------------------
  console.log('## correctness (before timing): every implementation starts from our weights');
  const ours = bench.createOurs(data, w0, { backend: 'fast' });
  const oursInitial = ours.initialLoss();
  const oursEpoch1 = ours.epoch();
  const oursW1 = bench.copyWeights(ours.weights());

  const tfCheck = await createTfjs(tf, data, w0, task.learningRate);
  const tfInitial = tfCheck.initialLoss();
  const tfEpoch1 = await tfCheck.epoch();
  const tfW1Diff = bench.weightsDiff(tfCheck.weights(), oursW1);
  const tfChecks = [
    ['loss before training', oursInitial, tfInitial, relDiff(oursInitial, tfInitial) <= FLOAT32_LOSS_REL],
    ['epoch-1 loss', oursEpoch1, tfEpoch1, relDiff(oursEpoch1, tfEpoch1) <= FLOAT32_EPOCH_LOSS_REL],
  ];

  const relu = bench.createOurs(data, w0, { activation: 'relu' });
  const reluOut = relu.model.predict(data.inputs).map((r) => r[data.T - 1][0]);
  const brainCheck = createBrain(brain, data, w0, task.learningRate);
  let outDiff = 0;
  let reluSq = 0;
  for (let n = 0; n < data.N; n++) {
    outDiff = Math.max(outDiff, Math.abs(brainCheck.net.run(brainCheck.windows[n]) - reluOut[n]));
    reluSq += (reluOut[n] - data.y[n]) ** 2;
  }
  const brainInitial = brainCheck.lastStepMse();
  const reluInitial = reluSq / data.N;

  bench.printTable(
    ['check', 'ours (float64)', 'peer', 'difference', 'tolerance', ''],
    [
      ...tfChecks.map(([what, a, b, ok], i) => [`tfjs: ${what}`, a.toFixed(10), b.toFixed(10), `${relDiff(a, b).toExponential(1)} rel`, `${exp(i === 0 ? FLOAT32_LOSS_REL : FLOAT32_EPOCH_LOSS_REL)} rel`, okText(ok)]),
      ['tfjs: weights after epoch 1', '—', '—', `${tfW1Diff.toExponential(1)} max abs`, `${exp(FLOAT32_EPOCH_WEIGHTS_ABS)} abs`, okText(tfW1Diff <= FLOAT32_EPOCH_WEIGHTS_ABS)],
      ['brain.js: last-step MSE, relu twin', reluInitial.toFixed(10), brainInitial.toFixed(10), `${relDiff(reluInitial, brainInitial).toExponential(1)} rel`, `${exp(FLOAT32_LOSS_REL)} rel`, okText(relDiff(reluInitial, brainInitial) <= FLOAT32_LOSS_REL)],
      ['brain.js: forecast of every window', '—', '—', `${outDiff.toExponential(1)} max abs`, `${exp(FLOAT32_OUTPUT_ABS)} abs`, okText(outDiff <= FLOAT32_OUTPUT_ABS)],
    ],
  );
  console.log('"relu twin": our core with activation relu and the same weights, since brain.js\'s hidden layer is relu.');
  const grads = brainGradientCheck(brain, data, w0);
  console.log('brain.js gradient of one window (its matrices\' deltas) vs our BPTT of the same relu model, loss on all steps:');
  console.log('  ' + grads.map((g) => `${g.name} ${g.diff.toExponential(1)} of ${g.size.toExponential(1)} ${g.ok ? 'ok' : 'DIFFERS'}`).join(' · '));
  if (grads.some((g) => !g.ok)) {
    console.log('  brain.js 1.6.1\'s backward of `add` (matrix/add-b.js) assigns the incoming gradient instead of adding');
    console.log('  it, so a bias shared by all steps keeps one step\'s gradient instead of the sum over steps.');
  }
  const t0 = process.hrtime.bigint();
  brainCheck.epoch();
  const brainMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const brainAfter = brainCheck.lastStepMse();
  console.log(`brain.js, one epoch at its default learningRate ${task.learningRate} from our weights: last-step MSE ${brainInitial.toFixed(4)} → ${brainAfter.toExponential(2)} (${brainMs.toFixed(0)} ms).`);
  const probe = createBrain(brain, data, w0, BRAIN_TIMED_LEARNING_RATE);
  probe.epoch();
  console.log(`brain.js, one epoch at learningRate ${BRAIN_TIMED_LEARNING_RATE}: last-step MSE ${brainInitial.toFixed(4)} → ${probe.lastStepMse().toExponential(2)}; its epochs are timed at this rate.`);
  console.log(`(ours after one epoch: training loss ${oursEpoch1.toFixed(4)}; tfjs ${tfEpoch1.toFixed(4)}.)`);
  const allOk = tfChecks.every((c) => c[3]) && tfW1Diff <= FLOAT32_EPOCH_WEIGHTS_ABS && outDiff <= FLOAT32_OUTPUT_ABS && relDiff(reluInitial, brainInitial) <= FLOAT32_LOSS_REL;
  if (!allOk) {
    console.log('FAIL: a peer does not compute the model it was given; its timings below are not comparable.');
    process.exitCode = 1;
  }
  console.log('');

  // --- Training epochs ---------------------------------------------------------------------
  console.log('## training: one epoch (ms; each continues training from its previous epoch)');
  const contenders = [ours, tfCheck, probe];
  const times = new Map();
  for (const c of contenders) times.set(c, await bench.timeRuns(c.epoch, RUNS));
  const oursMs = times.get(ours).median;
  bench.printTable(
    ['implementation', 'runs', 'min', 'median', 'max', 'windows/s', 'time ÷ ours'],
    contenders.map((c) => {
      const s = times.get(c);
      return [c.name, `${s.runs} (+${RUNS.warmup} warm-up)`, bench.fmt(s.min), bench.fmt(s.median), bench.fmt(s.max), Math.round((data.N * 1000) / s.median), `${(s.median / oursMs).toFixed(2)}×`];
    }),
  );
  const fmtMs = (await bench.timeRuns(() => probe.net.formatData(probe.trainingSet), { warmup: 1, runs: 5 })).median;
  console.log(`time ÷ ours: above 1 means slower than our fast backend. Each figure includes the library's own data`);
  console.log(`handling inside the call (ours packs the nested arrays; brain.js converts the windows to Float32Arrays,`);
  console.log(`about ${fmtMs.toFixed(0)} ms of its epoch; tfjs gets tensors built once, outside the timing).`);
  console.log('');

  // --- Inference ---------------------------------------------------------------------------
  console.log('## inference: forecast of one window of 24 (µs per call)');
  const infer = [
    [ours, INFERENCE.ours, 'Forecaster.run(Float64Array of 24) → last output, as the rnn predictor node does'],
    [tfCheck, INFERENCE.tfjs, 'tensor3d → predict → dataSync, in tidy'],
    [probe, INFERENCE.brain, 'run([…24 numbers]) → number'],
  ];
  const inferTimes = [];
  for (const [c, cfg] of infer) inferTimes.push(await bench.timeCalls(c.predictOne, cfg));
  const oursUs = inferTimes[0].median;
  bench.printTable(
    ['implementation', 'rounds×calls', 'min', 'median', 'max', 'calls/s', 'time ÷ ours', 'call'],
    infer.map(([c, , call], i) => {
      const s = inferTimes[i];
      return [c.name, `${s.runs}×${s.reps}`, bench.fmt(s.min), bench.fmt(s.median), bench.fmt(s.max), Math.round(1e6 / s.median), `${(s.median / oursUs).toFixed(2)}×`, call];
    }),
  );
  console.log('min/median/max are over rounds; each round is the mean of its calls.');
  bench.writeJsonIfAsked({
    bench: 'peers',
    ok: allOk,
    training: contenders.map((c) => ({ name: c.name, ...times.get(c), warmup: RUNS.warmup })),
    inference: infer.map(([c], i) => ({ name: c.name, ...inferTimes[i] })),
  });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
