"use strict";
// One message's work in the rnn layer and rnn loss nodes: bounded by a limit set from the heap (or
// settings.js's rnnMaxValues), refused at once beyond it with the payload left out of the Catch
// node's copy, and a large one worked on in slices that let the event loop turn, in order with
// the messages after it, equal to one pass.
const assert = require("assert");
const { RnnLayer, getBackend, computeLoss, computeMetrics } = require("../../dist/src");
const { defaultMaxValues, BYTES_PER_VALUE, HEAP_SHARE } = require("../../dist/nodes/shared/messageBudget");
const { OrderedWork } = require("../../dist/nodes/shared/orderedWork");
const { helper, NODES, withCatch, collect, waitFor, tmpUserDir } = require("../helpers/nodes");
const { mulberry32 } = require("../helpers/random");

const LAYER = { type: "rnn-layer", hiddenSize: 4, activation: "tanh", projection: true, outputSize: 1, outputActivation: "linear", init: "orthogonal", seed: 3, stateful: false };

function flowWith(node) {
  return withCatch([
    { id: "f1", type: "tab" },
    { id: "node", z: "f1", ...node, wires: [["out"]] },
    { id: "out", z: "f1", type: "helper", wires: [] },
  ]);
}

/** The core layer the node builds for one input feature (same spec and seed). */
function coreLayer(config) {
  return RnnLayer.create({ inputSize: 1, hiddenSize: config.hiddenSize, activation: config.activation, outputSize: config.outputSize, outputActivation: config.outputActivation }, { seed: config.seed, recurrent: config.init });
}

function numbers(n, seed = 1) {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, () => 2 * rnd() - 1);
}

/** Warnings the runtime logged (node.warn and RED.log.warn). */
function loggedWarnings() {
  const log = helper.log();
  return log.args.map((a) => a[0]).filter((e) => e && e.level === log.WARN).map((e) => String(e.msg));
}

