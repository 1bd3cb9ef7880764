/**
 * The model file (contract): what a saved model may contain and how it is checked.
 *
 * A model file comes from disk, from a user's upload or from a flow, so it is treated as
 * untrusted input. `validateModelJSON` checks every field and returns a fresh copy built only
 * from what it checked, so nothing unexpected (extra keys, prototype tricks, getters) travels on
 * into the runtime. Every error names the field a user has to look at.
 */
import {
  IntervalsJSON,
  LayerJSON,
  LayerSpec,
  LayerWeightsJSON,
  ModelJSON,
  OUTPUT_ACTIVATIONS,
  ScalerJSON,
  TrainingJSON,
  TransformJSON,
  WindowJSON,
} from "./types";
import { CALENDAR_FEATURES as CALENDAR } from "./data/calendar";
import { Cell, CELL_FILE_TYPES, cellOfFileType, DEFAULT_CELL } from "./cells";
import { layerShapes } from "./layer";
import { DIFFERENCINGS } from "./data/transform";

export const MODEL_FORMAT = "node-red-rnn/model";
/** The version written. Version 1 (no transform, no intervals) is still read: it means "none of them". */
export const MODEL_VERSION = 2;
const READABLE_VERSIONS: readonly number[] = [1, 2];

/**
 * Bounds on what a file may declare. The runtime allocates Float64Arrays from the declared
 * sizes, so without these a few bytes of JSON (`"hiddenSize": 1e9`) could make it try to
 * allocate gigabytes, or spend minutes walking arrays, before anything noticed the file was
 * nonsense. The limits are far above what a forecasting RNN in Node-RED needs (20 million
 * parameters is 160 MB of weights) and are all checked before any weight array is touched.
 */
export const LIMITS = Object.freeze({
  maxLayers: 16,
  maxInputSize: 4096,
  maxHiddenSize: 4096,
  maxOutputSize: 4096,
  maxParameters: 20_000_000,
  /** Columns of a scaler and names in a window. */
  maxFeatures: 1000,
  maxWindowLength: 100_000,
  maxHorizon: 100_000,
  /** Season length in rows, and steps ahead that intervals are calibrated for. */
  maxSeason: 10_000,
  maxIntervalSteps: 1000,
  /** Length of a feature or target name. */
  maxNameLength: 256,
  /** Keys in `training`, and keys in one object nested inside it. */
  maxTrainingKeys: 256,
  /** Length of an array inside `training` (e.g. a loss history, one entry per epoch). */
  maxTrainingArray: 100_000,
  /** Length of a string inside `training`. */
  maxTrainingString: 10_000,
  /**
   * Characters of model text accepted by `parseModelText` (and bytes of a model file). A model
   * at `maxParameters` written with full double precision stays below this; V8 cannot hold a
   * much longer string anyway.
   */
  maxTextLength: 512 * 1024 * 1024,
});

/** Error in a model file; `field` is the path of the offending field ("" for the whole text). */
export class ModelFileError extends Error {
  readonly field: string;
  /** The file the model came from, when it came from a file. */
  file?: string;

  constructor(field: string, detail: string) {
    super(field ? `${field}: ${detail}` : detail);
    this.name = "ModelFileError";
    this.field = field;
  }
}

// Keys that reach Object.prototype (or a constructor) when used as property paths. JSON.parse
// makes `__proto__` an ordinary own key, so it has to be refused explicitly wherever keys are read.
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

const TOP_LEVEL_KEYS_V1 = ["format", "version", "inputSize", "layers", "scaler", "window", "training"];
const TOP_LEVEL_KEYS = [...TOP_LEVEL_KEYS_V1, "transform", "intervals"];
const TRANSFORM_KEYS = ["difference", "season", "calendar", "step"];
const INTERVALS_KEYS = ["method", "levels", "halfWidth", "coverage", "origins"];
// The frame every layer has; each cell adds its own keys (src/cells, `fileKeys`).
const LAYER_KEYS = ["type", "hiddenSize", "outputSize", "outputActivation", "weights"];
const SCALER_KEYS = ["kind", "features", "targets"];
const SCALER_KINDS: readonly ScalerJSON["kind"][] = ["none", "minmax", "zscore"];
const COLUMNS_KEYS = ["offset", "scale"];
const WINDOW_KEYS = ["length", "horizon", "features", "targets"];
const WINDOW_KEYS_V2 = [...WINDOW_KEYS, "direct"];

