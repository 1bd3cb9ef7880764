"use strict";
// Loading the package's five nodes into node-red-node-test-helper, and small flow builders.
const fs = require("fs");
const os = require("os");
const path = require("path");
const helper = require("node-red-node-test-helper");

// NODE_RED_PATH lets CI run the same tests against another Node-RED (e.g. 5 on Node 22).
helper.init(process.env.NODE_RED_PATH || require.resolve("node-red"));

const dist = path.join(__dirname, "..", "..", "dist", "nodes");
const TYPES = ["rnn-sequence", "rnn-layer", "rnn-loss", "rnn-trainer", "rnn-predictor"];

// The test helper hands nodes a RED._ that returns the key itself, so a user-facing message would
// read "rnn-sequence.errors.busy". Each module is loaded with RED._ resolved from the package's own
// catalogues instead (as the real runtime does), so tests see the text a user reads, and a key
// missing from a catalogue shows up as the bare key.
const CATALOGUE = {};
for (const t of TYPES) Object.assign(CATALOGUE, JSON.parse(fs.readFileSync(path.join(dist, "locales", "en-US", `${t}.json`), "utf8")));

function translate(key, subs) {
  let v = CATALOGUE;
  for (const part of String(key).split(".")) v = v && typeof v === "object" ? v[part] : undefined;
  if (typeof v !== "string") return key;
  return v.replace(/__([A-Za-z0-9_]+)__/g, (m, name) => (subs && name in subs ? String(subs[name]) : m));
}

const NODES = TYPES.map((t) => {
  const register = require(path.join(dist, `${t}.js`));
  return function load(RED) {
    RED._ = translate;
    return register(RED);
  };
});

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
  // Most node tests are about the mechanics of a run, checked against the core on plain windows:
  // they pin the preparation to "no differencing, no season, no calendar". The defaults (auto) have
  // tests of their own (test/nodes/forecasting.test.js).
  flow.push({ id: "seq", z, type: "rnn-sequence", windowLength: 12, horizon: 1, scaling: "zscore", validationSplit: 0.2, batchSize: 16, epochs: 3, shuffle: true, seed: 1, bufferSize: 10000, trainAfter: 0, ackTimeout: 30, difference: "none", season: "0", timeField: "none", calendar: "none", gaps: "linear", ...sequence, wires: [[ids[0]]] });
  layers.forEach((cfg, i) => {
    const last = i === layers.length - 1;
    flow.push({ id: ids[i], z, type: "rnn-layer", hiddenSize: 8, activation: "tanh", projection: last, outputSize: 1, outputActivation: "linear", init: "orthogonal", seed: i + 1, stateful: false, ...cfg, wires: [[last ? "loss" : ids[i + 1]]] });
  });
  flow.push({ id: "loss", z, type: "rnn-loss", loss: "mse", delta: 1, ...loss, wires: [["trainer"]] });
  flow.push({ id: "trainer", z, type: "rnn-trainer", optimizer: "adam", learningRate: 0.01, clipNorm: 1, clipValue: 0, truncate: 0, patience: 0, modelPath: "", saveMode: "best", saveEvery: 10, resume: true, gradientReport: false, weightDecay: 0, momentum: 0.9, nesterov: false, ...trainer, wires: [["epochs"], ["done"], ["chart"]] });
  flow.push({ id: "epochs", z, type: "helper", wires: [] }, { id: "done", z, type: "helper", wires: [] }, { id: "chart", z, type: "helper", wires: [] });
  if (predictor) {
    flow.push({ id: "pred", z, type: "rnn-predictor", source: "trainer", trainer: "trainer", modelPath: "", steps: 1, anomaly: "error", anomalyFactor: 3, intervalLevel: 0.9, ...predictor, wires: [["forecasts"]] });
    flow.push({ id: "forecasts", z, type: "helper", wires: [] });
  }
  return placed(flow);
}

/**
 * Gives every node of a flow a position. Node-RED treats a node without x and y as a config node:
 * it still runs, but Catch and Status nodes do not see it, unlike in a flow made in the editor.
 */
function placed(flow) {
  flow.forEach((n, i) => {
    if (n.type !== "tab" && n.x === undefined) Object.assign(n, { x: 100 + 10 * i, y: 100 });
  });
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

/** Adds a Catch node (scope: the whole tab) wired to a helper node "errors". */
function withCatch(flow, z = "f1") {
  flow.push({ id: "catcher", z, type: "catch", scope: null, uncaught: false, wires: [["errors"]] }, { id: "errors", z, type: "helper", wires: [] });
  return placed(flow);
}

/** Every status object the node has set since the flow was loaded (oldest first). */
function statuses(node) {
  return node.status.getCalls().filter((c) => c.thisValue === node).map((c) => c.args[0]);
}

function lastStatus(node) {
  const all = statuses(node);
  return all[all.length - 1];
}

/** Messages logged at error level by the node with this id (node.error and done(err) both log). */
function loggedErrors(id) {
  const log = helper.log();
  return log.args.map((a) => a[0]).filter((e) => e && e.level === log.ERROR && (id === undefined || e.id === id)).map((e) => String(e.msg));
}

/** Resolves once `check()` returns a truthy value (polled every 5 ms); rejects after `ms`. */
function waitFor(check, ms = 10000, what = "condition") {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      let v;
      try {
        v = check();
      } catch (e) {
        reject(e);
        return;
      }
      if (v) resolve(v);
      else if (Date.now() - started > ms) reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The windows of one part ("train" or "validation") of a prepared run (a run ticket's `data`),
 * unpacked from its B×T×I inputs and B×T×O targets: per window `input` (T × I) and `target` (per
 * step O values, or null for a step without a target).
 */
function preparedWindows(data, part) {
  const { x, target, B, T } = data[part];
  const I = data.inputSize, O = data.outputSize;
  return Array.from({ length: B }, (_, b) => {
    const w = { input: [], target: [] };
    for (let s = 0; s < T; s++) {
      const k = b * T + s;
      w.input.push(Array.from(x.subarray(k * I, (k + 1) * I)));
      const t = Array.from(target.subarray(k * O, (k + 1) * O));
      w.target.push(t.every((v) => Number.isNaN(v)) ? null : t);
    }
    return w;
  });
}

/**
 * Installs, in the calling describe block, the hooks that give each test a freshly started
 * Node-RED and unload its flows afterwards. Options:
 * - `userDir`: each test gets a new temporary user directory (read it from the returned object's
 *   `userDir` during the test); without it the settings are left as they are.
 * - `setup` / `teardown`: run just before the server starts and just before the flows unload.
 * The hooks take mocha's `done` in plain functions: mocha 12 refuses arrow hooks that take it.
 */
function useNodeRedServer({ userDir = false, setup = null, teardown = null } = {}) {
  const server = { userDir: null };
  beforeEach(function (done) {
    if (userDir) {
      server.userDir = tmpUserDir();
      helper.settings({ userDir: server.userDir });
    }
    if (setup) setup();
    helper.startServer(done);
  });
  afterEach(function (done) {
    if (teardown) teardown();
    helper.unload().then(() => helper.stopServer(done));
  });
  return server;
}

module.exports = { helper, NODES, TYPES, chain, useNodeRedServer, placed, nextMessage, collect, tmpUserDir, noisySineSeries, withCatch, statuses, lastStatus, loggedErrors, waitFor, sleep, translate, preparedWindows };
