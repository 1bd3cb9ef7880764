"use strict";
/**
 * The soak that small-heap.test.js runs in a child process of its own, started with
 * --max-old-space-size=512 (the heap of Node-RED on a Raspberry Pi class device): every node of
 * the package in one flow, fed the fuzzers' hostile corpus (test/helpers/fuzz.js: junk, ragged and
 * cyclic values, forged run records, the shared huge values) together with the large payloads
 * that used to stall or kill Node-RED. It prints one JSON line with what happened; the parent
 * asserts on it (and on this process surviving at all).
 */
const path = require("path");
const { monitorEventLoopDelay } = require("perf_hooks");
const { helper, NODES, tmpUserDir, placed } = require("../helpers/nodes");
const { saveOneFeatureModel } = require("../helpers/models");
const { feed, withCatalogue, watchProcess, hugeValues, forgetSpyHistory, sleep } = require("../helpers/fuzz");
const { defaultMaxValues } = require("../../dist/nodes/shared/messageBudget");

const WINDOW = 8;
/** Messages of the corpus per node (the huge values come on top). */
const COUNT = Number(process.env.SOAK_COUNT || 300);

const LAYER = { type: "rnn-layer", activation: "tanh", projection: true, outputSize: 1, outputActivation: "linear", init: "orthogonal", seed: 1, stateful: false };
const TARGETS = ["layer32", "layer128", "layer16", "loss", "pred", "seq"];

function flow() {
  const z = "f1";
  return placed([
    { id: z, type: "tab", label: "soak" },
    { id: "layer32", z, ...LAYER, hiddenSize: 32, stateful: true, wires: [["out"]] },
    { id: "layer128", z, ...LAYER, hiddenSize: 128, wires: [["out"]] },
    // Two wires out: Node-RED clones every message it sends for the second one.
    { id: "layer16", z, ...LAYER, hiddenSize: 16, wires: [["out", "out2"]] },
    { id: "loss", z, type: "rnn-loss", loss: "mse", delta: 1, wires: [["out"]] },
    { id: "pred", z, type: "rnn-predictor", source: "file", trainer: "", modelPath: "models/soak.json", steps: 1, anomalyFactor: 3, wires: [["out"]] },
    // A sequence node with no trainer behind it: its runs end by its watchdog, quickly.
    { id: "seq", z, type: "rnn-sequence", windowLength: 4, horizon: 1, scaling: "zscore", validationSplit: 0.25, batchSize: 4, epochs: 2, seed: 5, bufferSize: 1000, trainAfter: 0, ackTimeout: 0.2, wires: [["out"]] },
    { id: "out", z, type: "helper", wires: [] },
    { id: "out2", z, type: "helper", wires: [] },
    // The observers feed() reads (test/helpers/fuzz.js): a Catch node for the tab, a Complete node for every node fed.
    { id: "fuzz-catch", z, type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
    { id: "fuzz-complete", z, type: "complete", scope: TARGETS, uncaught: false, wires: [["completed"]] },
    { id: "caught", z, type: "helper", wires: [] },
    { id: "completed", z, type: "helper", wires: [] },
  ]);
}

function numbers(n) {
  const a = new Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i / 10);
  return a;
}

/**
 * The large payloads, made before their node's turn (their making is not the node's stall) and
 * dropped after it: the three that stalled or killed Node-RED before (refused at once now, on this
 * heap), one within the limit that is worked on in slices, and the same sizes for the other nodes.
 * One comes just under the limit this heap gives, to a layer whose outputs Node-RED copies for a
 * second wire and a Complete node: the limit counts those copies, so it must be handled.
 */
const LARGE = {
  layer32: [{ at: 100, name: "large: 3,000,000 numbers", size: 3_000_000 }],
  layer128: [
    { at: 100, name: "large: 300,000 numbers", size: 300_000 },
    { at: 200, name: "large: 100,000 numbers, within the limit", size: 100_000 },
  ],
  layer16: [
    { at: 100, name: "large: 2,000,000 numbers", size: 2_000_000 },
    // n readings in, n outputs out: 2n numbers against the limit.
    { at: 200, name: "large: 95 % of the limit, copied for two wires and a Complete node", size: Math.floor((0.95 * defaultMaxValues()) / 2), expect: "ok" },
  ],
  loss: [{ at: 100, name: "large: 2,000,000 numbers and targets", size: 2_000_000, target: true }],
  pred: [{ at: 100, name: "large: a window of 2,000,000 readings", size: 2_000_000 }],
  seq: [
    { at: 100, name: "large: a series of 2,000,000 numbers to train on", size: 2_000_000, topic: "train" },
    { at: 200, name: "large: a reading of 2,000,000 numbers", size: 2_000_000 },
  ],
};

