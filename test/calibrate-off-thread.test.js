"use strict";
// calibrateOffThread: calibrateOnValidation's intervals, bit for bit, from a short-lived worker
// thread (src/calibration.ts, src/calibrationWorker.ts, the one-shot plumbing in src/offThread.ts);
// cancel, fallback, errors, the worker's lowered priority (src/threadPriority.ts).
//
// Run directly, this file measures the calling thread instead (in a fresh process, so the first
// call is cold): node test/calibrate-off-thread.test.js --measure 10000
const assert = require("assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { performance, monitorEventLoopDelay } = require("perf_hooks");
const { Worker } = require("worker_threads");
const { Model, prepareRun, prepareRunOffThread, calibrateOnValidation, calibrateOffThread, INTERVAL_STEPS } = require("../dist/src");
const { calibrationWorkerHooks } = require("../dist/src/calibration");
const { lowerThisThreadsPriority, BACKGROUND_NICE } = require("../dist/src/threadPriority");
const { inSlices, SLICE_MS } = require("../dist/src/offThread");

const HOUR = 3_600_000;

/** Two columns over hourly times: a daily wave on a trend, and a slower wave; seeded noise. */
function hourlyTable(n, seed = 3) {
  let s = seed;
  const noise = () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 0.4;
  const t0 = Date.UTC(2024, 0, 1);
  const rows = Array.from({ length: n }, (_, i) => ({ a: 10 + 3 * Math.sin((2 * Math.PI * i) / 24) + i / 200 + noise(), b: Math.cos((2 * Math.PI * i) / 168) + noise() }));
  return { rows, times: rows.map((_, i) => t0 + i * HOUR) };
}

/** A seeded model trained a few epochs on the series, and the series' history. */
function trained(series, options, { hiddenSize = 8, epochs = 3, seed = 11 } = {}) {
  const run = prepareRun(series, options);
  const model = Model.create({ inputSize: run.inputSize, layers: [{ hiddenSize, outputSize: run.outputSize }], seed });
  if (epochs > 0) model.fit(run.train, { epochs, batchSize: 32, seed });
  model.scaler = run.scaler;
  model.window = run.window;
  model.transform = run.transform;
  return { model, history: run.history };
}

const CASES = {
  calendar: () => {
    const { rows, times } = hourlyTable(600);
    return trained(rows.map((r) => r.a), { length: 12, horizon: 1, scaling: "zscore", validationSplit: 0.25, times, calendar: ["hourOfDay", "dayOfWeek"], difference: "first" });
  },
  direct: () => {
    const { rows } = hourlyTable(500);
    return trained(rows.map((r) => r.a), { length: 12, horizon: 4, direct: true, scaling: "zscore", validationSplit: 0.25, difference: "none" });
  },
  gaps: () => {
    // Two features, both targets, and a gap left unfilled in the validation part: segment starts
    // that keep forecasts from looking back across it.
    const { rows, times } = hourlyTable(520);
    const keep = rows.map((_, i) => i).filter((i) => i < 420 || i >= 440);
    return trained(keep.map((i) => rows[i]), { length: 8, horizon: 1, scaling: "minmax", validationSplit: 0.3, times: keep.map((i) => times[i]), gaps: "split" });
  },
};

/**
 * Wraps the spawn hook: every worker started is recorded, with whether a message was posted to it,
 * whether it has exited (`gone`), and a promise of its exit. `then(worker)` runs after each start.
 */
function recordWorkers(saved, then = () => undefined) {
  const started = [];
  calibrationWorkerHooks.spawn = (file) => {
    const worker = saved.spawn(file);
    const entry = { worker, posted: false, gone: false };
    entry.exited = new Promise((resolve) => worker.once("exit", resolve)).then(() => (entry.gone = true));
    const post = worker.postMessage.bind(worker);
    worker.postMessage = (m, transfer) => {
      entry.posted = true;
      post(m, transfer);
    };
    started.push(entry);
    then(worker);
    return worker;
  };
  return started;
}

/** The error a promise rejects with. */
async function caught(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail("expected a rejection");
}

/** The threads of this process (Linux), to see that none is left behind. */
function threadCount() {
  try {
    return fs.readdirSync("/proc/self/task").length;
  } catch {
    return null;
  }
}

/** Nice value of each thread of this process (Linux): field 19 of /proc/self/task/<tid>/stat. */
function threadNices() {
  const out = new Map();
  for (const tid of fs.readdirSync("/proc/self/task")) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(tid), Number(fields[16]));
    } catch {
      // The thread ended while we read.
    }
  }
  return out;
}

