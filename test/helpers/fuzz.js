"use strict";
// Seeded generators of malformed messages, and a harness that feeds them to one node of a real
// flow and records how each message ended (Complete node = done(), Catch node = done(err)).
const fs = require("fs");
const path = require("path");
const v8 = require("v8");
const vm = require("vm");
const { Random } = require("../../dist/src");

const LOCALES = path.join(__dirname, "..", "..", "dist", "nodes", "locales", "en-US");

/** Every message catalogue of the package, merged (top-level keys are the node types). */
function loadCatalogue() {
  const all = {};
  for (const file of fs.readdirSync(LOCALES)) {
    if (file.endsWith(".json")) Object.assign(all, JSON.parse(fs.readFileSync(path.join(LOCALES, file), "utf8")));
  }
  return all;
}

/**
 * The test helper's RED._ returns the key itself, so an error would read "rnn-layer.errors.badPayload"
 * and hide its detail. These wrappers give the nodes a RED._ that looks keys up in the package's
 * catalogues and fills in __name__ placeholders, as Node-RED's i18n does, so the errors a Catch
 * node sees in the tests are the ones a user would read.
 */
function withCatalogue(nodes) {
  const catalogue = loadCatalogue();
  const translate = (key, subs) => {
    let cur = catalogue;
    for (const part of String(key).split(".")) cur = cur && typeof cur === "object" ? cur[part] : undefined;
    if (typeof cur !== "string") return key;
    return cur.replace(/__(\w+)__/g, (m, name) => (subs && subs[name] !== undefined ? String(subs[name]) : m));
  };
  return nodes.map((register) => {
    const wrapped = (RED) => {
      RED._ = translate;
      return register(RED);
    };
    return wrapped;
  });
}

/** Why an error text would not help a user, or null when it is a clear message of our own. */
function unclearReason(text) {
  if (typeof text !== "string" || text.trim() === "") return "empty or not a string";
  const raw = /Cannot read propert|Cannot set propert|is not a function|is not iterable|is not defined|(undefined|null) is not an object|Maximum call stack|Invalid array length|Cannot convert|Do not know how to serialize|Array buffer allocation failed|Unexpected token|\[object Object\]/;
  if (raw.test(text)) return "a raw JavaScript error";
  if (/^(Error: )?rnn-[a-z]+\.[\w.]+$/.test(text.trim())) return "a bare catalogue key";
  if (/__(?!proto__)[a-zA-Z]\w*__/.test(text)) return "an unfilled placeholder";
  return null;
}

/** A function that runs a full garbage collection: --expose-gc when given, else enabled at run time. */
function gcFunction() {
  if (typeof global.gc === "function") return global.gc;
  try {
    v8.setFlagsFromString("--expose-gc");
    return vm.runInNewContext("gc");
  } catch {
    return null;
  }
}
const runGc = gcFunction();

/** Heap in use after a full collection (MB); `gc` tells whether a collection really ran. */
function heapAfterGc() {
  if (runGc) {
    runGc();
    runGc();
  }
  return { mb: process.memoryUsage().heapUsed / 1048576, gc: runGc !== null };
}

function mb(bytes) {
  return Math.round((bytes / 1048576) * 10) / 10;
}

/**
 * The test helper wraps send/status/error… and RED.log.log (called for every message's metrics) in
 * Sinon spies that remember every call with its arguments and a stack trace, so a long run would
 * keep every message alive. Forgetting that history is what lets heap figures show the nodes' own
 * memory rather than the spies'.
 */
function forgetSpyHistory(helper) {
  const sandbox = helper._sandbox;
  if (sandbox && typeof sandbox.resetHistory === "function") sandbox.resetHistory();
}

/** The heap after a full collection, with the spies' call history dropped first (see above). */
function settledHeap(helper) {
  forgetSpyHistory(helper);
  return heapAfterGc();
}

/**
 * The heap to compare a fuzzing run's end with. The shared huge values are made before it: they
 * are test data that outlives the run, not memory the node kept.
 */
function heapBeforeFuzzing(helper) {
  hugeValues();
  return settledHeap(helper);
}