type Plain = Record<string, unknown>;

function fail(field: string, detail: string): never {
  throw new ModelFileError(field, detail);
}

/** A short, safe rendering of a bad value for an error message. */
function describe(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  if (typeof value === "number" || typeof value === "boolean" || value === undefined) return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** Own value of `key`, or undefined: inherited properties never count as file content. */
function own(obj: Plain, key: string): unknown {
  return hasOwn(obj, key) ? obj[key] : undefined;
}

function isPlainObject(value: unknown): value is Plain {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function expectObject(value: unknown, field: string): Plain {
  if (!isPlainObject(value)) fail(field, `expected an object (got ${describe(value)})`);
  return value;
}

function expectArray(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) fail(field, `expected an array (got ${describe(value)})`);
  return value;
}

/** Refuses prototype-reaching keys first, then any key outside `allowed`. */
function checkKeys(obj: Plain, field: string, allowed: readonly string[] | null): void {
  for (const key of Object.keys(obj)) {
    if (FORBIDDEN_KEYS.has(key)) fail(join(field, key), `the key "${key}" is not allowed`);
  }
  if (allowed === null) return;
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      fail(join(field, key), `unexpected key${field ? "" : " at the top level"} (allowed: ${allowed.join(", ")})`);
    }
  }
}

function requireKeys(obj: Plain, field: string, required: readonly string[]): void {
  for (const key of required) {
    if (!hasOwn(obj, key) || obj[key] === undefined) fail(join(field, key), "missing");
  }
}

function positiveInteger(value: unknown, field: string, limit: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    fail(field, `expected a positive integer (got ${describe(value)})`);
  }
  if (value > limit) fail(field, `${value} exceeds the limit ${limit}`);
  return value;
}

function finiteNumber(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) fail(field, `not a finite number (got ${describe(value)})`);
  return value;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    fail(field, `expected one of ${allowed.map((a) => `"${a}"`).join(", ")} (got ${describe(value)})`);
  }
  return value as T;
}

/** Copies a vector of exactly `length` finite numbers; the length is checked before any walk. */
function copyVector(value: unknown, field: string, length: number, why = ""): number[] {
  const arr = expectArray(value, field);
  if (arr.length !== length) fail(field, `expected ${length} entries${why}, got ${arr.length}`);
  const out = new Array<number>(length);
  for (let i = 0; i < length; i++) out[i] = finiteNumber(arr[i], `${field}[${i}]`);
  return out;
}

/** Copies a rows×cols matrix given as row arrays; every row's length is checked before it is read. */
function copyMatrix(value: unknown, field: string, rows: number, cols: number, rowsWhy: string, colsWhy: string): number[][] {
  const arr = expectArray(value, field);
  if (arr.length !== rows) fail(field, `expected ${rows} rows${rowsWhy}, got ${arr.length}`);
  const out = new Array<number[]>(rows);
  for (let r = 0; r < rows; r++) out[r] = copyVector(arr[r], `${field}[${r}]`, cols, colsWhy);
  return out;
}

interface LayerHeader {
  json: Plain;
  field: string;
  cell: Cell;
  spec: LayerSpec;
  weights: Plain;
}