const linux = process.platform === "linux" && fs.existsSync("/proc/thread-self");

if (require.main === module) {
  measure(Number(process.argv[process.argv.indexOf("--measure") + 1]) || 10_000).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  describe("offThread: inSlices (the calling thread's share, in slices)", function () {
    /** Holds the thread `ms` milliseconds. */
    const busy = (ms) => {
      const t0 = performance.now();
      while (performance.now() - t0 < ms);
    };

    it("sizes slices from the slowest item seen: fast slices in between do not make a later one long", async function () {
      assert.strictEqual(SLICE_MS, 1);
      // 3 µs an item, except a fast stretch in the middle (as code that V8 has just optimised,
      // before it falls back): sized from the last slice, the first slow items after the stretch
      // would land in a slice of thousands.
      const cost = (i) => (i >= 300 && i < 3000 ? 0.00001 : 0.003);
      const slices = [];
      await inSlices(6000, (from, to) => {
        let ms = 0;
        for (let i = from; i < to; i++) ms += cost(i);
        busy(ms);
        slices.push({ from, to, ms });
      });
      assert.strictEqual(slices[slices.length - 1].to, 6000, "all done");
      slices.forEach((s, k) => k > 0 && assert.strictEqual(s.from, slices[k - 1].to, "contiguous"));
      // What each slice was made to cost, not the time it took: a thread kept waiting for a CPU
      // only makes the slices after it smaller. About 1 ms each; sized from the fast stretch, the
      // first slow items after it would come in a slice of 9 ms or more.
      const longest = slices.reduce((a, b) => (b.ms > a.ms ? b : a));
      assert.ok(longest.ms < 2, `slice ${longest.from}–${longest.to} cost ${longest.ms.toFixed(1)} ms`);
    });

    it("gives the event loop a turn between slices, and stops when alive() turns false", async function () {
      let turns = 0;
      const seen = [];
      let stop = false;
      let reached = 0;
      await inSlices(
        10_000,
        (from, to) => {
          reached = to;
          seen.push(turns);
          setImmediate(() => turns++);
          busy((to - from) * 0.002);
          if (to >= 2000) stop = true;
        },
        () => !stop,
      );
      assert.ok(seen.length > 2, `${seen.length} slices`);
      seen.forEach((t, k) => assert.strictEqual(t, k, "one turn before each slice after the first"));
      assert.ok(reached >= 2000 && reached < 10_000, `stopped after the slice that reached 2,000: reached ${reached}`);
    });
  });

  describe("calibrateOffThread (intervals from a worker thread)", function () {
    const unhandled = [];
    const onUnhandled = (e) => unhandled.push(e);
    const saved = { ...calibrationWorkerHooks };
    const fixtures = {};
    before(function () {
      assert.ok(fs.existsSync(calibrationWorkerHooks.file), "the compiled worker is there (npm run build)");
      process.on("unhandledRejection", onUnhandled);
      for (const [name, make] of Object.entries(CASES)) {
        const f = make();
        fixtures[name] = { ...f, expected: calibrateOnValidation(f.model, f.history) };
      }
    });
    after(function () {
      process.removeListener("unhandledRejection", onUnhandled);
    });
    afterEach(function () {
      Object.assign(calibrationWorkerHooks, saved);
      assert.deepStrictEqual(unhandled, [], "no unhandled rejection");
    });

    describe("the same intervals as calibrateOnValidation", function () {
      // deepStrictEqual compares numbers with Object.is: the same double, not merely close.
      it("a recursive model with calendar features: 24 steps, bit for bit", async function () {
        const { model, history, expected } = fixtures.calendar;
        assert.ok(model.transform.calendar.length === 2 && history.times, "the case has calendar features and times");
        assert.strictEqual(expected.halfWidth[0].length, INTERVAL_STEPS, "every step calibrated");
        assert.ok(expected.origins > 100 && expected.coverage.every((c) => c !== null), "enough origins for a coverage figure");
        const started = recordWorkers(saved);
        assert.deepStrictEqual(await calibrateOffThread(model, history).promise, expected);
        assert.strictEqual(started.length, 1, "computed in a worker");
      });

      it("a direct multi-step model: its 4 steps, bit for bit", async function () {
        const { model, history, expected } = fixtures.direct;
        assert.strictEqual(model.window.direct, true);
        assert.strictEqual(expected.halfWidth[0].length, 4);
        assert.deepStrictEqual(await calibrateOffThread(model, history).promise, expected);
      });

      it("two targets and a history with a gap (segment starts), bit for bit", async function () {
        const { model, history, expected } = fixtures.gaps;
        assert.ok(history.segmentStart instanceof Int32Array, "the case has segment starts");
        assert.notDeepStrictEqual(calibrateOnValidation(model, { ...history, segmentStart: null }), expected, "they matter to the intervals");
        assert.strictEqual(expected.halfWidth[0][0].length, 2, "two targets");
        assert.deepStrictEqual(await calibrateOffThread(model, history).promise, expected);
      });

      it("passes `steps` on", async function () {
        const { model, history } = fixtures.calendar;
        const six = await calibrateOffThread(model, history, 6).promise;
        assert.strictEqual(six.halfWidth[0].length, 6);
        assert.deepStrictEqual(six, calibrateOnValidation(model, history, 6));
      });

      it("reads the model's weights during the call: training it afterwards does not reach the result", async function () {
        const { model, history, expected } = fixtures.direct;
        const copy = model.clone();
        const job = calibrateOffThread(copy, history);
        for (const p of copy.parameters()) p.fill(0.5);
        assert.deepStrictEqual(await job.promise, expected);
      });
    });

    describe("cancel()", function () {
      it("in the same turn: resolves null without starting a worker", async function () {
        const { model, history } = fixtures.calendar;
        const started = recordWorkers(saved);
        const job = calibrateOffThread(model, history);
        job.cancel();
        assert.strictEqual(await job.promise, null);
        assert.strictEqual(started.length, 0);
      });

      it("while the history is copied: resolves null without starting a worker", async function () {
        const { model, history } = fixtures.calendar;
        const started = recordWorkers(saved);
        const job = calibrateOffThread(model, history);
        // The copy starts on the turn after the call with a slice of 256 of the 600 rows; this
        // lands between its slices.
        setImmediate(() => setImmediate(() => job.cancel()));
        assert.strictEqual(await job.promise, null);
        assert.strictEqual(started.length, 0);
      });

      it("after the copy, before the worker starts: resolves null without starting a worker", async function () {
        const { model, history } = fixtures.calendar;
        // 200 rows are copied in one slice, on the turn after the call; the worker would start on the next.
        const cut = history.rows.length - 200;
        const short = { ...history, rows: history.rows.slice(cut), times: history.times.slice(cut), boundary: history.boundary - cut };
        assert.ok(calibrateOnValidation(model, short) !== null, "the short history has intervals");
        const started = recordWorkers(saved);
        const job = calibrateOffThread(model, short);
        setImmediate(() => job.cancel());
        assert.strictEqual(await job.promise, null);
        assert.strictEqual(started.length, 0);
      });

      it("while the worker computes: terminates the worker and resolves null once its thread is gone", async function () {
        const { model, history } = fixtures.calendar;
        const before = threadCount();
        let job = null;
        let cancelled = false;
        const started = recordWorkers(saved, (worker) =>
          worker.once("online", () =>
            setTimeout(() => {
              cancelled = true;
              job.cancel();
            }, 30),
          ),
        );
        job = calibrateOffThread(model, history);
        assert.strictEqual(await job.promise, null);
        assert.ok(cancelled, "cancelled before the answer came");
        assert.strictEqual(started.length, 1);
        assert.ok(started[0].posted, "the worker had its work");
        assert.ok(started[0].gone, "the worker had exited when the promise resolved");
        assert.strictEqual(started[0].worker.threadId, -1);
        if (before !== null) assert.ok(threadCount() <= before, `${threadCount()} threads, ${before} before`);
      });

      it("does nothing once the intervals are in", async function () {
        const { model, history, expected } = fixtures.direct;
        const job = calibrateOffThread(model, history);
        const got = await job.promise;
        job.cancel();
        assert.deepStrictEqual(got, expected);
        assert.deepStrictEqual(await job.promise, expected);
      });
    });

    describe("on the calling thread, when no worker can be used", function () {
      it("a missing worker file: the same intervals, on this thread", async function () {
        const { model, history, expected } = fixtures.direct;
        calibrationWorkerHooks.file = `${saved.file}.missing`;
        const started = recordWorkers(saved);
        const job = calibrateOffThread(model, history);
        assert.deepStrictEqual(await job.promise, expected);
        assert.strictEqual(started.length, 0, "no worker");
      });

      it("a worker that cannot be constructed: the same intervals; cancel() during the slices resolves null", async function () {
        const { model, history, expected } = fixtures.calendar;
        let tried = 0;
        let job = null;
        calibrationWorkerHooks.spawn = () => {
          tried++;
          // Cancelled once calibrateInSlices has started on this thread.
          if (job) setImmediate(() => setImmediate(() => job.cancel()));
          throw new Error("no threads here");
        };
        assert.deepStrictEqual(await calibrateOffThread(model, history).promise, expected);
        job = calibrateOffThread(model, history);
        assert.strictEqual(await job.promise, null);
        assert.strictEqual(tried, 2);
      });

      it("a history row that is not the window's numbers: no worker, the result is calibrateOnValidation's", async function () {
        const { model, history } = fixtures.direct;
        const rows = history.rows.slice();
        rows[rows.length - 30] = [String(rows[rows.length - 30][0])];
        const odd = { ...history, rows };
        const expected = calibrateOnValidation(model, odd);
        assert.notDeepStrictEqual(expected, fixtures.direct.expected, "the odd row changes the intervals (origins around it go unscored)");
        const started = recordWorkers(saved);
        assert.deepStrictEqual(await calibrateOffThread(model, odd).promise, expected);
        assert.strictEqual(started.length, 0);
      });
    });

    describe("errors", function () {
      it("an error inside the worker comes back as an Error with the worker's message and stack", async function () {
        const { model, history } = fixtures.direct;
        // The worker gets weights that do not fit the layers: it refuses them while rebuilding the model.
        calibrationWorkerHooks.spawn = (file) => {
          const worker = saved.spawn(file);
          const post = worker.postMessage.bind(worker);
          worker.postMessage = (m, transfer) => post({ ...m, model: { ...m.model, weights: new SharedArrayBuffer(8) } }, transfer);
          return worker;
        };
        const err = await caught(calibrateOffThread(model, history).promise);
        assert.strictEqual(err.constructor, Error);
        assert.match(err.message, /^shared weights hold 1 numbers, the layers need \d+$/);
        assert.match(err.stack, /[\\/]shared\.js:/, "the stack is the worker's");
      });

      it("a worker that exits without answering rejects clearly", async function () {
        const { model, history } = fixtures.direct;
        calibrationWorkerHooks.spawn = () => new Worker("process.exit(3)", { eval: true });
        const err = await caught(calibrateOffThread(model, history).promise);
        assert.match(err.message, /^the interval calibration worker stopped \(exit code 3\) before it answered$/);
      });

      it("a worker that throws outside the calibration rejects clearly", async function () {
        const { model, history } = fixtures.direct;
        calibrationWorkerHooks.spawn = () => new Worker("throw new Error('broken build')", { eval: true });
        const err = await caught(calibrateOffThread(model, history).promise);
        assert.match(err.message, /^the interval calibration worker failed: broken build$/);
      });

      it("a model without a window fails as calibrateOnValidation does", async function () {
        const { history } = fixtures.direct;
        const bare = Model.create({ inputSize: 1, layers: [{ hiddenSize: 2, outputSize: 1 }], seed: 1 });
        const local = (() => {
          try {
            calibrateOnValidation(bare, history);
          } catch (e) {
            return e;
          }
        })();
        const err = await caught(calibrateOffThread(bare, history).promise);
        assert.strictEqual(err.constructor, local.constructor);
        assert.strictEqual(err.message, local.message);
      });
    });

    describe("the worker's thread priority", function () {
      it("lowerThisThreadsPriority: nothing on the main thread; in a worker, that thread only, to BACKGROUND_NICE", async function () {
        const mine = os.getPriority(0);
        assert.strictEqual(lowerThisThreadsPriority(), null, "not on the main thread");
        assert.strictEqual(os.getPriority(0), mine);
        if (!linux) this.skip();
        const file = path.join(__dirname, "..", "dist", "src", "threadPriority.js");
        const worker = new Worker(
          `const os = require("os"); const { parentPort } = require("worker_threads");
           const tid = require(${JSON.stringify(file)}).lowerThisThreadsPriority();
           parentPort.postMessage({ tid, nice: tid === null ? null : os.getPriority(tid) });`,
          { eval: true },
        );
        const { tid, nice } = await new Promise((resolve, reject) => worker.once("message", resolve).once("error", reject));
        assert.strictEqual(BACKGROUND_NICE, 10);
        assert.ok(Number.isInteger(tid) && tid !== process.pid, `a thread id of its own, got ${tid}`);
        assert.strictEqual(nice, 10);
        assert.strictEqual(os.getPriority(0), mine, "the main thread kept its priority");
      });

      it("the calibration worker runs at nice 10 while this thread keeps its own", async function () {
        if (!linux) this.skip();
        const { model, history } = fixtures.calendar;
        const main = threadNices().get(process.pid);
        const before = new Set(threadNices().keys());
        const seen = new Set();
        const watch = setInterval(() => {
          for (const [tid, nice] of threadNices()) if (!before.has(tid)) seen.add(nice);
        }, 2);
        try {
          await calibrateOffThread(model, history).promise;
        } finally {
          clearInterval(watch);
        }
        assert.ok(seen.has(BACKGROUND_NICE), `a new thread at nice ${BACKGROUND_NICE}; seen ${[...seen]}`);
        assert.strictEqual(threadNices().get(process.pid), main);
      });
    });

    describe("measured (printed, not asserted)", function () {
      for (const rows of [2000, 10_000]) {
        it(`the calling thread's longest step, ${rows.toLocaleString("en")}-row history (fresh process)`, function () {
          this.timeout(120_000);
          const out = require("child_process").execFileSync(process.execPath, [__filename, "--measure", String(rows)], { encoding: "utf8" });
          process.stdout.write(out.replace(/^/gm, "      "));
        });
      }
    });
  });
}

