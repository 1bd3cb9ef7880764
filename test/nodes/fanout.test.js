"use strict";
// Messages in Node-RED can fan out (one output wired to several nodes, or the same node twice) and
// can be dropped. A training run starts with one run message; neither may change what is trained:
// a copy of the run message that reaches a debug-like node costs nothing, a copy that reaches the
// trainer again is ignored, and a run message that is lost on its way ends the run through the
// sequence's watchdog, after which a new run works. (A node that drops msg.rnn on the way is in
// compiled-chain.test.js.)
const assert = require("assert");
const { findTicket } = require("../../dist/nodes/shared/runs");
const { helper, NODES, chain, nextMessage, collect, loggedErrors, lastStatus, waitFor, sleep, noisySineSeries, useNodeRedServer, withCatch } = require("../helpers/nodes");

const SERIES = noisySineSeries(400, 5);
// One worker thread: a fit in two workers shares minibatches out as they come, so two runs agree
// only up to float rounding; with one the same run gives the same bits, and "identical" means it.
const CONFIG = { sequence: { epochs: 4, ackTimeout: 0.5 }, layers: [{ hiddenSize: 8 }, { hiddenSize: 6, projection: true }], trainer: { threads: 1 } };

/** A helper node that passes messages on, except the ones `keep(n, msg)` refuses (n counts from 1). */
function relay(id, keep = () => true) {
  const node = helper.getNode(id);
  let n = 0;
  node.on("input", (msg) => {
    n++;
    if (keep(n, msg)) node.send(msg);
  });
  return { count: () => n };
}

async function train() {
  const epochs = collect(helper.getNode("epochs"));
  const finished = nextMessage(helper.getNode("done"));
  helper.getNode("seq").receive({ topic: "train", payload: SERIES });
  const done = (await finished).payload;
  const weights = ["layer1", "layer2"].map((id) => helper.getNode(id).rnnApi.getLayer().list().map((w) => Array.from(w)));
  helper.getNode("epochs").removeAllListeners("input");
  return { done, losses: epochs.map((m) => m.payload.loss), weights };
}

function rewire(flow, id, wires) {
  flow.find((n) => n.id === id).wires = wires;
  return flow;
}

