"use strict";
// The one epoch loop (src/trainingLoop.ts), driven over scripted work: what it decides from the
// minibatches' results, independently of any model. Every way of training runs this loop, so
// these are the semantics of Model.fit, the parallel leader and the training session alike.
const assert = require("assert");
const { trainingLoop, runToEnd, MAX_REFUSED_IN_A_ROW, Random, emptyMetricSums, addMetricSums, metricsFromSums } = require("../dist/src");

/**
 * A MinibatchWork whose results are given by functions of (epoch, call): `loss(epoch, i, B)`
 * returns a training loss (NaN = a step the loop must refuse), `valLoss(epoch)` the validation
 * loss, `dh(k, t, i)` the ‖∂L/∂h_t‖² this minibatch adds for layer k. The gradient is always 1,
 * so with SGD and learning rate 0.1 each accepted step lowers the one parameter by 0.1.
 */
class ScriptedWork {
  constructor({ rows, steps = 3, layers = 2, validationRows = 0, loss = () => 1, valLoss = () => 1, dh = () => 0, metrics = null }) {
    Object.assign(this, { rows, steps, layers, validationRows });
    this.script = { loss, valLoss, dh, metrics };
    this.epoch = 0;
    this.calls = [];
    this.validations = [];
  }
  train(order, start, B, grads, dhNormSq) {
    if (start === 0) this.epoch++;
    const i = this.calls.filter((c) => c.epoch === this.epoch).length;
    this.calls.push({ epoch: this.epoch, start, B, rows: Array.from({ length: B }, (_, r) => order[start + r]) });
    const loss = this.script.loss(this.epoch, i, B);
    grads[0][0] = Number.isFinite(loss) ? 1 : NaN;
    if (dhNormSq) for (let k = 0; k < this.layers; k++) for (let t = 0; t < this.steps; t++) dhNormSq[k][t] += Number.isFinite(loss) ? this.script.dh(k, t, this.calls.length - 1) : Infinity;
    return { loss, count: B };
  }
  validate(start, B, sums) {
    this.validations.push({ epoch: this.epoch, start, B });
    const v = this.script.valLoss(this.epoch);
    if (v === null) return;
    sums.loss += v * B;
    sums.count += B;
    if (sums.metrics && this.script.metrics) addMetricSums(sums.metrics, this.script.metrics.pred.slice(start, start + B), this.script.metrics.actual.slice(start, start + B));
  }
}

function fit(work, options, { onEpoch, shouldStop, params = [new Float64Array([0])] } = {}) {
  const seen = [];
  const result = runToEnd(trainingLoop(params, work, { optimizer: "sgd", learningRate: 0.1, ...options }, shouldStop), (info) => {
    seen.push({ info, weight: params[0][0] });
    return onEpoch ? onEpoch(info) : undefined;
  });
  return { result, seen, params };
}

