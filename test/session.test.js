"use strict";
// TrainingSession: one fit in worker threads or in time slices on the calling thread. Every way
// of training runs the same loop, so Model.fit, ParallelTrainer and the session must agree on the
// whole history and on the weights; the session must also stop, close and fail cleanly.
const assert = require("assert");
const { performance } = require("perf_hooks");
const workerThreads = require("worker_threads");
const { Model, prepareDataset, RnnLayer, toPackedData, TrainingSession } = require("../dist/src");
const { ParallelTrainer } = require("../dist/src/parallel");
const { noisySine } = require("./helpers/series");

/**
 * Agreement required between any two ways of training. Two workers add the threads' sums in a
 * different order than one thread does, which changes the last bits; the differences stay near
 * 1e-15. Relative for values above 1 (mape is in %).
 */
const TOLERANCE = 1e-12;

function close(a, b) {
  if (a === null || b === null) return a === b;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= TOLERANCE * Math.max(1, Math.abs(a));
}

function dataset(points = 260, length = 12) {
  return prepareDataset(noisySine(points, { seed: 11 }), { length, horizon: 1, scaling: "zscore", validationSplit: 0.2 });
}

function twoLayerModel() {
  return Model.create({ inputSize: 1, layers: [{ hiddenSize: 6 }, { hiddenSize: 5, outputSize: 1 }], seed: 3 });
}

function realUnits(data, mape = true) {
  return { offset: data.scaler.targets.offset, scale: data.scaler.targets.scale, mape };
}

function packed(model, d) {
  return toPackedData(d, model.inputSize, model.outputSize, "test");
}

function snapshot(model) {
  return model.parameters().map((p) => Float64Array.from(p));
}

/** Every way of running one fit; each returns the result and the weights seen after every epoch. */
const WAYS = [
  { name: "Model.fit", run: async (model, train, validation, options, onEpoch) => model.fit(train, { ...options, validation, onEpoch }) },
  ...[1, 2].map((workers) => ({
    name: `ParallelTrainer, ${workers} worker${workers > 1 ? "s" : ""}`,
    run: async (model, train, validation, options, onEpoch) => {
      const trainer = new ParallelTrainer(model, { workers });
      try {
        return await trainer.fit(train, { ...options, validation, onEpoch });
      } finally {
        await trainer.close();
      }
    },
  })),
  ...["main", 1, 2].map((threads) => ({
    name: `TrainingSession, threads ${JSON.stringify(threads)}`,
    run: async (model, train, validation, options, onEpoch) => {
      const session = new TrainingSession(model, packed(model, train), packed(model, validation), { ...options, threads });
      assert.strictEqual(session.where, threads === "main" ? "main" : "worker");
      assert.strictEqual(session.workers, threads === "main" ? 0 : threads);
      return session.run(onEpoch);
    },
  })),
];

async function runAll(train, validation, options) {
  const out = [];
  for (const way of WAYS) {
    const model = twoLayerModel();
    const weights = [];
    const result = await way.run(model, train, validation, options, () => void weights.push(snapshot(model)));
    out.push({ name: way.name, model, result, weights });
  }
  return out;
}

function assertWeightsClose(a, b, what) {
  a.forEach((p, i) => {
    for (let j = 0; j < p.length; j++) assert.ok(close(p[j], b[i][j]), `${what}: array ${i}[${j}] ${p[j]} vs ${b[i][j]}`);
  });
}

