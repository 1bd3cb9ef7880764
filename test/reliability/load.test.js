"use strict";
// Load: a predictor fed readings as fast as they come, a stateful layer fed thousands of topics,
// and trainers and predictors working at the same time. Figures are printed; the bounds asserted
// are the documented ones (docs/reliability.md), with room for the garbage collector.
const assert = require("assert");
const path = require("path");
const { helper, NODES, useNodeRedServer, chain, nextMessage, noisySineSeries } = require("../helpers/nodes");
const { saveOneFeatureModel } = require("../helpers/models");
const { observers, watchProcess, settledHeap, forgetSpyHistory, mb, sleep, tick } = require("../helpers/fuzz");

const SOAK = process.env.RNN_SOAK === "1" ? 200_000 : 20_000;
const WINDOW = 24;

/** Copies a flow's nodes under new ids (prefix), wires and all, to have two chains in one tab. */
function renamed(flow, prefix) {
  const ids = new Set(flow.filter((n) => n.type !== "tab").map((n) => n.id));
  const map = (id) => (ids.has(id) ? prefix + id : id);
  return flow.filter((n) => n.type !== "tab").map((n) => ({
    ...n,
    id: map(n.id),
    ...(n.wires ? { wires: n.wires.map((port) => port.map(map)) } : {}),
    ...(n.trainer ? { trainer: map(n.trainer) } : {}),
  }));
}