describe("one message's work: the limit, slices and order", function () {
  this.timeout(60000);
  // Each test starts its own server with its own settings; the settings are put back afterwards,
  // so that no limit set here reaches another test file.
  async function start(settings = {}) {
    helper.settings({ userDir: tmpUserDir(), ...settings });
    await new Promise((resolve) => helper.startServer(resolve));
  }
  afterEach(async function () {
    await helper.unload();
    await new Promise((resolve) => helper.stopServer(resolve));
    helper.settings({});
  });

  it("the default limit is a quarter of the V8 heap limit at 256 bytes a number", function () {
    assert.strictEqual(BYTES_PER_VALUE, 256);
    assert.strictEqual(HEAP_SHARE, 0.25);
    // A Raspberry Pi's Node-RED (--max-old-space-size=512 gives a heap limit of about 560 MB).
    assert.strictEqual(defaultMaxValues(560 * 2 ** 20), 573440);
    assert.strictEqual(defaultMaxValues(4144 * 2 ** 20), 4243456);
    // Never above what one packed tensor may hold.
    assert.strictEqual(defaultMaxValues(2 ** 50), 50000000);
  });

  it("rnn layer: a message beyond rnnMaxValues is refused at once, naming the limit and the setting, without a payload beyond the limit in the Catch node's copy; the next one is worked on", async function () {
    await start({ rnnMaxValues: 1000 });
    await helper.load(NODES, flowWith(LAYER));
    const node = helper.getNode("node");
    const out = collect(helper.getNode("out"));
    const errors = collect(helper.getNode("errors"));
    // 1,200 numbers in and 1,200 out: 2,400 > 1,000; the payload alone is beyond the limit too.
    node.receive({ payload: numbers(1200), topic: "big" });
    await waitFor(() => errors.length === 1, 5000, "the refusal");
    assert.match(errors[0].error.message, /carries 2400 numbers .*limit of 1000.*rnnMaxValues in settings\.js/);
    assert.strictEqual(typeof errors[0].payload, "string");
    assert.match(errors[0].payload, /removed: 1200 numbers/);
    assert.strictEqual(errors[0].topic, "big");
    // 600 in and 600 out: refused, but a payload within the limit reaches the Catch node as it was.
    const within = numbers(600, 3);
    node.receive({ payload: within });
    await waitFor(() => errors.length === 2, 5000, "the second refusal");
    assert.match(errors[1].error.message, /carries 1200 numbers/);
    assert.deepStrictEqual(errors[1].payload, within);
    // 500 in and 500 out is within it, and comes out as the core's forward pass.
    const small = numbers(500, 2);
    node.receive({ payload: small });
    await waitFor(() => out.length === 1, 5000, "the output");
    // The node runs the default backend, as the trainer's model predicts.
    const want = getBackend().forward(coreLayer(LAYER), Float64Array.from(small), 1, 500, null).y;
    assert.deepStrictEqual(out[0].payload, Array.from(want));
    assert.strictEqual(errors.length, 2);
  });

  it("any node: a message refused for another reason also reaches the Catch node without a payload beyond the limit (a series of 1,500 rows at rnn sequence)", async function () {
    await start({ rnnMaxValues: 1000 });
    await helper.load(NODES, withCatch([
      { id: "f1", type: "tab" },
      { id: "node", z: "f1", type: "rnn-sequence", windowLength: 4, horizon: 1, validationSplit: 0.25, batchSize: 4, epochs: 1, bufferSize: 100, trainAfter: 0, ackTimeout: 1, wires: [["out"]] },
      { id: "out", z: "f1", type: "helper", wires: [] },
    ]));
    const errors = collect(helper.getNode("errors"));
    helper.getNode("node").receive({ topic: "train", payload: Array.from({ length: 1500 }, () => "not a number") });
    await waitFor(() => errors.length === 1, 10000, "the refusal");
    assert.strictEqual(typeof errors[0].payload, "string");
    assert.match(errors[0].payload, /removed: 1500 numbers/);
    helper.getNode("node").receive({ topic: "train", payload: Array.from({ length: 900 }, () => "not a number") });
    await waitFor(() => errors.length === 2, 10000, "the second refusal");
    assert.ok(Array.isArray(errors[1].payload) && errors[1].payload.length === 900, "within the limit: left as it was");
  });

  it("rnn layer: the outputs count too (a layer without a projection emits its hidden units)", async function () {
    await start({ rnnMaxValues: 1000 });
    await helper.load(NODES, flowWith({ ...LAYER, projection: false, hiddenSize: 8 }));
    const errors = collect(helper.getNode("errors"));
    // 100 numbers in, 800 out: 900 fits; 120 in, 960 out: 1,080 does not.
    helper.getNode("node").receive({ payload: [numbers(100).map((v) => [v])] });
    helper.getNode("node").receive({ payload: [numbers(120).map((v) => [v])] });
    await waitFor(() => errors.length === 1, 5000, "the refusal");
    assert.match(errors[0].error.message, /carries 1080 numbers/);
  });

  it("an unusable setting is logged once (for both node types that read it) and the default applies", async function () {
    await start({ rnnMaxValues: "lots" });
    await helper.load(NODES, flowWith(LAYER));
    const warned = loggedWarnings().filter((w) => /rnnMaxValues/.test(w));
    assert.strictEqual(warned.length, 1, JSON.stringify(loggedWarnings()));
    assert.match(warned[0], /must be a whole number from 1 to 50000000, got lots: the default of \d+ applies/);
    const limit = defaultMaxValues();
    const errors = collect(helper.getNode("errors"));
    // Weighed from its length alone: one number more than half the limit, in and out.
    const payload = new Array(Math.floor(limit / 2) + 1);
    payload[0] = 0.5;
    helper.getNode("node").receive({ payload });
    await waitFor(() => errors.length === 1, 5000, "the refusal");
    assert.match(errors[0].error.message, new RegExp(`limit of ${limit}\\b`));
  });

  it("rnn layer: a large message is worked on in slices (the event loop turns meanwhile); the messages after it wait and come out after it, and a topic's state carries on as in one pass", async function () {
    await start();
    const config = { ...LAYER, hiddenSize: 64, stateful: true };
    await helper.load(NODES, flowWith(config));
    const node = helper.getNode("node");
    const out = collect(helper.getNode("out"));
    const errors = collect(helper.getNode("errors"));
    // 20,000 steps of 64 units: about 85 million multiply-adds, hundreds of blocks.
    const big = numbers(20000, 3);
    const after = [numbers(5, 4), numbers(7, 5), numbers(3, 6)];
    let turns = 0;
    const timer = setInterval(() => turns++, 1);
    let turnsWhenDone = null;
    helper.getNode("out").on("input", () => {
      if (turnsWhenDone === null) turnsWhenDone = turns;
    });
    node.receive({ payload: big, topic: "s", part: 0 });
    after.forEach((payload, i) => node.receive({ payload, topic: "s", part: i + 1 }));
    await waitFor(() => out.length === 4, 30000, "four outputs");
    clearInterval(timer);
    assert.deepStrictEqual(errors.map((m) => m.error.message), []);
    assert.deepStrictEqual(out.map((m) => m.part), [0, 1, 2, 3], "in the order they came");
    assert.ok(turnsWhenDone >= 3, `a 1 ms timer ran ${turnsWhenDone} times while the large message was worked on`);
    // The four messages are one sequence cut in four: the same outputs as one forward pass over it.
    const all = big.concat(...after);
    const want = Array.from(getBackend().forward(coreLayer(config), Float64Array.from(all), 1, all.length, null).y);
    assert.deepStrictEqual(out.flatMap((m) => m.payload), want);
  });

  it("rnn layer: a training run's message does not wait behind a large message being worked on", async function () {
    await start();
    await helper.load(NODES, flowWith({ ...LAYER, hiddenSize: 64 }));
    const node = helper.getNode("node");
    const out = collect(helper.getNode("out"));
    node.receive({ payload: numbers(20000, 11), part: "large" });
    node.receive({ part: "run", rnn: { run: "r1", source: "seq", layers: [], loss: null } });
    node.receive({ payload: numbers(3, 12), part: "small" });
    await waitFor(() => out.length === 3, 30000, "three outputs");
    assert.deepStrictEqual(out.map((m) => m.part), ["run", "large", "small"]);
    assert.strictEqual(out[0].rnn.layers.length, 1);
  });

  it("rnn layer: closed in the middle of a large message, it and the messages behind it end once each, with an error that says so", async function () {
    await start();
    await helper.load(NODES, flowWith({ ...LAYER, hiddenSize: 128 }));
    const node = helper.getNode("node");
    const out = collect(helper.getNode("out"));
    const errors = collect(helper.getNode("errors"));
    node.receive({ payload: numbers(200000, 7), part: 0 });
    node.receive({ payload: numbers(10, 8), part: 1 });
    await new Promise((r) => setTimeout(r, 50));
    // The node's close handlers only: the Catch node stays to see how the messages end.
    await node.close(false);
    await waitFor(() => errors.length === 2, 10000, "two errors");
    await new Promise((r) => setTimeout(r, 50));
    assert.strictEqual(out.length, 0);
    assert.deepStrictEqual(errors.map((m) => m.part), [0, 1]);
    for (const m of errors) assert.match(m.error.message, /stopped or redeployed before it had finished with this message/);
  });

  it("rnn loss: a large message is computed a stretch at a time: the loss of one pass (to rounding) and the same metrics; beyond the limit, a payload and a target larger than it are left out", async function () {
    await start({ rnnMaxValues: 500000 });
    await helper.load(NODES, flowWith({ type: "rnn-loss", loss: "mse", delta: 1 }));
    const node = helper.getNode("node");
    const out = collect(helper.getNode("out"));
    const errors = collect(helper.getNode("errors"));
    const y = numbers(200000, 9);
    const target = numbers(200000, 10).map((v, i) => (i % 7 === 0 ? null : v));
    node.receive({ payload: y, target });
    await waitFor(() => out.length === 1, 20000, "the loss");
    const t = Float64Array.from(target, (v) => (v === null ? NaN : v));
    const whole = computeLoss("mse", Float64Array.from(y), t, 1, "linear", { valueOnly: true });
    assert.ok(Math.abs(out[0].loss - whole.loss) <= 1e-12 * whole.loss, `${out[0].loss} vs ${whole.loss}`);
    assert.deepStrictEqual(out[0].metrics, computeMetrics(Float64Array.from(y), t));
    node.receive({ payload: numbers(500001), target: numbers(500001) });
    await waitFor(() => errors.length === 1, 5000, "the refusal");
    assert.match(errors[0].error.message, /carries 1000002 numbers \(its payload and its target\), more than the limit of 500000/);
    assert.strictEqual(typeof errors[0].payload, "string");
    assert.strictEqual(typeof errors[0].target, "string");
  });
});