/** Records uncaught exceptions and unhandled rejections while installed. */
function watchProcess() {
  const problems = [];
  const text = (err) => (err && err.stack ? err.stack.split("\n").slice(0, 4).join(" | ") : String(err));
  const onException = (err) => problems.push(`uncaughtException: ${text(err)}`);
  const onRejection = (err) => problems.push(`unhandledRejection: ${text(err)}`);
  process.on("uncaughtException", onException);
  process.on("unhandledRejection", onRejection);
  return {
    problems,
    stop() {
      process.removeListener("uncaughtException", onException);
      process.removeListener("unhandledRejection", onRejection);
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Values. Built once and shared: the huge ones take a moment to make.

let hugeCache = null;
/** The few huge or pathological payloads every node gets (each made once per process). */
function hugeValues() {
  if (hugeCache) return hugeCache;
  const flat = new Array(2_000_000);
  for (let i = 0; i < flat.length; i++) flat[i] = Math.sin(i / 10);
  const cube = new Array(1000);
  for (let b = 0; b < 1000; b++) {
    const seq = new Array(1000);
    for (let t = 0; t < 1000; t++) {
      // Boxed from the start: V8 boxes such numbers anyway the first time Node-RED deep-copies the
      // array (for a Catch or Complete node), which would show up as ~45 MB of "growth".
      const step = [b / 1000, t / 1000, 0.5, null];
      step.pop();
      seq[t] = step;
    }
    cube[b] = seq;
  }
  let deep = [1];
  for (let i = 0; i < 10_000; i++) deep = [deep];
  let deepObject = { value: 1 };
  for (let i = 0; i < 10_000; i++) deepObject = { inner: deepObject };
  const wide = {};
  for (let i = 0; i < 100_000; i++) wide[`k${i}`] = i;
  hugeCache = [
    { name: "2,000,000 numbers", value: flat },
    { name: "1000×1000×3 nested", value: cube },
    { name: "arrays nested 10,000 deep", value: deep },
    { name: "objects nested 10,000 deep", value: deepObject },
    { name: "object with 100,000 keys", value: wide },
  ];
  return hugeCache;
}

/** Values that are never a number, a reading or a batch. */
const JUNK = [
  () => "",
  () => "abc",
  () => "1,2,3",
  () => "NaN",
  () => "Infinity",
  () => "-Infinity",
  () => "0x1f",
  () => "1e999",
  () => true,
  () => false,
  () => null,
  () => NaN,
  () => Infinity,
  () => -Infinity,
  () => function payload() {
    return 1;
  },
  () => Symbol("payload"),
  () => 10n,
  () => new Date(0),
  () => new Map([[1, 2]]),
  () => new Set([1, 2]),
  () => new Float64Array(3),
  () => [],
  () => [[]],
  () => [[[]]],
  () => [NaN],
  () => [[NaN]],
  () => [[[Infinity]]],
  () => [null],
  () => [undefined],
  () => [, 1], // eslint-disable-line no-sparse-arrays
  () => new Array(4),
  () => [true, false],
  () => [["a"]],
  () => [[[1]]].concat([[["x"]]]),
  () => [[[[1]]]],
  () => [[[[[1, 2]]]]],
  () => ({}),
  () => ({ a: "x" }),
  () => ({ a: null, b: [] }),
  () => JSON.parse('{"__proto__": {"polluted": 1}}'),
  () => JSON.parse('{"__proto__": 1, "constructor": 2, "prototype": 3}'),
  () => ({ constructor: 1 }),
  () => ({ prototype: [1] }),
];

/** Numbers and number-like values: valid single readings for a one-field stream. */
const NUMERIC = [
  () => -0,
  () => 0,
  () => 1,
  () => -1.5,
  () => 1e308,
  () => -1e308,
  () => 5e-324,
  () => 123456789,
  () => "12.5",
  () => " -3 ",
  () => "1e3",
  () => ".5",
];

function cyclicArray() {
  const a = [1, 2];
  a.push(a);
  return a;
}

function cyclicObject() {
  const o = { value: 1, nested: { more: [1, 2] } };
  o.nested.back = o;
  o.self = o;
  return o;
}

class Fuzzer {
  constructor(seed) {
    this.rng = new Random(seed);
  }
  int(n) {
    return this.rng.int(n);
  }
  chance(p) {
    return this.rng.next() < p;
  }
  pick(list) {
    return list[this.int(list.length)];
  }
  normal() {
    return this.rng.normal();
  }
  junk() {
    return this.pick(JUNK)();
  }
  numeric() {
    return this.pick(NUMERIC)();
  }
  /** A nested array of numbers with random (often ragged) lengths: sometimes a valid batch. */
  ragged() {
    const B = 1 + this.int(3);
    return Array.from({ length: B }, () => Array.from({ length: 1 + this.int(4) }, () => Array.from({ length: 1 + this.int(3) }, () => this.normal())));
  }
  /** B×T×F numbers (F given), all finite. */
  batch(B, T, F) {
    return Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from({ length: F }, () => this.normal())));
  }
  cyclic() {
    return this.chance(0.5) ? cyclicArray() : cyclicObject();
  }
  /** Anything at all, malformed for every node. */
  anyJunk() {
    return this.int(10) < 8 ? this.junk() : this.cyclic();
  }
  /** A topic: mostly commands no node knows, sometimes not a string at all. */
  topic(commands) {
    const r = this.int(10);
    if (r < 2) return undefined;
    if (r < 4) return this.pick(["TRAIN", "Reset", " stop", "save ", "train\u0000", "resetx", "", "epoch", "done", "validate", "__proto__", "constructor"]);
    if (r < 5) return this.pick([1, true, { topic: "reset" }, ["reset"], null]);
    if (r < 6 && commands.length) return this.pick(commands);
    return `topic-${this.int(50)}`;
  }
  /** A forged msg.rnn record: plausible shape, pointing at nodes that are not what it claims. */
  forgedRun(ids) {
    const pick = () => this.pick([...ids, "no-such-node", "", "f1"]);
    const run = {
      id: this.pick(["forged-run", `run-${this.int(5)}`]),
      phase: this.pick(["train", "validate"]),
      epoch: 1 + this.int(3),
      epochs: 3,
      batch: 1 + this.int(2),
      batches: 2,
      valBatches: this.int(2),
      source: pick(),
      scaler: { kind: "zscore", features: { offset: [0], scale: [1] }, targets: { offset: [0], scale: [1] } },
      window: { length: 4, horizon: 1, features: ["value"], targets: ["value"] },
      layers: Array.from({ length: 1 + this.int(2) }, () => ({ id: pick(), key: this.pick([null, "k1", "no-such-key"]) })),
    };
    if (this.chance(0.7)) run.loss = { id: pick(), key: this.pick([null, "no-such-key"]) };
    const r = this.int(8);
    // A few records broken in the fields the nodes read without checking the rest.
    if (r === 0) run.scaler = null;
    if (r === 1) run.window = { length: "4", features: null };
    if (r === 2) run.scaler = { targets: { offset: null, scale: 5 } };
    if (r === 3) run.layers = [null, 5];
    if (r === 4) run.epoch = "1";
    return run;
  }
  /** A bad msg.rnn of another kind: not an object, or an own __proto__ key. */
  badRun() {
    return this.pick([
      () => "rnn",
      () => 42,
      () => [],
      () => JSON.parse('{"__proto__": {"phase": "train"}, "id": "x"}'),
      () => ({ id: 5, phase: "train" }),
    ])();
  }
}

/**
 * Feeds `count` generated messages to node `target` of a loaded flow that has a Catch node wired
 * to helper "caught" and a Complete node (scope [target]) wired to helper "completed".
 * `make(fuzzer, i)` returns {msg, expect: "ok" | "error" | "either"}. Huge values are fed too.
 */
async function feed(helper, { target, count, seed, make, huge = null, every = 20 }) {
  const fuzzer = new Fuzzer(seed);
  const node = helper.getNode(target);
  const caught = helper.getNode("caught");
  const completed = helper.getNode("completed");
  const errors = new Map();
  const oks = new Map();
  const others = [];
  caught.on("input", (msg) => {
    const id = msg._msgid;
    const text = msg.error && msg.error.message;
    if (typeof id === "string" && id.startsWith("fuzz-")) errors.set(id, (errors.get(id) || []).concat([text]));
    else others.push({ text, source: msg.error && msg.error.source && msg.error.source.id });
  });
  completed.on("input", (msg) => {
    const id = msg._msgid;
    if (typeof id === "string" && id.startsWith("fuzz-")) oks.set(id, (oks.get(id) || 0) + 1);
  });
  const expected = new Map();
  const thrown = [];
  const notes = new Map();
  const send = (msg, expect, note) => {
    const id = `fuzz-${expected.size}`;
    msg._msgid = id;
    expected.set(id, expect);
    if (note) notes.set(id, note);
    try {
      node.receive(msg);
    } catch (err) {
      // The first lines are enough to tell where it came from (a stack overflow's trace is endless).
      const text = err && err.stack ? err.stack.split("\n").slice(0, 4).join(" | ") : String(err);
      thrown.push(`${id}${note ? ` (${note})` : ""}: ${text}`);
    }
  };
  const hugeList = hugeValues();
  const hugeAt = new Set(Array.from({ length: hugeList.length }, (_, k) => Math.floor(((k + 1) * count) / (hugeList.length + 1))));
  let hugeIndex = 0;
  for (let i = 0; i < count; i++) {
    const { msg, expect, note } = make(fuzzer, i);
    send(msg, expect, note);
    if (hugeAt.has(i)) {
      const h = hugeList[hugeIndex++ % hugeList.length];
      const m = huge ? huge(h, fuzzer) : { msg: { payload: h.value }, expect: "either" };
      send(m.msg, m.expect, h.name);
      await tick();
    }
    if (i % every === 0) await tick();
  }
  // Outcomes arrive asynchronously (Node-RED delivers on later turns): wait until all are in.
  const started = Date.now();
  while (errors.size + oks.size < expected.size && Date.now() - started < 10000) await sleep(5);
  await sleep(20);
  const missing = [];
  const both = [];
  const wrong = [];
  const unclear = [];
  for (const [id, expect] of expected) {
    const errs = errors.get(id);
    const ok = oks.get(id);
    const note = notes.get(id) ? ` (${notes.get(id)})` : "";
    if (!errs && !ok) missing.push(id + note);
    if ((errs && ok) || (errs && errs.length > 1) || ok > 1) both.push(id + note);
    if (expect === "ok" && errs) wrong.push(`${id}${note}: expected to be handled, got error "${errs[0]}"`);
    if (expect === "error" && ok) wrong.push(`${id}${note}: expected an error, was accepted`);
    if (errs) for (const text of errs) {
      const why = unclearReason(text);
      if (why) unclear.push(`${id}${note}: ${why}: ${JSON.stringify(text)}`);
    }
  }
  for (const o of others) {
    const why = unclearReason(o.text);
    if (why) unclear.push(`(from ${o.source}) ${why}: ${JSON.stringify(o.text)}`);
  }
  return {
    tried: expected.size,
    thrown,
    missing,
    both,
    wrong,
    unclear,
    errors: Array.from(errors.values()).reduce((n, l) => n + l.length, 0),
    completed: oks.size,
    others,
    sampleErrors: Array.from(new Set(Array.from(errors.values()).map((l) => l[0]))).slice(0, 200),
  };
}

/** Prints the figures of one fuzzing run (console.log: they are part of what the tests report). */
function printReport(name, report, problems, heapBefore, heapAfter) {
  const crashes = report.thrown.length + report.missing.length + report.both.length + problems.length;
  const heap = heapBefore && heapAfter ? `; heap after GC ${heapBefore.mb.toFixed(1)} → ${heapAfter.mb.toFixed(1)} MB${heapAfter.gc ? "" : " (no GC available)"}` : "";
  console.log(`      ${name}: ${report.tried} messages tried, ${crashes} crashes, ${report.errors} refused with an error, ${report.completed} handled${heap}`);
  if (process.env.FUZZ_DEBUG) {
    for (const k of ["thrown", "missing", "both", "wrong", "unclear"]) if (report[k].length) console.log(k, report[k].slice(0, 10));
    console.log(report.sampleErrors.join("\n"));
  }
  return crashes;
}

/** The assertions every fuzzing run must pass. */
function assertClean(assert, report, problems) {
  const few = (list) => list.slice(0, 10);
  assert.deepStrictEqual(few(report.thrown), [], "receive() never throws");
  assert.deepStrictEqual(few(problems), [], "no uncaught exception or unhandled rejection");
  assert.deepStrictEqual(few(report.missing), [], "every message ends with done() or done(err)");
  assert.deepStrictEqual(few(report.both), [], "no message ends twice");
  assert.deepStrictEqual(few(report.wrong), [], "valid messages are handled, malformed ones refused");
  assert.deepStrictEqual(few(report.unclear), [], "every error is a clear sentence");
}

/** Catch (every node of the tab) and Complete (the node under test) wired to helper nodes. */
function observers(target, z = "f1") {
  return [
    { id: "fuzz-catch", z, type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
    { id: "fuzz-complete", z, type: "complete", scope: [target], uncaught: false, wires: [["completed"]] },
    { id: "caught", z, type: "helper", wires: [] },
    { id: "completed", z, type: "helper", wires: [] },
  ];
}

module.exports = {
  Fuzzer,
  feed,
  printReport,
  assertClean,
  observers,
  withCatalogue,
  unclearReason,
  watchProcess,
  heapAfterGc,
  forgetSpyHistory,
  settledHeap,
  heapBeforeFuzzing,
  hugeValues,
  mb,
  tick,
  sleep,
};
