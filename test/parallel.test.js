"use strict";
// Training in worker threads: the parallel fit must end on the weights of the single-threaded
// `Model.fit` (same seed, same row order), report worker failures as rejections, and leave no
// thread behind.
const assert = require("assert");
const workerThreads = require("worker_threads");
const { Model, prepareDataset, toPackedData } = require("../dist/src");
const { ParallelTrainer, fitParallel, chunkRows, chunkRange } = require("../dist/src/parallel");
const { noisySine } = require("./helpers/series");

/** Different code paths group the same sums differently: agreement is to rounding, far below this. */
const TOLERANCE = 1e-9;

function dataset(points = 260, length = 12) {
  return prepareDataset(noisySine(points, { seed: 11 }), { length, horizon: 1, scaling: "zscore", validationSplit: 0.2 });
}

function twoLayerModel() {
  return Model.create({ inputSize: 1, layers: [{ hiddenSize: 6 }, { hiddenSize: 5, outputSize: 1 }], seed: 3 });
}

function maxWeightDiff(a, b) {
  const pa = a.parameters();
  const pb = b.parameters();
  assert.strictEqual(pa.length, pb.length);
  let worst = 0;
  pa.forEach((p, i) => {
    assert.strictEqual(p.length, pb[i].length);
    for (let j = 0; j < p.length; j++) worst = Math.max(worst, Math.abs(p[j] - pb[i][j]));
  });
  return worst;
}

/** Records every Worker the trainer starts (it looks the constructor up at call time). */
function spyOnWorkers() {
  const Original = workerThreads.Worker;
  const started = [];
  workerThreads.Worker = class extends Original {
    constructor(...args) {
      super(...args);
      started.push(this);
    }
  };
  return { started, restore: () => (workerThreads.Worker = Original) };
}

/**
 * A two-worker trainer whose threads are recorded, already running a fit far too long to finish
 * on its own, for the tests that interrupt one.
 */
function longFitOnSpiedWorkers() {
  const spy = spyOnWorkers();
  const trainer = new ParallelTrainer(twoLayerModel(), { workers: 2 });
  // The workers start one turn of the event loop after the other: the spy stays on until they have.
  trainer.ready.then(spy.restore, spy.restore);
  const data = dataset();
  const fit = trainer.fit(data.train, { epochs: 5000, batchSize: 8 });
  return { spy, trainer, data, fit };
}