/** The large messages of one node, by the position they are sent at. */
function largeMessages(target) {
  return new Map((LARGE[target] || []).map((l) => {
    const payload = numbers(l.size);
    const msg = { payload, topic: l.topic || "large" };
    if (l.target) msg.target = payload.map((v) => v + 0.1);
    return [l.at, { msg, expect: l.expect || "either", note: l.name }];
  }));
}

/** The corpus for any node: mostly what helpers/fuzz.js makes to break the nodes, some valid. */
function corpus(large) {
  return function make(fz, i) {
    if (large.has(i)) {
      const m = large.get(i);
      large.delete(i);
      return m;
    }
    const topic = fz.topic(["reset", "train", "stop"]);
    const r = fz.int(100);
    if (r < 20) return { msg: { topic, payload: fz.anyJunk() }, expect: "either", note: "junk" };
    if (r < 35) return { msg: { topic, payload: fz.ragged(), target: fz.ragged() }, expect: "either", note: "ragged" };
    if (r < 50) {
      const b = fz.batch(1 + fz.int(3), 1 + fz.int(WINDOW * 2), 1);
      return { msg: { topic, payload: b, target: b }, expect: "either", note: "a batch" };
    }
    if (r < 65) return { msg: { topic, payload: 20 + 5 * fz.normal() }, expect: "either", note: "a reading" };
    if (r < 72) return { msg: { topic, payload: Array.from({ length: WINDOW + fz.int(5) }, () => 20 + 5 * fz.normal()) }, expect: "either", note: "a window" };
    if (r < 82) return { msg: { topic, payload: fz.batch(1, 3, 1), rnn: fz.runRecord({ layerIds: ["layer32", "layer16"], ids: ["seq", "loss"] }).rnn }, expect: "either", note: "a forged run record" };
    if (r < 88) return { msg: { topic, payload: fz.numeric(), rnn: fz.badRun() }, expect: "either", note: "msg.rnn of another kind" };
    return { msg: { topic, payload: fz.numeric() }, expect: "either", note: "a number" };
  };
}

async function main() {
  const userDir = tmpUserDir();
  await saveOneFeatureModel(path.join(userDir, "models", "soak.json"), { hiddenSize: 16, seed: 2, offset: 20, scale: 5, length: WINDOW });
  helper.settings({ userDir });
  await new Promise((resolve) => helper.startServer(resolve));
  const watch = watchProcess();
  await helper.load(withCatalogue(NODES), flow());
  await sleep(300);
  // The shared huge values of the corpus, made once before any clock starts (as the fuzz tests do).
  hugeValues();
  const started = Date.now();
  const nodes = {};
  let seed = 1;
  // SOAK_NODES=loss,pred feeds only those (to look into one of them).
  const only = process.env.SOAK_NODES ? process.env.SOAK_NODES.split(",") : TARGETS;
  for (const target of TARGETS.filter((t) => only.includes(t))) {
    const large = largeMessages(target);
    const t0 = Date.now();
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const report = await feed(helper, { target, count: COUNT, seed: seed++, make: corpus(large), settleMs: 30000 });
    loop.disable();
    // The Sinon spies of the test helper keep every call: without this the soak measures them.
    forgetSpyHistory(helper);
    const outcomes = Object.fromEntries((LARGE[target] || []).map((l) => [l.name, report.byNote[l.name] || null]));
    nodes[target] = { longestStallMs: Math.round(loop.max / 1e6), p99StallMs: Math.round(loop.percentile(99) / 1e6), tried: report.tried, thrown: report.thrown, missing: report.missing, both: report.both, wrong: report.wrong, unclear: report.unclear, errors: report.errors, completed: report.completed, large: outcomes, ms: Date.now() - t0 };
  }
  const result = {
    heapLimitMb: Math.round(require("v8").getHeapStatistics().heap_size_limit / 1048576),
    ms: Date.now() - started,
    longestStallMs: Math.max(...Object.values(nodes).map((n) => n.longestStallMs)),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    problems: watch.problems,
    nodes,
  };
  watch.stop();
  await helper.unload();
  await new Promise((resolve) => helper.stopServer(resolve));
  process.stdout.write(`SOAK ${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((e) => {
  process.stdout.write(`SOAK-FAILED ${String(e && e.stack)}\n`);
  process.exit(1);
});
