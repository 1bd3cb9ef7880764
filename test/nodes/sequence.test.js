"use strict";
// rnn sequence alone: what batches it emits for each kind of series, its commands, and its errors.
// A test plays the trainer's part by acknowledging each batch through the node's api.
const assert = require("assert");
const { helper, NODES, useNodeRedServer, withCatch, collect, statuses, lastStatus, loggedErrors, waitFor, sleep } = require("../helpers/nodes");

function flowWith(config) {
  return withCatch([
    { id: "f1", type: "tab" },
    { id: "seq", z: "f1", type: "rnn-sequence", windowLength: 5, horizon: 1, scaling: "none", validationSplit: 0, batchSize: 4, epochs: 1, shuffle: false, seed: 1, bufferSize: 1000, trainAfter: 0, ackTimeout: 30, difference: "none", season: "0", timeField: "none", calendar: "none", ...config, wires: [["out"]] },
    { id: "out", z: "f1", type: "helper", wires: [] },
  ]);
}

const tokenOf = (r) => `${r.id}/${r.epoch}/${r.phase}/${r.batch}`;

/** Acknowledges every batch the helper node receives (unless `hold` says not to); returns the list. */
function acknowledging(seqNode, outNode, hold = () => false) {
  const got = [];
  outNode.on("input", (msg) => {
    got.push(msg);
    if (!hold(msg, got.length)) got.acked = seqNode.rnnApi.ack(msg.rnn.id, tokenOf(msg.rnn), { stop: false, trainer: "test" });
  });
  return got;
}

const range = (n, f = (i) => i) => Array.from({ length: n }, (_, i) => f(i));
const inputs = (msg) => msg.payload.map((w) => w.map((step) => step[0]));
const lastTargets = (msg) => msg.target.map((w) => w[w.length - 1][0]);

