"use strict";
// Seeded generators of malformed messages, and a harness that feeds them to one node of a real
// flow and records how each message ended (Complete node = done(), Catch node = done(err)).
const fs = require("fs");
const path = require("path");
const v8 = require("v8");
const vm = require("vm");
const { Random } = require("../../dist/src");

/**
 * Inputs that broke the nodes when these tests were first written for the run message, fed every
 * time now that the bugs are fixed (KNOWN_BUGS marks where each is generated; it stays a switch so
 * that FUZZ_KNOWN_BUGS=0 can show how the tests fared without them):
 * - a record whose fields are inherited (Object.create(record)): rnn layer and rnn loss used to
 *   send on a record without run, source and loss; records must now have their fields as their own;
 * - layer settings nested 10,000 deep, at a layer watched by a Complete node: Node-RED's copy for
 *   the Complete node overflowed inside done() and the layer ended the message twice; settings are
 *   now flat, refused before the record goes on;
 * - settings holding a Symbol or a BigInt: the trainer answered with a raw JavaScript error; such
 *   values are now refused as settings with a message;
 * - errors quoting what the record says in full (a 100,000-character run id made a 100 kB error):
 *   an error text longer than 2,000 characters counts as unclear;
 * - rnn trainer, "reset" while a run told to stop winds down: an unhandled rejection and no done
 *   message; and "reset" before a run's first epoch (its workers still starting): the run never
 *   ended and the trainer refused every run after it.
 */
