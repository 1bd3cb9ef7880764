"use strict";
// What happens after a run's last epoch: the model file is written at once, then the intervals
// are calibrated in slices; a redeploy in between must not cost the run its file.
const assert = require("assert");
const fs = require("fs");
const path = require("path");
const { helper, NODES, chain, nextMessage, collect, waitFor, noisySineSeries, useNodeRedServer } = require("../helpers/nodes");
const { parseModelText } = require("../../dist/src");

describe("rnn trainer: after the last epoch", function () {
  this.timeout(60000);
  const server = useNodeRedServer({ userDir: true });

  it("a redeploy while the intervals are being calibrated still leaves the run's model in its file", async function () {
    await helper.load(NODES, chain({ sequence: { epochs: 2 }, trainer: { modelPath: "models/end.json", saveMode: "end" } }));
    const file = path.join(server.userDir, "models", "end.json");
    const closed = new Promise((resolve) => {
      helper.getNode("epochs").on("input", (msg) => {
        // The run has just ended and calibration has begun (it yields between slices): close now.
        if (msg.payload.epoch === 2) helper.unload().then(resolve);
      });
    });
    helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(1500) });
    await closed;
    assert.ok(fs.existsSync(file), "the model file was written");
    const saved = parseModelText(fs.readFileSync(file, "utf8"));
    assert.strictEqual(saved.training.stoppedBecause, "completed");
    assert.strictEqual(saved.training.epochs, 2);
  });

  it("the file gets the intervals in a second save once they are calibrated, and the done message reports them", async function () {
    await helper.load(NODES, chain({ sequence: { epochs: 2 }, trainer: { modelPath: "models/iv.json", saveMode: "end" } }));
    const finished = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(600) });
    const done = (await finished).payload;
    assert.ok(done.intervals, "intervals in the done message");
    const file = path.join(server.userDir, "models", "iv.json");
    await waitFor(() => fs.existsSync(file) && parseModelText(fs.readFileSync(file, "utf8")).intervals, 5000, "the intervals in the file");
    assert.deepStrictEqual(parseModelText(fs.readFileSync(file, "utf8")).intervals.coverage, done.intervals.coverage);
  });
});
