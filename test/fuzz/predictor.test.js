"use strict";
const assert = require("assert");
const path = require("path");
const { helper, NODES, useNodeRedServer } = require("../helpers/nodes");
const { saveOneFeatureModel } = require("../helpers/models");
const { feed, printReport, assertClean, observers, withCatalogue, watchProcess, heapBeforeFuzzing, settledHeap, sleep } = require("../helpers/fuzz");

const COUNT = 3000;
const WINDOW = 8;

function flow() {
  const pred = { z: "f1", type: "rnn-predictor", source: "file", trainer: "", modelPath: "models/small.json", steps: 1, anomalyFactor: 3 };
  return [
    { id: "f1", type: "tab", label: "fuzz" },
    { id: "pred", ...pred, wires: [["out"]] },
    // A twin that only ever sees valid readings: what the fuzzed node must agree with afterwards.
    { id: "twin", ...pred, wires: [["twinOut"]] },
    { id: "out", z: "f1", type: "helper", wires: [] },
    { id: "twinOut", z: "f1", type: "helper", wires: [] },
    ...observers("pred"),
  ];
}

/** Waits until a predictor has read its model file (a whole window then gets a forecast). */
async function untilLoaded(node, out) {
  // One listener for the whole wait: Node-RED's input listeners do not mix well with once/remove.
  let answered = false;
  out.on("input", () => (answered = true));
  for (let i = 0; i < 200 && !answered; i++) {
    node.receive({ topic: "probe", payload: Array.from({ length: WINDOW }, (_, k) => 20 + k) });
    await sleep(25);
  }
  if (!answered) throw new Error("the model file was not loaded");
}

function make(fz) {
  const topic = fz.topic(["reset"]);
  if (topic === "reset") return { msg: { topic, payload: fz.anyJunk() }, expect: "ok", note: "reset" };
  const r = fz.int(100);
  if (r < 30) return { msg: { topic, payload: 20 + 5 * fz.normal() }, expect: "ok", note: "a reading" };
  if (r < 35) return { msg: { topic, payload: fz.pick([String(20 + fz.int(10)), " 21.5 ", "2e1"]) }, expect: "ok", note: "a number as a string" };
  if (r < 38) return { msg: { topic, payload: { value: 20 + fz.normal(), other: "x" } }, expect: "ok", note: "an object reading" };
  if (r < 42) return { msg: { topic, payload: Array.from({ length: WINDOW + fz.int(5) }, () => 20 + 5 * fz.normal()) }, expect: "ok", note: "a whole window" };
  if (r < 44) return { msg: { topic, payload: fz.pick([-0, 0, 1e308, -1e308, 5e-324, 123456789]) }, expect: "either", note: "an extreme reading" };
  if (r < 48) return { msg: { topic, payload: Array.from({ length: WINDOW - 1 - fz.int(WINDOW - 2) }, () => 20) }, expect: "error", note: "a short window" };
  if (r < 52) return { msg: { topic, payload: Array.from({ length: WINDOW }, (_, k) => (k === 3 ? fz.junk() : 20)) }, expect: "either", note: "a window with junk" };
  if (r < 55) return { msg: { topic, payload: { other: 1 } }, expect: "error", note: "an object without the field" };
  if (r < 58) return { msg: { topic }, expect: "error", note: "no payload" };
  if (r < 61) return { msg: JSON.parse('{"payload": {"__proto__": 1, "value": 2}}'), expect: "ok", note: "own __proto__ field beside value" };
  if (r < 64) return { msg: { topic, payload: fz.cyclic() }, expect: "either", note: "cyclic" };
  return { msg: { topic, payload: fz.junk() }, expect: "error" };
}

describe("fuzz: rnn predictor", function () {
  this.timeout(60000);
  const server = useNodeRedServer({ userDir: true });

  it("ends every malformed message with done() or a clear error, never throws, stays bounded, and forecasts like an untouched twin afterwards", async function () {
    const watch = watchProcess();
    try {
      await saveOneFeatureModel(path.join(server.userDir, "models", "small.json"), { hiddenSize: 5, seed: 2, offset: 20, scale: 5, length: WINDOW });
      await helper.load(withCatalogue(NODES), flow());
      const pred = helper.getNode("pred");
      const twin = helper.getNode("twin");
      await untilLoaded(pred, helper.getNode("out"));
      await untilLoaded(twin, helper.getNode("twinOut"));
      const heapBefore = heapBeforeFuzzing(helper);
      const report = await feed(helper, {
        target: "pred",
        count: COUNT,
        seed: 14,
        make,
        // 2,000,000 numbers are a window (its last 8 are used); the rest have no "value" to read.
        huge: (h) => ({ msg: { payload: h.value }, expect: h.name === "2,000,000 numbers" ? "ok" : "error" }),
      });
      const heapAfter = settledHeap(helper);

      // The same 150 readings to both. From reading 9 on, every window and every checked forecast
      // is made of these readings alone; from reading 109 on, so are the last 100 errors behind the
      // running RMS. So the last 42 forecasts (41 readings and one whole window) must be identical.
      const outs = { pred: [], twin: [] };
      helper.getNode("out").on("input", (m) => outs.pred.push(m));
      helper.getNode("twinOut").on("input", (m) => outs.twin.push(m));
      for (let i = 0; i < 150; i++) {
        const v = 20 + 5 * Math.sin(i / 4);
        pred.receive({ topic: "check", payload: v });
        twin.receive({ topic: "check", payload: v });
      }
      const window = Array.from({ length: WINDOW }, (_, k) => 20 + Math.cos(k));
      pred.receive({ topic: "check", payload: window });
      twin.receive({ topic: "check", payload: window });
      await sleep(50);
      printReport("rnn-predictor", report, watch.problems, heapBefore, heapAfter);
      assertClean(assert, report, watch.problems);
      assert.ok(report.tried >= COUNT);
      assert.ok(heapAfter.mb - heapBefore.mb < 64, `heap grew by ${(heapAfter.mb - heapBefore.mb).toFixed(1)} MB`);
      const last = (list) => list.slice(-42).map((m) => ({ payload: m.payload, previous: m.forecast.previous || null }));
      assert.strictEqual(outs.twin.length, 150 - WINDOW + 1 + 1);
      assert.ok(outs.pred.length >= 42);
      assert.deepStrictEqual(last(outs.pred), last(outs.twin), "forecasts, errors and running RMS equal the twin's");
      assert.ok(typeof outs.twin[outs.twin.length - 2].forecast.previous.rms === "number");
    } finally {
      watch.stop();
    }
  });
});
