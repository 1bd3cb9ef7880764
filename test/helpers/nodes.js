"use strict";
// Loading the package's five nodes into node-red-node-test-helper, and small flow builders.
const fs = require("fs");
const os = require("os");
const path = require("path");
const helper = require("node-red-node-test-helper");

// NODE_RED_PATH lets CI run the same tests against another Node-RED (e.g. 5 on Node 22).
helper.init(process.env.NODE_RED_PATH || require.resolve("node-red"));

const dist = path.join(__dirname, "..", "..", "dist", "nodes");
const NODES = ["rnn-sequence", "rnn-layer", "rnn-loss", "rnn-trainer", "rnn-predictor"].map((t) => require(path.join(dist, `${t}.js`)));

function tmpUserDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), "rnn-test-"));
}

/**
 * A training chain: sequence → layers… → loss → trainer, with helper nodes on the trainer's
 * outputs ("epochs", "done", "chart") and optionally a predictor wired to nothing.
 */
function chain({ sequence = {}, layers = [{}], loss = {}, trainer = {}, predictor = null, z = "f1" } = {}) {
  const flow = [{ id: z, type: "tab", label: "test" }];
  const ids = layers.map((_, i) => `layer${i + 1}`);
  flow.push({ id: "seq", z, type: "rnn-sequence", windowLength: 12, horizon: 1, scaling: "zscore", validationSplit: 0.2, batchSize: 16, epochs: 3, shuffle: true, seed: 1, bufferSize: 10000, trainAfter: 0, ackTimeout: 30, ...sequence, wires: [[ids[0]]] });
  layers.forEach((cfg, i) => {
    const last = i === layers.length - 1;
    flow.push({ id: ids[i], z, type: "rnn-layer", hiddenSize: 8, activation: "tanh", projection: last, outputSize: 1, outputActivation: "linear", init: "orthogonal", seed: i + 1, stateful: false, ...cfg, wires: [[last ? "loss" : ids[i + 1]]] });
  });
  flow.push({ id: "loss", z, type: "rnn-loss", loss: "mse", delta: 1, ...loss, wires: [["trainer"]] });
  flow.push({ id: "trainer", z, type: "rnn-trainer", optimizer: "adam", learningRate: 0.01, clipNorm: 1, clipValue: 0, truncate: 0, patience: 0, modelPath: "", saveMode: "best", saveEvery: 10, resume: true, gradientReport: false, weightDecay: 0, momentum: 0.9, nesterov: false, ...trainer, wires: [["epochs"], ["done"], ["chart"]] });
  flow.push({ id: "epochs", z, type: "helper", wires: [] }, { id: "done", z, type: "helper", wires: [] }, { id: "chart", z, type: "helper", wires: [] });
  if (predictor) {
    flow.push({ id: "pred", z, type: "rnn-predictor", source: "trainer", trainer: "trainer", modelPath: "", steps: 1, anomalyFactor: 3, ...predictor, wires: [["forecasts"]] });
    flow.push({ id: "forecasts", z, type: "helper", wires: [] });
  }
  return flow;
}

/** Resolves with the next message a helper node receives (rejects after `ms`). */
function nextMessage(node, ms = 60000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message on ${node.id} within ${ms} ms`)), ms);
    node.once("input", (msg) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/** Collects every message a helper node receives. */
function collect(node) {
  const list = [];
  node.on("input", (msg) => list.push(msg));
  return list;
}

function noisySineSeries(n, seed = 1) {
  return require("./series").noisySine(n, { seed });
}

module.exports = { helper, NODES, chain, nextMessage, collect, tmpUserDir, noisySineSeries };
