"use strict";
// rnn sequence: the one run message it sends at the start of a training run, the windows it
// prepares for each kind of series (read from the run's ticket, where the trainer claims them), its
// commands, its errors, and its status, which follows the trainer that took the run.
const assert = require("assert");
const runs = require("../../dist/nodes/shared/runs");
const { helper, NODES, useNodeRedServer, chain, withCatch, nextMessage, collect, statuses, lastStatus, loggedErrors, waitFor, sleep, noisySineSeries, preparedWindows } = require("../helpers/nodes");

function flowWith(config) {
  return withCatch([
    { id: "f1", type: "tab" },
    { id: "seq", z: "f1", type: "rnn-sequence", windowLength: 5, horizon: 1, scaling: "none", validationSplit: 0, batchSize: 4, epochs: 1, shuffle: false, seed: 1, bufferSize: 1000, trainAfter: 0, ackTimeout: 30, difference: "none", season: "0", timeField: "none", calendar: "none", ...config, wires: [["out"]] },
    { id: "out", z: "f1", type: "helper", wires: [] },
  ]);
}

/**
 * The run messages a helper node receives, each with its run's ticket, looked up on arrival
 * (nothing takes the run here, so the ticket stays until the run is stopped or times out).
 */
function runMessages(outNode) {
  const got = [];
  outNode.on("input", (msg) => got.push({ msg, ticket: runs.findTicket(msg.rnn && msg.rnn.run) }));
  return got;
}

const range = (n, f = (i) => i) => Array.from({ length: n }, (_, i) => f(i));
/** No run being prepared or waiting: the status a sequence shows when an attempt ended without a run. */
const isIdle = (seq, buffered) => {
  const s = lastStatus(seq);
  return s.fill === "grey" && s.shape === "ring" && s.text === `buffer ${buffered}`;
};
const inputs = (w) => w.input.map((step) => step[0]);
const lastTarget = (w) => w.target[w.target.length - 1][0];