/** Checks one layer's declared sizes and keys, without touching its weight arrays. */
function checkLayerHeader(value: unknown, index: number, inputSize: number): LayerHeader {
  const field = `layers[${index}]`;
  const json = expectObject(value, field);
  const cell = cellOfFileType(own(json, "type"));
  if (!cell) fail(`${field}.type`, `expected ${CELL_FILE_TYPES.map((t) => `"${t}"`).join(" or ")} (got ${describe(own(json, "type"))})`);
  checkKeys(json, field, [...LAYER_KEYS, ...cell.fileKeys]);
  requireKeys(json, field, ["type", "hiddenSize", ...cell.fileKeys, "weights"]);
  const hiddenSize = positiveInteger(json.hiddenSize, `${field}.hiddenSize`, LIMITS.maxHiddenSize);
  // The cell reads its own fields (Elman: activation), with the same checks as the frame's.
  const fields = cell.readFields({
    oneOf: (key, allowed) => oneOf(json[key], `${field}.${key}`, allowed),
    flag: (key) => {
      const v = own(json, key);
      if (v !== undefined && typeof v !== "boolean") fail(`${field}.${key}`, `expected true or false (got ${describe(v)})`);
      return v as boolean | undefined;
    },
  });
  const spec = { inputSize, hiddenSize, activation: "tanh", ...fields } as LayerSpec;
  if (cell.name !== DEFAULT_CELL) spec.cell = cell.name;
  if (own(json, "outputSize") !== undefined) {
    spec.outputSize = positiveInteger(json.outputSize, `${field}.outputSize`, LIMITS.maxOutputSize);
    if (own(json, "outputActivation") !== undefined) {
      spec.outputActivation = oneOf(json.outputActivation, `${field}.outputActivation`, OUTPUT_ACTIVATIONS);
    }
  } else if (own(json, "outputActivation") !== undefined) {
    fail(`${field}.outputActivation`, "only allowed together with outputSize (the layer has no output projection)");
  }
  const weights = expectObject(json.weights, `${field}.weights`);
  const expected = layerShapes(spec).map((s) => s.name);
  const projection = ["W_hy", "b_y"];
  checkKeys(weights, `${field}.weights`, null);
  for (const key of Object.keys(weights)) {
    if (!expected.includes(key)) {
      const why = projection.includes(key) && spec.outputSize === undefined ? "present but the layer has no outputSize" : `unexpected key (expected ${expected.join(", ")})`;
      fail(`${field}.weights.${key}`, why);
    }
  }
  requireKeys(weights, `${field}.weights`, expected);
  return { json, field, cell, spec, weights };
}

function parameterCount(h: LayerHeader): number {
  let n = 0;
  for (const s of layerShapes(h.spec)) n += s.rows * s.cols;
  return n;
}

function copyLayer(h: LayerHeader, index: number): LayerJSON {
  const { field, spec } = h;
  const w = h.weights;
  const from = index === 0 ? " (the model's inputSize)" : ` (what layer ${index - 1} emits)`;
  const why = (meaning: string): string => (meaning === "input" ? from : ` (${meaning})`);
  const at = `${field}.weights`;
  const weights: LayerWeightsJSON = {};
  for (const s of layerShapes(spec)) {
    weights[s.name] = s.vector
      ? copyVector(w[s.name], `${at}.${s.name}`, s.rows, why(s.meaning[0]))
      : copyMatrix(w[s.name], `${at}.${s.name}`, s.rows, s.cols, why(s.meaning[0]), why(s.meaning[1]));
  }
  const layer = { type: h.cell.fileType, hiddenSize: spec.hiddenSize, ...h.cell.writeFields(spec) } as LayerJSON;
  if (spec.outputSize !== undefined) {
    layer.outputSize = spec.outputSize;
    if (spec.outputActivation !== undefined) layer.outputActivation = spec.outputActivation;
  }
  // Sizes first and the bulky weights last, so the head of a file reads as its summary.
  layer.weights = weights;
  return layer;
}

function copyColumns(value: unknown, field: string, limit: number = LIMITS.maxFeatures): { offset: number[]; scale: number[] } {
  const obj = expectObject(value, field);
  checkKeys(obj, field, COLUMNS_KEYS);
  requireKeys(obj, field, COLUMNS_KEYS);
  const offset = expectArray(obj.offset, `${field}.offset`);
  const scale = expectArray(obj.scale, `${field}.scale`);
  if (offset.length > limit) fail(`${field}.offset`, `${offset.length} columns exceed the limit ${limit}`);
  if (scale.length !== offset.length) {
    fail(`${field}.scale`, `expected ${offset.length} entries (one per offset), got ${scale.length}`);
  }
  const out = { offset: copyVector(offset, `${field}.offset`, offset.length), scale: copyVector(scale, `${field}.scale`, scale.length) };
  out.scale.forEach((s, i) => {
    // Scaled values are (x - offset) / scale, so a zero scale would turn every reading into ±∞.
    if (s === 0) fail(`${field}.scale[${i}]`, "must not be zero (values are divided by it)");
  });
  return out;
}