describe("OrderedWork", function () {
  it("runs jobs one at a time in the order they were added, the first at once", async function () {
    const work = new OrderedWork(100);
    const log = [];
    const job = (name, ms) => async (release) => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      release();
    };
    work.add(1, job("a", 20));
    assert.deepStrictEqual(log, ["start a"], "an idle queue starts the job synchronously");
    work.add(1, job("b", 1));
    work.add(1, job("c", 1));
    await waitFor(() => log.length === 6, 2000, "all jobs");
    assert.deepStrictEqual(log, ["start a", "end a", "start b", "end b", "start c", "end c"]);
    assert.strictEqual(work.pending, 0);
  });

  it("admits no more than its messages and numbers while busy, and always one when idle", async function () {
    const work = new OrderedWork(100, 3);
    assert.ok(work.admits(1000), "an idle node takes any message the limit allows");
    let release;
    const gate = new Promise((r) => (release = r));
    work.add(60, () => gate);
    assert.ok(work.admits(40));
    assert.ok(!work.admits(41), "the numbers waiting together stay within the limit");
    work.add(10, async () => {});
    work.add(10, async () => {});
    assert.ok(!work.admits(1), "no more than 3 messages pending");
    release();
    await waitFor(() => work.pending === 0, 2000, "the queue to drain");
    assert.ok(work.admits(100));
  });

  it("a job that ends without waiting leaves the queue idle at once, for the next message", function () {
    const work = new OrderedWork(10);
    const order = [];
    work.add(1, async (release) => {
      order.push("a");
      release();
    });
    assert.strictEqual(work.pending, 0, "released synchronously");
    work.add(1, async (release) => {
      order.push("b");
      release();
    });
    assert.deepStrictEqual(order, ["a", "b"], "the second ran at once too");
  });

  it("a job that rejects does not stop the ones behind it", async function () {
    const work = new OrderedWork(10);
    let ran = false;
    work.add(1, async () => {
      throw new Error("boom");
    });
    work.add(1, async () => {
      ran = true;
    });
    await waitFor(() => ran, 2000, "the second job");
  });
});
