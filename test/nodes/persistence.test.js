"use strict";
// Save and restart: a model trained with a model file survives unloading the flows; a predictor
// reading the file forecasts the same numbers, and a trainer resumes from the saved weights.
// A damaged file is reported and left as it is.
const assert = require("assert");
const fs = require("fs");
const path = require("path");
const { helper, NODES, chain, withCatch, nextMessage, collect, lastStatus, loggedErrors, waitFor, sleep, noisySineSeries, useNodeRedServer } = require("../helpers/nodes");
const { writeModelFile } = require("../helpers/models");

const SEQUENCE = { windowLength: 24, epochs: 6, batchSize: 32 };
const LAYERS = [{ hiddenSize: 16, projection: true }];

function restartFlow(modelPath) {
  const flow = chain({ sequence: SEQUENCE, layers: LAYERS, trainer: { modelPath, resume: true }, predictor: {} });
  flow.push({ id: "pfile", z: "f1", type: "rnn-predictor", source: "file", modelPath, steps: 1, anomalyFactor: 3, x: 500, y: 500, wires: [["fileForecasts"]] });
  flow.push({ id: "fileForecasts", z: "f1", type: "helper", x: 600, y: 500, wires: [] });
  return withCatch(flow);
}

async function forecastOf(predId, outId, window) {
  const out = helper.getNode(outId);
  const next = nextMessage(out, 5000);
  helper.getNode(predId).receive({ payload: window });
  return (await next).payload;
}

describe("rnn nodes: save, restart, resume", function () {
  this.timeout(60000);
  const server = useNodeRedServer({ userDir: true });

  it("after a restart the file predictor forecasts exactly as before, and training resumes from the saved weights", async function () {
    const series = noisySineSeries(800, 3);
    const window = noisySineSeries(900, 3).slice(850, 874);

    // First life: train and save.
    await helper.load(NODES, chain({ sequence: SEQUENCE, layers: LAYERS, trainer: { modelPath: "models/sine.json" }, predictor: {} }));
    const epochs1 = collect(helper.getNode("epochs"));
    const finished = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: series });
    const done = (await finished).payload;
    const file = path.join(server.userDir, "models", "sine.json");
    assert.strictEqual(done.reason, "completed");
    assert.strictEqual(done.path, file);
    const before = await forecastOf("pred", "forecasts", window);
    const saved = JSON.parse(fs.readFileSync(file, "utf8"));
    assert.strictEqual(saved.format, "node-red-rnn/model");
    assert.deepStrictEqual(saved.window, { length: 24, horizon: 1, features: ["value"], targets: ["value"] });
    await helper.unload();

    // Second life: the same path in a predictor (from the file) and a resuming trainer.
    await helper.load(NODES, restartFlow("models/sine.json"));
    const pfile = helper.getNode("pfile");
    await waitFor(() => lastStatus(pfile)?.text === "ready", 5000, "the file predictor to load");
    await waitFor(() => lastStatus(helper.getNode("trainer"))?.text === "model loaded", 5000, "the trainer to load");
    const fromFile = await forecastOf("pfile", "fileForecasts", window);
    assert.strictEqual(fromFile, before, "the file predictor gives the same forecast as before the restart");
    const fromTrainer = await forecastOf("pred", "forecasts", window);
    assert.strictEqual(fromTrainer, before, "a predictor on the resuming trainer, before any training, uses the loaded model");

    const epochs2 = collect(helper.getNode("epochs"));
    const finished2 = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: series });
    assert.strictEqual((await finished2).payload.reason, "completed");
    const fresh = epochs1[0].payload.loss, resumed = epochs2[0].payload.loss;
    console.log(`      first-epoch loss: fresh start ${fresh.toFixed(4)}, resumed ${resumed.toFixed(4)}`);
    assert.ok(resumed < 0.3 * fresh, `resumed first-epoch loss ${resumed} vs fresh ${fresh}`);
    assert.deepStrictEqual(loggedErrors(), []);
  });

  it("a damaged model file (truncated JSON): clear error, red status, and the file is left byte for byte", async function () {
    const good = JSON.stringify(require("../fixtures/models").makeModel({ inputSize: 1, hidden: [8], outputSize: 1 }));
    const bytes = Buffer.from(good.slice(0, Math.floor(good.length / 2)));
    const file = path.join(server.userDir, writeModelFile(server.userDir, "bad.json", bytes));
    await helper.load(NODES, restartFlow("models/bad.json"));
    const trainer = helper.getNode("trainer"), pfile = helper.getNode("pfile");
    // The file predictor sets no status until its first look at the file has finished.
    await waitFor(() => lastStatus(trainer)?.fill === "red" && lastStatus(pfile)?.fill === "red", 5000, "red statuses");
    assert.deepStrictEqual(lastStatus(trainer), { fill: "red", shape: "ring", text: "model file unreadable" });
    assert.deepStrictEqual(lastStatus(pfile), { fill: "red", shape: "ring", text: "bad model file" });
    const trainerErrors = loggedErrors("trainer");
    assert.strictEqual(trainerErrors.length, 1);
    assert.match(trainerErrors[0], /^Could not load the model: .*bad\.json/);
    assert.match(loggedErrors("pfile")[0], /^Could not load the model: .*bad\.json/);
    const caught = collect(helper.getNode("errors"));
    pfile.receive({ payload: noisySineSeries(24) });
    await waitFor(() => caught.length === 1, 2000, "an error from the file predictor");
    assert.match(caught[0].error.message, /Could not load the model/);
    await sleep(200);
    assert.ok(fs.readFileSync(file).equals(bytes), "the damaged file is unchanged after deploy");

    // Training with that trainer must not write over the file it could not read either.
    const finished = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(300) });
    const done = (await finished).payload;
    assert.strictEqual(done.reason, "completed");
    assert.strictEqual(done.path, null, "nothing saved");
    await sleep(100);
    assert.ok(fs.readFileSync(file).equals(bytes), "the damaged file is unchanged after training");
    assert.ok(!fs.existsSync(file + ".bak"), "and was not moved to the backup either");
    assert.ok(loggedErrors("trainer").some((e) => /not saving over .*bad\.json/.test(e)), loggedErrors("trainer").join("\n"));
    trainer.receive({ topic: "save" });
    await waitFor(() => caught.length === 2, 2000, "the save command to fail");
    assert.match(caught[1].error.message, /not saving over .*bad\.json: it could not be read when the flow started/);
    assert.ok(fs.readFileSync(file).equals(bytes), "the damaged file is unchanged after a save command");
  });
});
