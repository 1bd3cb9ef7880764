"use strict";
// The nodes and the TensorFlow.js layers format: a trainer with "TF.js" on writes its model as
// model.json + weights.bin beside the model file, and a predictor pointed at that model.json
// forecasts what the trained model forecasts; a model.json the package cannot represent is
// reported, naming what it cannot represent, and the node keeps working.
const assert = require("assert");
const fs = require("fs");
const path = require("path");
const { helper, NODES, chain, withCatch, nextMessage, collect, lastStatus, loggedErrors, waitFor, noisySineSeries, useNodeRedServer } = require("../helpers/nodes");

const SEQUENCE = { windowLength: 12, epochs: 3, batchSize: 32 };
const LAYERS = [{ hiddenSize: 6, cell: "lstm" }, { hiddenSize: 4, projection: true }];

function withFilePredictor(flow, modelPath) {
  flow.push({ id: "pfile", z: "f1", type: "rnn-predictor", source: "file", modelPath, steps: 1, anomaly: "off", x: 500, y: 500, wires: [["fileForecasts"]] });
  flow.push({ id: "fileForecasts", z: "f1", type: "helper", x: 600, y: 500, wires: [] });
  return withCatch(flow);
}

describe("rnn nodes: TensorFlow.js export and import", function () {
  this.timeout(60000);
  const server = useNodeRedServer({ userDir: true });

  it("a trainer with TF.js on writes model.json and weights.bin; a predictor on that model.json forecasts as the trained model does", async function () {
    await helper.load(NODES, chain({ sequence: SEQUENCE, layers: LAYERS, trainer: { modelPath: "models/sine.json", exportTfjs: true }, predictor: {} }));
    const finished = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(300, 2) });
    assert.strictEqual((await finished).payload.reason, "completed");
    const folder = path.join(server.userDir, "models", "sine-tfjs");
    await waitFor(() => fs.existsSync(path.join(folder, "model.json")), 5000, "the TensorFlow.js copy");
    const json = JSON.parse(fs.readFileSync(path.join(folder, "model.json"), "utf8"));
    assert.deepStrictEqual(json.modelTopology.config.layers.map((l) => l.class_name), ["LSTM", "SimpleRNN", "Dense"]);
    assert.deepStrictEqual(json.userDefinedMetadata["node-red-rnn"].window.features, ["value"]);
    const window = noisySineSeries(400, 2).slice(350, 362);
    const next = nextMessage(helper.getNode("forecasts"), 5000);
    helper.getNode("pred").receive({ payload: window });
    const trained = (await next).payload;
    await helper.unload();

    await helper.load(NODES, withFilePredictor(chain({ sequence: SEQUENCE, layers: LAYERS, trainer: {}, predictor: {} }), "models/sine-tfjs/model.json"));
    const pfile = helper.getNode("pfile");
    await waitFor(() => lastStatus(pfile)?.text === "ready", 5000, "the predictor to read model.json");
    const out = nextMessage(helper.getNode("fileForecasts"), 5000);
    pfile.receive({ payload: window });
    const fromTfjs = (await out).payload;
    // float32 weights against the float64 model.
    assert.ok(Math.abs(fromTfjs - trained) <= 1e-4 * (1 + Math.abs(trained)), `${fromTfjs} vs ${trained}`);
    assert.deepStrictEqual(loggedErrors(), []);
  });

  it("a model.json that cannot be represented: an error naming it, red status, and messages still answered", async function () {
    const folder = path.join(server.userDir, "models", "bi");
    fs.mkdirSync(folder, { recursive: true });
    const layer = { class_name: "LSTM", config: { name: "lstm", units: 2, recurrent_activation: "sigmoid", batch_input_shape: [null, null, 1] } };
    fs.writeFileSync(path.join(folder, "model.json"), JSON.stringify({ format: "layers-model", modelTopology: { class_name: "Sequential", config: { layers: [{ class_name: "Bidirectional", config: { name: "bi", layer } }] } }, weightsManifest: [] }));
    await helper.load(NODES, withFilePredictor(chain({ sequence: SEQUENCE, layers: LAYERS, trainer: {}, predictor: {} }), "models/bi/model.json"));
    const pfile = helper.getNode("pfile");
    await waitFor(() => lastStatus(pfile)?.fill === "red", 5000, "a red status");
    assert.match(loggedErrors("pfile")[0], /Could not load the model: .*model\.json.*a "Bidirectional" layer cannot be represented/);
    const caught = collect(helper.getNode("errors"));
    pfile.receive({ payload: 1 });
    await waitFor(() => caught.length === 1, 2000, "the message's error");
    assert.match(caught[0].error.message, /Bidirectional/);
  });
});