/** The main thread's time on a CPU so far, ms (Linux; null elsewhere). */
function mainThreadCpu() {
  try {
    return Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
  } catch {
    return null;
  }
}

/** The thread during `fn`, as an observer sees it: the longest gap between setInterval(1 ms) ticks less 1 ms, and monitorEventLoopDelay's max. */
async function probed(fn) {
  const eld = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let gap = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  }, 1);
  eld.enable();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const value = await fn();
  eld.disable();
  clearInterval(tick);
  return { block: Math.max(0, gap - 1), eld: eld.max / 1e6, value };
}

/**
 * Every callback the thread runs during `fn` (an immediate, a message from the worker, a promise
 * reaction such as the next slice after `await`), timed from async_hooks' before to after: the
 * three longest, with their kinds. Wall time: on a loaded machine a callback may also have waited
 * for a CPU (the thread's CPU time cannot be read finely enough: /proc updates it per tick).
 */
async function stepped(fn) {
  const kinds = new Map();
  const times = [];
  let depth = 0;
  let t0 = 0;
  let first = 0;
  const hook = require("async_hooks").createHook({
    init(id, type) {
      kinds.set(id, type);
    },
    before(id) {
      if (depth++ > 0) return;
      t0 = performance.now();
      first = id;
    },
    after() {
      // The callback that enabled the hook ends without a `before` seen.
      if (depth === 0) return;
      if (--depth > 0) return;
      times.push({ ms: performance.now() - t0, kind: kinds.get(first) ?? "?" });
    },
  });
  hook.enable();
  let value;
  try {
    value = await fn();
  } finally {
    hook.disable();
  }
  times.sort((x, y) => y.ms - x.ms);
  return { value, count: times.length, top: times.slice(0, 3) };
}

