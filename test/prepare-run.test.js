"use strict";
// prepareRun: prepareSeries with its windows packed flat; prepareRunOffThread: the same from a
// short-lived worker thread, its errors rebuilt as the same kind, a fallback when no worker starts.
const assert = require("assert");
const fs = require("fs");
const { Worker } = require("worker_threads");
const { prepareSeries, prepareRun, prepareRunOffThread, MAX_PACKED_VALUES, TooFewRowsError } = require("../dist/src");
const { prepareWorkerHooks } = require("../dist/src/data/prepareRun");
const { seattleRows } = require("./helpers/series");

const HOUR = 3_600_000;

/** Two columns that tell rows apart: a trend under a daily wave, and a sawtooth. */
function table(n) {
  return Array.from({ length: n }, (_, i) => ({ a: Math.sin((2 * Math.PI * i) / 24) * 10 + i / 50, b: (i * 7) % 13 }));
}

function hourly(n) {
  const t0 = Date.UTC(2024, 0, 1);
  return Array.from({ length: n }, (_, i) => t0 + i * HOUR);
}

/** The same 64-bit patterns, NaNs included. */
function sameBits(a, b, what) {
  assert.ok(a instanceof Float64Array && b instanceof Float64Array, `${what}: both Float64Array`);
  assert.strictEqual(a.length, b.length, `${what}: length`);
  assert.ok(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength)), `${what}: bits differ`);
}

/**
 * Every window of `lazy` read back out of `packed` at (b·T + s)·I + i and (b·T + s)·O + k: inputs
 * equal, targets equal, NaN exactly where the window has a null step or a null entry.
 * Returns how many steps and single entries had no target.
 */
function checkPacked(packed, lazy, I, O, what) {
  assert.strictEqual(packed.B, lazy.count, `${what}: B`);
  if (lazy.count === 0) return { nullSteps: 0, nullEntries: 0 };
  const T = lazy.at(0).input.length;
  assert.strictEqual(packed.T, T, `${what}: T`);
  assert.strictEqual(packed.x.length, lazy.count * T * I, `${what}: x length`);
  assert.strictEqual(packed.target.length, lazy.count * T * O, `${what}: target length`);
  let nullSteps = 0;
  let nullEntries = 0;
  for (let b = 0; b < lazy.count; b++) {
    const w = lazy.at(b);
    for (let s = 0; s < T; s++) {
      for (let i = 0; i < I; i++) assert.strictEqual(packed.x[(b * T + s) * I + i], w.input[s][i], `${what}: x[${b}][${s}][${i}]`);
      const step = w.target[s];
      if (step === null) nullSteps++;
      for (let k = 0; k < O; k++) {
        const got = packed.target[(b * T + s) * O + k];
        const want = step === null ? null : step[k];
        if (step !== null && want === null) nullEntries++;
        if (want === null) assert.ok(Number.isNaN(got), `${what}: target[${b}][${s}][${k}] should be NaN (no target), got ${got}`);
        else assert.strictEqual(got, want, `${what}: target[${b}][${s}][${k}]`);
      }
    }
  }
  return { nullSteps, nullEntries };
}

/** The metadata of a run is prepareSeries's, the scaler as JSON. */
function checkMetadata(run, lazy) {
  assert.deepStrictEqual(run.columns, lazy.columns);
  assert.deepStrictEqual(run.window, lazy.window);
  assert.deepStrictEqual(run.transform, lazy.transform);
  assert.deepStrictEqual(run.scaler, lazy.scaler.toJSON());
  assert.deepStrictEqual(run.split, lazy.split);
  assert.deepStrictEqual(run.report, lazy.report);
  assert.deepStrictEqual(run.baselines, lazy.baselines);
  assert.deepStrictEqual(run.history, lazy.history);
}

/** Off-thread and on-thread runs: bit-identical arrays, equal everything else. */
function checkSameRun(off, here) {
  for (const part of ["train", "validation"]) {
    sameBits(off[part].x, here[part].x, `${part}.x`);
    sameBits(off[part].target, here[part].target, `${part}.target`);
    assert.strictEqual(off[part].B, here[part].B, `${part}.B`);
    assert.strictEqual(off[part].T, here[part].T, `${part}.T`);
  }
  const meta = (r) => ({ ...r, train: null, validation: null });
  assert.deepStrictEqual(meta(off), meta(here));
}

/** The error a call throws (or rejects with). */
async function caught(fn) {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  assert.fail("expected an error");
}

