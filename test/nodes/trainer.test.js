"use strict";
// rnn trainer in a real chain: its commands (save, stop, reset), its reports, the weights it
// pushes into the layer nodes, the runs it refuses, and its errors.
const assert = require("assert");
const os = require("os");
const { Model, prepareDataset, defaultBackendName } = require("../../dist/src");
const { fmt } = require("../../dist/nodes/shared/runtime");
const plain = require("../helpers/plain-rnn");
const { helper, NODES, useNodeRedServer, chain, withCatch, nextMessage, collect, lastStatus, statuses, loggedErrors, waitFor, sleep, noisySineSeries } = require("../helpers/nodes");

/**
 * Validation loss of the weights layer1 holds now, by a naive forward pass over the chain's
 * validation windows: the mean of `loss(d)` over the errors d (mse by default).
 */
function heldWeightsValLoss(series, loss = (d) => d * d) {
  const data = prepareDataset(series, { length: 12, horizon: 1, scaling: "zscore", validationSplit: 0.2 });
  const layer = helper.getNode("layer1").rnnApi.getLayer();
  const outputs = plain.forward(plain.describe({ layers: [layer] }), data.validation.inputs).outputs;
  let sum = 0;
  outputs.forEach((seq, b) => {
    sum += loss(seq[seq.length - 1][0] - data.validation.targets[b][seq.length - 1][0]);
  });
  return sum / outputs.length;
}

const weightsOf = (id) => helper.getNode(id).rnnApi.getLayer().list().map((w) => Array.from(w));

