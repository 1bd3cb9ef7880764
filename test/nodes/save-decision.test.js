"use strict";
// Retraining must not write a worse model over a better one: a run replaces the model in its file
// only when it scores lower on the run's own validation windows (or Replace is "always"), and the
// done message says which happened, with both scores.
const assert = require("assert");
const fs = require("fs");
const path = require("path");
const { helper, NODES, chain, withCatch, nextMessage, collect, lastStatus, loggedErrors, noisySineSeries, useNodeRedServer } = require("../helpers/nodes");

const SERIES = noisySineSeries(600, 5);
const LAYERS = [{ hiddenSize: 12, projection: true }];
/** A run that learns well, and one that barely moves from a fresh start (one epoch, a tiny rate). */
const GOOD = { sequence: { windowLength: 16, epochs: 8, batchSize: 32 }, trainer: { learningRate: 0.01 } };
const WEAK = { sequence: { windowLength: 16, epochs: 1, batchSize: 32 }, trainer: { learningRate: 0.00001, resume: false } };

function flow(run, trainer = {}, layers = LAYERS) {
  return withCatch(chain({ sequence: run.sequence, layers, trainer: { modelPath: "models/m.json", ...run.trainer, ...trainer }, predictor: {} }));
}

async function train(config) {
  await helper.load(NODES, config);
  const finished = nextMessage(helper.getNode("done"));
  helper.getNode("seq").receive({ topic: "train", payload: SERIES });
  return (await finished).payload;
}

describe("rnn trainer: a run replaces the saved model only when it is better", function () {
  this.timeout(60000);
  const server = useNodeRedServer({ userDir: true });
  const fileOf = () => path.join(server.userDir, "models", "m.json");

  it("a worse run leaves the file as it is and keeps the saved model; the saved model's score is its own best epoch's on the same windows", async function () {
    const first = await train(flow(GOOD));
    assert.strictEqual(first.saved, true);
    assert.match(first.savedReason, /no saved model/);
    assert.strictEqual(first.compared, null);
    // Read once the trainer is closed: the intervals' second save has landed by then.
    await helper.unload();
    const bytes = fs.readFileSync(fileOf());

    const second = await train(flow(WEAK));
    assert.strictEqual(second.saved, false, second.savedReason);
    assert.strictEqual(second.path, null);
    assert.match(second.savedReason, /^not saved: the saved model is as good or better on this run's validation windows \(val rmse [\d.]+ against [\d.]+ for this run\)/);
    assert.ok(fs.readFileSync(fileOf()).equals(bytes), "the file is byte for byte the first run's");
    // Same series, same preparation: the saved model scored on this run's windows is what the
    // first run measured for its best epoch.
    const c = second.compared;
    assert.ok(Math.abs(c.saved.valLoss - first.bestValLoss) < 1e-9 * Math.max(1, first.bestValLoss), `saved ${c.saved.valLoss} vs the first run's best ${first.bestValLoss}`);
    assert.ok(Math.abs(c.saved.rmse - first.metrics.rmse) < 1e-9 * Math.max(1, first.metrics.rmse), `saved rmse ${c.saved.rmse} vs ${first.metrics.rmse}`);
    assert.strictEqual(c.run.valLoss, second.bestValLoss);
    assert.ok(c.run.valLoss > c.saved.valLoss);
    assert.match(lastStatus(helper.getNode("trainer")).text, /^kept saved model · val rmse [\d.]+ \(run [\d.]+\)$/);

    // The saved model stays the trainer's model: a predictor on the trainer forecasts as one on the file.
    const window = SERIES.slice(100, 116);
    const out = helper.getNode("forecasts");
    const got = nextMessage(out, 5000);
    helper.getNode("pred").receive({ payload: window });
    const fromTrainer = (await got).payload;
    await helper.unload();
    await helper.load(NODES, withCatch([{ id: "f1", type: "tab" }, { id: "p", z: "f1", type: "rnn-predictor", source: "file", modelPath: "models/m.json", steps: 1, anomaly: "off", wires: [["o"]] }, { id: "o", z: "f1", type: "helper", wires: [] }]));
    const p = helper.getNode("p");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const got2 = nextMessage(helper.getNode("o"), 5000);
    p.receive({ payload: window });
    assert.strictEqual((await got2).payload, fromTrainer);
    assert.deepStrictEqual(loggedErrors(), []);
  });

  it("a better run replaces it and says by how much; Replace \"always\" writes a worse one too", async function () {
    await train(flow(WEAK));
    await helper.unload();
    const better = await train(flow(GOOD));
    assert.strictEqual(better.saved, true, better.savedReason);
    assert.strictEqual(better.path, fileOf());
    assert.match(better.savedReason, /^saved: better than the saved model on this run's validation windows \(val rmse [\d.]+ against [\d.]+\)$/);
    assert.ok(better.compared.run.valLoss < better.compared.saved.valLoss);
    await helper.unload();
    const bytes = fs.readFileSync(fileOf());

    const always = await train(flow(WEAK, { saveWhen: "always" }));
    assert.strictEqual(always.saved, true);
    assert.strictEqual(always.savedReason, "saved: Replace is set to always");
    assert.strictEqual(always.compared, null);
    assert.ok(!fs.readFileSync(fileOf()).equals(bytes), "the file now holds the weak run");
  });

  it("with save on the best epoch, no epoch of a worse run reaches the file during the run either", async function () {
    await train(flow(GOOD));
    await helper.unload();
    const bytes = fs.readFileSync(fileOf());
    const weakerThree = { sequence: { ...WEAK.sequence, epochs: 3 }, trainer: WEAK.trainer };
    await helper.load(NODES, flow(weakerThree));
    const epochs = collect(helper.getNode("epochs"));
    const finished = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: SERIES });
    const done = (await finished).payload;
    assert.strictEqual(epochs.length, 3);
    assert.strictEqual(done.saved, false);
    await helper.unload();
    assert.ok(fs.readFileSync(fileOf()).equals(bytes));
  });

  it("a saved model that does not fit the chain cannot be compared: the run is saved, and says why", async function () {
    await train(flow(GOOD));
    await helper.unload();
    const other = await train(flow(WEAK, {}, [{ hiddenSize: 5, projection: true }]));
    assert.strictEqual(other.saved, true);
    assert.strictEqual(other.savedReason, "saved: the saved model cannot be compared, its layers have other sizes or activations");
    assert.strictEqual(other.compared, null);
    assert.strictEqual(JSON.parse(fs.readFileSync(fileOf(), "utf8")).layers[0].hiddenSize, 5);
  });
});