function copyScaler(value: unknown): ScalerJSON {
  const obj = expectObject(value, "scaler");
  checkKeys(obj, "scaler", SCALER_KEYS);
  requireKeys(obj, "scaler", SCALER_KEYS);
  const kind = oneOf(obj.kind, "scaler.kind", SCALER_KINDS);
  return { kind, features: copyColumns(obj.features, "scaler.features"), targets: copyColumns(obj.targets, "scaler.targets", LIMITS.maxOutputSize) };
}

function copyNames(value: unknown, field: string): string[] {
  const arr = expectArray(value, field);
  if (arr.length === 0) fail(field, "expected at least one name");
  if (arr.length > LIMITS.maxFeatures) fail(field, `${arr.length} names exceed the limit ${LIMITS.maxFeatures}`);
  const seen = new Set<string>();
  return arr.map((name, i) => {
    const at = `${field}[${i}]`;
    if (typeof name !== "string" || name.length === 0) fail(at, `expected a non-empty string (got ${describe(name)})`);
    if (name.length > LIMITS.maxNameLength) fail(at, `name longer than ${LIMITS.maxNameLength} characters`);
    // Names are used to read fields of incoming readings, so they must not reach the prototype.
    if (FORBIDDEN_KEYS.has(name)) fail(at, `"${name}" is not allowed as a field name`);
    if (seen.has(name)) fail(at, `"${name}" is listed twice`);
    seen.add(name);
    return name;
  });
}

function copyWindow(value: unknown, version: number): WindowJSON {
  const obj = expectObject(value, "window");
  checkKeys(obj, "window", version === 1 ? WINDOW_KEYS : WINDOW_KEYS_V2);
  requireKeys(obj, "window", WINDOW_KEYS);
  const window: WindowJSON = {
    length: positiveInteger(obj.length, "window.length", LIMITS.maxWindowLength),
    horizon: positiveInteger(obj.horizon, "window.horizon", LIMITS.maxHorizon),
    features: copyNames(obj.features, "window.features"),
    targets: copyNames(obj.targets, "window.targets"),
  };
  if (obj.direct !== undefined) {
    if (typeof obj.direct !== "boolean") fail("window.direct", `expected true or false (got ${describe(obj.direct)})`);
    if (obj.direct) window.direct = true;
  }
  return window;
}

function copyTransform(value: unknown): TransformJSON {
  const obj = expectObject(value, "transform");
  checkKeys(obj, "transform", TRANSFORM_KEYS);
  requireKeys(obj, "transform", TRANSFORM_KEYS);
  const difference = oneOf(obj.difference, "transform.difference", DIFFERENCINGS);
  const season = obj.season === null ? null : positiveInteger(obj.season, "transform.season", LIMITS.maxSeason);
  if (season !== null && season < 2) fail("transform.season", "a season is at least 2 rows long");
  if ((difference === "seasonal" || difference === "both") && season === null) fail("transform.season", `"${difference}" differencing needs a season length`);
  const list = expectArray(obj.calendar, "transform.calendar");
  if (list.length > CALENDAR.length) fail("transform.calendar", `at most ${CALENDAR.length} calendar features`);
  const calendar = list.map((f, i) => oneOf(f, `transform.calendar[${i}]`, CALENDAR));
  if (new Set(calendar).size !== calendar.length) fail("transform.calendar", "a calendar feature is listed twice");
  let step: number | null = null;
  if (obj.step !== null) {
    step = finiteNumber(obj.step, "transform.step");
    if (!(step > 0)) fail("transform.step", `expected a positive number of milliseconds (got ${describe(obj.step)})`);
  }
  if (calendar.length > 0 && step === null) fail("transform.step", "calendar features need the time step of the rows");
  return { difference, season, calendar, step };
}