function assertSameFit(ref, got) {
  const what = `${got.name} vs ${ref.name}`;
  const a = ref.result;
  const b = got.result;
  assert.strictEqual(b.reason, a.reason, `${what}: reason`);
  assert.strictEqual(b.bestEpoch, a.bestEpoch, `${what}: best epoch`);
  assert.ok(close(b.bestValLoss, a.bestValLoss), `${what}: best validation loss ${b.bestValLoss} vs ${a.bestValLoss}`);
  assert.strictEqual(b.history.length, a.history.length, `${what}: epochs`);
  a.history.forEach((e, i) => {
    const h = b.history[i];
    const at = `${what}, epoch ${i + 1}`;
    for (const k of ["epoch", "skipped", "best"]) assert.strictEqual(h[k], e[k], `${at}: ${k}`);
    for (const k of ["loss", "valLoss", "gradNorm", "learningRate"]) assert.ok(close(h[k], e[k]), `${at}: ${k} ${h[k]} vs ${e[k]}`);
    assert.strictEqual(h.metrics === null, e.metrics === null, `${at}: metrics present`);
    if (e.metrics) for (const k of ["mse", "rmse", "mae", "mape"]) assert.ok(close(h.metrics[k], e.metrics[k]), `${at}: metrics.${k} ${h.metrics[k]} vs ${e.metrics[k]}`);
    assert.strictEqual(Boolean(h.dhNormLayers), Boolean(e.dhNormLayers), `${at}: dhNormLayers present`);
    if (e.dhNormLayers) {
      assert.strictEqual(h.dhNormLayers.length, e.dhNormLayers.length);
      e.dhNormLayers.forEach((layer, k) => layer.forEach((v, t) => assert.ok(close(h.dhNormLayers[k][t], v), `${at}: dhNormLayers[${k}][${t}] ${h.dhNormLayers[k][t]} vs ${v}`)));
      assert.deepStrictEqual(h.dhNorm, h.dhNormLayers[0]);
    }
    assertWeightsClose(got.weights[i], ref.weights[i], `${at}, weights in onEpoch`);
  });
  assertWeightsClose(snapshot(got.model), snapshot(ref.model), `${what}, final weights`);
  const [ta, tb] = [ref.model.training, got.model.training];
  assert.deepStrictEqual(Object.keys(tb).sort(), Object.keys(ta).sort(), `${what}: model.training`);
  for (const k of Object.keys(ta)) assert.ok(close(tb[k], ta[k]), `${what}: model.training.${k} ${tb[k]} vs ${ta[k]}`);
}

/** Records every Worker started while it is on (the trainer looks the constructor up at call time). */
function spyOnWorkers(make) {
  const Original = workerThreads.Worker;
  const started = [];
  workerThreads.Worker = make
    ? make(Original, started)
    : class extends Original {
        constructor(...args) {
          super(...args);
          started.push(this);
        }
      };
  return { started, restore: () => (workerThreads.Worker = Original) };
}

function allExited(workers) {
  return workers.every((w) => w.threadId === -1);
}

describe("TrainingSession and every other way of training agree", function () {
  this.timeout(120000);

  it("adam, clipping, truncated BPTT, gradient report, real-unit metrics and early stopping: the same history and weights everywhere", async function () {
    const data = dataset();
    const options = { epochs: 8, batchSize: 9, optimizer: "adam", learningRate: 0.05, clipNorm: 0.5, seed: 4, gradientReport: true, truncate: 8, patience: 2, realUnits: realUnits(data) };
    const fits = await runAll(data.train, data.validation, options);
    const ref = fits[0].result;
    // The scenario must exercise what it names.
    assert.strictEqual(ref.reason, "early-stopped");
    assert.ok(ref.bestEpoch < ref.history.length, "the best weights are put back");
    assert.ok(ref.history.every((e) => e.metrics && e.metrics.mape !== null && e.dhNormLayers.length === 2));
    for (const f of fits.slice(1)) assertSameFit(fits[0], f);
  });

  it("refused steps (training rows whose target is 1e200): the same refusals, ‖∂L/∂h_t‖ reports and weights everywhere", async function () {
    const data = dataset();
    const poisoned = { inputs: data.train.inputs, targets: data.train.targets.map((s, b) => (b % 40 === 7 ? s.map((t) => (t ? [1e200] : null)) : s)) };
    const options = { epochs: 4, batchSize: 16, optimizer: "adam", learningRate: 0.02, seed: 5, gradientReport: true, realUnits: realUnits(data, false) };
    const fits = await runAll(poisoned, data.validation, options);
    const ref = fits[0].result;
    assert.strictEqual(ref.reason, "completed");
    assert.ok(ref.history.every((e) => e.skipped > 0 && e.skipped < 13), `skipped ${ref.history.map((e) => e.skipped)}`);
    assert.ok(ref.history.every((e) => e.dhNormLayers.every((l) => l.every(Number.isFinite))), "refused steps are not in the report");
    assert.ok(ref.history.every((e) => e.metrics.mape === null), "mape: false");
    for (const f of fits.slice(1)) assertSameFit(fits[0], f);
  });

  it("inputs and targets of 1e200: every step refused, the same diverged end everywhere", async function () {
    const data = dataset();
    const huge = { inputs: data.train.inputs.map((s) => s.map(() => [1e200])), targets: data.train.targets.map((s) => s.map((t) => (t ? [1e200] : null))) };
    const options = { epochs: 3, batchSize: 8, optimizer: "sgd", learningRate: 0.1, realUnits: realUnits(data) };
    const fits = await runAll(huge, data.validation, options);
    const ref = fits[0].result;
    assert.strictEqual(ref.reason, "diverged");
    assert.strictEqual(ref.history.length, 1);
    assert.strictEqual(ref.history[0].skipped, 20);
    for (const f of fits.slice(1)) assertSameFit(fits[0], f);
  });

  it("a huge learning rate (sgd, 1e6): steps refused and the rate lowered the same way everywhere", async function () {
    const data = dataset();
    const options = { epochs: 3, batchSize: 12, optimizer: "sgd", learningRate: 1e6, clipNorm: 0, seed: 8 };
    const fits = await runAll(data.train, data.validation, options);
    const ref = fits[0].result;
    assert.ok(ref.history.reduce((n, e) => n + e.skipped, 0) > 0, "some steps were refused");
    for (const f of fits.slice(1)) assertSameFit(fits[0], f);
  });
});

