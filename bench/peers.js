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
/** The gated cells' epochs take several seconds in the peers: fewer of them. */
const GATED_RUNS = { warmup: 1, runs: 5 };
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
 * Each cell's TensorFlow.js layer and our names of its three weights in Keras's order (kernel,
 * recurrent kernel, bias). The gates' blocks are stacked in Keras's order in ours as in theirs
 * (LSTM i, f, c, o; GRU z, r, h), so each matrix is ours transposed, as for SimpleRNN. TensorFlow.js
 * defaults the gates' σ to hardSigmoid, ours to sigmoid: it is set, so both run the same model.
 * Its GRU is the form with the reset applied before the recurrent product, our default.
 */
const TFJS_LAYERS = {
  elman: { gates: 1, names: ['W_xh', 'W_hh', 'b_h'], layer: (tf, o) => tf.layers.simpleRNN(o) },
  lstm: { gates: 4, names: ['W_x', 'W_h', 'bias'], layer: (tf, o) => tf.layers.lstm({ ...o, recurrentActivation: 'sigmoid' }) },
  gru: { gates: 3, names: ['W_x', 'W_h', 'bias'], layer: (tf, o) => tf.layers.gru({ ...o, recurrentActivation: 'sigmoid' }) },
};

/**
 * TensorFlow.js: the cell's layer (tanh) + dense(linear), compiled with sgd and mean squared error.
 * Its kernels multiply from the right (x·K), so every matrix is the transpose of ours:
 * kernel I×G·H = W_xᵀ, recurrent kernel H×G·H = W_hᵀ, dense kernel H×O = W_hyᵀ.
 */