function copyIntervals(value: unknown, targets: number): IntervalsJSON {
  const obj = expectObject(value, "intervals");
  checkKeys(obj, "intervals", INTERVALS_KEYS);
  requireKeys(obj, "intervals", INTERVALS_KEYS);
  oneOf(obj.method, "intervals.method", ["split-conformal"] as const);
  const levelsIn = expectArray(obj.levels, "intervals.levels");
  if (levelsIn.length === 0 || levelsIn.length > 16) fail("intervals.levels", "expected 1 to 16 levels");
  const levels = levelsIn.map((v, i) => {
    const x = finiteNumber(v, `intervals.levels[${i}]`);
    if (!(x > 0 && x < 1)) fail(`intervals.levels[${i}]`, `a level is between 0 and 1 (got ${x})`);
    if (i > 0 && !(x > (levelsIn[i - 1] as number))) fail(`intervals.levels[${i}]`, "levels must be ascending");
    return x;
  });
  const widthsIn = expectArray(obj.halfWidth, "intervals.halfWidth");
  if (widthsIn.length !== levels.length) fail("intervals.halfWidth", `${widthsIn.length} entries but ${levels.length} levels`);
  let steps = -1;
  const halfWidth = widthsIn.map((perLevel, l) => {
    const at = `intervals.halfWidth[${l}]`;
    const rows = expectArray(perLevel, at);
    if (rows.length === 0 || rows.length > LIMITS.maxIntervalSteps) fail(at, `expected 1 to ${LIMITS.maxIntervalSteps} steps`);
    if (steps >= 0 && rows.length !== steps) fail(at, `${rows.length} steps but the first level has ${steps}`);
    steps = rows.length;
    return rows.map((row, s) => {
      const w = copyVector(row, `${at}[${s}]`, targets, " (one per target)");
      w.forEach((x, o) => {
        if (!(x >= 0)) fail(`${at}[${s}][${o}]`, `a half-width is not negative (got ${x})`);
      });
      return w;
    });
  });
  const coverageIn = expectArray(obj.coverage, "intervals.coverage");
  if (coverageIn.length !== levels.length) fail("intervals.coverage", `${coverageIn.length} entries but ${levels.length} levels`);
  const coverage = coverageIn.map((v, i) => (v === null ? null : finiteNumber(v, `intervals.coverage[${i}]`)));
  const origins = obj.origins === 0 ? 0 : positiveInteger(obj.origins, "intervals.origins", Number.MAX_SAFE_INTEGER);
  return { method: "split-conformal", levels, halfWidth, coverage, origins };
}

/**
 * A value inside `training`: a number, string, boolean or null; an array of those (a history);
 * or, one level down only, an object of those (e.g. the optimizer's settings).
 */
function copyTrainingValue(value: unknown, field: string, depth: number): unknown {
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "number") return finiteNumber(value, field);
  if (typeof value === "string") {
    if (value.length > LIMITS.maxTrainingString) fail(field, `string longer than ${LIMITS.maxTrainingString} characters`);
    return value;
  }
  if (Array.isArray(value)) {
    if (value.length > LIMITS.maxTrainingArray) fail(field, `${value.length} entries exceed the limit ${LIMITS.maxTrainingArray}`);
    return value.map((v, i) => {
      const at = `${field}[${i}]`;
      if (typeof v === "object" && v !== null) fail(at, `expected a number, string, boolean or null (got ${describe(v)})`);
      return copyTrainingValue(v, at, depth + 1);
    });
  }
  if (isPlainObject(value)) {
    if (depth === 0) return copyTrainingObject(value, field, depth + 1);
    fail(field, "objects may be nested only one level inside training");
  }
  fail(field, `expected a number, string, boolean, null, array or object (got ${describe(value)})`);
}

function copyTrainingObject(obj: Plain, field: string, depth: number): Plain {
  checkKeys(obj, field, null);
  const keys = Object.keys(obj);
  if (keys.length > LIMITS.maxTrainingKeys) fail(field, `${keys.length} keys exceed the limit ${LIMITS.maxTrainingKeys}`);
  const out: Plain = {};
  for (const key of keys) {
    if (obj[key] === undefined) continue;
    out[key] = copyTrainingValue(obj[key], join(field, key), depth);
  }
  return out;
}

