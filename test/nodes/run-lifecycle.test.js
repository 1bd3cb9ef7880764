"use strict";
// How runs begin and end between the sequence and the trainer: a new run starts from the configured
// learning rate, and a reset, a stop or a trainer redeploy ends the run at once and quietly.
const assert = require("assert");
const { helper, NODES, useNodeRedServer, chain, nextMessage, collect, loggedErrors, sleep, waitFor, statuses } = require("../helpers/nodes");

const series = (n, k = 1) => Array.from({ length: n }, (_, i) => k * Math.sin(i / 5));

describe("rnn nodes: run lifecycle", function () {
  this.timeout(60000);
  useNodeRedServer();

  it("a learning rate lowered by a diverging run does not carry over into the next run", async function () {
    await helper.load(NODES, chain({ sequence: { scaling: "none", epochs: 2, validationSplit: 0 }, trainer: { clipNorm: 0, learningRate: 0.01 } }));
    const seq = helper.getNode("seq");
    const epochs = collect(helper.getNode("epochs"));
    seq.receive({ topic: "train", payload: series(200, 1e200) });
    await nextMessage(helper.getNode("done"));
    assert.ok(epochs.some((e) => e.payload.lr < 0.01), "the first run lowered its rate");
    epochs.length = 0;
    seq.receive({ topic: "train", payload: series(200) });
    await nextMessage(helper.getNode("done"));
    assert.strictEqual(epochs[0].payload.lr, 0.01);
    assert.ok(epochs[1].payload.loss < epochs[0].payload.loss, "the second run learns");
  });

  it("a trainer reset in the middle of a run ends it without an error", async function () {
    await helper.load(NODES, chain({ sequence: { epochs: 50 } }));
    helper.getNode("seq").receive({ topic: "train", payload: series(400) });
    await nextMessage(helper.getNode("epochs"));
    helper.getNode("trainer").receive({ topic: "reset" });
    await sleep(300);
    assert.deepStrictEqual(loggedErrors(), []);
  });

  it("a stop sent to the sequence while its run message is on its way ends the run without an error; the trainer drops the message", async function () {
    await helper.load(NODES, chain({ sequence: { epochs: 5 } }));
    const seq = helper.getNode("seq");
    const epochs = collect(helper.getNode("epochs"));
    seq.receive({ topic: "train", payload: series(400) });
    // The run message leaves as soon as the series is prepared; stop in that same moment.
    await waitFor(() => statuses(seq).some((s) => /waiting for a trainer/.test(s.text || "")), 10000, "the run message");
    seq.receive({ topic: "stop" });
    await sleep(300);
    assert.deepStrictEqual(loggedErrors(), []);
    assert.strictEqual(epochs.length, 0, "the trainer did not train a stopped run");
    assert.strictEqual(statuses(seq).pop().text, "stopped");
  });

  it("a stop sent to the sequence while the trainer trains its run ends the run after the current minibatch", async function () {
    await helper.load(NODES, chain({ sequence: { epochs: 500 } }));
    const seq = helper.getNode("seq");
    const finished = nextMessage(helper.getNode("done"), 5000);
    seq.receive({ topic: "train", payload: series(400) });
    await nextMessage(helper.getNode("epochs"), 10000);
    seq.receive({ topic: "stop" });
    const done = (await finished).payload;
    assert.strictEqual(done.reason, "stopped");
    assert.ok(done.epochs < 500);
    assert.deepStrictEqual(loggedErrors(), []);
  });

  it("redeploying only the trainer mid-run ends the sequence's run at once instead of waiting for the ack timeout", async function () {
    const flow = chain({ sequence: { epochs: 500, ackTimeout: 30 } });
    await helper.load(NODES, flow);
    const seq = helper.getNode("seq");
    seq.receive({ topic: "train", payload: series(400) });
    await nextMessage(helper.getNode("epochs"));
    const changed = JSON.parse(JSON.stringify(flow));
    changed.find((n) => n.id === "trainer").learningRate = 0.02;
    await helper.setFlows(changed, "nodes");
    await sleep(200);
    // The sequence is free again: a new run starts and trains with the new trainer.
    const again = helper.getNode("seq");
    again.receive({ topic: "train", payload: series(400) });
    const epoch = await nextMessage(helper.getNode("epochs"), 10000);
    assert.strictEqual(epoch.payload.lr, 0.02);
    assert.deepStrictEqual(loggedErrors().filter((m) => /ack/.test(m)), []);
  });
});
