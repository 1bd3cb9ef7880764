"use strict";
// Messages in Node-RED can fan out (one output wired to several nodes, or the same node twice) and
// can be dropped. Neither may corrupt training or make the nodes' caches grow: a copy of a batch is
// used once, and a lost batch ends the run through the sequence's watchdog, releasing its caches.
const assert = require("assert");
const { BoundedMap } = require("../../dist/nodes/shared/runtime");
const { helper, NODES, chain, nextMessage, collect, loggedErrors, lastStatus, waitFor, noisySineSeries, useNodeRedServer } = require("../helpers/nodes");

const SERIES = noisySineSeries(400, 5);
const CONFIG = { sequence: { epochs: 4, ackTimeout: 0.5 }, layers: [{ hiddenSize: 8 }, { hiddenSize: 6, projection: true }] };

/**
 * Watches every BoundedMap the nodes create (caches of activations and loss gradients hold 8,
 * per-topic states 1000, the trainer's seen-batches record 64): the largest size each one reached.
 */
function watchCaches() {
  const set = BoundedMap.prototype.set;
  const maps = new Map();
  BoundedMap.prototype.set = function (k, v) {
    set.call(this, k, v);
    maps.set(this, Math.max(maps.get(this) || 0, this.size));
  };
  return {
    /** The batch caches (activations, loss records) the flow has used so far. */
    batchCaches: () => Array.from(maps).filter(([m]) => m.limit === 8).map(([m, max]) => ({ size: m.size, max })),
    restore: () => (BoundedMap.prototype.set = set),
  };
}

/** A helper node that passes messages on, except the ones `keep(n)` refuses (n counts from 1). */
function relay(id, keep = () => true) {
  const node = helper.getNode(id);
  let n = 0;
  node.on("input", (msg) => {
    n++;
    if (keep(n)) node.send(msg);
  });
  return { count: () => n };
}

async function train() {
  const epochs = collect(helper.getNode("epochs"));
  const finished = nextMessage(helper.getNode("done"));
  helper.getNode("seq").receive({ topic: "train", payload: SERIES });
  const done = (await finished).payload;
  const weights = ["layer1", "layer2"].map((id) => helper.getNode(id).rnnApi.getLayer().list().map((w) => Array.from(w)));
  return { done, losses: epochs.map((m) => m.payload.loss), weights };
}

function rewire(flow, id, wires) {
  flow.find((n) => n.id === id).wires = wires;
  return flow;
}

describe("rnn nodes: fan-out and dropped messages", function () {
  this.timeout(60000);
  let caches;
  let reference;
  before(async function () {
    // The run without any fan-out, to compare with.
    await new Promise((resolve) => helper.startServer(resolve));
    await helper.load(NODES, chain(CONFIG));
    reference = await train();
    await helper.unload();
    await new Promise((resolve) => helper.stopServer(resolve));
  });
  useNodeRedServer({ userDir: true, setup: () => (caches = watchCaches()), teardown: () => caches.restore() });

  it("the reference run trains: it completes and the loss falls", function () {
    assert.strictEqual(reference.done.reason, "completed");
    assert.ok(reference.losses[3] < 0.5 * reference.losses[0], `losses ${reference.losses}`);
  });

  it("a layer's output wired to the next layer and to a debug-like node: identical training, caches stay at one batch", async function () {
    const flow = rewire(chain(CONFIG), "layer1", [["layer2", "tap"]]);
    flow.push({ id: "tap", z: "f1", type: "helper", x: 0, y: 0, wires: [] });
    await helper.load(NODES, flow);
    const tapped = collect(helper.getNode("tap"));
    const run = await train();
    assert.strictEqual(run.done.reason, "completed");
    assert.deepStrictEqual(run.losses, reference.losses);
    assert.deepStrictEqual(run.weights, reference.weights, "same final weights as without the fan-out");
    assert.ok(tapped.length > 20);
    const used = caches.batchCaches();
    assert.ok(used.length >= 3, "the layers' and the loss node's caches were seen");
    assert.ok(used.every((c) => c.max <= 1 && c.size === 0), JSON.stringify(used));
  });

  it("the loss node's output reaching the trainer twice (a second path through a relay): each batch is used once", async function () {
    const flow = rewire(chain(CONFIG), "loss", [["trainer", "relay"]]);
    flow.push({ id: "relay", z: "f1", type: "helper", x: 0, y: 0, wires: [["trainer"]] });
    await helper.load(NODES, flow);
    const copies = relay("relay");
    const run = await train();
    assert.strictEqual(run.done.reason, "completed");
    assert.ok(copies.count() > 20, "the trainer did get the copies");
    assert.deepStrictEqual(run.losses, reference.losses);
    assert.deepStrictEqual(run.weights, reference.weights);
    assert.ok(caches.batchCaches().every((c) => c.max <= 1 && c.size === 0), JSON.stringify(caches.batchCaches()));
  });

  for (const [where, after] of [["between the layers", "layer1"], ["between the loss and the trainer", "loss"]]) {
    it(`a batch dropped ${where}: the watchdog ends the run with an error, the caches are emptied, and a new run works`, async function () {
      const next = after === "layer1" ? "layer2" : "trainer";
      const flow = rewire(chain(CONFIG), after, [["drop"]]);
      flow.push({ id: "drop", z: "f1", type: "helper", x: 0, y: 0, wires: [[next]] });
      await helper.load(NODES, flow);
      relay("drop", (n) => n !== 7);
      const finished = nextMessage(helper.getNode("done"), 5000);
      const started = Date.now();
      helper.getNode("seq").receive({ topic: "train", payload: SERIES });
      const done = (await finished).payload;
      assert.strictEqual(done.reason, "stopped");
      const waited = Date.now() - started;
      assert.ok(waited >= 450 && waited < 3000, `ended by the 0.5 s watchdog after ${waited} ms`);
      const errors = loggedErrors("seq");
      assert.strictEqual(errors.length, 1);
      assert.match(errors[0], /no acknowledgement for batch \d+ of epoch 1 within 0.5 s/);
      assert.strictEqual(lastStatus(helper.getNode("seq")).text, "no trainer ack");
      await waitFor(() => caches.batchCaches().every((c) => c.size === 0), 1000, `empty caches: ${JSON.stringify(caches.batchCaches())}`);

      const again = await train();
      assert.strictEqual(again.done.reason, "completed");
      assert.strictEqual(again.losses.length, 4);
    });
  }
});