const KNOWN_BUGS = process.env.FUZZ_KNOWN_BUGS !== "0";

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
  if (KNOWN_BUGS && text.length > 2000) return `${text.length} characters long`;
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
  /**
   * A forged run record (msg.rnn) of the run-message contract, docs/nodes.md "What travels in the
   * run message": {run, source, layers: [{id, name, settings}], loss: {id, loss, delta} | null}.
   * Every field gets, in turn, a wrong type or a hostile value: run ids no sequence made (or a real
   * one with another source), layers with hostile settings (huge, negative, strings, `__proto__`
   * keys, arrays, null), 65 and 10,000 layers, losses of unknown names or with delta ≤ 0 / NaN, a
   * loss without layers.
   *
   * `ctx`: `real` — a real run {run, source} to name now and then (null: none); `layerIds` — ids of
   * deployed rnn layer nodes; `ids` — other ids; `loss` — how often the record already has a loss
   * (0…1); `refusable` — when naming a real run, make sure a trainer must refuse the record (one
   * flaw at least that a trainer cannot build a model from), so that no forged record ever trains.
   *
   * Returns {rnn, wellFormed, flaws, note}: `wellFormed` — whether the record has the contract's
   * shape (wellFormedRecord), `flaws` — what else is wrong with it for a trainer (by construction).
   */
  runRecord(ctx = {}) {
    const { real = null, layerIds = [], ids = [], loss = 0.5, refusable = true } = ctx;
    const flaws = [];
    const rec = {};
    // run: a real id half the time when there is one, else an id no sequence made. (The same
    // numbers are drawn either way, so that a run being there or not changes little else.)
    const useReal = this.chance(0.5);
    const forgedId = this.pick(FORGED_RUN_IDS)();
    rec.run = real && useReal ? real.run : forgedId;
    const named = real !== null && rec.run === real.run;
    if (!named) flaws.push("unknown run");
    // source: the real one for a real run, mostly
    const keepSource = this.chance(0.6);
    const otherSource = this.pick([...ids, ...layerIds, "no-such-node", "", "f1", "__proto__"]);
    rec.source = named && keepSource ? real.source : otherSource;
    if (named && rec.source !== real.source) flaws.push("wrong source");
    // layers: mostly 1–3, sometimes none, the most a chain may have (64) or more (65, 10,000)
    const n = this.pick([0, 1, 1, 1, 1, 2, 2, 2, 3, 3, 64, 65, 10000]);
    rec.layers = [];
    for (let k = 0; k < n; k++) rec.layers.push(this.layerEntry(layerIds, ids, k === n - 1, flaws));
    if (n === 0) flaws.push("no layers");
    // loss
    if (this.chance(loss)) rec.loss = this.lossEntry(ids, flaws);
    else {
      rec.loss = null;
      flaws.push("no loss");
    }
    if (this.chance(0.1)) rec.phase = this.pick(["train", "validate"]);
    if (this.chance(0.05)) rec.batch = { payload: [[[1]]] };
    let note = "";
    // One part of the record of the wrong type (or missing), now and then.
    const b = this.int(100);
    if (b < 4) note = this.breakField(rec, "run", [5, null, undefined, {}, [rec.run], true, NaN, NO_FIELD]);
    else if (b < 8) note = this.breakField(rec, "source", [5, null, undefined, {}, ["seq"], NO_FIELD]);
    else if (b < 13) note = this.breakField(rec, "layers", [null, "layers", 3, { 0: {}, length: 1 }, {}, NO_FIELD, new Set()]);
    else if (b < 18) note = this.breakField(rec, "loss", [false, 0, "", "mse", [], undefined, NO_FIELD, 5]);
    else if (b < 30 && rec.layers.length) {
      // One entry of the layers: not an object, an id or name not a string, settings not an object.
      const k = this.int(rec.layers.length);
      const what = this.int(4);
      if (what === 0) rec.layers[k] = this.pick([null, 5, "layer", [], true]);
      else if (what === 1) rec.layers[k] = { ...rec.layers[k], id: this.pick([5, null, undefined, {}, ["layer1"]]) };
      else if (what === 2) rec.layers[k] = { ...rec.layers[k], name: this.pick([5, null, undefined, {}]) };
      else {
        const settings = this.pick([null, [], [{ hiddenSize: 4 }], "hiddenSize=4", 4, true, NO_FIELD]);
        rec.layers[k] = { ...rec.layers[k] };
        if (settings === NO_FIELD) delete rec.layers[k].settings;
        else rec.layers[k].settings = settings;
      }
      note = `layers[${k}] of the wrong type`;
    }
    if (named && refusable && wellFormedRecord(rec) && !flaws.some((f) => DEFINITE_FLAWS.includes(f))) {
      // Every part could build a model: break one a trainer checks.
      const fix = this.int(4);
      const last = rec.layers.length - 1;
      if (fix === 0) rec.source = "forged-source";
      else if (fix === 1) rec.layers[last] = { ...rec.layers[last], settings: { ...rec.layers[last].settings, hiddenSize: this.pick(BAD_SETTINGS.hiddenSize)() } };
      else if (fix === 2) rec.layers[0] = { ...rec.layers[0], id: "no-such-layer" };
      else rec.layers[last] = { ...rec.layers[last], settings: { ...rec.layers[last].settings, projection: true, outputSize: 2 + this.int(4) } };
      flaws.push(["wrong source", "bad setting", "not a layer node", "wrong width"][fix]);
    }
    let rnn = rec;
    const w = this.int(100);
    if (w < 3) {
      // An own __proto__ key (JSON.parse makes one) holding every field: the record itself has none.
      rnn = JSON.parse(`{"__proto__": ${JSON.stringify({ run: "r", source: "s", layers: [], loss: null })}}`);
      note = "own __proto__ key only";
    } else if (w < 5) {
      // Own __proto__ key beside the fields.
      const own = JSON.parse('{"__proto__": {"run": "polluted", "layers": [], "loss": null}}');
      for (const k of Object.keys(rec)) own[k] = rec[k];
      rnn = own;
      note = note || "own __proto__ key";
    } else if (w < 7 && KNOWN_BUGS) {
      // Fields inherited rather than own (a known bug, see KNOWN_BUGS).
      rnn = Object.create({ ...rec });
      note = "inherited fields";
    } else if (w < 9) {
      rnn = { ...rec };
      rnn.self = rnn;
      if (rnn.layers && rnn.layers.length && plainObject(rnn.layers[0])) rnn.layers[0] = { ...rnn.layers[0], back: rnn };
      note = note || "cyclic";
    }
    const wellFormed = wellFormedRecord(rnn);
    note = `forged record${named ? " of a real run" : ""} (${[note, ...flaws].filter(Boolean).join(", ")}${wellFormed ? "" : "; malformed"})`;
    return { rnn, wellFormed, flaws, named, note };
  }
  /** Sets (or deletes, NO_FIELD) `key` of `rec` to one of `values`; returns a note. */
  breakField(rec, key, values) {
    const v = this.pick(values);
    if (v === NO_FIELD) delete rec[key];
    else rec[key] = v;
    return `${key} of the wrong type`;
  }
  /** One entry of msg.rnn.layers (`last`: it is the last layer); what a trainer cannot use is pushed to `flaws`. */
  layerEntry(layerIds, ids, last, flaws) {
    const entry = {};
    if (this.int(100) < 85 && layerIds.length) entry.id = this.pick(layerIds);
    else {
      entry.id = this.pick([...ids, "no-such-layer", "", "__proto__", "constructor"]);
      pushOnce(flaws, "not a layer node");
    }
    entry.name = this.pick(["", "", "layer", "a".repeat(1000), "__proto__", "\u0000"]);
    entry.settings = this.settings(last, flaws);
    return entry;
  }
  /**
   * Settings of one layer entry: mostly valid ones that fit (4 units, tanh, a projection to 1 output
   * when `last`), with hostile values in some fields, some definitely refused, some not objects.
   */
  settings(last, flaws) {
    const s = this.int(100);
    const base = { hiddenSize: 4, activation: "tanh", projection: last, init: "orthogonal", seed: 1 };
    if (last) Object.assign(base, { outputSize: 1, outputActivation: "linear" });
    if (s < 5) {
      // Own __proto__ keys beside the fields, or instead of them (then the defaults apply, which
      // fit anywhere: 32 units with a projection to 1 output).
      return JSON.parse(this.chance(0.5) ? `{"__proto__": {"hiddenSize": 1000000000}, "hiddenSize": 4, "projection": ${last}}` : '{"__proto__": {"hiddenSize": 1000000000, "projection": false}}');
    }
    if (s < 30) {
      // A value no rule accepts, in one or two fields.
      for (let k = 0, count = 1 + this.int(2); k < count; k++) {
        const field = this.pick(Object.keys(BAD_SETTINGS));
        if (field === "outputSize" || field === "outputActivation") base.projection = true;
        base[field] = this.pick(BAD_SETTINGS[field])();
      }
      pushOnce(flaws, "bad setting");
      return base;
    }
    if (s < 50) {
      // Odd values in one field that the rules may or may not take ("", null and undefined mean the default).
      base[this.pick(Object.keys(base))] = this.pick(ODD_VALUES)();
      pushOnce(flaws, "odd setting");
      return base;
    }
    if (s < 58) {
      // Valid, but the last layer's width does not fit the series (one target); a middle layer of any width fits.
      if (last) {
        Object.assign(base, this.chance(0.5) ? { projection: false, hiddenSize: 2 + this.int(8) } : { outputSize: 2 + this.int(8) });
        pushOnce(flaws, "wrong width");
      } else base.hiddenSize = this.pick([1, 1024]);
      return base;
    }
    if (s < 61) return Object.assign(Object.create(null), base);
    if (s < 64) return { ...base, extra: { deep: [[[1]]] }, constructor: "x", toString: 5 };
    return base;
  }
  /** A msg.rnn.loss entry: a valid one, or an unknown name, a delta ≤ 0 or not a number, a wrong type. */
  lossEntry(ids, flaws) {
    const l = this.int(100);
    const entry = { id: this.int(100) < 5 ? this.pick([5, null]) : this.pick([...ids, "loss", "no-such-loss"]), loss: "mse", delta: 1 };
    if (l < 20) entry.loss = this.pick(["MSE", "l2", "", "softmax", "__proto__", "constructor", 5, null, undefined, ["mse"]]);
    else if (l < 40) entry.delta = this.pick([0, -0, -1, NaN, Infinity, -Infinity, "1", null, undefined, [1], {}]);
    else {
      entry.loss = this.pick(LOSS_NAMES);
      entry.delta = this.pick([1, 0.5, 1e-9, 1e6, 1e-320]);
    }
    return entry;
  }
  /** A bad msg.rnn of another kind: not an object, an array, an own __proto__ key, an old batch record. */
  badRun() {
    return this.pick([
      () => "rnn",
      () => 42,
      () => [],
      () => [{ run: "x", source: "seq", layers: [], loss: null }],
      () => true,
      () => null,
      () => JSON.parse('{"__proto__": {"phase": "train"}, "id": "x"}'),
      () => ({ id: 5, phase: "train" }),
      // The record of the old contract (one message per minibatch).
      () => ({ id: "run-1", phase: "train", epoch: 1, batch: 1, batches: 2, source: "seq", scaler: null, window: { length: 4 }, layers: [{ id: "layer", key: "k1" }] }),
    ])();
  }
}

