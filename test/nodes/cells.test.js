"use strict";
// The gated cells through the nodes: an rnn layer set to LSTM or GRU trains in the trainer's
// workers like an Elman one, the layer nodes hold weights of their own cell, the model file names
// the cells, and the predictor forecasts with exactly that model.
const assert = require("assert");
const fs = require("fs");
const path = require("path");
const { helper, NODES, useNodeRedServer, chain, nextMessage, collect, noisySineSeries, lastStatus } = require("../helpers/nodes");

describe("rnn nodes: LSTM and GRU layers", function () {
  this.timeout(90000);
  const server = useNodeRedServer({ userDir: true });

  it("an LSTM → GRU chain trains, the file records both cells, the predictor forecasts with them", async function () {
    await helper.load(NODES, chain({
      sequence: { windowLength: 12, epochs: 6, batchSize: 32 },
      layers: [{ cell: "lstm", hiddenSize: 8, projection: false, seed: 1 }, { cell: "gru", hiddenSize: 6, projection: true, seed: 2 }],
      trainer: { modelPath: "models/gated.json" },
      predictor: {},
    }));
    const epochs = collect(helper.getNode("epochs"));
    const finished = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(500, 3) });
    const done = (await finished).payload;
    assert.strictEqual(done.reason, "completed", JSON.stringify(done).slice(0, 300));
    const losses = epochs.map((m) => m.payload.loss);
    assert.ok(losses[losses.length - 1] < losses[0], `training loss ${losses[0]} → ${losses[losses.length - 1]}`);

    const first = helper.getNode("layer1").rnnApi.getLayer();
    const second = helper.getNode("layer2").rnnApi.getLayer();
    assert.deepStrictEqual([first.cellName, second.cellName], ["lstm", "gru"]);
    assert.strictEqual(first.stateSize, 16, "the LSTM layer carries h and c");
    assert.match(lastStatus(helper.getNode("layer1")).text, /^LSTM 8 tanh · \|W\| /);

    const { model } = helper.getNode("trainer").rnnApi.getModel();
    assert.deepStrictEqual(model.layers.map((l) => l.cellName), ["lstm", "gru"]);
    // The trainer pushed its weights to the layer nodes: the same numbers.
    model.layers[0].list().forEach((w, i) => assert.deepStrictEqual(Array.from(first.list()[i]), Array.from(w)));

    const file = path.join(server.userDir, "models", "gated.json");
    const saved = JSON.parse(fs.readFileSync(file, "utf8"));
    assert.deepStrictEqual(saved.layers.map((l) => l.type), ["lstm", "gru"]);
    assert.deepStrictEqual(Object.keys(saved.layers[0].weights), ["W_x", "W_h", "bias"]);

    // The predictor uses the trainer's model: its forecast is the core's on the same window.
    const window = noisySineSeries(600, 3).slice(520, 532);
    const next = nextMessage(helper.getNode("forecasts"));
    helper.getNode("pred").receive({ payload: window });
    const forecast = (await next).payload;
    const scaler = model.scaler;
    assert.ok(!model.transform || model.transform.difference === "none", "this check assumes no differencing");
    const scaled = window.map((v) => [(v - scaler.features.offset[0]) / scaler.features.scale[0]]);
    const out = model.predict([scaled])[0];
    const expected = out[11][0] * scaler.targets.scale[0] + scaler.targets.offset[0];
    assert.ok(Math.abs(forecast - expected) < 1e-12, `${forecast} vs ${expected}`);
  });

  it("a flow saved before the Cell setting existed builds Elman layers, as it always did", async function () {
    const flow = chain({ sequence: { windowLength: 8, epochs: 1 }, layers: [{ hiddenSize: 4, projection: true }] });
    for (const n of flow) if (n.type === "rnn-layer") delete n.cell;
    await helper.load(NODES, flow);
    const finished = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(200, 5) });
    await finished;
    const layer = helper.getNode("layer1").rnnApi.getLayer();
    assert.strictEqual(layer.cellName, "elman");
    assert.deepStrictEqual(layer.names(), ["W_xh", "W_hh", "b_h", "W_hy", "b_y"]);
  });

  it("an unknown cell is refused at deploy with a red status, and the layer does not build", async function () {
    await helper.load(NODES, chain({ layers: [{ cell: "transformer" }] }));
    const status = lastStatus(helper.getNode("layer1"));
    assert.strictEqual(status.fill, "red");
  });
});