describe("rnn nodes: fan-out and dropped messages", function () {
  this.timeout(60000);
  let reference;
  before(async function () {
    // The run without any fan-out, to compare with.
    await new Promise((resolve) => helper.startServer(resolve));
    await helper.load(NODES, chain(CONFIG));
    reference = await train();
    await helper.unload();
    await new Promise((resolve) => helper.stopServer(resolve));
  });
  useNodeRedServer({ userDir: true });

  it("the reference run trains: it completes and the loss falls", function () {
    assert.strictEqual(reference.done.reason, "completed");
    assert.strictEqual(reference.losses.length, 4);
    assert.ok(reference.losses[3] < 0.5 * reference.losses[0], `losses ${reference.losses}`);
  });

  it("the run message fanned out after the first layer to the next layer and to a debug-like node: identical training", async function () {
    const flow = rewire(chain(CONFIG), "layer1", [["layer2", "tap"]]);
    flow.push({ id: "tap", z: "f1", type: "helper", x: 0, y: 0, wires: [] });
    await helper.load(NODES, flow);
    const tapped = collect(helper.getNode("tap"));
    const run = await train();
    assert.strictEqual(run.done.reason, "completed");
    assert.deepStrictEqual(run.losses, reference.losses);
    assert.deepStrictEqual(run.weights, reference.weights, "same final weights as without the fan-out");
    assert.strictEqual(tapped.length, 1, "one message per run, not one per batch");
    assert.deepStrictEqual(tapped[0].rnn.layers.map((l) => l.id), ["layer1"], "the tap's copy is not touched by the other branch");
    assert.deepStrictEqual(loggedErrors(), []);
  });

  it("the run message fanned out from the sequence to a debug-like node and the chain: identical training", async function () {
    const flow = rewire(chain(CONFIG), "seq", [["layer1", "tap"]]);
    flow.push({ id: "tap", z: "f1", type: "helper", x: 0, y: 0, wires: [] });
    await helper.load(NODES, flow);
    const tapped = collect(helper.getNode("tap"));
    const run = await train();
    assert.strictEqual(run.done.reason, "completed");
    assert.deepStrictEqual(run.losses, reference.losses);
    assert.deepStrictEqual(run.weights, reference.weights);
    assert.strictEqual(tapped.length, 1);
    assert.deepStrictEqual(tapped[0].rnn.layers, []);
  });

  for (const [when, late] of [["while it trains", false], ["after the run has ended", true]]) {
    it(`the run message reaching the trainer a second time (through a relay) ${when}: the run trains once, identically, without an error`, async function () {
      const flow = rewire(chain(CONFIG), "loss", [["trainer", "relay"]]);
      flow.push({ id: "relay", z: "f1", type: "helper", x: 0, y: 0, wires: [["trainer"]] });
      await helper.load(NODES, withCatch(flow));
      const caught = collect(helper.getNode("errors"));
      const dones = collect(helper.getNode("done"));
      let held = null;
      const copies = relay("relay", (_n, msg) => {
        if (!late) return true;
        held = msg;
        return false;
      });
      const run = await train();
      const after = collect(helper.getNode("epochs"));
      if (late) {
        assert.ok(held, "the relay holds the copy");
        assert.strictEqual(findTicket(held.rnn.run), null, "the run has ended");
        helper.getNode("relay").send(held);
      }
      await sleep(300);
      assert.strictEqual(copies.count(), 1, "the trainer did get a copy");
      assert.strictEqual(run.done.reason, "completed");
      assert.deepStrictEqual(run.losses, reference.losses);
      assert.deepStrictEqual(run.weights, reference.weights);
      assert.strictEqual(dones.length, 1, "one run, one done message");
      assert.strictEqual(after.length, 0, "no epoch of a second run");
      assert.deepStrictEqual(caught.map((m) => m.error.message), []);
      assert.deepStrictEqual(loggedErrors(), []);
      assert.strictEqual(lastStatus(helper.getNode("seq")).text, "done");
    });
  }

  for (const [where, after] of [["between the layers", "layer1"], ["between the loss and the trainer", "loss"]]) {
    it(`the run message dropped ${where}: the sequence's watchdog ends the run with an error, and a new run works`, async function () {
      const next = after === "layer1" ? "layer2" : "trainer";
      const flow = rewire(chain(CONFIG), after, [["drop"]]);
      flow.push({ id: "drop", z: "f1", type: "helper", x: 0, y: 0, wires: [[next]] });
      await helper.load(NODES, flow);
      relay("drop", (n) => n !== 1);
      const seq = helper.getNode("seq");
      const epochs = collect(helper.getNode("epochs"));
      const started = Date.now();
      seq.receive({ topic: "train", payload: SERIES });
      await waitFor(() => lastStatus(seq).fill === "red", 5000, "the sequence's red status");
      const waited = Date.now() - started;
      assert.ok(waited >= 450 && waited < 3000, `ended by the 0.5 s watchdog after ${waited} ms`);
      assert.deepStrictEqual(lastStatus(seq), { fill: "red", shape: "ring", text: "no trainer took the run" });
      const errors = loggedErrors("seq");
      assert.strictEqual(errors.length, 1);
      assert.match(errors[0], /^No rnn trainer took the training run within 0.5 s/);
      assert.strictEqual(epochs.length, 0, "nothing was trained");

      const again = await train();
      assert.strictEqual(again.done.reason, "completed");
      assert.deepStrictEqual(again.losses, reference.losses);
      assert.strictEqual(loggedErrors("seq").length, 1, "no second watchdog error");
    });
  }
});