describe("rnn sequence node", function () {
  this.timeout(30000);
  useNodeRedServer();

  it("a train message sends one run message (topic train, a summary, the run record) and leaves the windows in the run's ticket", async function () {
    await helper.load(NODES, flowWith({ validationSplit: 0.2, epochs: 2 }));
    const seq = helper.getNode("seq");
    const got = runMessages(helper.getNode("out"));
    seq.receive({ _msgid: "m1", topic: "train", payload: range(20), flowName: "kitchen", target: [1] });
    await waitFor(() => got.length === 1, 2000, "the run message");
    await sleep(100);
    assert.strictEqual(got.length, 1, "one message for the whole run");
    const { msg, ticket } = got[0];
    assert.strictEqual(msg.topic, "train");
    assert.strictEqual(typeof msg.rnn.run, "string");
    assert.deepStrictEqual(msg.rnn, { run: msg.rnn.run, source: "seq", layers: [], loss: null });
    assert.strictEqual(msg.flowName, "kitchen", "user properties of the train message travel with the run message");
    assert.strictEqual(msg.target, undefined, "fields the contract defines are not copied from the train message");
    assert.notStrictEqual(msg._msgid, "m1", "a fresh _msgid");

    // 20 rows, 4 held out: 16 training rows make 11 windows of 5 (+1 target row); validation
    // windows end on rows 16..19: 4 of them.
    assert.ok(ticket, "the run's ticket is published under msg.rnn.run");
    const data = ticket.data;
    assert.deepStrictEqual(msg.payload, { rows: 20, windows: 11, validationWindows: 4, window: data.window, series: data.report, baselines: data.baselines });
    assert.deepStrictEqual(data.window, { length: 5, horizon: 1, features: ["value"], targets: ["value"] });
    assert.strictEqual(msg.payload.series.difference, "none");
    assert.strictEqual(msg.payload.baselines.count, 4);
    assert.deepStrictEqual({ source: ticket.source, msgid: ticket.msgid, trainer: ticket.trainer, settings: ticket.settings },
      { source: "seq", msgid: msg._msgid, trainer: null, settings: { epochs: 2, batchSize: 4, shuffle: false, seed: 1 } });
    const train = preparedWindows(data, "train");
    assert.strictEqual(train.length, 11);
    assert.deepStrictEqual(inputs(train[0]), range(5));
    assert.deepStrictEqual(inputs(train[1]), range(5, (i) => i + 1));
    // targetMode "last": only the last step of each window carries a target (the next reading).
    assert.deepStrictEqual(train[0].target, [null, null, null, null, [5]]);
    assert.deepStrictEqual(train.map(lastTarget), range(11, (i) => i + 5));
    const validation = preparedWindows(data, "validation");
    assert.deepStrictEqual(inputs(validation[0]), [11, 12, 13, 14, 15]);
    assert.deepStrictEqual(validation.map(lastTarget), [16, 17, 18, 19]);
    assert.deepStrictEqual(lastStatus(seq), { fill: "blue", shape: "ring", text: "waiting for a trainer" });
  });

  it("z-score scaling is fitted on the training rows only and applied to inputs and targets", async function () {
    await helper.load(NODES, flowWith({ scaling: "zscore", validationSplit: 0.2 }));
    const seq = helper.getNode("seq");
    const got = runMessages(helper.getNode("out"));
    seq.receive({ topic: "train", payload: range(20, (i) => 3 * i + 1) });
    await waitFor(() => got.length === 1, 2000, "the run message");
    const data = got[0].ticket.data;
    // Training rows are 3i+1 for i < 16: mean 23.5, population deviation 3·sqrt((16²−1)/12).
    const mean = 23.5, sd = 3 * Math.sqrt(255 / 12);
    const expected = range(5, (i) => (3 * i + 1 - mean) / sd);
    const first = preparedWindows(data, "train")[0];
    inputs(first).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-12, `step ${i}: ${v} vs ${expected[i]}`));
    assert.ok(Math.abs(lastTarget(first) - (16 - mean) / sd) < 1e-12);
    // The validation part is scaled with the training part's statistics.
    assert.ok(Math.abs(lastTarget(preparedWindows(data, "validation")[3]) - (58 - mean) / sd) < 1e-12);
    const scaler = data.scaler;
    assert.strictEqual(scaler.kind, "zscore");
    assert.ok(Math.abs(scaler.targets.offset[0] - mean) < 1e-12 && Math.abs(scaler.targets.scale[0] - sd) < 1e-12);
  });

  it("arrays of numbers are multivariate readings; targets default to every feature", async function () {
    await helper.load(NODES, flowWith({ windowLength: 3 }));
    const seq = helper.getNode("seq");
    const got = runMessages(helper.getNode("out"));
    seq.receive({ topic: "train", payload: range(12, (i) => [i, 10 * i]) });
    await waitFor(() => got.length === 1, 2000, "the run message");
    const w = preparedWindows(got[0].ticket.data, "train")[1];
    assert.deepStrictEqual(w.input, [[1, 10], [2, 20], [3, 30]]);
    assert.deepStrictEqual(w.target[2], [4, 40]);
    assert.deepStrictEqual(got[0].msg.payload.window.features.length, 2);
    assert.deepStrictEqual(got[0].msg.payload.window.targets.length, 2);
  });

  it("CSV-like objects: the features and targets fields pick the columns, text columns are ignored", async function () {
    await helper.load(NODES, flowWith({ windowLength: 3, features: "temp, humidity", targets: "temp" }));
    const seq = helper.getNode("seq");
    const got = runMessages(helper.getNode("out"));
    const rows = range(12, (i) => ({ date: `2024-01-${10 + i}`, weather: "sun", temp: i + 0.5, humidity: 60 - i, wind: 99 }));
    seq.receive({ topic: "train", payload: rows });
    await waitFor(() => got.length === 1, 2000, "the run message");
    const w = preparedWindows(got[0].ticket.data, "train")[0];
    assert.deepStrictEqual(w.input, [[0.5, 60], [1.5, 59], [2.5, 58]]);
    assert.deepStrictEqual(w.target, [null, null, [3.5]]);
    assert.deepStrictEqual(got[0].msg.payload.window, { length: 3, horizon: 1, features: ["temp", "humidity"], targets: ["temp"] });
  });

  it("a Features or Targets name that plain numbers do not have is an error naming it, for a series and for readings one by one", async function () {
    await helper.load(NODES, flowWith({ windowLength: 3, bufferSize: 10, features: "temperature", timeField: "auto" }));
    const seq = helper.getNode("seq");
    const caught = collect(helper.getNode("errors"));
    const got = runMessages(helper.getNode("out"));
    seq.receive({ topic: "train", payload: range(12) });
    seq.receive({ payload: 4 });
    seq.receive({ payload: ["2024-01-01T00:00:00Z", 4] });
    await waitFor(() => caught.length === 3, 2000, "three errors");
    for (const m of caught) assert.match(m.error.message, /Features names the field "temperature", which the readings do not have: they are plain numbers/);
    assert.strictEqual(lastStatus(seq).fill, "red");
    assert.strictEqual(got.length, 0, "no run starts");
    // The node keeps working: objects that have the field train.
    seq.receive({ topic: "train", payload: range(12, (i) => ({ temperature: i })) });
    await waitFor(() => got.length === 1, 2000, "the run message");
    assert.deepStrictEqual(got[0].msg.payload.window.features, ["temperature"]);
  });

  it("a Targets name that plain numbers do not have is an error naming Targets; \"value\" is their column and is accepted", async function () {
    await helper.load(NODES, flowWith({ windowLength: 3, targets: "level" }));
    const seq = helper.getNode("seq");
    const caught = collect(helper.getNode("errors"));
    const got = runMessages(helper.getNode("out"));
    seq.receive({ topic: "train", payload: range(12) });
    await waitFor(() => caught.length === 1, 2000, "the error");
    assert.match(caught[0].error.message, /Targets names the field "level"/);
    await helper.unload();
    await helper.load(NODES, flowWith({ windowLength: 3, features: "value" }));
    const got2 = runMessages(helper.getNode("out"));
    helper.getNode("seq").receive({ topic: "train", payload: range(12) });
    await waitFor(() => got2.length === 1, 2000, "the run message");
    assert.deepStrictEqual(got2[0].msg.payload.window.features, ["value"]);
    assert.strictEqual(got.length, 0);
  });

  it("readings sent one by one are buffered (status 'buffer n', oldest dropped) and 'train' without payload trains on them", async function () {
    await helper.load(NODES, flowWith({ bufferSize: 10, windowLength: 3 }));
    const seq = helper.getNode("seq");
    const got = runMessages(helper.getNode("out"));
    for (let i = 0; i < 15; i++) seq.receive({ payload: i });
    await waitFor(() => lastStatus(seq).text === "buffer 10", 2000, "status buffer 10");
    assert.strictEqual(got.length, 0, "readings alone do not start training");
    seq.receive({ topic: "train" });
    await waitFor(() => got.length === 1, 2000, "the run message");
    // The buffer kept readings 5..14: windows of 3 with a next reading: 7 of them.
    const data = got[0].ticket.data;
    assert.strictEqual(got[0].msg.payload.rows, 10);
    assert.strictEqual(got[0].msg.payload.windows, 7);
    assert.deepStrictEqual(preparedWindows(data, "train").map(inputs), range(7, (i) => [i + 5, i + 6, i + 7]));
  });

  it("trainAfter starts a run by itself once that many readings have arrived", async function () {
    await helper.load(NODES, flowWith({ windowLength: 3, trainAfter: 12, bufferSize: 100 }));
    const seq = helper.getNode("seq");
    const got = runMessages(helper.getNode("out"));
    for (let i = 0; i < 11; i++) seq.receive({ payload: { level: i } });
    await sleep(50);
    assert.strictEqual(got.length, 0, "not before the 12th reading");
    seq.receive({ payload: { level: 11 } });
    await waitFor(() => got.length === 1, 2000, "a run to start");
    assert.strictEqual(got[0].msg.topic, "train");
    assert.deepStrictEqual(inputs(preparedWindows(got[0].ticket.data, "train")[0]), [0, 1, 2]);
    assert.strictEqual(got[0].msg.payload.windows, 9, "12 readings make 9 windows of 3 plus a target");
  });

  it("trainAfter waits, without an error, until the validation part and the differences also have their rows", async function () {
    // Window 24 + 1 target = 25 rows. First differencing takes 2 rows as history, and 20 % of the
    // rest is held out: n − 2 − ⌊0.2 (n − 2)⌋ ≥ 25 first holds for n = 33.
    await helper.load(NODES, flowWith({ windowLength: 24, trainAfter: 10, validationSplit: 0.2, difference: "first", bufferSize: 100 }));
    const seq = helper.getNode("seq");
    const got = runMessages(helper.getNode("out"));
    const caught = collect(helper.getNode("errors"));
    for (let i = 0; i < 32; i++) seq.receive({ payload: Math.sin(i / 3) });
    // The attempt the 25th reading started (in a worker thread) fails for too few rows and ends
    // quietly. Readings that arrive while an attempt is being prepared start none of their own, so
    // the decisive reading comes after it has ended.
    await waitFor(() => isIdle(seq, 32), 5000, "the attempt of the 25th reading to end");
    assert.deepStrictEqual(caught.map((m) => m.error.message), [], "readings while the series is too short are not errors");
    assert.strictEqual(got.length, 0, "no run before the split and the differences have enough rows");
    seq.receive({ payload: Math.sin(32 / 3) });
    await waitFor(() => got.length > 0, 2000, "a run to start with the 33rd reading");
    assert.strictEqual(got[0].msg.payload.series.difference, "first");
    assert.deepStrictEqual(caught, []);
  });

  it("trainAfter with a fixed season waits quietly for two seasons of training rows, and says so once the buffer is full", async function () {
    await helper.load(NODES, flowWith({ windowLength: 4, trainAfter: 10, validationSplit: 0.2, season: "30", bufferSize: 70 }));
    const seq = helper.getNode("seq");
    const got = runMessages(helper.getNode("out"));
    const caught = collect(helper.getNode("errors"));
    // Two seasons of 30 need 60 training rows: 75 readings with 20 % held out; the buffer keeps 70.
    for (let i = 0; i < 69; i++) seq.receive({ payload: Math.sin(i / 5) });
    // As above: the attempt of the 10th reading ends quietly before the reading that fills the buffer.
    await waitFor(() => isIdle(seq, 69), 5000, "the attempt of the 10th reading to end");
    assert.deepStrictEqual(caught.map((m) => m.error.message), [], "no error while more readings can still help");
    assert.strictEqual(got.length, 0);
    seq.receive({ payload: 0.5 });
    await waitFor(() => caught.length === 1, 2000, "an error once the buffer is full");
    assert.match(caught[0].error.message, /season 30: the training part has 56 rows/);
    assert.strictEqual(got.length, 0);
  });

  it("'stop' ends a run no trainer has taken yet: its ticket is withdrawn, the watchdog is off, and a new run can start", async function () {
    await helper.load(NODES, flowWith({ ackTimeout: 0.2 }));
    const seq = helper.getNode("seq");
    const got = runMessages(helper.getNode("out"));
    seq.receive({ topic: "train", payload: range(40) });
    await waitFor(() => got.length === 1, 2000, "the run message");
    const id = got[0].msg.rnn.run;
    seq.receive({ topic: "stop" });
    await waitFor(() => lastStatus(seq).text === "stopped", 2000, "status stopped");
    assert.strictEqual(runs.findTicket(id), null, "a trainer can no longer claim the stopped run");
    assert.strictEqual(runs.hasEnded(id), true, "a late copy of its message is recognised as ended");
    await sleep(400);
    assert.deepStrictEqual(loggedErrors("seq"), [], "the watchdog of the stopped run does not fire");
    assert.strictEqual(lastStatus(seq).text, "stopped");
    seq.receive({ topic: "train", payload: range(40) });
    await waitFor(() => got.length === 2, 2000, "the run message of a new run");
    assert.notStrictEqual(got[1].msg.rnn.run, id);
    assert.ok(runs.findTicket(got[1].msg.rnn.run));
  });

  it("'stop' sent to the sequence during training ends the trainer's run too (done: stopped, status stopped)", async function () {
    await helper.load(NODES, chain({ sequence: { epochs: 500 } }));
    const seq = helper.getNode("seq");
    const epochs = collect(helper.getNode("epochs"));
    const finished = nextMessage(helper.getNode("done"), 20000);
    seq.receive({ topic: "train", payload: noisySineSeries(300) });
    await nextMessage(helper.getNode("epochs"), 20000);
    seq.receive({ topic: "stop" });
    const done = (await finished).payload;
    assert.strictEqual(done.reason, "stopped");
    assert.ok(done.epochs < 500 && epochs.length < 500, `stopped after ${done.epochs} epochs`);
    assert.deepStrictEqual(lastStatus(seq), { fill: "grey", shape: "ring", text: "stopped" });
    const seen = epochs.length;
    await sleep(200);
    assert.strictEqual(epochs.length, seen, "no epoch after the stop");
    assert.deepStrictEqual(loggedErrors(), []);
  });

  it("'reset' stops the run and clears the buffer: 'train' without payload then fails, a series still works", async function () {
    await helper.load(NODES, flowWith({ windowLength: 3 }));
    const seq = helper.getNode("seq");
    const caught = collect(helper.getNode("errors"));
    const got = runMessages(helper.getNode("out"));
    for (let i = 0; i < 30; i++) seq.receive({ payload: i });
    seq.receive({ topic: "train" });
    await waitFor(() => got.length === 1, 2000, "the run message");
    seq.receive({ topic: "reset" });
    await waitFor(() => lastStatus(seq).text === "idle", 2000, "status idle");
    assert.strictEqual(runs.findTicket(got[0].msg.rnn.run), null, "the run's ticket is withdrawn");
    seq.receive({ topic: "train" });
    await waitFor(() => caught.length === 1, 2000, "an error");
    assert.match(caught[0].error.message, /empty|too few/);
    seq.receive({ topic: "train", payload: range(10) });
    await waitFor(() => got.length === 2, 2000, "the run message of a new run");
    assert.strictEqual(got[1].msg.payload.rows, 10);
  });

  it("a series too short for one window fails with a message saying how many rows are needed, then a valid one trains", async function () {
    await helper.load(NODES, flowWith({ windowLength: 5 }));
    const seq = helper.getNode("seq");
    const caught = collect(helper.getNode("errors"));
    const got = runMessages(helper.getNode("out"));
    seq.receive({ topic: "train", payload: [1, 2, 3] });
    await waitFor(() => caught.length === 1, 2000, "an error");
    assert.match(caught[0].error.message, /too few.*at least 6 rows/);
    assert.strictEqual(lastStatus(seq).fill, "red");
    assert.strictEqual(got.length, 0);
    seq.receive({ topic: "train", payload: range(8) });
    await waitFor(() => got.length === 1, 2000, "the run message");
    assert.strictEqual(got[0].msg.payload.windows, 3);
  });

  it("'train' while a run is in progress is refused as busy, and the running run goes on to the end", async function () {
    await helper.load(NODES, withCatch(chain({ sequence: { epochs: 3 } })));
    const seq = helper.getNode("seq");
    const caught = collect(helper.getNode("errors"));
    const epochs = collect(helper.getNode("epochs"));
    const finished = nextMessage(helper.getNode("done"));
    seq.receive({ topic: "train", payload: noisySineSeries(200) });
    seq.receive({ topic: "train", payload: noisySineSeries(300) });
    await waitFor(() => caught.length === 1, 2000, "an error");
    assert.match(caught[0].error.message, /already in progress/);
    assert.strictEqual(caught[0].error.source.id, "seq");
    const done = (await finished).payload;
    assert.strictEqual(done.reason, "completed");
    assert.deepStrictEqual(epochs.map((m) => m.payload.epoch), [1, 2, 3]);
    assert.strictEqual(done.series.rows, 200, "the first run's series");
    assert.strictEqual(caught.length, 1);
  });

  it("bad readings are refused one by one (wrong type, text, other width) and do not spoil the buffer", async function () {
    await helper.load(NODES, flowWith({ windowLength: 2, bufferSize: 10 }));
    const seq = helper.getNode("seq");
    const caught = collect(helper.getNode("errors"));
    const got = runMessages(helper.getNode("out"));
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
    assert.strictEqual(got.length, 0);
    seq.receive({ topic: "train" });
    await waitFor(() => got.length === 1, 2000, "the run message");
    assert.deepStrictEqual(preparedWindows(got[0].ticket.data, "train").map((w) => w.input), [[[1, 2], [3, 4]]]);
  });

  it("when no trainer takes the run within ackTimeout the watchdog ends it with an error and 'no trainer took the run', and a new run can start", async function () {
    await helper.load(NODES, flowWith({ ackTimeout: 0.1 }));
    const seq = helper.getNode("seq");
    const got = runMessages(helper.getNode("out"));
    const caught = collect(helper.getNode("errors"));
    const started = Date.now();
    seq.receive({ topic: "train", payload: range(20), flowName: "kitchen" });
    await waitFor(() => lastStatus(seq).fill === "red", 2000, "red status");
    assert.ok(Date.now() - started >= 90, "not before the timeout");
    assert.deepStrictEqual(lastStatus(seq), { fill: "red", shape: "ring", text: "no trainer took the run" });
    // Reported with the message that started the run, so a Catch node gets it.
    await waitFor(() => caught.length === 1, 2000, "the error at the Catch node");
    assert.strictEqual(caught[0].error.source.id, "seq");
    assert.match(caught[0].error.message, /^No rnn trainer took the training run within 0.1 s: is an rnn trainer wired at the end of the chain/);
    assert.strictEqual(caught[0].flowName, "kitchen");
    assert.strictEqual(got.length, 1);
    assert.strictEqual(runs.findTicket(got[0].msg.rnn.run), null, "the run's ticket is withdrawn");
    seq.receive({ topic: "train", payload: range(20) });
    await waitFor(() => got.length === 2, 2000, "the run message of a new run");
    assert.deepStrictEqual(lastStatus(seq), { fill: "blue", shape: "ring", text: "waiting for a trainer" });
  });

  it("the run message as the trainer receives it: one layers entry per rnn layer in order with its settings, the loss, and the user's fields", async function () {
    const flow = chain({ sequence: { epochs: 1 }, layers: [{ name: "encoder", hiddenSize: 6, activation: "relu", init: "identity", seed: 4 }, { hiddenSize: 5, outputSize: 1, outputActivation: "linear" }], loss: { loss: "huber", delta: 0.5 } });
    // A second wire from the loss node: the same message the trainer gets.
    flow.find((n) => n.id === "loss").wires = [["trainer", "tap"]];
    flow.push({ id: "tap", z: "f1", type: "helper", x: 0, y: 0, wires: [] });
    await helper.load(NODES, flow);
    const tapped = collect(helper.getNode("tap"));
    const finished = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(200), flowName: "kitchen" });
    assert.strictEqual((await finished).payload.reason, "completed");
    assert.strictEqual(tapped.length, 1);
    const msg = tapped[0];
    assert.strictEqual(msg.topic, "train");
    assert.strictEqual(msg.flowName, "kitchen");
    assert.strictEqual(msg.rnn.source, "seq");
    assert.deepStrictEqual(msg.rnn.layers, [
      { id: "layer1", name: "encoder", settings: { hiddenSize: 6, activation: "relu", projection: false, init: "identity", seed: 4 } },
      { id: "layer2", name: "", settings: { hiddenSize: 5, activation: "tanh", projection: true, init: "orthogonal", seed: 2, outputSize: 1, outputActivation: "linear" } },
    ]);
    assert.deepStrictEqual(msg.rnn.loss, { id: "loss", loss: "huber", delta: 0.5 });
    assert.deepStrictEqual(Object.keys(msg.payload).sort(), ["baselines", "rows", "series", "validationWindows", "window", "windows"]);
    assert.strictEqual(msg.payload.rows, 200);
    // The trainer built the model the message describes.
    const model = helper.getNode("trainer").rnnApi.getModel().model;
    assert.deepStrictEqual(model.layers.map((l) => [l.inputSize, l.hiddenSize, l.activation, l.outputSize]), [[1, 6, "relu", 6], [6, 5, "tanh", 1]]);
  });

  it("its status: idle at deploy, 'preparing the series', 'waiting for a trainer', then 'epoch n/N' as the trainer reports, and 'done' at the end", async function () {
    // ackTimeout far shorter than the run: the trainer taking the run turns the watchdog off.
    await helper.load(NODES, chain({ sequence: { epochs: 60, ackTimeout: 0.2 } }));
    const seq = helper.getNode("seq");
    assert.deepStrictEqual(statuses(seq)[0], { fill: "grey", shape: "ring", text: "idle" });
    const finished = nextMessage(helper.getNode("done"));
    seq.receive({ topic: "train", payload: noisySineSeries(600) });
    // The series is prepared in a worker thread first.
    assert.deepStrictEqual(lastStatus(seq), { fill: "blue", shape: "ring", text: "preparing the series" });
    await finished;
    await sleep(400); // longer than the status throttle: nothing may land after the final word
    const all = statuses(seq).map((s) => s.text);
    const shown = all.filter((t) => /^epoch /.test(t));
    assert.ok(shown.length >= 1, `epoch statuses while training: ${all.join(" | ")}`);
    const numbers = shown.map((t) => {
      const m = /^epoch (\d+)\/60$/.exec(t);
      assert.ok(m, t);
      return Number(m[1]);
    });
    assert.ok(numbers.every((n, i) => n >= 1 && n <= 60 && (i === 0 || n > numbers[i - 1])), numbers.join());
    assert.ok(all.indexOf("preparing the series") < all.indexOf("waiting for a trainer") && all.indexOf("waiting for a trainer") < all.indexOf(shown[0]), all.join(" | "));
    assert.deepStrictEqual(lastStatus(seq), { fill: "green", shape: "dot", text: "done" });
    assert.deepStrictEqual(loggedErrors(), [], "no watchdog error: the trainer took the run in time");
  });
  it("trainAfter and a burst of readings: readings that arrive while a too-early attempt is prepared start a run as soon as it fails", async function () {
    await helper.load(NODES, withCatch([
      { id: "f1", type: "tab" },
      { id: "seq", z: "f1", type: "rnn-sequence", x: 10, y: 10, windowLength: 24, horizon: 1, scaling: "none", validationSplit: 0.2, batchSize: 4, epochs: 1, shuffle: false, seed: 1, bufferSize: 100, trainAfter: 10, ackTimeout: 30, difference: "first", season: "0", timeField: "none", calendar: "none", wires: [["out"]] },
      { id: "out", z: "f1", type: "helper", x: 20, y: 10, wires: [] },
    ]));
    const seq = helper.getNode("seq");
    const out = collect(helper.getNode("out"));
    const caught = collect(helper.getNode("errors"));
    // Reading 25 starts an attempt that is too early (the differences and the validation part need
    // more rows); readings 26…33, sent at once, arrive while it is being prepared.
    for (let i = 0; i < 33; i++) seq.receive({ payload: Math.sin(i / 3) });
    await waitFor(() => out.length === 1, 5000, "a run message");
    assert.strictEqual(out[0].payload.rows, 33);
    assert.deepStrictEqual(caught, []);
  });
});