describe("parallel training (worker threads)", function () {
  this.timeout(60000);

  it("cuts a minibatch into chunks that cover every row once: whole for one thread, about two per thread otherwise, in fours", function () {
    assert.deepStrictEqual(chunkRange(32, chunkRows(32, 1), 0), [0, 32], "one thread takes the minibatch whole");
    for (const [count, parts] of [[32, 2], [128, 2], [7, 2], [1, 2], [24, 3], [2, 4], [1000, 64]]) {
      const chunk = chunkRows(count, parts);
      assert.ok(chunk >= 4 && chunk % 4 === 0, `chunk of ${chunk} rows`);
      const n = Math.ceil(count / chunk);
      assert.ok(n <= 2 * parts, `${n} chunks for ${parts} threads`);
      const ranges = Array.from({ length: n }, (_, c) => chunkRange(count, chunk, c));
      assert.strictEqual(ranges[0][0], 0);
      assert.strictEqual(ranges[n - 1][1], count);
      for (let c = 1; c < n; c++) assert.strictEqual(ranges[c][0], ranges[c - 1][1], "chunks are contiguous");
      assert.ok(ranges.every(([lo, hi]) => hi > lo), "no empty chunk");
    }
  });

  for (const workers of [1, 2, 3]) {
    it(`with ${workers} worker(s), ends on the weights of the single-threaded fit to ${TOLERANCE} (shuffled, validation, a last batch of one row)`, async function () {
      const data = dataset();
      // 199 training windows in batches of 9: the last batch has 1 row (one chunk for several
      // threads); adam and clipping make any difference in the combined gradient show.
      const options = { epochs: 3, batchSize: 9, optimizer: "adam", learningRate: 0.01, clipNorm: 0.5, seed: 4, validation: data.validation, gradientReport: true, truncate: 8 };
      const single = twoLayerModel();
      const expected = single.fit(data.train, options);
      const parallel = twoLayerModel();
      const got = await fitParallel(parallel, data.train, { ...options, workers });
      assert.ok(maxWeightDiff(single, parallel) <= TOLERANCE, `max weight difference ${maxWeightDiff(single, parallel)}`);
      // A lone worker computes each minibatch whole, exactly as Model.fit does.
      if (workers === 1) assert.strictEqual(maxWeightDiff(single, parallel), 0, "one worker reproduces Model.fit bit for bit");
      assert.strictEqual(got.reason, expected.reason);
      assert.strictEqual(got.bestEpoch, expected.bestEpoch);
      assert.strictEqual(got.history.length, expected.history.length);
      got.history.forEach((h, i) => {
        const e = expected.history[i];
        for (const k of ["loss", "valLoss", "gradNorm", "learningRate"]) assert.ok(Math.abs(h[k] - e[k]) <= TOLERANCE, `epoch ${i + 1} ${k}: ${h[k]} vs ${e[k]}`);
        assert.strictEqual(h.skipped, e.skipped);
        assert.strictEqual(h.dhNorm.length, e.dhNorm.length);
        h.dhNorm.forEach((v, t) => assert.ok(Math.abs(v - e.dhNorm[t]) <= TOLERANCE, `dhNorm[${t}] ${v} vs ${e.dhNorm[t]}`));
      });
      assert.ok(Math.abs(got.bestValLoss - expected.bestValLoss) <= TOLERANCE);
      assert.strictEqual(parallel.training.epochs, single.training.epochs);
      assert.strictEqual(parallel.training.bestEpoch, single.training.bestEpoch);
      assert.ok(Math.abs(parallel.training.valLoss - single.training.valLoss) <= TOLERANCE);
    });
  }

  it("is deterministic: the same fit on 2 workers gives the same weights and history, bit for bit, whichever thread takes which chunk", async function () {
    const data = dataset(600, 12);
    const options = { epochs: 3, batchSize: 24, optimizer: "adam", learningRate: 0.01, seed: 5, validation: data.validation, gradientReport: true, realUnits: { offset: [0.5], scale: [3], mape: true } };
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const model = twoLayerModel();
      const result = await fitParallel(model, data.train, { ...options, workers: 2 });
      runs.push({ weights: model.parameters().map((p) => Array.from(p)), history: result.history.map(({ ms, ...e }) => e) });
    }
    for (const r of runs.slice(1)) {
      assert.deepStrictEqual(r.weights, runs[0].weights);
      assert.deepStrictEqual(r.history, runs[0].history);
    }
  });

  it("plain SGD without shuffling, 2 workers: the same weights as the single thread after 40 steps", async function () {
    const data = dataset(300, 24);
    const options = { epochs: 1, batchSize: 5, optimizer: "sgd", learningRate: 0.05, shuffle: false };
    const single = Model.create({ inputSize: 1, layers: [{ hiddenSize: 16, outputSize: 1 }], seed: 9 });
    const parallel = single.clone();
    single.fit(data.train, options);
    const steps = Math.ceil(data.train.inputs.length / options.batchSize);
    assert.ok(steps >= 40, `${steps} steps`);
    await fitParallel(parallel, data.train, { ...options, workers: 2 });
    assert.ok(maxWeightDiff(single, parallel) <= TOLERANCE, `max weight difference ${maxWeightDiff(single, parallel)}`);
    assert.ok(maxWeightDiff(single, single.clone()) === 0);
  });

  it("a trainer can be reused: two fits in a row continue from the trained weights like two fits on one thread", async function () {
    const data = dataset();
    const options = { epochs: 2, batchSize: 16, optimizer: "momentum", learningRate: 0.02, seed: 2 };
    const single = twoLayerModel();
    single.fit(data.train, options);
    single.fit(data.train, { ...options, seed: 3 });
    const parallel = twoLayerModel();
    const trainer = new ParallelTrainer(parallel, { workers: 2 });
    try {
      await trainer.fit(data.train, options);
      await trainer.fit(data.train, { ...options, seed: 3 });
    } finally {
      await trainer.close();
    }
    assert.ok(maxWeightDiff(single, parallel) <= TOLERANCE, `max weight difference ${maxWeightDiff(single, parallel)}`);
  });

  it("onEpoch runs on the calling thread with the model holding that epoch's weights; returning false stops", async function () {
    const data = dataset();
    const options = { epochs: 5, batchSize: 16, optimizer: "adam", learningRate: 0.01, seed: 6, restoreBest: false };
    const reference = [];
    const single = twoLayerModel();
    single.fit(data.train, { ...options, onEpoch: () => void reference.push(single.parameters().map((p) => p.slice())) });
    const parallel = twoLayerModel();
    const seen = [];
    const result = await fitParallel(parallel, data.train, {
      ...options,
      workers: 2,
      onEpoch: (info) => {
        seen.push({ epoch: info.epoch, weights: parallel.parameters().map((p) => p.slice()) });
        return info.epoch < 3;
      },
    });
    assert.strictEqual(result.reason, "stopped");
    assert.deepStrictEqual(seen.map((s) => s.epoch), [1, 2, 3]);
    seen.forEach((s, i) => {
      s.weights.forEach((w, j) => {
        for (let n = 0; n < w.length; n++) assert.ok(Math.abs(w[n] - reference[i][j][n]) <= TOLERANCE, `epoch ${i + 1}, array ${j}[${n}]`);
      });
    });
  });

  it("keeps the calling thread's event loop free during a fit", async function () {
    const data = dataset(2000, 24);
    const model = Model.create({ inputSize: 1, layers: [{ hiddenSize: 32, outputSize: 1 }], seed: 1 });
    const ticks = [];
    const timer = setInterval(() => ticks.push(Date.now()), 5);
    const started = Date.now();
    try {
      await fitParallel(model, data.train, { epochs: 6, batchSize: 32, optimizer: "sgd", learningRate: 0.01, workers: 2 });
    } finally {
      clearInterval(timer);
    }
    const took = Date.now() - started;
    // Loose bounds that only a blocked main thread fails: a synchronous fit of this size would
    // allow no tick at all until it returned.
    assert.ok(took > 100, `the fit took ${took} ms: too short to tell`);
    assert.ok(ticks.length >= took / 5 / 4, `${ticks.length} ticks of a 5 ms timer in ${took} ms`);
    let gap = 0;
    for (let i = 1; i < ticks.length; i++) gap = Math.max(gap, ticks[i] - ticks[i - 1]);
    assert.ok(gap < took / 2, `longest gap between ticks ${gap} ms of ${took} ms`);
  });

  it("stop() ends a running fit after the current minibatch, with reason \"stopped\"", async function () {
    const data = dataset();
    const model = twoLayerModel();
    const trainer = new ParallelTrainer(model, { workers: 2 });
    try {
      const running = trainer.fit(data.train, { epochs: 5000, batchSize: 8, optimizer: "sgd", learningRate: 0.01 });
      assert.strictEqual(trainer.busy, true);
      setTimeout(() => trainer.stop(), 200);
      const result = await running;
      assert.strictEqual(result.reason, "stopped");
      assert.ok(result.history.length < 5000);
      assert.strictEqual(trainer.busy, false);
      for (const p of model.parameters()) assert.ok(p.every(Number.isFinite));
    } finally {
      await trainer.close();
    }
  });

  it("takes packed data for training and validation, and ends on the weights of Model.fit given the same", async function () {
    const data = dataset();
    const options = { epochs: 2, batchSize: 16, optimizer: "adam", learningRate: 0.01, seed: 3, gradientReport: true, realUnits: { offset: [1], scale: [2], mape: true } };
    const single = twoLayerModel();
    const expected = single.fit(data.train, { ...options, validation: data.validation });
    const parallel = twoLayerModel();
    const got = await fitParallel(parallel, toPackedData(data.train, 1, 1, "data"), { ...options, validation: toPackedData(data.validation, 1, 1, "validation"), workers: 2 });
    assert.ok(maxWeightDiff(single, parallel) <= TOLERANCE, `max weight difference ${maxWeightDiff(single, parallel)}`);
    got.history.forEach((h, i) => {
      const e = expected.history[i];
      assert.strictEqual(h.best, e.best);
      for (const k of ["mse", "rmse", "mae", "mape"]) assert.ok(Math.abs(h.metrics[k] - e.metrics[k]) <= TOLERANCE, `epoch ${i + 1} metrics.${k}`);
      e.dhNormLayers.forEach((l, k) => l.forEach((v, t) => assert.ok(Math.abs(h.dhNormLayers[k][t] - v) <= TOLERANCE, `dhNormLayers[${k}][${t}]`)));
    });
    // An empty packed validation set is no validation, in the workers too.
    const none = await fitParallel(twoLayerModel(), data.train, { epochs: 1, validation: { x: new Float64Array(0), target: new Float64Array(0), B: 0, T: 0 }, workers: 1 });
    assert.strictEqual(none.history[0].valLoss, null);
  });

  describe("failures", function () {
    it("an error inside the workers rejects the promise with that error, and the trainer stays usable", async function () {
      const data = dataset();
      const model = twoLayerModel();
      const before = model.parameters().map((p) => p.slice());
      const trainer = new ParallelTrainer(model, { workers: 2 });
      try {
        // The huber threshold is checked where the loss is computed: inside every worker.
        await assert.rejects(trainer.fit(data.train, { epochs: 1, loss: "huber", delta: -1 }), /huber delta must be a positive number/);
        model.parameters().forEach((p, i) => assert.deepStrictEqual(Array.from(p), Array.from(before[i]), "weights untouched by the failed fit"));
        const ok = await trainer.fit(data.train, { epochs: 1, batchSize: 16 });
        assert.strictEqual(ok.reason, "completed");
      } finally {
        await trainer.close();
      }
    });

    it("bad options are rejected before any thread works (as Model.fit throws them)", async function () {
      const data = dataset();
      const trainer = new ParallelTrainer(twoLayerModel(), { workers: 1 });
      try {
        await assert.rejects(trainer.fit(data.train, { batchSize: 0 }), /batchSize must be a positive integer/);
        await assert.rejects(trainer.fit(data.train, { optimizer: "nope" }), /unknown optimizer/);
        await assert.rejects(trainer.fit({ inputs: data.train.inputs, targets: data.train.targets.slice(1) }), /targets/);
        // An option that cannot cross to another thread: the fit rejects and the trainer is free again.
        await assert.rejects(trainer.fit(data.train, { epochs: 1, extra: () => 1 }), /could not be cloned/);
        assert.strictEqual((await trainer.fit(data.train, { epochs: 1 })).reason, "completed");
      } finally {
        await trainer.close();
      }
      assert.throws(() => new ParallelTrainer(twoLayerModel(), { workers: 0 }), /workers must be an integer/);
    });

    it("an error thrown by onEpoch rejects the fit after the workers have stopped", async function () {
      const data = dataset();
      const trainer = new ParallelTrainer(twoLayerModel(), { workers: 2 });
      try {
        let calls = 0;
        const fit = trainer.fit(data.train, {
          epochs: 10,
          batchSize: 16,
          onEpoch: () => {
            calls++;
            throw new Error("callback failed");
          },
        });
        await assert.rejects(fit, /callback failed/);
        assert.strictEqual(calls, 1, "no epoch after the failing callback");
        assert.strictEqual(trainer.busy, false);
      } finally {
        await trainer.close();
      }
    });

    it("a Worker that cannot be created fails ready and the fit (the workers start one turn of the event loop after the other), and the workers already started are terminated", async function () {
      const Original = workerThreads.Worker;
      const started = [];
      let refuseFrom = 0;
      workerThreads.Worker = class extends Original {
        constructor(...args) {
          if (started.length === refuseFrom) throw new Error(`no thread number ${refuseFrom + 1}`);
          super(...args);
          started.push(this);
        }
      };
      let trainer;
      try {
        const first = new ParallelTrainer(twoLayerModel(), { workers: 2 });
        await assert.rejects(first.ready, /no thread number 1/);
        await assert.rejects(first.fit(dataset().train, { epochs: 1 }), /unusable: no thread number 1/);
        assert.strictEqual(started.length, 0);
        refuseFrom = 1;
        trainer = new ParallelTrainer(twoLayerModel(), { workers: 2 });
        await assert.rejects(trainer.ready, /no thread number 2/);
      } finally {
        workerThreads.Worker = Original;
      }
      await assert.rejects(trainer.fit(dataset().train, { epochs: 1 }), /unusable: no thread number 2/);
      assert.strictEqual(started.length, 1);
      await new Promise((r) => started[0].once("exit", r));
      assert.strictEqual(started[0].threadId, -1);
    });

    it("a worker that dies in the middle of a fit rejects the promise instead of hanging or crashing", async function () {
      const { spy, trainer, data, fit } = longFitOnSpiedWorkers();
      setTimeout(() => void spy.started[1].terminate(), 150);
      await assert.rejects(fit, /training worker 1 stopped unexpectedly/);
      await assert.rejects(trainer.fit(data.train, { epochs: 1 }), /unusable/);
      await trainer.close();
      assert.ok(spy.started.every((w) => w.threadId === -1), "every thread has exited");
    });
  });

  describe("no thread left behind", function () {
    it("fitParallel terminates its workers when it resolves and when it rejects", async function () {
      const data = dataset();
      const spy = spyOnWorkers();
      try {
        await fitParallel(twoLayerModel(), data.train, { epochs: 1, workers: 2 });
        await assert.rejects(fitParallel(twoLayerModel(), data.train, { epochs: 1, workers: 2, loss: "huber", delta: 0 }), /huber delta/);
      } finally {
        spy.restore();
      }
      assert.strictEqual(spy.started.length, 4);
      assert.ok(spy.started.every((w) => w.threadId === -1), "every thread has exited");
    });

    it("close() right after fit(), before the workers have started, rejects the fit instead of leaving it waiting", async function () {
      // The workers' exits are not errors once closing; a fit still waiting for them to start
      // used to wait for ever (seen under load, when 150 ms were not enough for them to start).
      this.timeout(15000);
      for (let k = 0; k < 3; k++) {
        const { trainer, fit } = longFitOnSpiedWorkers();
        const closed = trainer.close();
        await assert.rejects(fit, /closed during training/);
        await closed;
      }
    });

    it("close() during a fit rejects it and terminates every thread; a closed trainer refuses new fits", async function () {
      const { spy, trainer, data, fit } = longFitOnSpiedWorkers();
      await new Promise((r) => setTimeout(r, 150));
      const closed = trainer.close();
      await assert.rejects(fit, /closed during training/);
      await closed;
      assert.strictEqual(spy.started.length, 2);
      assert.ok(spy.started.every((w) => w.threadId === -1), "every thread has exited");
      await assert.rejects(trainer.fit(data.train, { epochs: 1 }), /closed/);
      await trainer.close();
    });
  });
});
