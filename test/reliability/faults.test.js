"use strict";
// Training that blows up, and flows closed or redeployed in the middle of an epoch, a save or a
// load: no crash, nothing logged by a closed node, and a model file that is always whole and finite.
const assert = require("assert");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { helper, NODES, useNodeRedServer, chain, nextMessage } = require("../helpers/nodes");
const { saveOneFeatureModel } = require("../helpers/models");
const { loadModelFile } = require("../../dist/src");
const { observers, watchProcess, sleep, tick } = require("../helpers/fuzz");

/** Every weight of a model file object, checked finite; returns how many there are. */
function countFiniteWeights(json) {
  let n = 0;
  const walk = (v, where) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${where}[${i}]`));
    else {
      assert.ok(typeof v === "number" && Number.isFinite(v), `${where} is ${v}`);
      n++;
    }
  };
  json.layers.forEach((l, k) => Object.entries(l.weights).forEach(([name, w]) => walk(w, `layers[${k}].${name}`)));
  return n;
}

/** Loads a model file if there is one: null when none was written, else the number of weights. */
async function checkModelFile(file) {
  try {
    const loaded = await loadModelFile(file);
    assert.strictEqual(loaded.from, "file", "the main file itself is whole (no fallback to .bak)");
    return countFiniteWeights(loaded.model);
  } catch (e) {
    if (e && e.code === "ENOENT") return null;
    throw e;
  }
}

function leftoverTemps(dir) {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.includes(".tmp-")) : [];
}

/**
 * From now on, anything a node of the flow logs or sends is recorded: after close there must be
 * nothing (instance properties shadow the prototype methods the runtime and the helper use).
 */
function recordAfterClose(ids) {
  const calls = [];
  for (const id of ids) {
    const node = helper.getNode(id);
    if (!node) continue;
    for (const method of ["error", "warn", "send"]) {
      const original = node[method];
      node[method] = function (...args) {
        if (node._closedForTest) calls.push(`${id}.${method}(${String(args[0] && args[0].message ? args[0].message : JSON.stringify(args[0])).slice(0, 120)})`);
        return original.apply(this, args);
      };
    }
  }
  return {
    calls,
    closing() {
      for (const id of ids) {
        const node = helper.getNode(id);
        if (node) node._closedForTest = true;
      }
    },
  };
}

const CHAIN_IDS = ["seq", "layer1", "loss", "trainer", "pred"];

function sine(n, amplitude = 100) {
  return Array.from({ length: n }, (_, i) => amplitude * Math.sin(i / 5) + amplitude);
}

describe("reliability: training faults", function () {
  this.timeout(60000);
  let watch;
  const server = useNodeRedServer({ userDir: true, setup: () => (watch = watchProcess()), teardown: () => watch.stop() });

  it("a learning rate that explodes: steps refused, weights restored, lr lowered, never a NaN model file", async function () {
    const flow = chain({
      sequence: { windowLength: 8, epochs: 6, batchSize: 16, scaling: "zscore", validationSplit: 0.2 },
      layers: [{ hiddenSize: 8, activation: "relu", projection: true }],
      trainer: { optimizer: "sgd", learningRate: 10, clipNorm: 0, clipValue: 0, modelPath: "models/explode.json", saveMode: "every", saveEvery: 1, patience: 0 },
    }).concat(observers("trainer"));
    await helper.load(NODES, flow);
    const file = path.join(server.userDir, "models", "explode.json");
    const epochs = [];
    const fileChecks = [];
    helper.getNode("epochs").on("input", (m) => {
      // Right after each epoch the live weights are the last good ones: all finite.
      const layer = helper.getNode("layer1").rnnApi.getLayer();
      const finite = layer.list().every((p) => p.every((x) => Number.isFinite(x)));
      epochs.push({ ...m.payload, finite });
      fileChecks.push(checkModelFile(file));
    });
    const caught = [];
    helper.getNode("caught").on("input", (m) => caught.push(m.error.message));
    const finished = nextMessage(helper.getNode("done"), 50000);
    helper.getNode("seq").receive({ topic: "train", payload: sine(300) });
    const done = (await finished).payload;
    const checks = await Promise.all(fileChecks);
    const final = await checkModelFile(file);
    console.log(`      exploding lr: reason ${done.reason}; per epoch skipped ${epochs.map((e) => e.skipped).join(",")}; lr ${epochs.map((e) => e.lr).join(" → ")}`);
    assert.ok(["diverged", "completed"].includes(done.reason), done.reason);
    assert.ok(epochs.length >= 1);
    assert.ok(epochs.every((e) => e.finite), "weights restored to finite values after every refused step");
    const first = epochs.findIndex((e) => e.skipped > 0);
    assert.ok(first >= 0, "some steps were refused");
    assert.ok(epochs[first].lr < 10, `learning rate lowered (${epochs[first].lr})`);
    for (let i = 1; i < epochs.length; i++) assert.ok(epochs[i].lr <= epochs[i - 1].lr, "the learning rate never goes back up");
    for (const e of epochs) for (const k of ["loss", "valLoss", "gradNorm"]) assert.ok(e[k] === null || Number.isFinite(e[k]), `epoch ${e.epoch} ${k} is ${e[k]} (never NaN)`);
    assert.ok(final > 0, "the model file was written");
    assert.ok(checks.every((c) => c === null || c === final), "every version of the file read during training was whole and finite");
    assert.deepStrictEqual(caught, []);
    assert.deepStrictEqual(watch.problems, []);
  });

  it("inputs so large that every step overflows: the run ends as diverged and writes no model", async function () {
    const flow = chain({
      sequence: { windowLength: 4, epochs: 3, batchSize: 4, scaling: "none", validationSplit: 0.2 },
      layers: [{ hiddenSize: 6, activation: "relu", projection: true }],
      trainer: { optimizer: "adam", learningRate: 0.01, modelPath: "models/overflow.json", saveMode: "every", saveEvery: 1, patience: 0 },
    });
    await helper.load(NODES, flow);
    const finished = nextMessage(helper.getNode("done"), 50000);
    helper.getNode("seq").receive({ topic: "train", payload: sine(200, 1e160) });
    const done = (await finished).payload;
    assert.strictEqual(done.reason, "diverged");
    assert.strictEqual(done.path, null, "nothing saved: there never was a finite epoch");
    assert.strictEqual(await checkModelFile(path.join(server.userDir, "models", "overflow.json")), null);
    const layer = helper.getNode("layer1").rnnApi.getLayer();
    assert.ok(layer.list().every((p) => p.every((x) => Number.isFinite(x))), "the weights are the last good ones");
    assert.deepStrictEqual(watch.problems, []);
  });

  it("closing or redeploying in the middle of an epoch: no crash, nothing logged after close, the model file whole", async function () {
    const flow = () => chain({
      sequence: { windowLength: 8, epochs: 40, batchSize: 8, validationSplit: 0.2 },
      layers: [{ hiddenSize: 6, projection: true }],
      trainer: { modelPath: "models/mid.json", saveMode: "every", saveEvery: 1, patience: 0, resume: true },
      predictor: {},
    });
    const file = path.join(server.userDir, "models", "mid.json");
    const lifes = [];
    // The later delays reach into training itself: the series is prepared, and the workers start, first.
    for (const delay of [0, 2, 7, 15, 40, 90, 400, 800]) {
      await helper.load(NODES, flow());
      const guard = recordAfterClose(CHAIN_IDS);
      helper.getNode("seq").receive({ topic: "train", payload: sine(160, 1) });
      // Readings for the predictor at the same time: it asks the trainer for the model each time.
      for (let i = 0; i < 30; i++) helper.getNode("pred").receive({ payload: Math.sin(i / 5) });
      await sleep(delay);
      guard.closing();
      await helper.unload();
      await sleep(30);
      lifes.push({ delay, after: guard.calls.slice(), weights: await checkModelFile(file), temps: leftoverTemps(path.dirname(file)) });
    }
    // A redeploy (full) while the next life trains: the new nodes load the file and train on.
    await helper.load(NODES, flow());
    const guard = recordAfterClose(CHAIN_IDS);
    helper.getNode("seq").receive({ topic: "train", payload: sine(160, 1) });
    await nextMessage(helper.getNode("epochs"), 20000);
    guard.closing();
    await helper.setFlows(flow(), "full");
    await tick();
    const finished = nextMessage(helper.getNode("done"), 50000);
    helper.getNode("seq").receive({ topic: "train", payload: sine(160, 1) });
    const done = (await finished).payload;
    console.log(`      closed mid-epoch after ${lifes.map((l) => `${l.delay} ms`).join(", ")}: calls after close ${lifes.map((l) => l.after.length).join("/")}, file ${lifes.map((l) => (l.weights === null ? "none yet" : "whole")).join("/")}; redeploy → ${done.reason}`);
    for (const l of lifes) {
      assert.deepStrictEqual(l.after, [], `nothing logged or sent after close (closed after ${l.delay} ms)`);
      assert.deepStrictEqual(l.temps, [], "no temporary file left behind");
    }
    assert.ok(lifes.some((l) => l.weights !== null), "some lives saved the model before they were closed");
    assert.deepStrictEqual(guard.calls, [], "the redeployed-away nodes stay silent");
    assert.strictEqual(done.reason, "completed");
    assert.ok((await checkModelFile(file)) > 0);
    assert.deepStrictEqual(watch.problems, []);
  });

  it("closing in the middle of a save: the save completes or never starts, and the file stays whole", async function () {
    const flow = chain({
      sequence: { windowLength: 6, epochs: 1, batchSize: 16, validationSplit: 0.2 },
      layers: [{ hiddenSize: 160, projection: true }],
      trainer: { modelPath: "models/save.json", saveMode: "end", patience: 0 },
    });
    const file = path.join(server.userDir, "models", "save.json");
    await helper.load(NODES, flow);
    const finished = nextMessage(helper.getNode("done"), 50000);
    helper.getNode("seq").receive({ topic: "train", payload: sine(120, 1) });
    await finished;
    const weights = await checkModelFile(file);
    assert.ok(weights > 25000, `a model of ${weights} weights (large enough for a save to take a while)`);
    await helper.unload();
    const outcomes = [];
    for (const delay of [0, 1, 3, 8, 20]) {
      await helper.load(NODES, flow);
      // Resume puts the saved weights back at deploy; a save then rewrites the same model.
      for (let i = 0; i < 100 && !helper.getNode("trainer").rnnApi.getModel(); i++) await sleep(10);
      const guard = recordAfterClose(["trainer"]);
      helper.getNode("trainer").receive({ topic: "save" });
      helper.getNode("trainer").receive({ topic: "save" });
      await sleep(delay);
      guard.closing();
      const started = Date.now();
      await helper.unload();
      outcomes.push({ delay, closeMs: Date.now() - started, after: guard.calls.slice(), weights: await checkModelFile(file), temps: leftoverTemps(path.dirname(file)) });
    }
    console.log(`      closed mid-save of a ${weights}-weight model after ${outcomes.map((o) => `${o.delay} ms (close took ${o.closeMs} ms)`).join(", ")}`);
    for (const o of outcomes) {
      assert.strictEqual(o.weights, weights, `the file is whole and finite (closed after ${o.delay} ms)`);
      assert.deepStrictEqual(o.temps, [], "no temporary file left behind");
      assert.deepStrictEqual(o.after, [], "nothing logged after close");
      assert.ok(o.closeMs < 6000, "close waits for a save at most about 5 s");
    }
    assert.deepStrictEqual(watch.problems, []);
  });

  it("closing in the middle of loading a large model file: no error after close, and the file is untouched", async function () {
    const file = path.join(server.userDir, "models", "big.json");
    await saveOneFeatureModel(file, { hiddenSize: 600, seed: 1, offset: 0, scale: 1, length: 8 });
    const hash = () => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    const before = hash();
    const flow = [
      { id: "f1", type: "tab", label: "load" },
      { id: "trainer", z: "f1", type: "rnn-trainer", modelPath: "models/big.json", resume: true, wires: [[], [], []] },
      { id: "pred", z: "f1", type: "rnn-predictor", source: "file", modelPath: "models/big.json", steps: 1, anomalyFactor: 3, wires: [[]] },
      { id: "pred2", z: "f1", type: "rnn-predictor", source: "trainer", trainer: "trainer", steps: 1, anomalyFactor: 3, wires: [[]] },
    ];
    const rounds = [];
    for (const delay of [0, 5, 20, 60]) {
      await helper.load(NODES, flow);
      const guard = recordAfterClose(["trainer", "pred", "pred2"]);
      helper.getNode("pred2").receive({ payload: 1 });
      await sleep(delay);
      guard.closing();
      await helper.unload();
      await sleep(400); // the reads started before close finish now
      rounds.push({ delay, after: guard.calls.slice() });
    }
    console.log(`      closed mid-load of a ${(fs.statSync(file).size / 1048576).toFixed(1)} MB model file after ${rounds.map((r) => `${r.delay} ms`).join(", ")}: calls after close ${rounds.map((r) => r.after.length).join("/")}`);
    for (const r of rounds) assert.deepStrictEqual(r.after, [], `nothing logged after close (closed after ${r.delay} ms)`);
    assert.strictEqual(hash(), before, "the model file is byte for byte the same");
    assert.strictEqual(await checkModelFile(file), 600 + 600 * 600 + 600 + 600 + 1);
    assert.deepStrictEqual(watch.problems, []);
  });
});
