"use strict";
const assert = require("assert");
const { helper, NODES, useNodeRedServer, chain, nextMessage, noisySineSeries } = require("../helpers/nodes");
const { feed, printReport, assertClean, observers, withCatalogue, watchProcess, heapBeforeFuzzing, settledHeap } = require("../helpers/fuzz");

const IDLE_COUNT = 2000;
const BUSY_COUNT = 1000;
const REAL_IDS = ["seq", "layer1", "loss", "trainer", "epochs"];

function flow() {
  const f = chain({
    sequence: { windowLength: 6, epochs: 3, batchSize: 8, validationSplit: 0.25, seed: 3 },
    layers: [{ hiddenSize: 4, projection: true }],
    trainer: { optimizer: "adam", learningRate: 0.02, patience: 0 },
  });
  // A copy of every batch the trainer gets, to replay real records later.
  f.find((n) => n.id === "loss").wires = [["trainer", "tap"]];
  f.push({ id: "tap", z: "f1", type: "helper", wires: [] });
  return f.concat(observers("trainer"));
}

function maker({ commands, taps }) {
  return function make(fz) {
    const topic = fz.topic(commands);
    const command = topic === "stop" || topic === "reset";
    const r = fz.int(100);
    if (command && r < 50) return { msg: { topic, payload: fz.anyJunk() }, expect: "ok", note: topic };
    if (topic === "save" && r < 50) return { msg: { topic }, expect: "error", note: "save without a model file" };
    // Records of another kind fall through to the commands; a whole record is refused.
    const either = command ? "either" : "error";
    if (r < 30) return { msg: { topic, payload: fz.batch(2, 6, 1), target: fz.batch(2, 6, 1), rnn: fz.forgedRun(REAL_IDS) }, expect: either, note: "forged msg.rnn" };
    if (r < 35) return { msg: { topic, payload: fz.batch(1, 6, 1), rnn: fz.badRun() }, expect: either, note: "msg.rnn of another kind" };
    if (r < 50 && taps.length) {
      const copy = JSON.parse(JSON.stringify(fz.pick(taps)));
      if (fz.chance(0.3)) copy.rnn.epoch += 1;
      if (fz.chance(0.2)) copy.rnn.phase = copy.rnn.phase === "train" ? "validate" : "train";
      // A record already used is ignored (done), any other one refused: neither may change training.
      return { msg: { topic: copy.topic, payload: copy.payload, target: copy.target, rnn: copy.rnn, loss: copy.loss }, expect: "either", note: "replayed real batch" };
    }
    if (r < 55) return { msg: JSON.parse('{"topic": "batch", "rnn": {"__proto__": {"id": "x"}, "phase": "train"}}'), expect: "error", note: "own __proto__ in msg.rnn" };
    return { msg: { topic, payload: fz.anyJunk() }, expect: command ? "ok" : "error" };
  };
}

/** Trains on `series` and resolves with every epoch report (without timings) and the summary. */
async function train(series) {
  const epochs = [];
  const onEpoch = (m) => epochs.push({ ...m.payload, ms: undefined });
  helper.getNode("epochs").on("input", onEpoch);
  const finished = nextMessage(helper.getNode("done"), 50000);
  helper.getNode("seq").receive({ topic: "train", payload: series });
  const done = await finished;
  return { epochs, done: done.payload, stop: () => helper.getNode("epochs").removeListener("input", onEpoch) };
}

describe("fuzz: rnn trainer", function () {
  this.timeout(60000);
  useNodeRedServer({ userDir: true });

  it("ends every malformed or forged message with done() or a clear error, idle and while training, and the run it trains is unchanged", async function () {
    const watch = watchProcess();
    try {
      await helper.load(withCatalogue(NODES), flow());
      const taps = [];
      helper.getNode("tap").on("input", (m) => {
        if (taps.length < 400) taps.push({ topic: m.topic, payload: m.payload, target: m.target, rnn: m.rnn, loss: m.loss });
      });
      const series = noisySineSeries(200, 4);
      const reference = await train(series);
      reference.stop();
      assert.strictEqual(reference.done.reason, "completed");
      assert.strictEqual(reference.epochs.length, 3);

      const heapBefore = heapBeforeFuzzing(helper);
      // Idle: every command, every kind of junk, forged and replayed records.
      const idle = await feed(helper, { target: "trainer", count: IDLE_COUNT, seed: 15, make: maker({ commands: ["stop", "reset", "save"], taps }), huge: (h) => ({ msg: { payload: h.value }, expect: "error" }) });
      printReport("rnn-trainer (idle)", idle, watch.problems);
      assertClean(assert, idle, watch.problems);

      // Busy: the same while a run goes on (no stop or reset, which would end it on purpose).
      helper.getNode("trainer").receive({ topic: "reset" });
      const running = train(series);
      const busy = await feed(helper, { target: "trainer", count: BUSY_COUNT, seed: 16, make: maker({ commands: ["save"], taps }), huge: (h) => ({ msg: { payload: h.value, rnn: { phase: "train" } }, expect: "error" }) });
      const during = await running;
      during.stop();
      const heapAfter = settledHeap(helper);
      printReport("rnn-trainer (training)", busy, watch.problems, heapBefore, heapAfter);
      assertClean(assert, busy, watch.problems);
      assert.ok(idle.tried + busy.tried >= IDLE_COUNT + BUSY_COUNT);
      assert.ok(heapAfter.mb - heapBefore.mb < 64, `heap grew by ${(heapAfter.mb - heapBefore.mb).toFixed(1)} MB`);
      assert.ok(taps.length > 50, "real records were replayed");
      assert.deepStrictEqual(during.epochs, reference.epochs, "every epoch's loss, lr and gradient norm equal the undisturbed run's");
      assert.deepStrictEqual(during.done, reference.done, "the same summary as the undisturbed run");
    } finally {
      watch.stop();
    }
  });
});
