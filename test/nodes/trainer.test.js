"use strict";
// rnn trainer in a real chain: its commands (save, stop, reset), its reports and its errors.
const assert = require("assert");
const { prepareDataset } = require("../../dist/src");
const plain = require("../helpers/plain-rnn");
const { helper, NODES, useNodeRedServer, chain, withCatch, nextMessage, collect, lastStatus, statuses, waitFor, sleep, noisySineSeries } = require("../helpers/nodes");

/** Validation mse of the weights layer1 holds now, by a naive forward pass over the chain's validation windows. */
function heldWeightsValLoss(series) {
  const data = prepareDataset(series, { length: 12, horizon: 1, scaling: "zscore", validationSplit: 0.2 });
  const layer = helper.getNode("layer1").rnnApi.getLayer();
  const outputs = plain.forward(plain.describe({ layers: [layer] }), data.validation.inputs).outputs;
  let sum = 0;
  outputs.forEach((seq, b) => {
    const d = seq[seq.length - 1][0] - data.validation.targets[b][seq.length - 1][0];
    sum += d * d;
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
    assert.deepStrictEqual(chart.map((m) => `${m.topic}@${m.epoch}`), ["loss@1", "valLoss@1", "loss@2", "valLoss@2", "loss@3", "valLoss@3", "loss@4", "valLoss@4"]);
    assert.strictEqual(chart[1].payload, epochs[0].payload.valLoss);
    const best = epochs.reduce((a, m) => (m.payload.valLoss < a.payload.valLoss ? m : a));
    const { metrics, baselines, beatsBaseline, intervals, series, ...rest } = done.payload;
    assert.deepStrictEqual(rest, { reason: "completed", epochs: 4, bestEpoch: best.payload.epoch, bestValLoss: best.payload.valLoss, loss: epochs[3].payload.loss, valLoss: epochs[3].payload.valLoss, path: null });
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

  it("'stop' during training ends the run with reason 'stopped', keeps the best weights, and the sequence sends nothing more", async function () {
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
    await helper.load(NODES, chain({ sequence: { epochs: 2 } }));
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

  it("refuses input that is neither a batch nor a command, and a batch that passed no layer; then trains normally", async function () {
    await helper.load(NODES, withCatch(chain({ sequence: { epochs: 1 } })));
    const caught = collect(helper.getNode("errors"));
    const trainer = helper.getNode("trainer");
    trainer.receive({ topic: "hello", payload: 1 });
    trainer.receive({ payload: [[[1]]], rnn: {
      id: "r", phase: "train", epoch: 1, epochs: 1, batch: 1, batches: 1, valBatches: 0, source: "nowhere", layers: [],
      window: { length: 1, horizon: 1, features: ["value"], targets: ["value"] },
      scaler: { kind: "none", features: { offset: [0], scale: [1] }, targets: { offset: [0], scale: [1] } },
    } });
    await waitFor(() => caught.length === 2, 2000, "two errors");
    assert.match(caught[0].error.message, /expected a training batch from rnn loss \(msg.rnn\), or msg.topic "stop", "save" or "reset"/);
    assert.match(caught[1].error.message, /passed no rnn layer/);
    const finished = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(200) });
    assert.strictEqual((await finished).payload.reason, "completed");
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