/** Run ids no sequence node made (functions: one of them is long). */
const FORGED_RUN_IDS = [() => "forged-run", () => "run-1", () => "", () => "__proto__", () => "constructor", () => "hasOwnProperty", () => "x".repeat(100000), () => "7a3f0c1e2b4d5f60"];
const LOSS_NAMES = ["mse", "mae", "huber", "crossentropy"];
/** Placeholder: leave the field out. */
const NO_FIELD = Symbol("no field");
/** Flaws of a record that a trainer must refuse it for (an "odd setting" may be taken). */
const DEFINITE_FLAWS = ["unknown run", "wrong source", "no layers", "no loss", "not a layer node", "bad setting", "wrong width"];
/** Per layer setting, values no rule of an rnn layer node's dialog accepts. */
const BAD_SETTINGS = {
  hiddenSize: [() => 0, () => -1, () => -32, () => 1025, () => 1e9, () => 2 ** 53, () => 1.5, () => NaN, () => Infinity, () => -Infinity, () => "32 units", () => "NaN", () => "1e9", () => "9".repeat(400), () => ({}), () => [1, 2], ...(KNOWN_BUGS ? [() => Symbol("units"), () => 10000n] : [])],
  activation: [() => "TANH", () => "gelu", () => "softmax", () => "tanh ", () => 5, () => ({}), () => "__proto__", () => "constructor", () => "toString"],
  projection: [() => "yes", () => 1, () => 0, () => "TRUE", () => ({}), () => [], ...(KNOWN_BUGS ? [() => 1n] : [])],
  outputSize: [() => 0, () => -1, () => 1025, () => 1e9, () => 0.5, () => NaN, () => "one"],
  outputActivation: [() => "tanh", () => "relu", () => "LINEAR", () => 7],
  init: [() => "zeros", () => "Orthogonal", () => 1, () => "__proto__"],
  seed: [() => 2 ** 31, () => -(2 ** 31) - 1, () => 1.5, () => "seed", () => NaN, () => 1e20],
};
/** Values of uncertain meaning for a setting: some are taken (true is 1 unit, [8] is 8, "" the default). */
const ODD_VALUES = [() => "", () => null, () => undefined, () => true, () => false, () => [8], () => "8", () => " 8 ", () => "1e1", () => -0, () => "true", () => "relu", () => 1024, () => 1];