describe("rnn trainer node", function () {
  this.timeout(60000);
  useNodeRedServer({ userDir: true });

  it("reports every epoch on output 1, chart points on output 3, and 'done' on output 2, with its status", async function () {
    await helper.load(NODES, chain({ sequence: { epochs: 4 } }));
    const epochs = collect(helper.getNode("epochs"));
    const chart = collect(helper.getNode("chart"));
    const finished = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(300) });
    const done = await finished;
    assert.deepStrictEqual(epochs.map((m) => m.payload.epoch), [1, 2, 3, 4]);
    for (const m of epochs) {
      const p = m.payload;
      assert.strictEqual(p.epochs, 4);
      for (const k of ["loss", "valLoss", "gradNorm", "lr", "ms"]) assert.ok(Number.isFinite(p[k]), `${k} = ${p[k]}`);
      assert.strictEqual(p.skipped, 0);
      assert.strictEqual(p.dhNorm, undefined, "no gradient report unless asked");
    }
    // First an empty array, which clears a dashboard chart, so that this run's curves do not join the last run's.
    assert.deepStrictEqual({ topic: chart[0].topic, payload: chart[0].payload }, { topic: "clear", payload: [] });
    assert.deepStrictEqual(chart.slice(1).map((m) => `${m.topic}@${m.epoch}`), ["loss@1", "valLoss@1", "loss@2", "valLoss@2", "loss@3", "valLoss@3", "loss@4", "valLoss@4"]);
    assert.strictEqual(chart[2].payload, epochs[0].payload.valLoss);
    const best = epochs.reduce((a, m) => (m.payload.valLoss < a.payload.valLoss ? m : a));
    const { metrics, baselines, beatsBaseline, intervals, series, threads, ...rest } = done.payload;
    // threads "auto": two worker threads when two cores are free, else one.
    const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
    assert.strictEqual(threads, cores >= 2 ? 2 : 1);
    assert.ok(epochs.every((m) => m.payload.threads === threads));
    // The backend the workers train with (each instantiates the same default as this thread).
    assert.ok(epochs.every((m) => m.payload.backend === defaultBackendName()), `backend ${epochs[0].payload.backend}`);
    assert.deepStrictEqual(rest, { reason: "completed", epochs: 4, bestEpoch: best.payload.epoch, bestValLoss: best.payload.valLoss, loss: epochs[3].payload.loss, valLoss: epochs[3].payload.valLoss, path: null, saved: false, savedReason: "not saved: no model file is configured", compared: null });
    // The model against the naive rules, in real units, at the best epoch (whose weights are kept).
    assert.deepStrictEqual(metrics, { rmse: best.payload.comparison.rmse, mae: best.payload.comparison.mae });
    assert.strictEqual(best.payload.comparison.rmse, best.payload.metrics.rmse);
    assert.deepStrictEqual(baselines, epochs[0].payload.baselines);
    assert.ok(baselines.persistence.rmse > 0 && baselines.count > 0);
    assert.strictEqual(beatsBaseline, metrics.rmse < baselines.persistence.rmse);
    assert.strictEqual(series.difference, "none");
    assert.deepStrictEqual(intervals.levels, [0.5, 0.8, 0.9, 0.95, 0.99]);
    assert.strictEqual(intervals.steps, 24);
    const trainer = helper.getNode("trainer");
    assert.ok(statuses(trainer).some((s) => /^epoch 1\/4 · loss /.test(s.text)), "epoch status while training");
    assert.match(lastStatus(trainer).text, /^val rmse [\d.]+ · naive [\d.]+$/);
    assert.strictEqual(lastStatus(trainer).fill, beatsBaseline ? "green" : "yellow");
  });

  it("'save' without a model file configured is an error naming the setting; with a file but no model yet, another", async function () {
    await helper.load(NODES, withCatch(chain({})));
    const caught = collect(helper.getNode("errors"));
    helper.getNode("trainer").receive({ topic: "save" });
    await waitFor(() => caught.length === 1, 2000, "an error");
    assert.match(caught[0].error.message, /no model file is configured/);
    assert.strictEqual(lastStatus(helper.getNode("trainer")).fill, "red");
    await helper.unload();

    await helper.load(NODES, withCatch(chain({ trainer: { modelPath: "m.json" } })));
    const caught2 = collect(helper.getNode("errors"));
    helper.getNode("trainer").receive({ topic: "save" });
    await waitFor(() => caught2.length === 1, 2000, "an error");
    assert.match(caught2[0].error.message, /no trained model yet/);
  });

  it("'stop' during training ends the run with reason 'stopped', keeps the best weights, and the sequence shows 'stopped'", async function () {
    await helper.load(NODES, chain({ sequence: { epochs: 200 } }));
    const out = helper.getNode("epochs");
    const epochs = collect(out);
    const finished = nextMessage(helper.getNode("done"));
    const series = noisySineSeries(400);
    helper.getNode("seq").receive({ topic: "train", payload: series });
    await nextMessage(out);
    await nextMessage(out);
    helper.getNode("trainer").receive({ topic: "stop" });
    const done = await finished;
    assert.strictEqual(done.payload.reason, "stopped");
    assert.ok(done.payload.epochs < 200);
    const seen = epochs.length;
    await waitFor(() => lastStatus(helper.getNode("seq")).text === "stopped", 2000, "the sequence to show stopped");
    await sleep(100);
    assert.strictEqual(epochs.length, seen, "no epoch after the stop");
    assert.strictEqual(done.payload.bestEpoch, epochs.reduce((a, m) => (m.payload.valLoss < a.payload.valLoss ? m : a)).payload.epoch);
    const held = heldWeightsValLoss(series);
    assert.ok(Math.abs(held - done.payload.bestValLoss) < 1e-9, `weights held after the stop: validation loss ${held} vs best ${done.payload.bestValLoss}`);
  });

  it("'reset' forgets the weights: the next run starts from the same fresh initialisation (same first-epoch loss as the first run)", async function () {
    // One worker thread: with two, minibatches are shared out as they come and two runs agree only
    // up to float rounding; with one, the same start gives the same bits.
    await helper.load(NODES, chain({ sequence: { epochs: 2 }, trainer: { threads: 1 } }));
    const out = helper.getNode("epochs");
    const seq = helper.getNode("seq");
    const series = noisySineSeries(300);
    const trainOnce = async () => {
      const epochs = collect(out);
      const finished = nextMessage(helper.getNode("done"));
      seq.receive({ topic: "train", payload: series });
      await finished;
      out.removeAllListeners("input");
      return { first: epochs[0].payload.loss, weights: weightsOf("layer1") };
    };
    const a = await trainOnce();
    const b = await trainOnce();
    assert.ok(b.first < a.first, `without a reset training goes on from the trained weights: ${b.first} < ${a.first}`);
    helper.getNode("trainer").receive({ topic: "reset" });
    await waitFor(() => helper.getNode("layer1").rnnApi.getLayer() === null, 2000, "the layer to drop its weights");
    const c = await trainOnce();
    assert.strictEqual(c.first, a.first, "same seed, same data, fresh weights: the same first epoch");
    assert.deepStrictEqual(c.weights, a.weights);
  });

  it("refuses input that is neither a run message nor a command, a msg.rnn that is not a run record, and a run no sequence prepared; then trains normally", async function () {
    await helper.load(NODES, withCatch(chain({ sequence: { epochs: 1 } })));
    const caught = collect(helper.getNode("errors"));
    const trainer = helper.getNode("trainer");
    trainer.receive({ topic: "hello", payload: 1 });
    // What a training batch of the earlier contract carried.
    trainer.receive({ payload: [[[1]]], rnn: { id: "r", phase: "train", epoch: 1, epochs: 1, batch: 1, batches: 1, valBatches: 0, source: "nowhere", layers: [] } });
    trainer.receive({ topic: "train", payload: {}, rnn: { run: "made-up", source: "seq", layers: [{ id: "layer1", name: "", settings: {} }], loss: { id: "loss", loss: "mse", delta: 1 } } });
    await waitFor(() => caught.length === 3, 2000, "three errors");
    assert.ok(caught.every((m) => m.error.source.id === "trainer"));
    assert.match(caught[0].error.message, /expected the run message of an rnn sequence → rnn layer → rnn loss chain \(msg.rnn\), or msg.topic "stop", "save" or "reset"/);
    assert.match(caught[1].error.message, /msg.rnn is not a complete run record from an rnn sequence node/);
    assert.match(caught[2].error.message, /msg.rnn names run "made-up", which no rnn sequence node has prepared/);
    assert.strictEqual(lastStatus(trainer).fill, "red");
    const finished = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(200) });
    assert.strictEqual((await finished).payload.reason, "completed");
  });

  for (const c of [
    { what: "a run message that passed no rnn layer", change: (f) => (f.find((n) => n.id === "seq").wires = [["trainer"]]), error: /this run message passed no rnn layer: wire rnn sequence → rnn layer\(s\) → rnn loss → rnn trainer/ },
    { what: "a run message that passed no rnn loss", change: (f) => (f.find((n) => n.id === "layer1").wires = [["trainer"]]), error: /this run message passed no rnn loss node/ },
    { what: "a last layer without projection", layers: [{ projection: false }], error: /the last rnn layer "layer1" emits 8 value\(s\) per step but the series has 1 target\(s\) \(value\): tick "Projection" on it, with output size 1/ },
    { what: "a last layer of the wrong output size", layers: [{}, { projection: true, outputSize: 3 }], error: /the last rnn layer "layer2" emits 3 value\(s\) per step but the series has 1 target\(s\) \(value\): set its output size to 1/ },
  ]) {
    it(`refuses ${c.what} with an error naming the fix, and the sequence shows 'refused' at once`, async function () {
      const flow = chain({ sequence: { epochs: 1, ackTimeout: 0.3 }, layers: c.layers || [{}] });
      if (c.change) c.change(flow);
      await helper.load(NODES, withCatch(flow));
      const caught = collect(helper.getNode("errors"));
      const epochs = collect(helper.getNode("epochs"));
      const seq = helper.getNode("seq");
      seq.receive({ topic: "train", payload: noisySineSeries(200) });
      await waitFor(() => caught.length === 1, 2000, "the error");
      assert.strictEqual(caught[0].error.source.id, "trainer");
      assert.match(caught[0].error.message, c.error);
      await waitFor(() => /^refused: /.test(lastStatus(seq).text), 2000, "the sequence's status");
      assert.strictEqual(lastStatus(seq).fill, "red");
      await sleep(500);
      assert.deepStrictEqual(loggedErrors("seq"), [], "the sequence heard of the refusal: its watchdog does not fire as well");
      assert.strictEqual(epochs.length, 0);
      assert.strictEqual(helper.getNode("trainer").rnnApi.getModel(), null, "no model was made");
    });
  }

  it("the layer nodes get the trained weights, after every epoch and at the end; their forward pass is then the core Model's", async function () {
    const flow = chain({ sequence: { epochs: 4 }, layers: [{ hiddenSize: 7 }, { hiddenSize: 5, projection: true }] });
    // Probes on the layers' outputs; the gate lets only the run message on to the loss node.
    flow.find((n) => n.id === "layer1").wires = [["layer2", "probe1"]];
    flow.find((n) => n.id === "layer2").wires = [["gate", "probe2"]];
    flow.push({ id: "gate", z: "f1", type: "helper", x: 0, y: 0, wires: [["loss"]] }, { id: "probe1", z: "f1", type: "helper", x: 0, y: 0, wires: [] }, { id: "probe2", z: "f1", type: "helper", x: 0, y: 0, wires: [] });
    await helper.load(NODES, flow);
    const gate = helper.getNode("gate");
    gate.on("input", (msg) => msg.rnn && gate.send(msg));
    const layers = ["layer1", "layer2"].map((id) => helper.getNode(id));
    assert.ok(layers.every((l) => l.rnnApi.getLayer() === null), "no weights before a run");
    const atEpoch = [];
    helper.getNode("epochs").on("input", () => atEpoch.push(layers[0].rnnApi.getLayer() ? JSON.stringify(weightsOf("layer1")) : null));
    const finished = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(300) });
    assert.strictEqual((await finished).payload.reason, "completed");
    assert.strictEqual(atEpoch.length, 4);
    assert.ok(atEpoch[0] !== null, "the weights of the first epoch are in the layer node when its epoch message arrives");
    assert.ok(new Set(atEpoch).size > 1, "the weights are pushed again as training goes on");

    const model = helper.getNode("trainer").rnnApi.getModel().model;
    layers.forEach((l, k) => {
      const held = l.rnnApi.getLayer();
      assert.deepStrictEqual(held.spec, model.layers[k].spec);
      assert.deepStrictEqual(held.names(), model.layers[k].names());
      assert.deepStrictEqual(held.list().map((w) => Array.from(w)), model.layers[k].list().map((w) => Array.from(w)), `${l.id}: the trainer's final weights`);
    });
    await waitFor(() => lastStatus(layers[0]).text === `7 tanh · |W| ${fmt(model.layers[0].weightNorm(), 3)}`, 2000, "layer1's status to show the trained weights' norm");

    // A B×T×I message through the layer nodes, outside training.
    const batch = [[[0.1], [-0.4], [0.9], [0.3], [-1.2]], [[1.5], [0.2], [-0.7], [0], [0.6]]];
    const out1 = nextMessage(helper.getNode("probe1"), 2000);
    const out2 = nextMessage(helper.getNode("probe2"), 2000);
    layers[0].receive({ payload: batch });
    assert.deepStrictEqual((await out1).payload, new Model(model.inputSize, [model.layers[0]]).predict(batch), "the first layer: the core Model of that layer");
    assert.deepStrictEqual((await out2).payload, model.predict(batch), "both layer nodes in turn: the trainer's whole model");
  });

  it("trains with the loss the rnn loss node names in the run message (Huber with its delta): the best validation loss is that loss of the weights kept", async function () {
    // Small enough that errors of the trained network exceed it: the delta changes the value.
    const delta = 0.05;
    await helper.load(NODES, chain({ sequence: { epochs: 3 }, loss: { loss: "huber", delta } }));
    const finished = nextMessage(helper.getNode("done"));
    const series = noisySineSeries(300);
    helper.getNode("seq").receive({ topic: "train", payload: series });
    const done = (await finished).payload;
    assert.strictEqual(done.reason, "completed");
    const huberOf = (k) => (d) => (Math.abs(d) <= k ? 0.5 * d * d : k * (Math.abs(d) - 0.5 * k));
    const held = heldWeightsValLoss(series, huberOf(delta));
    assert.ok(Math.abs(held - done.bestValLoss) < 1e-9 * Math.max(1, held), `Huber(${delta}) of the held weights ${held} vs best ${done.bestValLoss}`);
    assert.ok(Math.abs(heldWeightsValLoss(series) - done.bestValLoss) > 1e-6, "not the mse");
    assert.ok(Math.abs(heldWeightsValLoss(series, huberOf(1)) - done.bestValLoss) > 1e-6, "not Huber with the default delta");
  });

  it("early stopping: with patience 2 and a far too large rate the run ends 'early-stopped' 2 epochs after the best, with the best weights put back", async function () {
    await helper.load(NODES, chain({ sequence: { epochs: 60, shuffle: false }, trainer: { optimizer: "sgd", learningRate: 3, patience: 2 } }));
    const epochs = collect(helper.getNode("epochs"));
    const finished = nextMessage(helper.getNode("done"));
    const series = noisySineSeries(200);
    helper.getNode("seq").receive({ topic: "train", payload: series });
    const done = (await finished).payload;
    assert.strictEqual(done.reason, "early-stopped");
    assert.strictEqual(done.epochs, done.bestEpoch + 2);
    assert.strictEqual(epochs.length, done.epochs);
    assert.ok(epochs[epochs.length - 1].payload.valLoss > done.bestValLoss);
    // The validation loss of the weights the layer holds now, computed independently, is the best one.
    const valLoss = heldWeightsValLoss(series);
    assert.ok(Math.abs(valLoss - done.bestValLoss) < 1e-9 * Math.max(1, valLoss), `${valLoss} vs best ${done.bestValLoss}`);
  });
});