/**
 * The calling thread during calibrateOffThread on an hourly series of `n` rows with calendar
 * features (validation 20 %, window 24, 24 steps ahead, hidden 16), in a fresh process so that
 * the first call is cold (code not optimised); then 3 warm calls. The series is first prepared by
 * prepareRunOffThread, as the rnn sequence node does before any training: so the first
 * calibration worker is not the process's first worker (that one costs ~3–8 ms more in new Worker).
 * Per call: the call itself (snapshot of the weights, new Worker, the first slice of the copy);
 * the longest of the callbacks that followed; the calling thread's CPU time
 * over the whole job (every step together); and, in a second run, what an observer sees (block,
 * event-loop delay), which on a shared machine includes waiting for a CPU: hence the same probes
 * over an idle second first.
 */
async function measure(n) {
  const { rows, times } = hourlyTable(n);
  const { model, history } = trained(rows.map((r) => r.a), { length: 24, horizon: 1, scaling: "zscore", validationSplit: 0.2, times, calendar: ["hourOfDay", "dayOfWeek"], difference: "first" }, { hiddenSize: 16, epochs: 0 });
  await prepareRunOffThread(rows.map((r) => r.a), { length: 24, horizon: 1, scaling: "zscore", validationSplit: 0.2, times, calendar: ["hourOfDay", "dayOfWeek"], difference: "first" });
  const f = (x) => (x === null ? "n/a" : x.toFixed(2));
  console.log(`${n} rows, ${n - history.boundary} validation origins; ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}, ${process.version}`);
  const idle = await probed(() => new Promise((resolve) => setTimeout(resolve, 1000)));
  console.log(`idle second, for comparison: block ${f(idle.block)} ms, event-loop delay max ${f(idle.eld)} ms`);
  for (let k = 0; k < 4; k++) {
    let call = 0;
    const cpu0 = mainThreadCpu();
    const t0 = performance.now();
    const steps = await stepped(() => {
      const job = calibrateOffThread(model, history);
      call = performance.now() - t0;
      return job.promise;
    });
    const wall = performance.now() - t0;
    const cpu = cpu0 === null ? null : mainThreadCpu() - cpu0;
    const seen = await probed(() => calibrateOffThread(model, history).promise);
    console.log(
      `${k === 0 ? "cold" : "warm"}: the call ${f(call)} ms; then ${steps.count} callbacks, the longest ${steps.top.map((t) => `${f(t.ms)} (${t.kind})`).join(", ")} ms; ` +
        `calling thread CPU over the whole job ${f(cpu)} ms; wall ${wall.toFixed(0)} ms, ${steps.value ? steps.value.origins : 0} origins; ` +
        `seen by probes: block ${f(seen.block)} ms, event-loop delay max ${f(seen.eld)} ms`,
    );
  }
}