function pushOnce(list, item) {
  if (!list.includes(item)) list.push(item);
}

/** Longest chain the nodes accept (rnn layers in one run message). */
const MAX_CHAIN_LAYERS = 64;

function plainObject(v) {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Whether `v` has the shape of a run record as docs/nodes.md defines it (own fields: run and source
 * strings, layers an array of at most 64 {id, name, settings} with settings an object, loss null or
 * {id, loss, delta} with a known loss and a finite delta > 0). Written from the contract, not from
 * the nodes' code, so that a node accepting anything is caught.
 */
function wellFormedRecord(v) {
  if (!plainObject(v)) return false;
  const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  // docs/nodes.md: a run id of at most 200 characters; a layer's settings flat (numbers, strings,
  // true/false, null or undefined for the default), at most 32 of them.
  if (!own(v, "run") || typeof v.run !== "string" || v.run.length > 200 || !own(v, "source") || typeof v.source !== "string") return false;
  if (!Array.isArray(v.layers) || v.layers.length > MAX_CHAIN_LAYERS) return false;
  const flat = (x) => x === null || x === undefined || ["number", "string", "boolean"].includes(typeof x);
  for (const l of v.layers) {
    if (!plainObject(l) || !own(l, "id") || !own(l, "name") || !own(l, "settings") || typeof l.id !== "string" || typeof l.name !== "string" || !plainObject(l.settings)) return false;
    const entries = Object.entries(l.settings);
    if (entries.length > 32 || !entries.every(([, x]) => flat(x))) return false;
  }
  if (!own(v, "loss")) return false;
  if (v.loss === null) return true;
  const loss = v.loss;
  return plainObject(loss) && own(loss, "id") && own(loss, "loss") && own(loss, "delta") && typeof loss.id === "string" && LOSS_NAMES.includes(loss.loss) && typeof loss.delta === "number" && Number.isFinite(loss.delta) && loss.delta > 0;
}

/**
 * Feeds `count` generated messages to node `target` of a loaded flow that has a Catch node wired
 * to helper "caught" and a Complete node (scope [target]) wired to helper "completed".
 * `make(fuzzer, i)` returns {msg, expect: "ok" | "error" | "either", note?, why?}: `why`, a RegExp,
 * is what the error must say when there is one (refused for the right reason). Huge values are fed too.
 * A message not ended within `settleMs` of the last one sent counts as never ended.
 */
async function feed(helper, { target, count, seed, make, huge = null, every = 20, settleMs = 10000 }) {
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
  const reasons = new Map();
  const send = (msg, expect, note, why) => {
    const id = `fuzz-${expected.size}`;
    msg._msgid = id;
    expected.set(id, expect);
    if (note) notes.set(id, note);
    if (why) reasons.set(id, why);
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
    const { msg, expect, note, why } = make(fuzzer, i);
    send(msg, expect, note, why);
    if (hugeAt.has(i)) {
      const h = hugeList[hugeIndex++ % hugeList.length];
      const m = huge ? huge(h, fuzzer) : { msg: { payload: h.value }, expect: "either" };
      send(m.msg, m.expect, h.name, m.why);
      await tick();
    }
    if (i % every === 0) await tick();
  }
  // Outcomes arrive asynchronously (Node-RED delivers on later turns): wait until all are in.
  const started = Date.now();
  while (errors.size + oks.size < expected.size && Date.now() - started < settleMs) await sleep(5);
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
    // Refused, but for another reason than the one expected.
    const why = reasons.get(id);
    if (why && errs && !why.test(errs[0])) wrong.push(`${id}${note}: expected an error matching ${why}, got "${errs[0]}"`);
    if (errs) for (const text of errs) {
      const why = unclearReason(text);
      if (why) unclear.push(`${id}${note}: ${why}: ${JSON.stringify(text)}`);
    }
  }
  // How the messages of each kind ended (for FUZZ_DEBUG): "note → ok / error / none".
  const byNote = {};
  for (const [id] of expected) {
    const kind = (notes.get(id) || "(plain)").replace(/\s*\(.*$/, "");
    const t = (byNote[kind] = byNote[kind] || { ok: 0, error: 0, none: 0 });
    if (oks.get(id)) t.ok++;
    else if (errors.get(id)) t.error++;
    else t.none++;
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
    byNote,
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
    for (const [kind, t] of Object.entries(report.byNote)) console.log(`  ${kind}: ${t.ok} ok, ${t.error} error${t.none ? `, ${t.none} never ended` : ""}`);
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
  KNOWN_BUGS,
  wellFormedRecord,
  MAX_CHAIN_LAYERS,
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