const CASES = [
  {
    name: 'target mode "last", horizon 3',
    series: () => table(160),
    options: { features: ["a", "b"], targets: ["a"], length: 7, horizon: 3, targetMode: "last", scaling: "zscore", validationSplit: 0.25 },
    I: 2,
    O: 1,
  },
  {
    name: 'target mode "every", validation masks',
    series: () => table(160),
    options: { features: ["a", "b"], targets: ["a", "b"], length: 6, horizon: 2, targetMode: "every", scaling: "minmax", validationSplit: 0.3 },
    I: 2,
    O: 2,
  },
  {
    name: "direct multi-step, horizon 4",
    series: () => table(200),
    options: { features: ["a", "b"], targets: ["a"], length: 8, horizon: 4, direct: true, scaling: "zscore", validationSplit: 0.25 },
    I: 2,
    O: 4,
  },
  {
    name: "calendar features from hourly times, seasonal differencing",
    series: () => table(400).map((r) => r.a),
    options: { length: 12, horizon: 1, scaling: "zscore", validationSplit: 0.2, times: hourly(400), calendar: ["hourOfDay", "dayOfWeek"], difference: "seasonal", season: 24 },
    I: 1 + 4,
    O: 1,
  },
];

describe("data: prepareRun (prepareSeries, windows packed)", function () {
  for (const c of CASES) {
    it(`packs every window where it belongs: ${c.name}`, function () {
      const run = prepareRun(c.series(), c.options);
      const lazy = prepareSeries(c.series(), c.options);
      assert.strictEqual(run.inputSize, c.I, "inputSize");
      assert.strictEqual(run.outputSize, c.O, "outputSize");
      checkMetadata(run, lazy);
      const train = checkPacked(run.train, lazy.train, c.I, c.O, "train");
      const validation = checkPacked(run.validation, lazy.validation, c.I, c.O, "validation");
      if (c.options.targetMode === "last") {
        // Only the last step of a window has a target.
        assert.strictEqual(train.nullSteps, lazy.train.count * (c.options.length - 1));
      }
      if (c.options.targetMode === "every") {
        assert.strictEqual(train.nullSteps, 0, "every training step has a target");
        assert.ok(validation.nullSteps > 0, "the first validation windows' steps on training rows are masked");
      }
      if (c.options.direct) assert.ok(validation.nullEntries > 0, "the first validation windows' early steps ahead are masked");
    });
  }

  it("has an empty validation part without a split", function () {
    const run = prepareRun(table(60), { length: 5, horizon: 1, scaling: "minmax", validationSplit: 0 });
    assert.strictEqual(run.validation.B, 0);
    assert.strictEqual(run.validation.x.length, 0);
    assert.strictEqual(run.validation.target.length, 0);
    assert.strictEqual(run.train.B, 60 - 6 + 1);
  });

  it(`refuses more than MAX_PACKED_VALUES (${MAX_PACKED_VALUES}) values before allocating them`, function () {
    assert.strictEqual(MAX_PACKED_VALUES, 20_000_000);
    // 12,000 rows, window 2,000: 8,800 training + 1,200 validation windows × 2,000 × (1 + 1) = 40 M.
    const series = Array.from({ length: 12_000 }, (_, i) => Math.sin(i / 10));
    const options = { length: 2000, horizon: 1, scaling: "zscore", validationSplit: 0.1 };
    const big = [];
    const RealFloat64Array = global.Float64Array;
    global.Float64Array = new Proxy(RealFloat64Array, {
      construct(target, args) {
        if (typeof args[0] === "number" && args[0] >= 1_000_000) big.push(args[0]);
        return Reflect.construct(target, args);
      },
    });
    let err;
    try {
      err = (() => {
        try {
          prepareRun(series, options);
        } catch (e) {
          return e;
        }
      })();
    } finally {
      global.Float64Array = RealFloat64Array;
    }
    assert.ok(err instanceof Error, "refused");
    assert.match(err.message, /10000 windows × 2000 steps × \(1 inputs \+ 1 outputs\) = 40000000 values/);
    assert.match(err.message, /at most 20000000/);
    assert.match(err.message, /window length.*buffer size.*features/);
    assert.deepStrictEqual(big, [], "nothing large was allocated");
  });
});