function copyTraining(value: unknown): TrainingJSON {
  const obj = expectObject(value, "training");
  const out = copyTrainingObject(obj, "training", 0) as TrainingJSON;
  // The fields the package itself writes keep the types the rest of the code relies on.
  if (out.epochs !== undefined && (typeof out.epochs !== "number" || !Number.isInteger(out.epochs) || out.epochs < 0)) {
    fail("training.epochs", `expected a non-negative integer (got ${describe(out.epochs)})`);
  }
  // null: no finite training loss yet (e.g. every step of the last epoch was refused), as TrainingJSON allows.
  if (out.loss !== undefined && out.loss !== null && typeof out.loss !== "number") fail("training.loss", `expected a number or null (got ${describe(out.loss)})`);
  if (out.valLoss !== undefined && out.valLoss !== null && typeof out.valLoss !== "number") {
    fail("training.valLoss", `expected a number or null (got ${describe(out.valLoss)})`);
  }
  if (out.savedAt !== undefined && typeof out.savedAt !== "string") {
    fail("training.savedAt", `expected a string (got ${describe(out.savedAt)})`);
  }
  return out;
}

/**
 * Checks a parsed model file against the contract and returns a clean copy of it.
 * Throws ModelFileError whose message starts with the path of the bad field.
 * Declared sizes and the total parameter count are checked before any weight array is read.
 */
export function validateModelJSON(obj: unknown): ModelJSON {
  const root = expectObject(obj, "");
  checkKeys(root, "", null);
  // Format and version first: a file of another kind or a newer version should say so, rather
  // than fail on the first key this version does not know.
  const format = own(root, "format");
  if (format !== MODEL_FORMAT) fail("format", `expected "${MODEL_FORMAT}" (got ${describe(format)})`);
  const version = own(root, "version");
  if (typeof version !== "number" || !READABLE_VERSIONS.includes(version)) {
    if (typeof version === "number") fail("version", `unsupported version ${version} (this package reads versions ${READABLE_VERSIONS.join(" and ")})`);
    fail("version", `expected the number ${MODEL_VERSION} (got ${describe(version)})`);
  }
  // A version 1 file is read as it always was: the sections of version 2 are not part of it.
  checkKeys(root, "", version === 1 ? TOP_LEVEL_KEYS_V1 : TOP_LEVEL_KEYS);
  requireKeys(root, "", ["inputSize", "layers"]);
  const inputSize = positiveInteger(root.inputSize, "inputSize", LIMITS.maxInputSize);

  const layersIn = expectArray(root.layers, "layers");
  if (layersIn.length === 0) fail("layers", "expected at least one layer");
  if (layersIn.length > LIMITS.maxLayers) fail("layers", `${layersIn.length} layers exceed the limit ${LIMITS.maxLayers}`);
  const headers: LayerHeader[] = [];
  let width = inputSize;
  let parameters = 0;
  for (let k = 0; k < layersIn.length; k++) {
    const h = checkLayerHeader(layersIn[k], k, width);
    parameters += parameterCount(h);
    headers.push(h);
    width = h.spec.outputSize ?? h.spec.hiddenSize;
  }
  if (parameters > LIMITS.maxParameters) {
    fail("layers", `${parameters} parameters in all exceed the limit ${LIMITS.maxParameters}`);
  }

  // Everything cheap about the optional sections is checked before the weights are walked.
  const scalerIn = own(root, "scaler");
  const windowIn = own(root, "window");
  const trainingIn = own(root, "training");
  const scaler = scalerIn === undefined || scalerIn === null ? scalerIn : copyScaler(scalerIn);
  const window = windowIn === undefined || windowIn === null ? windowIn : copyWindow(windowIn, version);
  const training = trainingIn === undefined || trainingIn === null ? trainingIn : copyTraining(trainingIn);
  const transformIn = own(root, "transform");
  const transform = transformIn === undefined || transformIn === null ? transformIn : copyTransform(transformIn);
  const outputWidth = width;
  const intervalsIn = own(root, "intervals");
  if (window) {
    const calendarInputs = transform ? 2 * transform.calendar.length : 0;
    if (window.features.length + calendarInputs !== inputSize) {
      fail("window.features", `${window.features.length} features${calendarInputs ? ` and ${calendarInputs} calendar inputs` : ""} but the model's inputSize is ${inputSize}`);
    }
    // A differenced forecast adds back the naive rule of the target's own history: it must be a feature.
    if (transform && transform.difference !== "none") {
      const missing = window.targets.find((name) => !window.features.includes(name));
      if (missing !== undefined) fail("window.targets", `"${missing}" is not among window.features, which "${transform.difference}" differencing needs to forecast it`);
    }
    // A forecast reads one value per target (per step, when direct) from the last layer: the widths must agree.
    const outputs = window.targets.length * (window.direct ? window.horizon : 1);
    if (outputs !== outputWidth) {
      fail("window.targets", `${window.targets.length} targets${window.direct ? ` × ${window.horizon} steps` : ""} but the last layer emits ${outputWidth} values`);
    }
    if (scaler) {
      if (scaler.features.offset.length !== window.features.length) {
        fail("scaler.features", `${scaler.features.offset.length} columns but window.features names ${window.features.length}`);
      }
      if (scaler.targets.offset.length !== outputs) {
        fail("scaler.targets", `${scaler.targets.offset.length} columns but window.targets names ${window.targets.length}${window.direct ? ` for ${window.horizon} steps` : ""}`);
      }
    }
  }

  const model: ModelJSON = {
    format: MODEL_FORMAT,
    version: version as 1 | 2,
    inputSize,
    layers: headers.map((h, k) => copyLayer(h, k)),
  };
  if (scaler !== undefined) model.scaler = scaler;
  if (window !== undefined) model.window = window;
  if (transform !== undefined) model.transform = transform;
  if (intervalsIn !== undefined && intervalsIn !== null) {
    if (!window) fail("intervals", "intervals need the window section (their targets)");
    model.intervals = copyIntervals(intervalsIn, window.targets.length);
  } else if (intervalsIn === null) model.intervals = null;
  if (training !== undefined) model.training = training;
  return model;
}

