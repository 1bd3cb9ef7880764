"use strict";
// What the nodes say at run time, where a scan of the code cannot see it: texts built from values
// (the loss's name in its status, the series summary the sequence logs, the note standing for a
// property cut out of a failed message) read as their catalogue entries, not as code names or keys.
const assert = require("assert");
const { helper, NODES, useNodeRedServer, withCatch, collect, statuses, waitFor, translate } = require("../helpers/nodes");

/** Lines the node with this id logged at info level. */
function infoLines(id) {
  const log = helper.log();
  return log.args.map((a) => a[0]).filter((e) => e && e.level === log.INFO && e.id === id).map((e) => String(e.msg));
}

describe("rnn nodes: run-time texts from the catalogues", function () {
  this.timeout(30000);
  useNodeRedServer();

  for (const [loss, name] of [["mse", "mean squared error (mse)"], ["mae", "mean absolute error (mae)"], ["huber", "Huber"], ["crossentropy", "cross-entropy"]]) {
    it(`rnn loss ${loss}: the idle status names the loss as its dialog does ("${name}")`, async function () {
      await helper.load(NODES, [{ id: "f1", type: "tab" }, { id: "loss", z: "f1", type: "rnn-loss", loss, delta: 1, x: 100, y: 100, wires: [[]] }]);
      assert.strictEqual(translate(`rnn-loss.options.loss.${loss}`), name);
      assert.deepStrictEqual(statuses(helper.getNode("loss"))[0], { fill: "grey", shape: "ring", text: name });
    });
  }

  const sequence = (config) => withCatch([
    { id: "f1", type: "tab" },
    { id: "seq", z: "f1", type: "rnn-sequence", windowLength: 4, horizon: 1, scaling: "none", validationSplit: 0, batchSize: 4, epochs: 1, seed: 1, bufferSize: 1000, trainAfter: 0, ackTimeout: 30, difference: "none", season: "0", timeField: "none", calendar: "none", gaps: "linear", ...config, wires: [["out"]] },
    { id: "out", z: "f1", type: "helper", wires: [] },
  ]);

  async function seriesLine(config, payload) {
    await helper.load(NODES, sequence(config));
    const out = collect(helper.getNode("out"));
    helper.getNode("seq").receive({ topic: "train", payload });
    await waitFor(() => out.length === 1, 10000, "the run message");
    const lines = infoLines("seq");
    assert.strictEqual(lines.length, 1, lines.join("\n"));
    return lines[0];
  }

  it("rnn sequence logs the series summary: rows, season and differencing as set", async function () {
    const line = await seriesLine({}, Array.from({ length: 30 }, (_, i) => Math.sin(i)));
    assert.strictEqual(line, "series: 30 rows · season none · difference none");
  });

  it("rnn sequence logs the series summary: the time step, a filled gap, and the choices made by auto", async function () {
    // 40 hourly readings with hours 20, 21 and 22 missing: one gap, three rows filled.
    const start = Date.UTC(2024, 0, 1);
    const rows = [];
    for (let h = 0; h < 40; h++) if (h < 20 || h > 22) rows.push([new Date(start + h * 3600e3).toISOString(), 10 + (h % 5)]);
    const line = await seriesLine({ timeField: "auto", season: "auto", difference: "auto" }, rows);
    assert.match(line, /^series: 40 rows · step 3600 s, 1 gap\(s\) \(3 rows filled\) · season (none|\d+) \(auto\) · difference (none|first|seasonal|both) \(auto\)$/);
  });

  it("a failed message's property nested too deep is replaced by the catalogue's note", async function () {
    await helper.load(NODES, withCatch([{ id: "f1", type: "tab" }, { id: "loss", z: "f1", type: "rnn-loss", loss: "mse", delta: 1, wires: [[]] }]));
    const caught = collect(helper.getNode("errors"));
    let deep = [1];
    for (let i = 0; i < 600; i++) deep = [deep];
    // No target: the loss node refuses the message, and the copy the Catch node gets leaves `deep` out.
    helper.getNode("loss").receive({ payload: [[[1]]], deep });
    await waitFor(() => caught.length === 1, 5000, "the caught error");
    assert.strictEqual(caught[0].deep, "[removed: nested more than 500 levels deep]");
  });
});