describe("TrainingSession: weights drawn where the fit runs", function () {
  this.timeout(60000);

  it("draws give the weights RnnLayer.create gives (before the first minibatch), on the main thread and in 1 or 2 workers: the fit equals Model.fit of the created model", async function () {
    const data = dataset();
    const specs = [{ inputSize: 1, hiddenSize: 6, activation: "tanh" }, { inputSize: 6, hiddenSize: 5, activation: "tanh", outputSize: 1 }];
    const options = [{ seed: 21, recurrent: "orthogonal" }, { seed: 22, recurrent: "identity" }];
    const created = new Model(1, specs.map((spec, k) => RnnLayer.create(spec, options[k])));
    const fitOptions = { epochs: 2, batchSize: 16, optimizer: "adam", learningRate: 0.01, seed: 5 };
    const expected = created.fit(data.train, { ...fitOptions, validation: data.validation });
    for (const threads of ["main", 1, 2]) {
      const model = new Model(1, specs.map((spec) => RnnLayer.undrawn(spec)));
      assert.ok(model.parameters().every((p) => p.every((v) => v === 0)), "undrawn layers are zeros");
      const draws = options.map((o, layer) => ({ layer, options: o }));
      const result = await new TrainingSession(model, packed(model, data.train), packed(model, data.validation), { ...fitOptions, threads, draws }).run();
      const what = `threads ${JSON.stringify(threads)}`;
      result.history.forEach((e, i) => assert.ok(close(e.loss, expected.history[i].loss), `${what}, epoch ${i + 1}: loss ${e.loss} vs ${expected.history[i].loss}`));
      assertWeightsClose(snapshot(model), snapshot(created), `${what}, final weights`);
    }
  });

  it("a draw that names no layer of the model, or twice the same, or carries an rng, is refused when the session is made", function () {
    const model = twoLayerModel();
    const train = packed(model, dataset().train);
    const make = (draws) => new TrainingSession(model, train, null, { threads: "main", draws });
    assert.throws(() => make([{ layer: 2, options: {} }]), /layer from 0 to 1, got 2/);
    assert.throws(() => make([{ layer: 0, options: {} }, { layer: 0, options: { seed: 2 } }]), /more than one weight draw/);
    assert.throws(() => make([{ layer: 1, options: { rng: {} } }]), /a seed, not an rng/);
  });
});

