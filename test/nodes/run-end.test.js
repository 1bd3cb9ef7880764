"use strict";
// What a trainer says when a run ends, without a Node-RED runtime: the final status for each way a
// run can end, and the done payload, field by field and in order (flows and dashboards read it).
const assert = require("assert");
const path = require("path");
const { donePayload, finalStatus, noBetterWarning, unfinishedPayload } = require(path.join(__dirname, "..", "..", "dist", "nodes", "shared", "runEnd.js"));

/** Names the key and its values, so that a status shows which text it asked for and with what. */
const t = (key, subs) => (subs ? `${key} ${JSON.stringify(subs)}` : key);

/** A comparison with the naive rule at `ratio` (model RMSE / the rule's). */
function comparison(ratio) {
  return { rmse: 2 * ratio, mae: 1.5 * ratio, baseline: "persistence", baselineRmse: 2, ratio };
}

/** A finished run that helps, saved to its file; `over` changes what a test is about. */
function finished(over = {}) {
  return {
    reason: "completed",
    epochs: 5,
    best: { epoch: 4, score: 0.25, comparison: comparison(0.5) },
    last: { loss: 0.2, valLoss: 0.3 },
    comparison: comparison(0.5),
    baselines: null,
    intervals: null,
    series: { rows: 100 },
    threads: 2,
    filePath: "models/m.json",
    saved: true,
    decision: { save: true, reason: "no saved model", compared: null, keep: null },
    ...over,
  };
}

const keptSaved = { save: false, reason: "the saved model is better", compared: { run: { valLoss: 0.3, rmse: null }, saved: { valLoss: 0.1, rmse: 0.75 } }, keep: {} };

describe("rnn trainer: the end of a run (status and done payload)", function () {
  it("a diverged run is a red dot, whatever else it left", function () {
    assert.deepStrictEqual(finalStatus(finished({ reason: "diverged", decision: keptSaved, comparison: comparison(1) }), t), { fill: "red", shape: "dot", text: "status.diverged" });
  });

  it("the saved model kept over the run's: a green ring with both scores, the run's loss when it has no RMSE", function () {
    assert.deepStrictEqual(finalStatus(finished({ decision: keptSaved, comparison: comparison(1) }), t), { fill: "green", shape: "ring", text: 'status.keptSaved {"run":"0.3","saved":"0.75"}' });
  });

  it("a run that does not beat the naive rule by the margin: a yellow dot with the comparison, and a warning that says so", function () {
    const c = comparison(0.99);
    assert.deepStrictEqual(finalStatus(finished({ comparison: c }), t), { fill: "yellow", shape: "dot", text: 'status.compare {"rmse":"1.98","naive":"2"}' });
    assert.strictEqual(noBetterWarning(c, t), 'warnings.noBetter {"rmse":"1.98","baseline":"persistence","naive":"2"}');
  });

  it("a run that beats the naive rule: a green dot with the comparison, and no warning", function () {
    assert.deepStrictEqual(finalStatus(finished(), t), { fill: "green", shape: "dot", text: 'status.compare {"rmse":"1","naive":"2"}' });
    assert.strictEqual(noBetterWarning(comparison(0.5), t), null);
    assert.strictEqual(noBetterWarning(null, t), null);
  });

  it("nothing to compare: a green dot with the best epoch's loss, else the last epoch's", function () {
    assert.deepStrictEqual(finalStatus(finished({ comparison: null }), t), { fill: "green", shape: "dot", text: 'status.best {"loss":"0.25"}' });
    assert.deepStrictEqual(finalStatus(finished({ comparison: null, best: null }), t), { fill: "green", shape: "dot", text: 'status.best {"loss":"0.2"}' });
  });

  it("a failed run's done payload: the epochs it reached, the error, nothing saved", function () {
    const payload = unfinishedPayload("failed", 3, "out of memory", t);
    assert.deepStrictEqual(Object.keys(payload), ["reason", "epochs", "bestEpoch", "bestValLoss", "error", "path", "saved", "savedReason", "compared"]);
    assert.deepStrictEqual(payload, { reason: "failed", epochs: 3, bestEpoch: null, bestValLoss: null, error: "out of memory", path: null, saved: false, savedReason: "saveReasons.nothingToSave", compared: null });
  });

  it("a finished run's done payload: its fields in order, the one-step interval widths, the path only when saved", function () {
    const intervals = { levels: [0.5, 0.9], coverage: [0.5, null], halfWidth: [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]], origins: 40 };
    const payload = donePayload(finished({ intervals }), t);
    assert.deepStrictEqual(Object.keys(payload), ["reason", "epochs", "bestEpoch", "bestValLoss", "loss", "valLoss", "metrics", "baselines", "beatsBaseline", "intervals", "series", "threads", "path", "saved", "savedReason", "compared"]);
    assert.deepStrictEqual(payload, {
      reason: "completed", epochs: 5, bestEpoch: 4, bestValLoss: 0.25, loss: 0.2, valLoss: 0.3, metrics: { rmse: 1, mae: 0.75 }, baselines: null, beatsBaseline: true,
      intervals: { levels: [0.5, 0.9], coverage: [0.5, null], halfWidth: [[1, 2], [7, 8]], steps: 3, origins: 40 },
      series: { rows: 100 }, threads: 2, path: "models/m.json", saved: true, savedReason: "no saved model", compared: null,
    });
    const unsaved = donePayload(finished({ saved: false, decision: null }), t);
    assert.strictEqual(unsaved.path, null);
    assert.strictEqual(unsaved.savedReason, "saveReasons.nothingToSave");
    assert.strictEqual(donePayload(finished({ saved: false, decision: null, filePath: null }), t).savedReason, "saveReasons.noFile");
    assert.strictEqual(donePayload(finished({ comparison: comparison(0.99) }), t).beatsBaseline, false);
  });
});