describe("data: prepareRunOffThread (in a worker thread)", function () {
  const unhandled = [];
  const onUnhandled = (e) => unhandled.push(e);
  before(function () {
    assert.ok(fs.existsSync(prepareWorkerHooks.file), "the compiled worker is there (npm run build)");
    process.on("unhandledRejection", onUnhandled);
  });
  after(function () {
    process.removeListener("unhandledRejection", onUnhandled);
  });
  afterEach(function () {
    assert.deepStrictEqual(unhandled, [], "no unhandled rejection");
  });

  for (const c of CASES) {
    it(`gives prepareRun's run, arrays bit for bit: ${c.name}`, async function () {
      const here = prepareRun(c.series(), c.options);
      const off = await prepareRunOffThread(c.series(), c.options);
      checkSameRun(off, here);
    });
  }

  it("reads object rows with their times (the Seattle CSV), season and differencing auto", async function () {
    const options = { timeField: "date", length: 14, horizon: 1, scaling: "zscore", validationSplit: 0.2, difference: "auto", season: "auto", calendar: "auto" };
    const here = prepareRun(seattleRows(), options);
    assert.ok(here.transform.calendar.length > 0 && here.history.times !== null, "the case has calendar features and times");
    checkSameRun(await prepareRunOffThread(seattleRows(), options), here);
  });

  it("carries a history with split gaps (segment starts) and times given as Dates", async function () {
    const times = hourly(300).filter((_, i) => i < 120 || i >= 130).map((t) => new Date(t));
    const series = times.map((_, i) => Math.sin(i / 5));
    const options = { length: 6, horizon: 1, scaling: "zscore", validationSplit: 0.2, times, gaps: "split" };
    const here = prepareRun(series, options);
    assert.ok(here.history.segmentStart instanceof Int32Array, "the case has segment starts");
    checkSameRun(await prepareRunOffThread(series, options), here);
  });

  it("is not changed by the caller changing its series and times after the call", async function () {
    // Long enough that most slices are sent after the call has returned.
    const series = table(5000).map((r) => r.a);
    const times = hourly(5000);
    const options = { length: 6, horizon: 1, scaling: "zscore", validationSplit: 0.2, times };
    const here = prepareRun(series.slice(), { ...options, times: times.slice() });
    const pending = prepareRunOffThread(series, options);
    series.splice(0, 50);
    series.push(1e6);
    times.splice(0, 50);
    checkSameRun(await pending, here);
  });

  it("rebuilds a TooFewRowsError, with its message and row count", async function () {
    const options = { length: 24, horizon: 1, scaling: "zscore", validationSplit: 0.2 };
    const local = await caught(() => prepareRun([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], options));
    const remote = await caught(() => prepareRunOffThread([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], options));
    assert.ok(local instanceof TooFewRowsError);
    assert.ok(remote instanceof TooFewRowsError, `got ${remote && remote.constructor.name}`);
    assert.strictEqual(remote.name, "TooFewRowsError");
    assert.strictEqual(remote.message, local.message);
    assert.strictEqual(remote.needed, local.needed);
    assert.ok(remote.needed > 24);
    assert.match(remote.stack, /[\\/]prepare\.js:/, "the stack is the worker's, where the series was found too short");
  });

  for (const [what, series, options] of [
    ["a series that is not an array", "1,2,3", { length: 3, horizon: 1, scaling: "none", validationSplit: 0 }],
    ["a reading that is not a number", [1, 2, "three", 4, 5, 6, 7, 8], { length: 3, horizon: 1, scaling: "none", validationSplit: 0 }],
    ["a reading a structured clone refuses (a function)", [1, 2, () => 3, 4, 5, 6, 7, 8], { length: 3, horizon: 1, scaling: "none", validationSplit: 0 }],
    ["bad options", [1, 2, 3, 4, 5, 6, 7, 8], { length: 0, horizon: 1, scaling: "none", validationSplit: 0 }],
    ["no options at all (a TypeError)", [1, 2, 3, 4, 5, 6, 7, 8], null],
    ["too many values to pack", Array.from({ length: 12_000 }, (_, i) => i % 17), { length: 2000, horizon: 1, scaling: "none", validationSplit: 0.1 }],
  ]) {
    it(`rejects ${what} with prepareRun's error`, async function () {
      const local = await caught(() => prepareRun(series, options));
      const remote = await caught(() => prepareRunOffThread(series, options));
      assert.ok(!(local instanceof TooFewRowsError), "a plain error");
      assert.strictEqual(remote.constructor, local.constructor, `${remote.constructor.name} vs ${local.constructor.name}`);
      assert.strictEqual(remote.message, local.message);
    });
  }

  describe("without a worker", function () {
    const saved = { ...prepareWorkerHooks };
    afterEach(function () {
      Object.assign(prepareWorkerHooks, saved);
    });
    const options = { length: 6, horizon: 2, scaling: "zscore", validationSplit: 0.2 };

    it("runs on the calling thread when the worker file is missing, still asynchronously", async function () {
      let spawned = 0;
      prepareWorkerHooks.file = `${saved.file}.missing`;
      prepareWorkerHooks.spawn = (file) => {
        spawned++;
        return saved.spawn(file);
      };
      // prepareSeries reads options.length first: read during the call means the work was not deferred.
      let inCall = true;
      let readInCall = false;
      const watched = Object.defineProperty({ ...options }, "length", {
        get() {
          if (inCall) readInCall = true;
          return 6;
        },
      });
      const pending = prepareRunOffThread(table(80), watched);
      inCall = false;
      const off = await pending;
      assert.strictEqual(readInCall, false, "prepared after the call returned");
      assert.strictEqual(spawned, 0);
      checkSameRun(off, prepareRun(table(80), options));
    });

    it("runs on the calling thread when a worker cannot be constructed, errors included", async function () {
      let tried = 0;
      prepareWorkerHooks.spawn = () => {
        tried++;
        throw new Error("no threads here");
      };
      checkSameRun(await prepareRunOffThread(table(80), options), prepareRun(table(80), options));
      const err = await caught(() => prepareRunOffThread([1, 2, 3], options));
      assert.ok(err instanceof TooFewRowsError);
      assert.strictEqual(tried, 2);
    });
  });

  describe("a series too long to prepare", function () {
    const saved = { ...prepareWorkerHooks };
    afterEach(function () {
      Object.assign(prepareWorkerHooks, saved);
    });

    it("is refused with prepareSeries's own error before a worker starts or a row is moved", async function () {
      let spawned = 0;
      prepareWorkerHooks.spawn = (file) => {
        spawned++;
        return saved.spawn(file);
      };
      // Rows that throw when read: none may be read (nor copied for a worker) before the refusal.
      const rows = new Array(1_000_001);
      Object.defineProperty(rows, 0, { get: () => { throw new Error("a row was read"); } });
      const err = await caught(() => prepareRunOffThread(rows, { length: 6, horizon: 1 }));
      assert.match(err.message, /series has 1000001 rows, at most 1000000 allowed/);
      assert.strictEqual(spawned, 0);
    });
  });

  describe("a worker that dies", function () {
    const saved = { ...prepareWorkerHooks };
    afterEach(function () {
      Object.assign(prepareWorkerHooks, saved);
    });
    const options = { length: 6, horizon: 1, scaling: "zscore", validationSplit: 0.2 };

    it("rejects with a clear error when the worker exits without answering", async function () {
      prepareWorkerHooks.spawn = () => new Worker("process.exit(3)", { eval: true });
      const err = await caught(() => prepareRunOffThread(table(80), options));
      assert.strictEqual(err.constructor, Error);
      assert.match(err.message, /data preparation worker stopped \(exit code 3\) before it answered/);
    });

    it("rejects with a clear error when the worker throws outside a run", async function () {
      prepareWorkerHooks.spawn = () => new Worker("throw new Error('broken build')", { eval: true });
      const err = await caught(() => prepareRunOffThread(table(80), options));
      assert.match(err.message, /data preparation worker failed: broken build/);
    });

    it("rejects with a clear error when the worker runs out of memory", async function () {
      this.timeout(60000);
      prepareWorkerHooks.spawn = (file) => new Worker(file, { resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 } });
      const series = Array.from({ length: 200_000 }, (_, i) => ({ a: Math.sin(i / 7), b: i % 11, c: i % 5 }));
      const err = await caught(() => prepareRunOffThread(series, { length: 24, horizon: 1, scaling: "zscore", validationSplit: 0.2 }));
      assert.match(err.message, /data preparation worker failed: .*memory/i);
    });
  });

  describe("the worker's thread", function () {
    const saved = { ...prepareWorkerHooks };
    afterEach(function () {
      Object.assign(prepareWorkerHooks, saved);
    });

    it("ends once it has answered, and the answer has already arrived", async function () {
      let worker = null;
      let exited = null;
      prepareWorkerHooks.spawn = (file) => {
        worker = saved.spawn(file);
        exited = new Promise((resolve) => worker.once("exit", resolve));
        return worker;
      };
      await prepareRunOffThread(table(80), { length: 6, horizon: 1, scaling: "zscore", validationSplit: 0.2 });
      assert.ok(worker, "a worker was started");
      await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error("the worker is still running 2 s after its answer")), 2000))]);
      assert.strictEqual(worker.threadId, -1, "the thread is gone");
    });
  });
});