describe("TrainingSession", function () {
  this.timeout(60000);

  function longSession(threads, extra = {}) {
    const data = dataset();
    const model = twoLayerModel();
    const session = new TrainingSession(model, packed(model, data.train), packed(model, data.validation), { epochs: 5000, batchSize: 8, optimizer: "sgd", learningRate: 0.01, threads, ...extra });
    return { model, session };
  }

  for (const threads of ["main", 1, 2]) {
    it(`threads ${JSON.stringify(threads)}: stop() in the middle of an epoch ends the fit after the current minibatch, "stopped", that epoch unreported`, async function () {
      // Epochs of about a second on the wasm backend (several on the fast one): a stop after
      // 250 ms lands inside the first one.
      const data = dataset(12000, 24);
      const model = Model.create({ inputSize: 1, layers: [{ hiddenSize: 64, outputSize: 1 }], seed: 1 });
      const session = new TrainingSession(model, packed(model, data.train), packed(model, data.validation), { epochs: 3, batchSize: 8, optimizer: "sgd", learningRate: 0.01, threads });
      const seen = [];
      const running = session.run((info) => void seen.push(info.epoch));
      let stoppedAt = 0;
      setTimeout(() => {
        stoppedAt = performance.now();
        session.stop();
      }, 250);
      const result = await running;
      const lag = performance.now() - stoppedAt;
      assert.strictEqual(result.reason, "stopped");
      assert.deepStrictEqual(result.history, [], "the unfinished epoch is not reported");
      assert.deepStrictEqual(seen, []);
      assert.ok(lag < 150, `run() resolved ${lag.toFixed(0)} ms after stop(): more than a minibatch`);
      assert.ok(model.parameters().every((p) => p.every(Number.isFinite)));
      await session.close();
    });

    it(`threads ${JSON.stringify(threads)}: stop() between epochs ends the fit with the finished epochs reported`, async function () {
      const { model, session } = longSession(threads);
      const seen = [];
      const running = session.run((info) => {
        seen.push(info.epoch);
        if (info.epoch === 3) session.stop();
      });
      const result = await running;
      assert.strictEqual(result.reason, "stopped");
      assert.deepStrictEqual(result.history.map((e) => e.epoch), [1, 2, 3]);
      assert.deepStrictEqual(seen, [1, 2, 3]);
      assert.ok(model.parameters().every((p) => p.every(Number.isFinite)));
      await session.close();
    });

    it(`threads ${JSON.stringify(threads)}: onEpoch runs with the model holding that epoch's weights; returning false stops after that epoch`, async function () {
      const data = dataset();
      const options = { epochs: 6, batchSize: 16, optimizer: "adam", learningRate: 0.01, seed: 6, restoreBest: false };
      const reference = twoLayerModel();
      const expected = [];
      reference.fit(data.train, { ...options, onEpoch: () => void expected.push(snapshot(reference)) });
      const model = twoLayerModel();
      const session = new TrainingSession(model, packed(model, data.train), null, { ...options, threads });
      const seen = [];
      const result = await session.run((info) => {
        seen.push(snapshot(model));
        return info.epoch < 2;
      });
      assert.strictEqual(result.reason, "stopped");
      assert.deepStrictEqual(result.history.map((e) => e.epoch), [1, 2]);
      seen.forEach((w, i) => assertWeightsClose(w, expected[i], `epoch ${i + 1}`));
    });

    it(`threads ${JSON.stringify(threads)}: close() during a fit rejects it with an Error saying so, and no worker is left running`, async function () {
      // On until the end: a trainer starts its workers one turn of the event loop after the other.
      const spy = spyOnWorkers();
      let session;
      try {
        session = longSession(threads).session;
        const running = session.run();
        await new Promise((r) => setTimeout(r, 200));
        const closed = session.close();
        await assert.rejects(running, (err) => err instanceof Error && /closed/.test(err.message));
        await closed;
      } finally {
        spy.restore();
      }
      assert.strictEqual(spy.started.length, threads === "main" ? 0 : threads);
      assert.ok(allExited(spy.started), "every worker has exited");
      await session.close();
      await assert.rejects(session.run(), /one fit|closed/);
    });
  }

  it("the workers are terminated when the fit ends; close() afterwards is harmless; a session runs one fit", async function () {
    const data = dataset();
    const model = twoLayerModel();
    const spy = spyOnWorkers();
    let session;
    let result;
    try {
      session = new TrainingSession(model, packed(model, data.train), null, { epochs: 1, threads: 2 });
      result = await session.run();
    } finally {
      spy.restore();
    }
    assert.strictEqual(result.reason, "completed");
    assert.strictEqual(spy.started.length, 2);
    assert.ok(allExited(spy.started), "the workers are gone once run() has resolved");
    await session.close();
    await session.close();
    await assert.rejects(session.run(), /one fit/);
  });

  it("on the main thread, the event loop gets its turn: callbacks scheduled before run() fire before it resolves, no slice is much longer than sliceMs", async function () {
    const data = dataset(600, 24);
    const model = Model.create({ inputSize: 1, layers: [{ hiddenSize: 16, outputSize: 1 }], seed: 2 });
    const train = packed(model, data.train);
    const validation = packed(model, data.validation);
    // The slicing is what is checked, so the arithmetic is the JavaScript kernels', whose minibatch
    // is long enough for one to be a meaningful unit of a 4 ms slice (a wasm minibatch of this task
    // is a few hundredths of a millisecond, and a slice is then made of epoch-end work).
    const options = { epochs: 10, batchSize: 8, optimizer: "sgd", learningRate: 0.01, backend: "fast" };
    // How long one minibatch takes here, measured on a model of its own (warm code).
    const probe = model.clone();
    probe.fit(train, { ...options, epochs: 2 });
    const t0 = performance.now();
    const r = probe.fit(train, { ...options, epochs: 2, validation });
    const units = r.history.length * (Math.ceil(train.B / 8) + Math.ceil(validation.B / 8));
    const unitMs = (performance.now() - t0) / units;

    const sliceMs = 4;
    const session = new TrainingSession(model, train, validation, { ...options, threads: "main", sliceMs });
    const fired = [];
    setImmediate(() => fired.push("immediate"));
    setTimeout(() => fired.push("timeout"), 0);
    // A chain of immediates: the gap between two is how long the loop was held in between.
    const ticks = [];
    let ticking = true;
    const tick = () => {
      ticks.push(performance.now());
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const started = performance.now();
    const result = await session.run(() => void fired.push("epoch"));
    const took = performance.now() - started;
    ticking = false;
    assert.strictEqual(result.reason, "completed");
    assert.ok(took > 50, `the fit took ${took.toFixed(1)} ms: too short to tell`);
    // run() yields before it trains at all, so the immediate comes before the first epoch; a 0 ms
    // timer fires after at least 1 ms, which the first slice may outlast, so it is only required
    // before run() resolves.
    assert.ok(fired.indexOf("immediate") < fired.indexOf("epoch"), `order: ${fired.slice(0, 4)}`);
    assert.ok(fired.includes("timeout"), `order: ${fired.slice(0, 4)}`);
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]).sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)];
    const long = gaps.filter((g) => g > sliceMs + unitMs + 3);
    // sliceMs plus one unit of work is the design. A few turns may run long (garbage collection,
    // code still being optimised in the first slices); the margins are for those.
    assert.ok(gaps.length >= took / (sliceMs + unitMs) / 2, `${gaps.length} turns of the event loop in ${took.toFixed(0)} ms`);
    assert.ok(median <= sliceMs + unitMs + 1, `median slice ${median.toFixed(2)} ms (sliceMs ${sliceMs}, one minibatch ${unitMs.toFixed(2)} ms)`);
    assert.ok(long.length <= Math.max(3, gaps.length / 10), `${long.length} of ${gaps.length} slices longer than ${(sliceMs + unitMs + 3).toFixed(1)} ms: ${long.map((g) => g.toFixed(1))}`);
    assert.ok(gaps[gaps.length - 1] < 100, `longest slice ${gaps[gaps.length - 1].toFixed(1)} ms`);
  });

  it("the main thread and the workers start from and end on the same model, and options are checked before training", async function () {
    const data = dataset();
    const model = twoLayerModel();
    await assert.rejects(new TrainingSession(model, packed(model, data.train), null, { threads: "main", batchSize: 0 }).run(), /batchSize must be a positive integer/);
    const w = new TrainingSession(model, packed(model, data.train), null, { threads: 1, realUnits: { offset: [0, 1], scale: [1, 1], mape: true } });
    await assert.rejects(w.run(), /realUnits needs one offset and one scale per output column/);
    await w.close();
    assert.throws(() => new TrainingSession(model, packed(model, data.train), null, { threads: 0 }), /threads must be/);
    assert.throws(() => new TrainingSession(model, packed(model, data.train), null, { threads: "main", sliceMs: 0 }), /sliceMs/);
    const empty = { x: new Float64Array(0), target: new Float64Array(0), B: 0, T: 0 };
    const r = await new TrainingSession(model, packed(model, data.train), empty, { threads: "main", epochs: 1 }).run();
    assert.strictEqual(r.history[0].valLoss, null, "validation with no rows is no validation");
  });

  describe("workers that fail", function () {
    it('"auto" falls back to the main thread when a worker cannot be created, and says why', async function () {
      const spy = spyOnWorkers(() => class {
        constructor() {
          throw new Error("no more threads today");
        }
      });
      const data = dataset();
      const model = twoLayerModel();
      let session;
      let result;
      try {
        session = new TrainingSession(model, packed(model, data.train), null, { threads: "auto", epochs: 2 });
        // The workers start a turn of the event loop later: where the fit runs is known once it has begun.
        result = await session.run();
      } finally {
        spy.restore();
      }
      assert.strictEqual(session.where, "main");
      assert.strictEqual(session.workers, 0);
      assert.match(session.fallbackReason, /no more threads today/);
      const reference = twoLayerModel();
      const expected = reference.fit(data.train, { epochs: 2 });
      assert.deepStrictEqual(result.history.map((e) => e.loss), expected.history.map((e) => e.loss));
    });

    it('"auto" also falls back when the workers fail while starting; an explicit number of workers rejects instead', async function () {
      const broken = (Original, started) => class extends Original {
        constructor() {
          super("throw new Error('broken worker file')", { eval: true });
          started.push(this);
        }
      };
      const data = dataset();
      const model = twoLayerModel();
      const make = (threads) => ({ spy: spyOnWorkers(broken), session: new TrainingSession(model, packed(model, data.train), null, { threads, epochs: 1 }) });
      const auto = make("auto");
      const result = await auto.session.run().finally(() => auto.spy.restore());
      assert.strictEqual(result.reason, "completed");
      assert.strictEqual(auto.session.where, "main");
      assert.match(auto.session.fallbackReason, /broken worker file/);
      const two = make(2);
      assert.strictEqual(two.session.where, "worker");
      await assert.rejects(two.session.run().finally(() => two.spy.restore()), /training worker\(s\) could not start: broken worker file/);
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(allExited([...auto.spy.started, ...two.spy.started]));
    });

    it("an explicit number of workers that cannot be created rejects run() (no fallback)", async function () {
      const spy = spyOnWorkers(() => class {
        constructor() {
          throw new Error("Worker unavailable");
        }
      });
      const data = dataset();
      const model = twoLayerModel();
      try {
        const session = new TrainingSession(model, packed(model, data.train), null, { threads: 1 });
        assert.strictEqual(session.where, "worker");
        await assert.rejects(session.run(), /could not start: Worker unavailable/);
      } finally {
        spy.restore();
      }
    });

    it("a worker that dies in the middle of the fit rejects run() with a clear Error: no uncaught exception, no unhandled rejection", async function () {
      const unhandled = [];
      const onUnhandled = (e) => unhandled.push(e);
      process.on("unhandledRejection", onUnhandled);
      try {
        const spy = spyOnWorkers();
        const s = longSession(2);
        const running = s.session.run();
        setTimeout(() => {
          spy.restore();
          void spy.started[1].terminate();
        }, 200);
        await assert.rejects(running, (err) => err instanceof Error && /training worker 1 stopped unexpectedly/.test(err.message));
        await s.session.close();
        await new Promise((r) => setTimeout(r, 100));
        assert.ok(allExited(spy.started));
      } finally {
        process.off("unhandledRejection", onUnhandled);
      }
      assert.deepStrictEqual(unhandled, []);
    });
  });
});
