"use strict";
// The defects of the old batch-by-batch protocol, each gone by construction now that one run
// message describes the chain and the trainer owns the model: two sequences into one trainer, a
// layer redeployed mid-run, a function node that returns a new message, and the status after reset.
const assert = require("assert");
const { helper, NODES, chain, useNodeRedServer, nextMessage, collect, statuses, lastStatus, loggedErrors, waitFor, sleep, withCatch, placed } = require("../helpers/nodes");

// Node-RED's own function node, from the Node-RED the tests run against (NODE_RED_PATH or the dev dependency).
const path = require("path");
const nodeRedModules = path.resolve(path.dirname(require.resolve(process.env.NODE_RED_PATH || "node-red")), "..", "..");
const functionNode = require(path.join(nodeRedModules, "@node-red/nodes/core/function/10-function.js"));

const series = (n, phase = 0) => Array.from({ length: n }, (_, i) => Math.sin(i / 5 + phase) + 0.1 * Math.sin(i * 1.3));
const warnings = (id) => {
  const log = helper.log();
  return log.args.map((a) => a[0]).filter((e) => e && e.level === log.WARN && e.id === id).map((e) => String(e.msg));
};

describe("rnn nodes: the compiled chain", function () {
  this.timeout(60000);
  useNodeRedServer();

  it("a second sequence wired into a busy trainer is refused with a clear error; the first run goes on to the end", async function () {
    const flow = withCatch(chain({ sequence: { epochs: 40 } }));
    flow.push({ id: "seq2", z: "f1", type: "rnn-sequence", windowLength: 12, validationSplit: 0.2, batchSize: 16, epochs: 3, difference: "none", season: "0", timeField: "none", calendar: "none", x: 10, y: 10, wires: [["layer1"]] });
    await helper.load(NODES, placed(flow));
    const caught = collect(helper.getNode("errors"));
    const epochs = collect(helper.getNode("epochs"));
    const finished = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: series(400) });
    await waitFor(() => epochs.length >= 1, 20000, "the first run's first epoch");
    helper.getNode("seq2").receive({ topic: "train", payload: series(300, 1) });
    await waitFor(() => caught.length > 0, 5000, "the refusal");
    assert.match(caught[0].error.message, /the trainer is busy with another run \(from rnn sequence seq\); send it topic "stop" first/);
    assert.strictEqual(caught[0].error.source.id, "trainer");
    await waitFor(() => /refused/.test(lastStatus(helper.getNode("seq2")).text || ""), 2000, "seq2's status");
    assert.strictEqual(lastStatus(helper.getNode("seq2")).fill, "red");
    const done = (await finished).payload;
    assert.strictEqual(done.reason, "completed");
    assert.strictEqual(done.epochs, 40, "the first run was not disturbed");
    assert.strictEqual(epochs.length, 40);
    // The refused sequence is free again: once the trainer is idle its run trains.
    const second = nextMessage(helper.getNode("done"));
    helper.getNode("seq2").receive({ topic: "train", payload: series(300, 1) });
    assert.strictEqual((await second).payload.reason, "completed");
  });

  it("redeploying a layer with other settings mid-run ends the run at once, naming the layer; a redeploy with the same settings does not", async function () {
    const flow = chain({ sequence: { epochs: 500 } });
    await helper.load(NODES, flow);
    const epochs = collect(helper.getNode("epochs"));
    helper.getNode("seq").receive({ topic: "train", payload: series(400) });
    await waitFor(() => epochs.length >= 2, 20000, "two epochs");
    // Same settings, new name: training goes on.
    const renamed = JSON.parse(JSON.stringify(flow));
    renamed.find((n) => n.id === "layer1").name = "renamed";
    await helper.setFlows(renamed, "nodes");
    const before = epochs.length;
    await waitFor(() => epochs.length >= before + 2, 20000, "training to go on");
    assert.deepStrictEqual(warnings("trainer"), []);
    // Another hidden size: the model being trained is no longer the flow's, the run ends.
    const finished = nextMessage(helper.getNode("done"), 5000);
    const changed = JSON.parse(JSON.stringify(renamed));
    changed.find((n) => n.id === "layer1").hiddenSize = 5;
    const started = Date.now();
    await helper.setFlows(changed, "nodes");
    const done = (await finished).payload;
    assert.strictEqual(done.reason, "stopped");
    assert.ok(Date.now() - started < 3000, `ended after ${Date.now() - started} ms`);
    assert.ok(done.epochs < 500);
    assert.ok(warnings("trainer").some((w) => /the rnn layer "renamed" was redeployed with other settings during training: training stopped; train again/.test(w)), JSON.stringify(warnings("trainer")));
    // The new chain trains from a fresh 5-unit layer.
    const again = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: series(400) });
    await sleep(50);
    helper.getNode("trainer").receive({ topic: "stop" });
    assert.ok(["stopped", "completed"].includes((await again).payload.reason));
    assert.strictEqual(helper.getNode("trainer").rnnApi.getModel().model.layers[0].hiddenSize, 5);
  });

  it("a function node that returns a new message loses msg.rnn: the trainer ends the run at once with an error that says so", async function () {
    const flow = withCatch(chain({ sequence: { epochs: 3, ackTimeout: 30 } }));
    // Between the loss node and the trainer, a function that builds a fresh message.
    flow.find((n) => n.id === "loss").wires = [["fn"]];
    flow.push({ id: "fn", z: "f1", type: "function", func: "return { payload: msg.payload, topic: msg.topic };", outputs: 1, x: 5, y: 5, wires: [["trainer"]] });
    await helper.load([...NODES, functionNode], placed(flow));
    const caught = collect(helper.getNode("errors"));
    const started = Date.now();
    helper.getNode("seq").receive({ topic: "train", payload: series(300) });
    await waitFor(() => caught.length > 0, 5000, "the error");
    assert.ok(Date.now() - started < 3000, "not by the 30 s timeout");
    assert.match(caught[0].error.message, /reached the trainer without msg\.rnn: a node on the way built a new message/);
    await waitFor(() => lastStatus(helper.getNode("seq")).fill === "red", 1000, "the sequence's red status");
    assert.match(lastStatus(helper.getNode("seq")).text, /refused/);
    // The sequence is free for the next run at once.
    helper.getNode("seq").receive({ topic: "train", payload: series(300) });
    await waitFor(() => caught.length > 1, 5000, "the second error");
    assert.doesNotMatch(caught[1].error.message, /in progress/);
  });

  it("after a reset the trainer shows idle and the layers their untrained summary, every time (10 resets mid-run)", async function () {
    await helper.load(NODES, chain({ sequence: { epochs: 500 }, layers: [{ hiddenSize: 8 }, { hiddenSize: 4, projection: true }] }));
    const trainer = helper.getNode("trainer");
    for (let k = 0; k < 10; k++) {
      const epochs = collect(helper.getNode("epochs"));
      helper.getNode("seq").receive({ topic: "train", payload: series(300) });
      await waitFor(() => epochs.length >= 2, 20000, `epochs of run ${k + 1}`);
      trainer.receive({ topic: "reset" });
      // Longer than the status throttle: a stale "epoch n/N" or weight norm would have landed.
      await sleep(350);
      assert.deepStrictEqual(lastStatus(trainer), { fill: "grey", shape: "ring", text: "idle" }, `trainer after reset ${k + 1}`);
      assert.strictEqual(lastStatus(helper.getNode("layer1")).text, "8 tanh", `layer1 after reset ${k + 1}`);
      assert.strictEqual(lastStatus(helper.getNode("layer2")).text, "4 tanh", `layer2 after reset ${k + 1}`);
      assert.strictEqual(trainer.rnnApi.getModel(), null);
      await waitFor(() => !/epoch/.test(lastStatus(helper.getNode("seq")).text || ""), 2000, "the sequence no longer training");
    }
    assert.deepStrictEqual(loggedErrors(), []);
  });
});
