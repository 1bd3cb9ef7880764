"use strict";
// Training must never block Node-RED, and a redeploy in the middle of training must leave nothing
// behind: no timers, no errors logged after the close, no crash, and the next flow works.
const assert = require("assert");
const { helper, NODES, useNodeRedServer, chain, nextMessage, collect, sleep, noisySineSeries } = require("../helpers/nodes");

/** Counts of the resource kinds that keep the process alive ("Timeout", "Immediate", …). */
function activeResources() {
  const counts = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] || 0) + 1;
  return counts;
}

/**
 * Log entries at warn level or worse: those the helper's spy saw from call `mark` on, plus those
 * logged after `helper.unload()` (which removes the spy) when `recorder` was installed then.
 */
function problemsLogged(mark, recorder) {
  const spy = helper.log();
  const seen = spy.args.slice(mark).map((a) => a[0]).concat(recorder ? recorder.entries : []);
  return seen.filter((e) => e && e.level <= helper._log.WARN).map((e) => `${e.type || ""} ${e.msg}`);
}

/** Records what reaches Node-RED's log from now on (after an unload, when the helper's spy is gone). */
function recordLog() {
  const log = helper._log;
  const original = log.log;
  const entries = [];
  log.log = function (msg) {
    entries.push(msg);
    return original.apply(this, arguments);
  };
  return { entries, restore: () => { if (log.log !== original) log.log = original; } };
}

describe("rnn nodes: responsiveness and redeploys", function () {
  this.timeout(60000);
  useNodeRedServer({ userDir: true });

  it("while a chain trains (window 24, H = 32, 1,500 points) a 5 ms interval timer is never held up for 250 ms", async function () {
    await helper.load(NODES, chain({ sequence: { windowLength: 24, epochs: 6, batchSize: 32 }, layers: [{ hiddenSize: 32, projection: true }] }));
    const finished = nextMessage(helper.getNode("done"));
    let last = Date.now(), longest = 0, ticks = 0;
    const timer = setInterval(() => {
      const now = Date.now();
      longest = Math.max(longest, now - last);
      last = now;
      ticks++;
    }, 5);
    const started = Date.now();
    helper.getNode("seq").receive({ topic: "train", payload: noisySineSeries(1500) });
    const done = await finished;
    clearInterval(timer);
    const ms = Date.now() - started;
    console.log(`      ${done.payload.epochs} epochs in ${ms} ms; longest gap between 5 ms ticks: ${longest} ms (${ticks} ticks)`);
    assert.strictEqual(done.payload.reason, "completed");
    assert.ok(longest < 250, `the event loop was blocked for ${longest} ms`);
    assert.ok(ticks > ms / 50, "the timer kept running during training");
  });

  it("unloading the flows in the middle of training: no error after the close, no timer left, and a new flow trains", async function () {
    const series = noisySineSeries(1200);
    const flow = () => chain({ sequence: { windowLength: 24, epochs: 500, batchSize: 16 }, layers: [{ hiddenSize: 16, projection: true }], trainer: { modelPath: "models/redeploy.json", saveMode: "every", saveEvery: 1 }, predictor: {} });
    await helper.load(NODES, flow());
    await sleep(20);
    const idle = activeResources();
    const epochs = helper.getNode("epochs");
    helper.getNode("seq").receive({ topic: "train", payload: series });
    await nextMessage(epochs);
    await nextMessage(epochs);
    // Predictions from the live trainer while it trains, too.
    helper.getNode("pred").receive({ payload: series.slice(0, 24) });

    const mark = helper.log().callCount;
    await helper.unload();
    const log = recordLog();
    try {
      await sleep(300);
      const after = activeResources();
      assert.deepStrictEqual(problemsLogged(mark, log), [], "nothing logged at warn or error level during or after the close");
      for (const kind of ["Timeout", "Immediate"]) {
        assert.ok((after[kind] || 0) <= (idle[kind] || 0), `${kind}: ${after[kind] || 0} active after the close, ${idle[kind] || 0} before training`);
      }
    } finally {
      log.restore();
    }

    await helper.load(NODES, chain({ sequence: { windowLength: 24, epochs: 2 }, trainer: { modelPath: "models/redeploy.json" } }));
    const finished = nextMessage(helper.getNode("done"));
    const epochs2 = collect(helper.getNode("epochs"));
    helper.getNode("seq").receive({ topic: "train", payload: series });
    const done = await finished;
    assert.strictEqual(done.payload.reason, "completed");
    assert.strictEqual(epochs2.length, 2);
  });

  it("replacing the flows with a full deploy (setFlows) mid-training stops the old run cleanly", async function () {
    const series = noisySineSeries(800);
    await helper.load(NODES, chain({ sequence: { windowLength: 24, epochs: 500 } }));
    const epochs = helper.getNode("epochs");
    helper.getNode("seq").receive({ topic: "train", payload: series });
    await nextMessage(epochs);
    const mark = helper.log().callCount;
    await helper.setFlows(chain({ sequence: { windowLength: 12, epochs: 2 } }), "full");
    const finished = nextMessage(helper.getNode("done"));
    helper.getNode("seq").receive({ topic: "train", payload: series });
    assert.strictEqual((await finished).payload.reason, "completed");
    await sleep(100);
    assert.deepStrictEqual(problemsLogged(mark), []);
  });
});