async function createTfjs(tf, data, w0, learningRate, cell = 'elman') {
  const { task, N, T } = data;
  const { inputSize: I, hiddenSize: H, outputSize: O } = task;
  const { gates, names, layer } = TFJS_LAYERS[cell];
  const [kx, kh, kb] = names;
  const G = gates * H;
  const model = tf.sequential();
  model.add(layer(tf, { units: H, inputShape: [T, I] }));
  model.add(tf.layers.dense({ units: O }));
  model.compile({ optimizer: tf.train.sgd(learningRate), loss: 'meanSquaredError' });
  // tfjs takes float32 (it rejects Float64Array): our weights are rounded once, here.
  const f32 = (a) => Float32Array.from(a);
  const tensors = [
    tf.tensor2d(f32(transpose(w0[kx], G, I)), [I, G]),
    tf.tensor2d(f32(transpose(w0[kh], G, H)), [H, G]),
    tf.tensor1d(f32(w0[kb])),
    tf.tensor2d(f32(transpose(w0.W_hy, O, H)), [H, O]),
    tf.tensor1d(f32(w0.b_y)),
  ];
  model.setWeights(tensors);
  tensors.forEach((t) => t.dispose());
  const x = tf.tensor3d(f32(data.x), [N, T, I]);
  const y = tf.tensor2d(f32(data.y), [N, O]);
  const sample = Array.from(data.x.subarray(0, T * I));
  return {
    name: `tfjs ${tf.version.tfjs} ${model.layers[0].getClassName()}, cpu`,
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
      return { [kx]: transpose(K, I, G), [kh]: transpose(R, H, G), [kb]: b, W_hy: transpose(D, H, O), b_y: c };
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
 * brain.js's class for each cell, and for the gated ones the names of each gate's input matrix,
 * recurrent matrix and bias, in our gate order (its matrices use our layout, rows are output units,
 * one matrix per gate where ours stacks them).
 */
const BRAIN_NETS = {
  elman: { net: 'RNNTimeStep' },
  lstm: {
    net: 'LSTMTimeStep',
    gates: [
      ['inputMatrix', 'inputHidden', 'inputBias'],
      ['forgetMatrix', 'forgetHidden', 'forgetBias'],
      ['cellActivationMatrix', 'cellActivationHidden', 'cellActivationBias'],
      ['outputMatrix', 'outputHidden', 'outputBias'],
    ],
  },
  gru: {
    net: 'GRUTimeStep',
    gates: [
      ['updateGateInputMatrix', 'updateGateHiddenMatrix', 'updateGateBias'],
      ['resetGateInputMatrix', 'resetGateHiddenMatrix', 'resetGateBias'],
      ['cellWriteInputMatrix', 'cellWriteHiddenMatrix', 'cellWriteBias'],
    ],
  },
};

/**
 * A brain.js time-step network of the cell, loaded with our weights through its own
 * toJSON/fromJSON. For Elman (RNNTimeStep): weight = W_xh, transition = W_hh, bias = b_h; for
 * the gated cells each gate's block of W_x, W_h and bias; always outputConnector = W_hy,
 * output = b_y.
 */
function createBrain(brain, data, w0, learningRate, cell = 'elman') {
  const version = brain.version ? ` ${brain.version}` : '';
  const { task, N, T } = data;
  const { inputSize: I, hiddenSize: H } = task;
  const kind = BRAIN_NETS[cell];
  const net = new brain.recurrent[kind.net]({ inputSize: I, hiddenLayers: [H], outputSize: task.outputSize });
  const json = net.toJSON();
  const layer = json.hiddenLayers[0];
  if (kind.gates) {
    kind.gates.forEach(([input, hidden, bias], g) => {
      layer[input].weights = Array.from(w0.W_x.subarray(g * H * I, (g + 1) * H * I));
      layer[hidden].weights = Array.from(w0.W_h.subarray(g * H * H, (g + 1) * H * H));
      layer[bias].weights = Array.from(w0.bias.subarray(g * H, (g + 1) * H));
    });
  } else {
    layer.weight.weights = Array.from(w0.W_xh);
    layer.transition.weights = Array.from(w0.W_hh);
    layer.bias.weights = Array.from(w0.b_h);
  }
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
    name: `brain.js${version} ${kind.net}`,
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

/**
 * brain.js's LSTM as its source writes it (recurrent/lstm.js, getEquation), in float64: the gates
 * and the candidate as ours, but the memory it gates is the previous hidden output,
 * c_t = f ⊙ h_{t−1} + i ⊙ c̃ and h_t = o ⊙ tanh(c_t); no cell state is carried apart from h.
 * Returns the forecast W_hy h_T + b_y (first output) of one window, to test that reading
 * against brain.js itself.
 */
function brainLstmForecast(w, window, I, H) {
  const sigmoid = (v) => 1 / (1 + Math.exp(-v));
  let h = new Float64Array(H);
  const a = new Float64Array(4 * H);
  for (let t = 0; t < window.length / I; t++) {
    for (let r = 0; r < 4 * H; r++) {
      let v = w.bias[r];
      for (let i = 0; i < I; i++) v += w.W_x[r * I + i] * window[t * I + i];
      for (let k = 0; k < H; k++) v += w.W_h[r * H + k] * h[k];
      a[r] = v;
    }
    const next = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      const c = sigmoid(a[H + j]) * h[j] + sigmoid(a[j]) * Math.tanh(a[2 * H + j]);
      next[j] = sigmoid(a[3 * H + j]) * Math.tanh(c);
    }
    h = next;
  }
  let y = w.b_y[0];
  for (let j = 0; j < H; j++) y += w.W_hy[j] * h[j];
  return y;
}

/** Largest difference over the parameter arrays `b` names. */
function paramsDiff(a, b) {
  return Math.max(...Object.keys(b).map((k) => bench.maxAbsDiff(a[k], b[k])));
}

/**
 * One gated cell against TensorFlow.js and brain.js: ours (fast backend, `model.fit` as in the
 * Cells table of core.js, from the cell's own seeded weights), the same model in TensorFlow.js
 * checked on the loss before training, the first epoch's loss and the weights after it, and
 * brain.js's time-step network of the cell from the same weights, checked on the forecast of
 * every window against the model its source describes. Then one epoch of each, timed.
 */
async function gatedSection(tf, brain, data, cell) {
  const { task, N, T } = data;
  const { inputSize: I, hiddenSize: H } = task;
  console.log(`## ${cell}: ours against TensorFlow.js and brain.js (each from our ${cell} layer's seeded weights)`);
  const ours = bench.createOurs(data, null, { cell, backend: 'fast' });
  const w0 = {};
  for (const [k, v] of Object.entries(ours.weights())) w0[k] = Float64Array.from(v);
  const oursInitial = ours.initialLoss();
  const oursEpoch1 = ours.epoch();
  const oursW1 = {};
  for (const [k, v] of Object.entries(ours.weights())) oursW1[k] = Float64Array.from(v);

  const tfm = await createTfjs(tf, data, w0, task.learningRate, cell);
  const tfInitial = tfm.initialLoss();
  const tfEpoch1 = await tfm.epoch();
  const tfW1Diff = paramsDiff(tfm.weights(), oursW1);

  // What brain.js should compute from these weights: for the GRU our own model (the same
  // equations), for the LSTM its own variant (brainLstmForecast); ours is shown beside it.
  const fresh = bench.createOurs(data, null, { cell, backend: 'fast' });
  for (const [k, v] of Object.entries(w0)) fresh.model.layers[0].params[k].set(v);
  const oursOut = fresh.model.predict(data.inputs).map((r) => r[T - 1][0]);
  const brainCheck = createBrain(brain, data, w0, task.learningRate, cell);
  let twinDiff = 0;
  let oursDiff = 0;
  for (let n = 0; n < N; n++) {
    const theirs = brainCheck.net.run(brainCheck.windows[n]);
    const twin = cell === 'lstm' ? brainLstmForecast(w0, brainCheck.windows[n], I, H) : oursOut[n];
    twinDiff = Math.max(twinDiff, Math.abs(theirs - twin));
    oursDiff = Math.max(oursDiff, Math.abs(theirs - oursOut[n]));
  }
  const brainInitial = brainCheck.lastStepMse();
  const checks = [
    [`tfjs: loss before training`, oursInitial.toFixed(10), tfInitial.toFixed(10), `${relDiff(oursInitial, tfInitial).toExponential(1)} rel`, `${exp(FLOAT32_LOSS_REL)} rel`, relDiff(oursInitial, tfInitial) <= FLOAT32_LOSS_REL],
    [`tfjs: epoch-1 loss`, oursEpoch1.toFixed(10), tfEpoch1.toFixed(10), `${relDiff(oursEpoch1, tfEpoch1).toExponential(1)} rel`, `${exp(FLOAT32_EPOCH_LOSS_REL)} rel`, relDiff(oursEpoch1, tfEpoch1) <= FLOAT32_EPOCH_LOSS_REL],
    [`tfjs: weights after epoch 1`, '—', '—', `${tfW1Diff.toExponential(1)} max abs`, `${exp(FLOAT32_EPOCH_WEIGHTS_ABS)} abs`, tfW1Diff <= FLOAT32_EPOCH_WEIGHTS_ABS],
    [
      cell === 'lstm' ? 'brain.js: every forecast vs its LSTM variant' : 'brain.js: every forecast vs our GRU',
      '—', '—', `${twinDiff.toExponential(1)} max abs`, `${exp(FLOAT32_OUTPUT_ABS)} abs`, twinDiff <= FLOAT32_OUTPUT_ABS,
    ],
  ];
  bench.printTable(['check', 'ours (float64)', 'peer', 'difference', 'tolerance', ''], checks.map((c) => [...c.slice(0, 5), okText(c[5])]));
  if (cell === 'lstm') {
    console.log(`brain.js LSTMTimeStep (recurrent/lstm.js): its "cell" is the previous hidden output, c_t = f ⊙ h_{t−1} + i ⊙ c̃,`);
    console.log(`  h_t = o ⊙ tanh(c_t): no cell state apart from h. The check above is against that model written in float64;`);
    console.log(`  from the same weights its forecasts differ from our (Keras's) LSTM's by up to ${oursDiff.toExponential(1)}.`);
  } else {
    console.log('brain.js GRUTimeStep (recurrent/gru.js): z, r, h̃ as ours (the reset before the recurrent product, h_t = z ⊙ h_{t−1} +');
    console.log('  (1 − z) ⊙ h̃), sigmoid gates, tanh: the same model as ours, checked above on every window.');
  }
  console.log('  As with RNNTimeStep it trains on every next value (24 outputs per window), one window per update with its RMSProp-like');
  console.log('  rule, and every bias enters through the same `add`, whose backward (matrix/add-b.js) assigns instead of adding.');
  const probe = createBrain(brain, data, w0, BRAIN_TIMED_LEARNING_RATE, cell);
  probe.epoch();
  console.log(`brain.js, one epoch at learningRate ${BRAIN_TIMED_LEARNING_RATE}: last-step MSE ${brainInitial.toFixed(4)} → ${probe.lastStepMse().toExponential(2)}; ours after one epoch ${oursEpoch1.toFixed(4)}, tfjs ${tfEpoch1.toFixed(4)}.`);
  const ok = checks.every((c) => c[5]);
  if (!ok) console.log(`FAIL: a peer does not compute the ${cell} model it was given; its timings below are not comparable.`);

  const contenders = [ours, tfm, probe];
  const times = new Map();
  // In alternating rounds, so that a busy spell of the machine lands on all three.
  const summaries = await bench.timeInterleaved(contenders.map((c) => c.epoch), GATED_RUNS);
  contenders.forEach((c, i) => times.set(c, summaries[i]));
  const oursMs = times.get(ours).median;
  console.log(`training: one epoch (ms), in ${GATED_RUNS.runs} rounds of one epoch each after ${GATED_RUNS.warmup} warm-up; each continues training from its previous epoch`);
  bench.printTable(
    ['implementation', 'runs', 'min', 'median', 'max', 'windows/s', 'time ÷ ours', 'ours ÷ time'],
    contenders.map((c) => {
      const t = times.get(c);
      return [c.name, `${t.runs} (+${GATED_RUNS.warmup} warm-up)`, bench.fmt(t.min), bench.fmt(t.median), bench.fmt(t.max), Math.round((N * 1000) / t.median), `${(t.median / oursMs).toFixed(2)}×`, `${(oursMs / t.median).toFixed(3)}×`];
    }),
  );
  console.log(`ours, ${cell} ÷ tfjs: ${(oursMs / times.get(tfm).median).toFixed(3)} (tfjs takes ${(times.get(tfm).median / oursMs).toFixed(1)}× as long; the target is at least 6×).`);
  console.log('');
  return { cell, ok, training: contenders.map((c) => ({ name: c.name, ...times.get(c), warmup: GATED_RUNS.warmup })) };
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
  console.log('');

  // --- Gated cells -------------------------------------------------------------------------
  const gated = [];
  for (const cell of ['lstm', 'gru']) gated.push(await gatedSection(tf, brain, data, cell));
  if (!gated.every((g) => g.ok)) process.exitCode = 1;
  bench.writeJsonIfAsked({
    bench: 'peers',
    ok: allOk && gated.every((g) => g.ok),
    training: contenders.map((c) => ({ name: c.name, ...times.get(c), warmup: RUNS.warmup })),
    inference: infer.map(([c], i) => ({ name: c.name, ...inferTimes[i] })),
    gated,
  });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