describe("reliability: load", function () {
  this.timeout(SOAK > 20_000 ? 600000 : 60000);
  let watch;
  const server = useNodeRedServer({ userDir: true, setup: () => (watch = watchProcess()), teardown: () => watch.stop() });

  it(`soak: a predictor keeps up with ${SOAK.toLocaleString("en-US")} readings, one forecast each, and its memory does not grow`, async function () {
    await saveOneFeatureModel(path.join(server.userDir, "models", "soak.json"), { hiddenSize: 16, seed: 4, offset: 10, scale: 3, length: WINDOW });
    await helper.load(NODES, [
      { id: "f1", type: "tab", label: "soak" },
      { id: "pred", z: "f1", type: "rnn-predictor", source: "file", modelPath: "models/soak.json", steps: 1, anomalyFactor: 3, wires: [["out"]] },
      { id: "out", z: "f1", type: "helper", wires: [] },
      ...observers("pred"),
    ]);
    const pred = helper.getNode("pred");
    let forecasts = 0;
    let nonFinite = 0;
    let anomalies = 0;
    helper.getNode("out").on("input", (m) => {
      forecasts++;
      if (!Number.isFinite(m.payload)) nonFinite++;
      if (m.forecast.previous && m.forecast.previous.anomaly) anomalies++;
    });
    const errors = [];
    helper.getNode("caught").on("input", (m) => errors.push(m.error.message));
    // The file is read at deploy: wait for the first whole-window forecast.
    for (let i = 0; i < 200 && forecasts === 0; i++) {
      pred.receive({ payload: Array.from({ length: WINDOW }, (_, k) => 10 + Math.sin(k / 4)) });
      await sleep(10);
    }
    assert.strictEqual(forecasts, 1, "the model file was loaded");
    forecasts = 0;
    pred.receive({ topic: "reset" });

    const reading = (i) => 10 + 3 * Math.sin(i / 7) + 0.1 * Math.sin(i * 1.3);
    // Warm up (JIT, first allocations), then measure from a settled heap.
    for (let i = 0; i < 2000; i++) pred.receive({ payload: reading(i) });
    while (forecasts < 2000 - WINDOW + 1) await tick();
    const heap0 = settledHeap(helper);
    const rss0 = process.memoryUsage().rss;
    forecasts = 0;
    const started = process.hrtime.bigint();
    const CHUNK = 1000;
    for (let i = 0; i < SOAK; i += CHUNK) {
      for (let j = i; j < i + CHUNK; j++) pred.receive({ payload: reading(2000 + j) });
      // Node-RED delivers forecasts on later turns; let them through before the next chunk.
      await tick();
      if ((i / CHUNK) % 10 === 9) forgetSpyHistory(helper);
    }
    while (forecasts < SOAK) await tick();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const heap1 = settledHeap(helper);
    const rss1 = process.memoryUsage().rss;
    console.log(`      soak: ${SOAK} readings in ${seconds.toFixed(2)} s = ${Math.round(SOAK / seconds)} readings/s through the test helper (forecast each, window ${WINDOW}, H=16); RSS ${mb(rss0)} → ${mb(rss1)} MB; heap after GC ${heap0.mb.toFixed(1)} → ${heap1.mb.toFixed(1)} MB${heap1.gc ? "" : " (no GC available)"}; ${anomalies} flagged`);
    assert.strictEqual(forecasts, SOAK, "one forecast per reading once the window is full");
    assert.strictEqual(nonFinite, 0);
    assert.deepStrictEqual(errors, []);
    assert.ok(heap1.mb - heap0.mb < 30, `heap grew by ${(heap1.mb - heap0.mb).toFixed(1)} MB`);
    assert.deepStrictEqual(watch.problems, []);
  });

  it("many streams: after 5,000 topics a stateful layer keeps exactly the 1,000 most recent states", async function () {
    await helper.load(NODES, [
      { id: "f1", type: "tab", label: "streams" },
      { id: "layer", z: "f1", type: "rnn-layer", hiddenSize: 16, activation: "tanh", projection: true, outputSize: 1, init: "orthogonal", seed: 9, stateful: true, wires: [["out"]] },
      { id: "out", z: "f1", type: "helper", wires: [] },
    ]);
    const layer = helper.getNode("layer");
    const out = helper.getNode("out");
    const x = [0.3, -0.2, 0.8, 0.1];
    const replies = new Map();
    out.on("input", (m) => replies.set(m.topic, m.payload));
    const ask = async (topic) => {
      replies.delete(topic);
      layer.receive({ topic, payload: x });
      while (!replies.has(topic)) await tick();
      return replies.get(topic);
    };
    const fresh = await ask("first-time");
    const continued = await ask("first-time");
    assert.notDeepStrictEqual(continued, fresh, "a topic's second message starts from its kept state");

    forgetSpyHistory(helper);
    const heapAt = [];
    for (let k = 1; k <= 5000; k++) {
      layer.receive({ topic: `stream-${k}`, payload: x });
      if (k % 250 === 0) await tick();
      if (k === 1000 || k === 5000) {
        await sleep(10);
        heapAt.push(settledHeap(helper).mb);
      }
    }
    await sleep(10);
    // Oldest kept first (touching a kept topic does not evict anything), then the newest evicted.
    const kept = await ask("stream-4001");
    const evicted = await ask("stream-4000");
    const newest = await ask("stream-5000");
    console.log(`      streams: 5,000 topics through a stateful layer (H=16): heap after GC at 1,000 topics ${heapAt[0].toFixed(1)} MB, at 5,000 ${heapAt[1].toFixed(1)} MB`);
    assert.deepStrictEqual(kept, continued, "stream-4001 (among the last 1,000) continued from its state");
    assert.deepStrictEqual(newest, continued, "stream-5000 continued from its state");
    assert.deepStrictEqual(evicted, fresh, "stream-4000 (the 1,001st most recent) had been evicted: it starts from h = 0");
    assert.ok(heapAt[1] - heapAt[0] < 10, `heap grew by ${(heapAt[1] - heapAt[0]).toFixed(1)} MB from 1,000 to 5,000 topics`);
    assert.deepStrictEqual(watch.problems, []);
  });

  it("two trainers in one flow train at the same time and both complete, with the same results as each other", async function () {
    const base = chain({
      sequence: { windowLength: 12, epochs: 30, batchSize: 16 },
      layers: [{ hiddenSize: 8, projection: true }],
      // One worker each: with "auto" the first trainer may get two and the second one, and a
      // minibatch split two ways sums in another order (equal to rounding, not bit for bit).
      trainer: { learningRate: 0.01, patience: 0, threads: "1" },
    });
    const flow = base.concat(renamed(base, "b-")).concat(observers("trainer"));
    await helper.load(NODES, flow);
    const errors = [];
    helper.getNode("caught").on("input", (m) => errors.push(m.error.message));
    const series = noisySineSeries(600, 2);
    const epochsA = [];
    const epochsB = [];
    helper.getNode("epochs").on("input", (m) => epochsA.push({ ...m.payload, ms: undefined }));
    helper.getNode("b-epochs").on("input", (m) => epochsB.push({ ...m.payload, ms: undefined }));
    const doneA = nextMessage(helper.getNode("done"), 50000);
    const doneB = nextMessage(helper.getNode("b-done"), 50000);
    helper.getNode("seq").receive({ topic: "train", payload: series });
    helper.getNode("b-seq").receive({ topic: "train", payload: series });
    // Both runs are under way at once, not one after the other: each reports its first epoch
    // before the other is done (they train in worker threads, so either may start first).
    const firstA = nextMessage(helper.getNode("epochs"), 20000).then(() => Date.now());
    const firstB = nextMessage(helper.getNode("b-epochs"), 20000).then(() => Date.now());
    const [a, b] = await Promise.all([doneA.then((m) => ((m.at = Date.now()), m)), doneB.then((m) => ((m.at = Date.now()), m))]);
    assert.ok((await firstA) <= b.at && (await firstB) <= a.at, "the runs overlapped in time");
    console.log(`      two trainers: both ${a.payload.reason}, best validation loss ${a.payload.bestValLoss.toFixed(5)} and ${b.payload.bestValLoss.toFixed(5)}`);
    assert.strictEqual(a.payload.reason, "completed");
    assert.strictEqual(b.payload.reason, "completed");
    assert.deepStrictEqual(epochsB, epochsA, "interleaving does not mix the two runs up");
    assert.deepStrictEqual(errors, []);
    assert.deepStrictEqual(watch.problems, []);
  });

  it("a predictor on a trainer keeps forecasting, without errors, while that trainer's model trains", async function () {
    const flow = chain({
      sequence: { windowLength: 12, epochs: 6, batchSize: 16 },
      layers: [{ hiddenSize: 8, projection: true }],
      trainer: { learningRate: 0.01, patience: 0 },
      predictor: {},
    }).concat(observers("pred"));
    await helper.load(NODES, flow);
    const errors = [];
    helper.getNode("caught").on("input", (m) => errors.push(`${m.error.source.id}: ${m.error.message}`));
    const pred = helper.getNode("pred");
    let forecasts = 0;
    let nonFinite = 0;
    helper.getNode("forecasts").on("input", (m) => {
      forecasts++;
      if (!Number.isFinite(m.payload)) nonFinite++;
    });
    let epochs = 0;
    helper.getNode("epochs").on("input", () => epochs++);
    const finished = nextMessage(helper.getNode("done"), 50000);
    helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(800, 5) });
    let readings = 0;
    let ended = false;
    finished.then(() => (ended = true), () => (ended = true));
    let forecastsDuringTraining = 0;
    while (!ended) {
      for (let k = 0; k < 20; k++) pred.receive({ payload: Math.sin((2 * Math.PI * readings++) / 50) });
      await tick();
      if (epochs < 6) forecastsDuringTraining = forecasts;
    }
    const done = await finished;
    console.log(`      predictor during training: ${readings} readings, ${forecasts} forecasts (${forecastsDuringTraining} before the last epoch), over ${epochs} epochs`);
    assert.strictEqual(done.payload.reason, "completed");
    assert.ok(forecastsDuringTraining > 100, `forecasts while the model trained: ${forecastsDuringTraining}`);
    assert.strictEqual(nonFinite, 0);
    assert.deepStrictEqual(errors, []);
    assert.deepStrictEqual(watch.problems, []);
  });
});
