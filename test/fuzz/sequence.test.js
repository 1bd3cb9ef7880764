"use strict";
const assert = require("assert");
const { helper, NODES, useNodeRedServer } = require("../helpers/nodes");
const { feed, printReport, assertClean, observers, withCatalogue, watchProcess, heapBeforeFuzzing, settledHeap, sleep, tick } = require("../helpers/fuzz");

const COUNT = 3000;
const BUFFER = 50;

function flow() {
  return [
    { id: "f1", type: "tab", label: "fuzz" },
    { id: "seq", z: "f1", type: "rnn-sequence", windowLength: 4, horizon: 1, scaling: "zscore", validationSplit: 0.25, batchSize: 4, epochs: 1, shuffle: true, seed: 5, bufferSize: BUFFER, trainAfter: 0, ackTimeout: 30, wires: [["out"]] },
    { id: "out", z: "f1", type: "helper", wires: [] },
    ...observers("seq"),
  ];
}

const COMMANDS = ["train", "stop", "reset"];

/**
 * Messages for a sequence node whose buffer holds single numbers. After a "reset" the next message
 * is a number again, so the buffer's shape (fixed by its first reading) stays "a single number".
 */
function maker() {
  let afterReset = false;
  return function make(fz) {
    let topic = fz.topic(COMMANDS);
    if (afterReset) {
      afterReset = false;
      return { msg: { topic: "sensor", payload: fz.normal() }, expect: "ok" };
    }
    if (topic === "reset") {
      afterReset = true;
      return { msg: { topic, payload: fz.anyJunk() }, expect: "ok", note: "reset" };
    }
    const command = topic === "train" || topic === "stop";
    const r = fz.int(100);
    if (r < 30) {
      if (command) topic = "sensor";
      const payload = fz.chance(0.8) ? fz.normal() * 10 : fz.pick([-0, 0, 1e308, -1e308, 5e-324, 123456789]);
      return { msg: { topic, payload }, expect: "ok", note: "a number reading" };
    }
    if (r < 35) {
      // A whole series: starts a run unless one is going (then "busy"), or the series is too short.
      const series = Array.from({ length: 3 + fz.int(30) }, () => fz.normal());
      return { msg: { topic: "train", payload: series }, expect: "either", note: "train on a series" };
    }
    if (r < 38) return { msg: { topic: fz.pick(["train", "stop"]) }, expect: "either", note: "command without payload" };
    if (r < 43) return { msg: { topic: "train", payload: fz.anyJunk() }, expect: "either", note: "train on junk" };
    if (command) return { msg: { topic, payload: fz.anyJunk() }, expect: "either", note: topic };
    if (r < 50) return { msg: { topic, payload: fz.pick(["12.5", " -3 ", "1e3", ".5"]) }, expect: "error", note: "number as a string" };
    if (r < 55) return { msg: { topic, payload: [fz.normal(), fz.normal()] }, expect: "error", note: "array reading into a number buffer" };
    if (r < 60) return { msg: { topic, payload: { value: fz.normal(), other: 2 } }, expect: "error", note: "object reading into a number buffer" };
    if (r < 63) return { msg: { topic }, expect: "error", note: "no payload" };
    if (r < 66) return { msg: JSON.parse('{"payload": {"__proto__": 1, "value": 2}}'), expect: "error", note: "own __proto__ field" };
    return { msg: { topic, payload: fz.anyJunk() }, expect: "error" };
  };
}

/** reset, 20 readings, train from the buffer: resolves with the first batch sent. */
async function firstBatchFromBuffer(seq, out) {
  seq.receive({ topic: "stop" });
  seq.receive({ topic: "reset" });
  for (let i = 0; i < 20; i++) seq.receive({ payload: Math.sin(i / 3) * 5 + 20 });
  const got = new Promise((resolve) => out.once("input", resolve));
  seq.receive({ topic: "train" });
  const batch = await got;
  seq.receive({ topic: "stop" });
  await tick();
  return { payload: batch.payload, target: batch.target, topic: batch.topic, scaler: batch.rnn.scaler, window: batch.rnn.window, batches: batch.rnn.batches, valBatches: batch.rnn.valBatches };
}

describe("fuzz: rnn sequence", function () {
  this.timeout(60000);
  useNodeRedServer({ userDir: true });

  it("ends every malformed message with done() or a clear error, never throws, stays bounded, and makes the same batches afterwards", async function () {
    const watch = watchProcess();
    try {
      await helper.load(withCatalogue(NODES), flow());
      const seq = helper.getNode("seq");
      const out = helper.getNode("out");
      const before = await firstBatchFromBuffer(seq, out);
      seq.receive({ topic: "reset" });
      seq.receive({ payload: 1 }); // the buffer holds single numbers from here on
      const heapBefore = heapBeforeFuzzing(helper);
      const report = await feed(helper, {
        target: "seq",
        count: COUNT,
        seed: 13,
        make: maker(),
        // As readings, every huge value is refused (too many values, not a number, no numeric
        // field); as training series, the 2,000,000 numbers exceed the row limit.
        huge: (h, fz) => ({ msg: { topic: fz.chance(0.5) ? "train" : "sensor", payload: h.value }, expect: "error" }),
      });
      seq.receive({ topic: "stop" });
      await sleep(20);
      const heapAfter = settledHeap(helper);
      const after = await firstBatchFromBuffer(seq, out);
      printReport("rnn-sequence", report, watch.problems, heapBefore, heapAfter);
      assertClean(assert, report, watch.problems);
      assert.ok(report.tried >= COUNT);
      assert.ok(heapAfter.mb - heapBefore.mb < 64, `heap grew by ${(heapAfter.mb - heapBefore.mb).toFixed(1)} MB`);
      assert.strictEqual(before.topic, "train");
      assert.strictEqual(before.payload.length, 4);
      assert.deepStrictEqual(after, before, "the same readings give the same scaled batch after the fuzzing");
    } finally {
      watch.stop();
    }
  });
});