/** Parses model text (a file's content) and validates it. A leading UTF-8 byte-order mark is ignored. */
export function parseModelText(text: string): ModelJSON {
  if (typeof text !== "string") throw new ModelFileError("", `model text must be a string (got ${describe(text)})`);
  if (text.length > LIMITS.maxTextLength) {
    throw new ModelFileError("", `model file is too large: ${text.length} characters exceed the limit ${LIMITS.maxTextLength}`);
  }
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === "") throw new ModelFileError("", "model file is empty");
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new ModelFileError("", `model file is not valid JSON (truncated or corrupted): ${(err as Error).message}`);
  }
  return validateModelJSON(parsed);
}

/**
 * Model text as the package writes it: two-space indentation, each vector and each matrix row
 * on one line, so a file stays readable (and diffable) without being mostly whitespace.
 */
export function formatModelText(model: ModelJSON): string {
  const parts: string[] = [];
  write(model, "", parts);
  parts.push("\n");
  return parts.join("");
}

function write(value: unknown, indent: string, out: string[]): void {
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== "object")) {
    out.push(JSON.stringify(value));
    return;
  }
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    out.push("[");
    value.forEach((v, i) => {
      out.push(i === 0 ? "\n" : ",\n", inner);
      write(v, inner, out);
    });
    out.push(value.length ? `\n${indent}]` : "]");
    return;
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined);
    out.push("{");
    keys.forEach((k, i) => {
      out.push(i === 0 ? "\n" : ",\n", inner, JSON.stringify(k), ": ");
      write(value[k], inner, out);
    });
    out.push(keys.length ? `\n${indent}}` : "}");
    return;
  }
  out.push(JSON.stringify(value));
}

/**
 * The field checks above, for the readers of other model formats (src/tfjs), so that every file
 * the package reads is checked the same way and names the offending field the same way.
 */
export interface FieldChecks {
  fail(field: string, detail: string): never;
  describe(value: unknown): string;
  join(path: string, key: string): string;
  own(obj: Record<string, unknown>, key: string): unknown;
  isPlainObject(value: unknown): value is Record<string, unknown>;
  expectObject(value: unknown, field: string): Record<string, unknown>;
  expectArray(value: unknown, field: string): unknown[];
  checkKeys(obj: Record<string, unknown>, field: string, allowed: readonly string[] | null): void;
  requireKeys(obj: Record<string, unknown>, field: string, required: readonly string[]): void;
  positiveInteger(value: unknown, field: string, limit: number): number;
  oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T;
  readonly forbiddenKeys: ReadonlySet<string>;
}

export const fieldChecks: FieldChecks = Object.freeze({
  fail,
  describe,
  join,
  own,
  isPlainObject,
  expectObject,
  expectArray,
  checkKeys,
  requireKeys,
  positiveInteger,
  oneOf,
  forbiddenKeys: FORBIDDEN_KEYS,
});