describe("the training loop", function () {
  describe("row order", function () {
    it("shuffles the rows at the start of every epoch with one Random(seed) for the whole fit, in consecutive minibatches", function () {
      const work = new ScriptedWork({ rows: 10 });
      fit(work, { epochs: 3, batchSize: 4, seed: 7 });
      const rng = new Random(7);
      const order = Array.from({ length: 10 }, (_, i) => i);
      for (let epoch = 1; epoch <= 3; epoch++) {
        rng.shuffle(order);
        const calls = work.calls.filter((c) => c.epoch === epoch);
        assert.deepStrictEqual(calls.map((c) => [c.start, c.B]), [[0, 4], [4, 4], [8, 2]], "batches of 4, the last one shorter");
        assert.deepStrictEqual(calls.flatMap((c) => c.rows), order, `epoch ${epoch}: the order of the seeded shuffle`);
      }
    });

    it("without a seed, shuffles as seed 1; shuffle: false keeps the stored order every epoch", function () {
      const seeded = new ScriptedWork({ rows: 6 });
      fit(seeded, { epochs: 1, batchSize: 6 });
      assert.deepStrictEqual(seeded.calls[0].rows, new Random(1).shuffle([0, 1, 2, 3, 4, 5]));
      const kept = new ScriptedWork({ rows: 6 });
      fit(kept, { epochs: 2, batchSize: 6, shuffle: false });
      assert.deepStrictEqual(kept.calls.map((c) => c.rows), [[0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]]);
    });
  });

  describe("an epoch's report", function () {
    it("loss and gradNorm are over the accepted steps: the loss weighted by target count, a minibatch without targets takes no step", function () {
      // Batches of 3, 3, 3 and 1 rows: the second without targets (count 0), the third refused.
      const work = new ScriptedWork({ rows: 10, loss: (e, i) => [2, 1, NaN, 5][i] });
      work.train = ((train) => function (order, start, B, grads, dh) {
        const r = train.call(this, order, start, B, grads, dh);
        return start === 3 ? { loss: 0, count: 0 } : r;
      })(work.train);
      const { result, params } = fit(work, { epochs: 1, batchSize: 3, shuffle: false });
      const [e] = result.history;
      assert.strictEqual(e.loss, (2 * 3 + 5 * 1) / 4, "the accepted steps' losses, weighted by their counts");
      assert.strictEqual(e.skipped, 1);
      assert.strictEqual(e.gradNorm, 1);
      // The refused step put back the weights from before the first step and halved the rate
      // (ParameterUpdater); the last step then took 0.05. A step on the batch without targets
      // would have left -0.15.
      assert.strictEqual(e.learningRate, 0.05);
      assert.ok(Math.abs(params[0][0] + 0.05) < 1e-15, `weight ${params[0][0]}`);
    });

    it("‖∂L/∂h_t‖ is the root mean square over the accepted steps only, for every layer; dhNorm is the first layer's", function () {
      const dh = (k, t, i) => (k + 1) * (t + 1) * (i + 1);
      // 4 minibatches, the third refused: its (infinite) contribution must not reach the report.
      const work = new ScriptedWork({ rows: 8, steps: 3, layers: 2, loss: (e, i) => (i === 2 ? NaN : 1), dh });
      const { result } = fit(work, { epochs: 1, batchSize: 2, shuffle: false, gradientReport: true });
      const [e] = result.history;
      assert.strictEqual(e.dhNormLayers.length, 2);
      for (let k = 0; k < 2; k++) {
        for (let t = 0; t < 3; t++) {
          const expected = Math.sqrt((dh(k, t, 0) + dh(k, t, 1) + dh(k, t, 3)) / 3);
          assert.ok(Math.abs(e.dhNormLayers[k][t] - expected) < 1e-12, `layer ${k} step ${t}: ${e.dhNormLayers[k][t]} vs ${expected}`);
        }
      }
      assert.deepStrictEqual(e.dhNorm, e.dhNormLayers[0]);
      const none = fit(new ScriptedWork({ rows: 2 }), { epochs: 1 }).result.history[0];
      assert.ok(!("dhNormLayers" in none) && !("dhNorm" in none), "no gradient report unless asked");
    });
  });

  describe("refused steps", function () {
    it(`after MAX_REFUSED_IN_A_ROW (${MAX_REFUSED_IN_A_ROW}) refusals in a row, counted across epochs, the epoch ends, is reported, and the fit ends "diverged"`, function () {
      assert.strictEqual(MAX_REFUSED_IN_A_ROW, 20);
      const work = new ScriptedWork({ rows: 7, validationRows: 2, loss: () => NaN });
      const { result, seen } = fit(work, { epochs: 10, batchSize: 1 });
      assert.strictEqual(result.reason, "diverged");
      assert.strictEqual(work.calls.length, 20);
      assert.deepStrictEqual(result.history.map((e) => e.skipped), [7, 7, 6]);
      assert.deepStrictEqual(seen.map((s) => s.info.epoch), [1, 2, 3], "the last, cut-short epoch is reported too");
      assert.strictEqual(work.validations.filter((v) => v.epoch === 3).length, 2, "and validated (2 rows in chunks of 1)");
      assert.ok(Number.isNaN(result.history[0].loss) && Number.isNaN(result.history[0].gradNorm));
    });

    it("an accepted step breaks the run of refusals", function () {
      // 19 refused, 1 accepted, 19 refused: never 20 in a row.
      const work = new ScriptedWork({ rows: 39, loss: (e, i) => (i === 19 ? 1 : NaN) });
      const { result } = fit(work, { epochs: 1, batchSize: 1, shuffle: false });
      assert.strictEqual(result.reason, "completed");
      assert.strictEqual(result.history[0].skipped, 38);
    });
  });

  describe("best epoch and early stopping", function () {
    it("the best epoch is the lowest finite score (valLoss ?? loss), flagged in its report and put back at the end", function () {
      const valLosses = [3, 2, Infinity, 2.5, 2, 2.1];
      const work = new ScriptedWork({ rows: 4, validationRows: 3, valLoss: (e) => valLosses[e - 1] });
      const { result, seen, params } = fit(work, { epochs: 6, batchSize: 2 });
      assert.deepStrictEqual(result.history.map((e) => e.best), [true, true, false, false, false, false], "a tie is no new best, infinity never is");
      assert.strictEqual(result.bestEpoch, 2);
      assert.strictEqual(result.bestValLoss, 2);
      assert.strictEqual(params[0][0], seen[1].weight);
      assert.notStrictEqual(seen[1].weight, seen[5].weight);
      const blind = new ScriptedWork({ rows: 4, validationRows: 3, valLoss: () => null, loss: (e) => [4, 3, 5][e - 1] });
      const r = fit(blind, { epochs: 3, batchSize: 4 }).result;
      assert.deepStrictEqual(r.history.map((e) => e.valLoss), [null, null, null], "validation without targets has no loss");
      assert.deepStrictEqual(r.history.map((e) => e.best), [true, true, false], "then the training loss decides");
      assert.strictEqual(r.bestValLoss, null, "and there is no best validation loss");
    });

    it("patience counts the epochs since the best one; with restoreBest the best weights come back, without it the last stay", function () {
      const valLosses = [3, 2, 2.5, 2.2, 1];
      const work = () => new ScriptedWork({ rows: 4, validationRows: 2, valLoss: (e) => valLosses[e - 1] });
      const { result, seen, params } = fit(work(), { epochs: 5, batchSize: 2, patience: 2 });
      assert.strictEqual(result.reason, "early-stopped");
      assert.strictEqual(result.history.length, 4, "epochs 3 and 4 are not better than 2");
      assert.strictEqual(result.bestEpoch, 2);
      assert.strictEqual(params[0][0], seen[1].weight);
      const kept = fit(work(), { epochs: 5, batchSize: 2, patience: 2, restoreBest: false });
      assert.strictEqual(kept.params[0][0], kept.seen[3].weight);
    });

    it("with no finite score at all, patience counts from epoch 0 and nothing is put back", function () {
      const work = new ScriptedWork({ rows: 4, validationRows: 2, valLoss: () => Infinity });
      const { result, seen, params } = fit(work, { epochs: 10, batchSize: 2, patience: 3 });
      assert.strictEqual(result.reason, "early-stopped");
      assert.strictEqual(result.history.length, 3);
      assert.strictEqual(result.bestEpoch, 0);
      assert.strictEqual(result.bestValLoss, null);
      assert.ok(result.history.every((e) => e.best === false));
      assert.strictEqual(params[0][0], seen[2].weight);
      // NaN (no accepted step, no validation) is no score either.
      const refused = fit(new ScriptedWork({ rows: 4, loss: () => NaN }), { epochs: 10, batchSize: 2, patience: 3 }).result;
      assert.deepStrictEqual(refused.history.map((e) => e.best), [false, false, false]);
      assert.strictEqual(refused.bestEpoch, 0);
    });
  });

  describe("stopping", function () {
    it("shouldStop between minibatches ends the fit at once, \"stopped\", and the unfinished epoch is not reported", function () {
      const work = new ScriptedWork({ rows: 10, validationRows: 4 });
      let stop = false;
      work.train = ((train) => function (...args) {
        const r = train.apply(this, args);
        if (this.epoch === 2 && args[1] === 4) stop = true;
        return r;
      })(work.train);
      const { result, seen } = fit(work, { epochs: 5, batchSize: 2 }, { shouldStop: () => stop });
      assert.strictEqual(result.reason, "stopped");
      assert.deepStrictEqual(result.history.map((e) => e.epoch), [1]);
      assert.deepStrictEqual(seen.map((s) => s.info.epoch), [1]);
      assert.strictEqual(work.calls.filter((c) => c.epoch === 2).length, 3, "the minibatch under way is finished, no other starts");
      assert.strictEqual(work.validations.filter((v) => v.epoch === 2).length, 0);
    });

    it("validation runs in chunks of batchSize rows, and a stop between them also leaves the epoch unreported", function () {
      const work = new ScriptedWork({ rows: 4, validationRows: 10 });
      fit(work, { epochs: 1, batchSize: 4 });
      assert.deepStrictEqual(work.validations.map((v) => [v.start, v.B]), [[0, 4], [4, 4], [8, 2]]);
      const stopping = new ScriptedWork({ rows: 4, validationRows: 10 });
      const { result } = fit(stopping, { epochs: 3, batchSize: 4 }, { shouldStop: () => stopping.validations.length === 2 });
      assert.strictEqual(result.reason, "stopped");
      assert.strictEqual(result.history.length, 0);
      assert.strictEqual(stopping.validations.length, 2);
    });

    it("a stop during an epoch's last unit of work lets that epoch finish and be reported, then ends \"stopped\"", function () {
      const work = new ScriptedWork({ rows: 6 });
      const { result } = fit(work, { epochs: 4, batchSize: 2 }, { shouldStop: () => work.calls.length >= 3 });
      assert.strictEqual(result.reason, "stopped");
      assert.deepStrictEqual(result.history.map((e) => e.epoch), [1]);
    });

    it("onEpoch returning false stops after that epoch, which is reported; after the last epoch the fit has completed", function () {
      const work = new ScriptedWork({ rows: 4 });
      const { result } = fit(work, { epochs: 5, batchSize: 2 }, { onEpoch: (e) => e.epoch < 2 });
      assert.strictEqual(result.reason, "stopped");
      assert.deepStrictEqual(result.history.map((e) => e.epoch), [1, 2]);
      assert.strictEqual(work.calls.length, 4);
      const last = fit(new ScriptedWork({ rows: 4 }), { epochs: 2, batchSize: 2 }, { onEpoch: (e) => e.epoch < 2 }).result;
      assert.strictEqual(last.reason, "completed");
      assert.strictEqual(last.history.length, 2);
    });
  });

  describe("validation metrics", function () {
    it("are taken once from the chunks' added sums, only when realUnits asks for them", function () {
      const pred = [1, 2, 3, 4, 5];
      const actual = [1.5, NaN, 2, 0, 4];
      const work = () => new ScriptedWork({ rows: 2, validationRows: 5, metrics: { pred, actual } });
      const { result } = fit(work(), { epochs: 1, batchSize: 2, realUnits: { offset: [0], scale: [1], mape: true } });
      const m = metricsFromSums(addMetricSums(emptyMetricSums(), pred, actual));
      assert.deepStrictEqual(result.history[0].metrics, { mse: m.mse, rmse: m.rmse, mae: m.mae, mape: m.mape });
      assert.strictEqual(fit(work(), { epochs: 1, batchSize: 2 }).result.history[0].metrics, null);
    });
  });
});