describe("rnn sequence node", function () {
  this.timeout(20000);
  useNodeRedServer();

  it("turns a numeric series into windows, sends train then validate batches each epoch, and ends with status done", async function () {
    await helper.load(NODES, flowWith({ validationSplit: 0.2, epochs: 2 }));
    const seq = helper.getNode("seq");
    const got = acknowledging(seq, helper.getNode("out"));
    seq.receive({ topic: "train", payload: range(20), flowName: "kitchen" });
    await waitFor(() => lastStatus(seq).text === "done", 5000, "status done");

    // 20 rows, 4 held out: 16 training rows make 11 windows of 5 (+1 target row), i.e. batches of
    // 4, 4, 3; validation windows end on rows 16..19: one batch of 4. Two epochs of that.
    assert.deepStrictEqual(got.map((m) => `${m.rnn.epoch}${m.topic[0]}${m.rnn.batch}`), ["1t1", "1t2", "1t3", "1v1", "2t1", "2t2", "2t3", "2v1"]);
    assert.deepStrictEqual(got.map((m) => m.payload.length), [4, 4, 3, 4, 4, 4, 3, 4]);
    const first = got[0];
    assert.deepStrictEqual(inputs(first), [range(5), range(5, (i) => i + 1), range(5, (i) => i + 2), range(5, (i) => i + 3)]);
    // targetMode "last": only the last step of each window carries a target (the next reading).
    assert.deepStrictEqual(first.target[0], [null, null, null, null, [5]]);
    assert.deepStrictEqual(lastTargets(first), [5, 6, 7, 8]);
    assert.deepStrictEqual(inputs(got[3])[0], [11, 12, 13, 14, 15]);
    assert.deepStrictEqual(lastTargets(got[3]), [16, 17, 18, 19]);
    const r = first.rnn;
    assert.deepStrictEqual({ phase: r.phase, epoch: r.epoch, epochs: r.epochs, batch: r.batch, batches: r.batches, valBatches: r.valBatches, source: r.source, layers: r.layers },
      { phase: "train", epoch: 1, epochs: 2, batch: 1, batches: 3, valBatches: 1, source: "seq", layers: [] });
    assert.deepStrictEqual(r.window, { length: 5, horizon: 1, features: ["value"], targets: ["value"] });
    assert.strictEqual(first.flowName, "kitchen", "user properties of the train message travel with the batches");
    assert.ok(got.every((m) => m.rnn.id === r.id), "one run id");
    assert.strictEqual(new Set(got.map((m) => m._msgid)).size, got.length, "a fresh _msgid per batch");
  });

  it("z-score scaling is fitted on the training rows only and applied to inputs and targets", async function () {
    await helper.load(NODES, flowWith({ scaling: "zscore", validationSplit: 0.2 }));
    const seq = helper.getNode("seq");
    const got = acknowledging(seq, helper.getNode("out"));
    seq.receive({ topic: "train", payload: range(20, (i) => 3 * i + 1) });
    await waitFor(() => got.length >= 1, 2000, "a batch");
    // Training rows are 3i+1 for i < 16: mean 23.5, population deviation 3·sqrt((16²−1)/12).
    const mean = 23.5, sd = 3 * Math.sqrt(255 / 12);
    const expected = range(5, (i) => (3 * i + 1 - mean) / sd);
    inputs(got[0])[0].forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-12, `step ${i}: ${v} vs ${expected[i]}`));
    assert.ok(Math.abs(lastTargets(got[0])[0] - (16 - mean) / sd) < 1e-12);
    assert.strictEqual(got[0].rnn.scaler.kind, "zscore");
    assert.ok(Math.abs(got[0].rnn.scaler.targets.offset[0] - mean) < 1e-12 && Math.abs(got[0].rnn.scaler.targets.scale[0] - sd) < 1e-12);
  });

  it("arrays of numbers are multivariate readings; targets default to every feature", async function () {
    await helper.load(NODES, flowWith({ windowLength: 3 }));
    const seq = helper.getNode("seq");
    const got = acknowledging(seq, helper.getNode("out"));
    seq.receive({ topic: "train", payload: range(12, (i) => [i, 10 * i]) });
    await waitFor(() => got.length >= 1, 2000, "a batch");
    assert.deepStrictEqual(got[0].payload[1], [[1, 10], [2, 20], [3, 30]]);
    assert.deepStrictEqual(got[0].target[1][2], [4, 40]);
    assert.deepStrictEqual(got[0].rnn.window.features.length, 2);
  });

  it("CSV-like objects: the features and targets fields pick the columns, text columns are ignored", async function () {
    await helper.load(NODES, flowWith({ windowLength: 3, features: "temp, humidity", targets: "temp" }));
    const seq = helper.getNode("seq");
    const got = acknowledging(seq, helper.getNode("out"));
    const rows = range(12, (i) => ({ date: `2024-01-${10 + i}`, weather: "sun", temp: i + 0.5, humidity: 60 - i, wind: 99 }));
    seq.receive({ topic: "train", payload: rows });
    await waitFor(() => got.length >= 1, 2000, "a batch");
    assert.deepStrictEqual(got[0].payload[0], [[0.5, 60], [1.5, 59], [2.5, 58]]);
    assert.deepStrictEqual(got[0].target[0], [null, null, [3.5]]);
    assert.deepStrictEqual(got[0].rnn.window, { length: 3, horizon: 1, features: ["temp", "humidity"], targets: ["temp"] });
  });

  it("readings sent one by one are buffered (status 'buffer n', oldest dropped) and 'train' without payload trains on them", async function () {
    await helper.load(NODES, flowWith({ bufferSize: 10, windowLength: 3 }));
    const seq = helper.getNode("seq");
    const got = acknowledging(seq, helper.getNode("out"));
    for (let i = 0; i < 15; i++) seq.receive({ payload: i });
    await waitFor(() => lastStatus(seq).text === "buffer 10", 2000, "status buffer 10");
    assert.strictEqual(got.length, 0, "readings alone do not start training");
    seq.receive({ topic: "train" });
    await waitFor(() => lastStatus(seq).text === "done", 2000, "status done");
    // The buffer kept readings 5..14: windows of 3 with a next reading: 7 of them.
    assert.deepStrictEqual(inputs(got[0])[0], [5, 6, 7]);
    assert.strictEqual(got.reduce((s, m) => s + m.payload.length, 0), 7);
  });

  it("trainAfter starts a run by itself once that many readings have arrived", async function () {
    await helper.load(NODES, flowWith({ windowLength: 3, trainAfter: 12, bufferSize: 100 }));
    const seq = helper.getNode("seq");
    const got = acknowledging(seq, helper.getNode("out"));
    for (let i = 0; i < 11; i++) seq.receive({ payload: { level: i } });
    await sleep(50);
    assert.strictEqual(got.length, 0, "not before the 12th reading");
    seq.receive({ payload: { level: 11 } });
    await waitFor(() => lastStatus(seq).text === "done", 2000, "a run to end");
    assert.deepStrictEqual(inputs(got[0])[0], [0, 1, 2]);
    assert.strictEqual(got.reduce((s, m) => s + m.payload.length, 0), 9, "12 readings make 9 windows of 3 plus a target");
  });

  it("trainAfter waits, without an error, until the validation part and the differences also have their rows", async function () {
    // Window 24 + 1 target = 25 rows. First differencing takes 2 rows as history, and 20 % of the
    // rest is held out: n − 2 − ⌊0.2 (n − 2)⌋ ≥ 25 first holds for n = 33.
    await helper.load(NODES, flowWith({ windowLength: 24, trainAfter: 10, validationSplit: 0.2, difference: "first", bufferSize: 100 }));
    const seq = helper.getNode("seq");
    const got = acknowledging(seq, helper.getNode("out"));
    const caught = collect(helper.getNode("errors"));
    for (let i = 0; i < 32; i++) seq.receive({ payload: Math.sin(i / 3) });
    await sleep(50);
    assert.deepStrictEqual(caught.map((m) => m.error.message), [], "readings while the series is too short are not errors");
    assert.strictEqual(got.length, 0, "no run before the split and the differences have enough rows");
    seq.receive({ payload: Math.sin(32 / 3) });
    await waitFor(() => got.length > 0, 2000, "a run to start with the 33rd reading");
    assert.deepStrictEqual(caught, []);
  });

  it("trainAfter with a fixed season waits quietly for two seasons of training rows, and says so once the buffer is full", async function () {
    await helper.load(NODES, flowWith({ windowLength: 4, trainAfter: 10, validationSplit: 0.2, season: "30", bufferSize: 70 }));
    const seq = helper.getNode("seq");
    const got = acknowledging(seq, helper.getNode("out"));
    const caught = collect(helper.getNode("errors"));
    // Two seasons of 30 need 60 training rows: 75 readings with 20 % held out; the buffer keeps 70.
    for (let i = 0; i < 69; i++) seq.receive({ payload: Math.sin(i / 5) });
    await sleep(50);
    assert.deepStrictEqual(caught.map((m) => m.error.message), [], "no error while more readings can still help");
    assert.strictEqual(got.length, 0);
    seq.receive({ payload: 0.5 });
    await waitFor(() => caught.length === 1, 2000, "an error once the buffer is full");
    assert.match(caught[0].error.message, /season 30: the training part has 56 rows/);
  });

  it("'stop' ends the run: the batch in flight is no longer acknowledged and nothing more is sent; a new run can start", async function () {
    await helper.load(NODES, flowWith({ epochs: 5 }));
    const seq = helper.getNode("seq");
    const got = acknowledging(seq, helper.getNode("out"), (_m, n) => n === 2);
    seq.receive({ topic: "train", payload: range(40) });
    await waitFor(() => got.length === 2, 2000, "two batches");
    seq.receive({ topic: "stop" });
    await waitFor(() => lastStatus(seq).text === "stopped", 2000, "status stopped");
    assert.strictEqual(seq.rnnApi.ack(got[1].rnn.id, tokenOf(got[1].rnn), { stop: false, trainer: "test" }), false);
    await sleep(50);
    assert.strictEqual(got.length, 2);
    seq.receive({ topic: "train", payload: range(40) });
    await waitFor(() => got.length >= 3, 2000, "a batch of the new run");
    assert.notStrictEqual(got[2].rnn.id, got[0].rnn.id);
  });

  it("'reset' stops the run and clears the buffer: 'train' without payload then fails, a series still works", async function () {
    await helper.load(NODES, flowWith({ windowLength: 3 }));
    const seq = helper.getNode("seq");
    const caught = collect(helper.getNode("errors"));
    const got = acknowledging(seq, helper.getNode("out"), (_m, n) => n === 1);
    for (let i = 0; i < 30; i++) seq.receive({ payload: i });
    seq.receive({ topic: "train" });
    await waitFor(() => got.length === 1, 2000, "a batch");
    seq.receive({ topic: "reset" });
    await waitFor(() => lastStatus(seq).text === "idle", 2000, "status idle");
    assert.strictEqual(seq.rnnApi.ack(got[0].rnn.id, tokenOf(got[0].rnn), { stop: false, trainer: "test" }), false);
    seq.receive({ topic: "train" });
    await waitFor(() => caught.length === 1, 2000, "an error");
    assert.match(caught[0].error.message, /empty|too few/);
    seq.receive({ topic: "train", payload: range(10) });
    await waitFor(() => got.length >= 2, 2000, "a batch of a new run");
  });

  it("a series too short for one window fails with a message saying how many rows are needed, then a valid one trains", async function () {
    await helper.load(NODES, flowWith({ windowLength: 5 }));
    const seq = helper.getNode("seq");
    const caught = collect(helper.getNode("errors"));
    const got = acknowledging(seq, helper.getNode("out"));
    seq.receive({ topic: "train", payload: [1, 2, 3] });
    await waitFor(() => caught.length === 1, 2000, "an error");
    assert.match(caught[0].error.message, /too few.*at least 6 rows/);
    assert.strictEqual(lastStatus(seq).fill, "red");
    seq.receive({ topic: "train", payload: range(8) });
    await waitFor(() => lastStatus(seq).text === "done", 2000, "done");
    assert.strictEqual(got.length, 1);
  });

  it("'train' while a run is in progress is refused as busy, and the running run goes on", async function () {
    await helper.load(NODES, flowWith({ epochs: 2 }));
    const seq = helper.getNode("seq");
    const caught = collect(helper.getNode("errors"));
    const got = acknowledging(seq, helper.getNode("out"), (_m, n) => n === 1);
    seq.receive({ topic: "train", payload: range(20) });
    await waitFor(() => got.length === 1, 2000, "a batch");
    seq.receive({ topic: "train", payload: range(20) });
    await waitFor(() => caught.length === 1, 2000, "an error");
    assert.match(caught[0].error.message, /already in progress/);
    assert.strictEqual(seq.rnnApi.ack(got[0].rnn.id, tokenOf(got[0].rnn), { stop: false, trainer: "test" }), true);
    await waitFor(() => lastStatus(seq).text === "done", 2000, "done");
    assert.strictEqual(got.length, 8, "4 batches per epoch, 2 epochs, all from the first run");
    assert.ok(got.every((m) => m.rnn.id === got[0].rnn.id));
  });

  it("bad readings are refused one by one (wrong type, text, other width) and do not spoil the buffer", async function () {
    await helper.load(NODES, flowWith({ windowLength: 2, bufferSize: 10 }));
    const seq = helper.getNode("seq");
    const caught = collect(helper.getNode("errors"));
    const got = acknowledging(seq, helper.getNode("out"));
    seq.receive({ payload: [1, 2] });
    seq.receive({ payload: "twelve" });
    seq.receive({ payload: [1, 2, 3] });
    seq.receive({ payload: true });
    seq.receive({ payload: [3, 4] });
    seq.receive({ payload: [5, 6] });
    seq.receive({ topic: "train", payload: 5 });
    await waitFor(() => caught.length === 4, 2000, "four errors");
    assert.ok(caught.every((m) => m.error.message.includes("msg.payload cannot be used: ")), caught.map((m) => m.error.message).join("\n"));
    assert.match(caught[1].error.message, /3 values but the buffered ones have .*2 values/);
    seq.receive({ topic: "train" });
    await waitFor(() => lastStatus(seq).text === "done", 2000, "done");
    assert.deepStrictEqual(got[0].payload, [[[1, 2], [3, 4]]]);
  });

  it("without acknowledgements the watchdog ends the run with an error (ackTimeout), and a new run can start", async function () {
    await helper.load(NODES, flowWith({ ackTimeout: 0.1 }));
    const seq = helper.getNode("seq");
    const got = acknowledging(seq, helper.getNode("out"), () => true);
    seq.receive({ topic: "train", payload: range(20) });
    await waitFor(() => lastStatus(seq).fill === "red", 2000, "red status");
    assert.deepStrictEqual(lastStatus(seq), { fill: "red", shape: "ring", text: "no trainer ack" });
    const logged = loggedErrors("seq");
    assert.strictEqual(logged.length, 1);
    assert.match(logged[0], /no acknowledgement for batch 1 of epoch 1 within 0.1 s/);
    assert.strictEqual(got.length, 1);
    seq.receive({ topic: "train", payload: range(20) });
    await waitFor(() => got.length === 2, 2000, "a batch of a new run");
  });

  it("shows its state in the status: idle at deploy, the epoch while training", async function () {
    await helper.load(NODES, flowWith({ epochs: 3 }));
    const seq = helper.getNode("seq");
    assert.deepStrictEqual(statuses(seq)[0], { fill: "grey", shape: "ring", text: "idle" });
    acknowledging(seq, helper.getNode("out"));
    seq.receive({ topic: "train", payload: range(20) });
    await waitFor(() => lastStatus(seq).text === "done", 2000, "done");
    assert.ok(statuses(seq).some((s) => s.text === "epoch 1/3"));
  });
});
