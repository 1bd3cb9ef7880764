"use strict";
// An out-of-range value in an imported flow (the editor's validation can be bypassed by import or
// by the admin API): the node must show a red status, log an error naming the field, and refuse
// every message with done(err) naming the field, which a Catch node receives.
const assert = require("assert");
const { findTicket } = require("../../dist/nodes/shared/runs");
const { helper, NODES, useNodeRedServer, withCatch, collect, statuses, loggedErrors, waitFor, preparedWindows } = require("../helpers/nodes");

const CASES = [
  { type: "rnn-sequence", config: { windowLength: 0 }, field: "windowLength" },
  { type: "rnn-sequence", config: { horizon: 1001 }, field: "horizon" },
  { type: "rnn-sequence", config: { validationSplit: 0.95 }, field: "validationSplit" },
  { type: "rnn-sequence", config: { batchSize: 2.5 }, field: "batchSize" },
  { type: "rnn-sequence", config: { scaling: "log" }, field: "scaling" },
  { type: "rnn-sequence", config: { bufferSize: 20, trainAfter: 50 }, field: "trainAfter" },
  { type: "rnn-sequence", config: { features: "temp, __proto__" }, field: "features" },
  { type: "rnn-sequence", config: { ackTimeout: 0 }, field: "ackTimeout" },
  { type: "rnn-layer", config: { hiddenSize: 2000 }, field: "hiddenSize" },
  { type: "rnn-layer", config: { activation: "softplus" }, field: "activation" },
  { type: "rnn-layer", config: { outputSize: 0, projection: true }, field: "outputSize" },
  { type: "rnn-layer", config: { stateful: "maybe" }, field: "stateful" },
  { type: "rnn-loss", config: { loss: "huber", delta: 0 }, field: "delta" },
  { type: "rnn-loss", config: { loss: "hinge" }, field: "loss" },
  { type: "rnn-trainer", config: { learningRate: 0 }, field: "learningRate" },
  { type: "rnn-trainer", config: { clipNorm: -1 }, field: "clipNorm" },
  { type: "rnn-trainer", config: { truncate: 1.5 }, field: "truncate" },
  { type: "rnn-trainer", config: { saveMode: "sometimes" }, field: "saveMode" },
  { type: "rnn-trainer", config: { modelPath: "../outside.json" }, field: "outside the user directory" },
  { type: "rnn-trainer", config: { threads: 17 }, field: "threads" },
  { type: "rnn-trainer", config: { threads: "two" }, field: "threads" },
  { type: "rnn-predictor", config: { source: "file", steps: 0, modelPath: "m.json" }, field: "steps" },
  { type: "rnn-predictor", config: { source: "file", anomalyFactor: -1, modelPath: "m.json" }, field: "anomalyFactor" },
  { type: "rnn-predictor", config: { source: "file", modelPath: "" }, field: "model file" },
];

describe("rnn nodes: invalid configuration", function () {
  useNodeRedServer();

  for (const c of CASES) {
    it(`${c.type} with ${JSON.stringify(c.config)}: red status, and every message fails naming "${c.field}"`, async function () {
      const flow = withCatch([{ id: "f1", type: "tab" }, { id: "n", z: "f1", type: c.type, ...c.config, wires: c.type === "rnn-trainer" ? [[], [], []] : [[]] }]);
      await helper.load(NODES, flow);
      const n = helper.getNode("n");
      const caught = collect(helper.getNode("errors"));
      assert.deepStrictEqual(statuses(n).pop(), { fill: "red", shape: "ring", text: "invalid config" });
      const logged = loggedErrors("n");
      assert.strictEqual(logged.length, 1, "one error logged at deploy");
      assert.ok(logged[0].startsWith("Invalid configuration: ") && logged[0].includes(c.field), logged[0]);

      // Two messages, including a command, to show that every one ends in done(err).
      n.receive({ payload: 1 });
      n.receive({ topic: "reset" });
      await waitFor(() => caught.length === 2, 2000, "two caught errors");
      for (const m of caught) {
        assert.strictEqual(m.error.source.id, "n");
        assert.ok(m.error.message.includes(c.field), m.error.message);
      }
    });
  }

  it("a valid configuration given as strings (as the editor stores some fields) is accepted", async function () {
    const flow = withCatch([
      { id: "f1", type: "tab" },
      { id: "n", z: "f1", type: "rnn-sequence", windowLength: "4", horizon: "1", scaling: "none", validationSplit: "0", batchSize: "2", epochs: "1", shuffle: "false", seed: "3", bufferSize: "10", trainAfter: "0", wires: [["out"]] },
      { id: "out", z: "f1", type: "helper", wires: [] },
    ]);
    await helper.load(NODES, flow);
    const n = helper.getNode("n");
    assert.notStrictEqual(statuses(n).pop().fill, "red");
    const out = collect(helper.getNode("out"));
    n.receive({ topic: "train", payload: [1, 2, 3, 4, 5, 6] });
    await waitFor(() => out.length === 1, 2000, "the run message");
    // The numbers were read as numbers and "false" as false: the windows and the run's settings.
    const ticket = findTicket(out[0].rnn.run);
    assert.deepStrictEqual(ticket.settings, { epochs: 1, batchSize: 2, shuffle: false, seed: 3 });
    assert.deepStrictEqual(preparedWindows(ticket.data, "train").map((w) => w.input), [[[1], [2], [3], [4]], [[2], [3], [4], [5]]]);
    assert.strictEqual(out[0].payload.windows, 2);
    assert.strictEqual(out[0].payload.validationWindows, 0);
  });
});
