/**
 * Reading a TensorFlow.js model.json (layers format) strictly, before anything is allocated.
 *
 * model.json comes from disk or from a user, so it is untrusted input, like our own model file:
 * every field read is checked, an unknown key is refused (a Keras option this package does not
 * know could change what the model computes), the declared sizes are bounded by the model file's
 * LIMITS, and the weights manifest is sized before a single weight is read. What cannot be
 * represented (a layer, an activation, an option) is refused with an error naming it.
 */
import { fieldChecks as c, LIMITS, ModelFileError } from "../modelFile";
import type { CellName, HiddenActivation, OutputActivation, RecurrentActivation } from "../types";
import { HIDDEN_ACTIVATION_NAMES, KERAS_CLASS, OUTPUT_ACTIVATION_NAMES, RECURRENT_ACTIVATION_NAMES, TFJS_FORMAT } from "./format";

type Plain = Record<string, unknown>;

export interface RecurrentEntry {
  readonly cell: CellName;
  /** The Keras layer's name, which its weights' names contain. */
  readonly name: string;
  /** Where it is in model.json, for messages. */
  readonly field: string;
  readonly units: number;
  readonly activation: HiddenActivation;
  readonly recurrentActivation: RecurrentActivation | null;
  readonly resetAfter: boolean;
  readonly useBias: boolean;
  readonly returnSequences: boolean;
}

export interface DenseEntry {
  /** The Dense layer's name, and the TimeDistributed wrapper's when it has one. */
  readonly names: readonly string[];
  readonly field: string;
  readonly units: number;
  readonly activation: OutputActivation;
  readonly useBias: boolean;
}

/** One of our layers: a recurrent Keras layer and the Dense that follows it, if any. */
export interface StackEntry {
  readonly recurrent: RecurrentEntry;
  dense: DenseEntry | null;
}

export interface ManifestWeight {
  readonly name: string;
  readonly shape: readonly number[];
  /** Byte offset in the concatenation of every group's files, in manifest order. */
  readonly offset: number;
  readonly field: string;
}

export interface TfjsReading {
  readonly inputSize: number;
  readonly layers: readonly StackEntry[];
  readonly weights: readonly ManifestWeight[];
  /** The weight files, in the order their bytes are concatenated. */
  readonly paths: readonly string[];
  /** Bytes the weight files hold together. */
  readonly byteLength: number;
  readonly userDefinedMetadata: Plain | null;
}

const TOP_KEYS = ["format", "generatedBy", "convertedBy", "modelTopology", "weightsManifest", "userDefinedMetadata", "trainingConfig", "signature"];
const TOPOLOGY_KEYS = ["class_name", "config", "keras_version", "backend", "model_config", "training_config"];
const LAYER_ENTRY_KEYS = ["class_name", "config", "name", "module", "registered_name", "build_config"];

/** Keys every layer may carry that change nothing at inference (names, training-only settings). */
const LAYER_BASE_KEYS = ["name", "trainable", "dtype", "batch_input_shape", "batch_size", "input_dim", "input_length"];
/**
 * Recurrent options that do not change what a trained layer computes at inference: initialisers,
 * regularisers and constraints act during training; dropout and recurrent_dropout are off at
 * inference (as in Keras and TensorFlow.js); implementation, unroll and use_cudnn choose how the
 * same function is computed; there are no masks here for zero_output_for_mask to act on.
 */
const RECURRENT_KEYS = [
  ...LAYER_BASE_KEYS, "units", "activation", "use_bias",
  "kernel_initializer", "recurrent_initializer", "bias_initializer",
  "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
  "kernel_constraint", "recurrent_constraint", "bias_constraint",
  "dropout", "recurrent_dropout", "implementation", "unroll", "seed", "zero_output_for_mask",
  "return_sequences", "return_state", "go_backwards", "stateful", "time_major",
];
const GATED_KEYS = [...RECURRENT_KEYS, "recurrent_activation", "use_cudnn"];
const CLASS_KEYS: Readonly<Record<string, readonly string[]>> = {
  SimpleRNN: RECURRENT_KEYS,
  LSTM: [...GATED_KEYS, "unit_forget_bias"],
  GRU: [...GATED_KEYS, "reset_after"],
  Dense: [...LAYER_BASE_KEYS, "units", "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint", "lora_rank", "lora_alpha"],
  Dropout: [...LAYER_BASE_KEYS, "rate", "noise_shape", "seed"],
  InputLayer: ["name", "dtype", "batch_input_shape", "batch_shape", "input_shape", "sparse", "ragged"],
  TimeDistributed: [...LAYER_BASE_KEYS, "layer"],
};
const CELL_OF_CLASS: Readonly<Record<string, CellName>> = Object.fromEntries(Object.entries(KERAS_CLASS).map(([cell, cls]) => [cls, cell as CellName]));

/**
 * Options that would change what the layer computes and that this package cannot represent:
 * each must be false (or absent). The text says what the option does.
 */
const REFUSED_FLAGS: Readonly<Record<string, string>> = {
  return_state: "the layer also returns its states",
  go_backwards: "the layer reads the sequence backwards",
  stateful: "the layer carries its state from one batch to the next",
  time_major: "the inputs are time-major",
};

/** Entries of a manifest, groups, paths and layers: far above any real model, below harm. */
const MAX_ENTRIES = 4096;
const MAX_TOPOLOGY_LAYERS = 4 * LIMITS.maxLayers;
const MAX_NAME = 1024;

function gatesOf(cell: CellName): number {
  return cell === "lstm" ? 4 : cell === "gru" ? 3 : 1;
}

function flag(cfg: Plain, key: string, field: string, def: boolean): boolean {
  const v = c.own(cfg, key);
  if (v === undefined || v === null) return def;
  if (typeof v !== "boolean") c.fail(c.join(field, key), `expected true or false (got ${c.describe(v)})`);
  return v;
}

function name(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "" || value.length > MAX_NAME) c.fail(field, `expected a name of 1 to ${MAX_NAME} characters (got ${c.describe(value)})`);
  return value;
}

function activation<T extends string>(value: unknown, field: string, names: Readonly<Record<string, T>>, fallback: T): T {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "string") c.fail(field, `expected an activation's name (got ${c.describe(value)}); a custom activation cannot be represented`);
  if (!Object.prototype.hasOwnProperty.call(names, value)) {
    c.fail(field, `the activation "${value}" cannot be represented (supported here: ${Object.keys(names).map((n) => `"${n}"`).join(", ")})`);
  }
  return names[value];
}

/** float32 only: our weights and arithmetic are float64, and a float16 model would not agree. */
function checkDtype(cfg: Plain, field: string): void {
  const v = c.own(cfg, "dtype");
  if (v === undefined || v === null || v === "float32") return;
  // Keras 3 writes a dtype policy object: {class_name: "DTypePolicy", config: {name: "float32"}}.
  if (c.isPlainObject(v) && c.isPlainObject(v.config) && c.own(v.config, "name") === "float32") return;
  const shown = c.isPlainObject(v) && c.isPlainObject(v.config) ? c.own(v.config, "name") : v;
  c.fail(c.join(field, "dtype"), `the dtype ${c.describe(shown)} cannot be represented (only float32)`);
}

/** [batch, time, features] from a shape list: the features must be stated; batch and time may be null. */
function inputSizeOf(shape: unknown, field: string): number {
  const arr = c.expectArray(shape, field);
  if (arr.length !== 3) c.fail(field, `expected [batch, time, features] (got ${arr.length} dimensions); a recurrent model's input is a sequence`);
  for (const d of arr.slice(0, 2)) {
    if (d !== null && (typeof d !== "number" || !Number.isInteger(d) || d < 1)) c.fail(field, `expected null or a positive integer for batch and time (got ${c.describe(d)})`);
  }
  return c.positiveInteger(arr[2], `${field}[2]`, LIMITS.maxInputSize);
}

/** The input size a layer's configuration states, or null when it states none. */
function statedInputSize(entry: Plain, cfg: Plain, field: string): number | null {
  for (const key of ["batch_input_shape", "batch_shape"]) {
    const v = c.own(cfg, key);
    if (v !== undefined && v !== null) return inputSizeOf(v, c.join(field, key));
  }
  const dim = c.own(cfg, "input_dim");
  if (dim !== undefined && dim !== null) return c.positiveInteger(dim, c.join(field, "input_dim"), LIMITS.maxInputSize);
  // Keras 3 may state it only in the layer's build_config.
  const build = c.own(entry, "build_config");
  if (c.isPlainObject(build) && c.own(build, "input_shape") !== undefined) return inputSizeOf(build.input_shape, `${field.replace(/\.config$/, "")}.build_config.input_shape`);
  return null;
}

function readRecurrent(cls: string, cfg: Plain, field: string, kerasMajor: number | null): RecurrentEntry {
  const cell = CELL_OF_CLASS[cls];
  for (const [key, what] of Object.entries(REFUSED_FLAGS)) {
    if (flag(cfg, key, field, false)) c.fail(c.join(field, key), `true cannot be represented (${what})`);
  }
  let recurrentActivation: RecurrentActivation | null = null;
  if (cell !== "elman") {
    // TensorFlow.js's default is hard_sigmoid, Keras's sigmoid: a file that leaves it out is ambiguous.
    c.requireKeys(cfg, field, ["recurrent_activation"]);
    recurrentActivation = activation(cfg.recurrent_activation, c.join(field, "recurrent_activation"), RECURRENT_ACTIVATION_NAMES, "sigmoid");
    if (recurrentActivation === "hardSigmoid" && kerasMajor !== null && kerasMajor >= 3) {
      c.fail(c.join(field, "recurrent_activation"), `"hard_sigmoid" of Keras ${kerasMajor} (slope 1/6) cannot be represented: this package's hardSigmoid is clip(0.2·a + 0.5), the one of TensorFlow.js and Keras 2`);
    }
  }
  return {
    cell,
    name: name(c.own(cfg, "name"), c.join(field, "name")),
    field,
    units: c.positiveInteger(c.own(cfg, "units"), c.join(field, "units"), LIMITS.maxHiddenSize),
    activation: activation(c.own(cfg, "activation"), c.join(field, "activation"), HIDDEN_ACTIVATION_NAMES, "tanh"),
    recurrentActivation,
    // Keras 2 (and TensorFlow.js's Python converter) default to reset_after false, Keras 3 to true: Keras 3 always writes it.
    resetAfter: cell === "gru" ? flag(cfg, "reset_after", field, false) : false,
    useBias: flag(cfg, "use_bias", field, true),
    returnSequences: flag(cfg, "return_sequences", field, false),
  };
}

function readDense(cfg: Plain, field: string, wrapper: string | null): DenseEntry {
  const lora = c.own(cfg, "lora_rank");
  if (lora !== undefined && lora !== null) c.fail(c.join(field, "lora_rank"), "a LoRA-adapted Dense layer cannot be represented");
  const own = name(c.own(cfg, "name"), c.join(field, "name"));
  return {
    names: wrapper === null ? [own] : [wrapper, own],
    field,
    units: c.positiveInteger(c.own(cfg, "units"), c.join(field, "units"), LIMITS.maxOutputSize),
    activation: activation(c.own(cfg, "activation"), c.join(field, "activation"), OUTPUT_ACTIVATION_NAMES, "linear"),
    useBias: flag(cfg, "use_bias", field, true),
  };
}

/** The Keras major version of a converted Keras model ("keras v3.4.1"), null for TensorFlow.js's own files. */
function kerasMajorOf(generatedBy: unknown): number | null {
  if (typeof generatedBy !== "string") return null;
  const m = /^keras v?(\d+)\./i.exec(generatedBy.trim());
  return m ? Number(m[1]) : null;
}

/** A layer entry's class and configuration, checked against the keys its class allows. */
function layerEntry(value: unknown, field: string): { cls: string; cfg: Plain; entry: Plain; at: string } {
  const entry = c.expectObject(value, field);
  c.checkKeys(entry, field, LAYER_ENTRY_KEYS);
  const cls = c.own(entry, "class_name");
  if (typeof cls !== "string") c.fail(c.join(field, "class_name"), `expected a layer class name (got ${c.describe(cls)})`);
  const allowed = Object.prototype.hasOwnProperty.call(CLASS_KEYS, cls) ? CLASS_KEYS[cls] : null;
  if (!allowed) {
    c.fail(c.join(field, "class_name"), `a "${cls}" layer cannot be represented (supported: SimpleRNN, LSTM, GRU, Dense or TimeDistributed(Dense) after a recurrent layer, Dropout, InputLayer)`);
  }
  const at = c.join(field, "config");
  const cfg = c.expectObject(c.own(entry, "config"), at);
  c.checkKeys(cfg, at, allowed);
  checkDtype(cfg, at);
  return { cls, cfg, entry, at };
}

function readLayers(topologyIn: Plain, kerasMajor: number | null): { inputSize: number; layers: StackEntry[] } {
  // A model converted from Keras nests the model under model_config, beside its training_config.
  let field = "modelTopology";
  let topology = topologyIn;
  if (c.own(topology, "model_config") !== undefined) {
    field = "modelTopology.model_config";
    topology = c.expectObject(topology.model_config, field);
    c.checkKeys(topology, field, TOPOLOGY_KEYS);
  }
  const cls = c.own(topology, "class_name");
  if (cls !== "Sequential") {
    c.fail(c.join(field, "class_name"), `a ${c.describe(cls)} model cannot be imported: only a Sequential stack of layers can be represented`);
  }
  const configIn = c.own(topology, "config");
  // Old Keras wrote a Sequential's config as the list of layers itself.
  let list: unknown[];
  let listField: string;
  if (Array.isArray(configIn)) {
    list = configIn;
    listField = `${field}.config`;
  } else {
    const config = c.expectObject(configIn, `${field}.config`);
    c.checkKeys(config, `${field}.config`, ["name", "layers", "trainable", "dtype", "build_input_shape"]);
    listField = `${field}.config.layers`;
    list = c.expectArray(c.own(config, "layers"), listField);
  }
  if (list.length > MAX_TOPOLOGY_LAYERS) c.fail(listField, `${list.length} layers exceed the limit ${MAX_TOPOLOGY_LAYERS}`);

  const layers: StackEntry[] = [];
  let inputSize: number | null = null;
  list.forEach((value, k) => {
    const { cls: layerClass, cfg, entry, at } = layerEntry(value, `${listField}[${k}]`);
    if (k === 0) inputSize = statedInputSize(entry, cfg, at);
    if (layerClass === "InputLayer") {
      if (k !== 0) c.fail(`${listField}[${k}]`, "an InputLayer is only allowed first");
      if (flag(cfg, "sparse", at, false) || flag(cfg, "ragged", at, false)) c.fail(at, "a sparse or ragged input cannot be represented");
      if (inputSize === null) c.fail(at, "the InputLayer does not state its shape");
      return;
    }
    // Dropout is the identity at inference.
    if (layerClass === "Dropout") return;
    if (CELL_OF_CLASS[layerClass]) {
      const previous = layers[layers.length - 1];
      if (previous && !previous.recurrent.returnSequences) {
        c.fail(c.join(previous.recurrent.field, "return_sequences"), "false, but another recurrent layer follows, which needs the whole sequence");
      }
      layers.push({ recurrent: readRecurrent(layerClass, cfg, at, kerasMajor), dense: null });
      return;
    }
    let dense: DenseEntry;
    if (layerClass === "TimeDistributed") {
      const inner = layerEntry(c.own(cfg, "layer"), c.join(at, "layer"));
      if (inner.cls !== "Dense") c.fail(c.join(at, "layer.class_name"), `TimeDistributed(${inner.cls}) cannot be represented (only TimeDistributed(Dense))`);
      dense = readDense(inner.cfg, inner.at, name(c.own(cfg, "name"), c.join(at, "name")));
    } else {
      dense = readDense(cfg, at, null);
    }
    const owner = layers[layers.length - 1];
    if (!owner) c.fail(`${listField}[${k}]`, "a Dense layer before the first recurrent layer cannot be represented");
    if (owner.dense) c.fail(`${listField}[${k}]`, "two Dense layers after one recurrent layer cannot be represented (each recurrent layer has at most one output projection)");
    owner.dense = dense;
  });
  if (layers.length === 0) c.fail(listField, "no recurrent layer (SimpleRNN, LSTM or GRU)");
  if (layers.length > LIMITS.maxLayers) c.fail(listField, `${layers.length} recurrent layers exceed the limit ${LIMITS.maxLayers}`);
  if (inputSize === null) c.fail(`${listField}[0]`, "the first layer does not state its input shape (batch_input_shape)");
  return { inputSize, layers };
}

/** Parameters the stack holds, from its declared sizes only. */
export function parameterCount(inputSize: number, layers: readonly StackEntry[]): number {
  let n = 0;
  let width = inputSize;
  for (const { recurrent: r, dense } of layers) {
    const G = gatesOf(r.cell) * r.units;
    n += G * (width + r.units) + G * (r.resetAfter ? 2 : 1);
    width = r.units;
    if (dense) {
      n += dense.units * (width + 1);
      width = dense.units;
    }
  }
  return n;
}

function readManifest(value: unknown): { weights: ManifestWeight[]; paths: string[]; byteLength: number } {
  const field = "weightsManifest";
  const groups = c.expectArray(value, field);
  if (groups.length > MAX_ENTRIES) c.fail(field, `${groups.length} groups exceed the limit ${MAX_ENTRIES}`);
  const weights: ManifestWeight[] = [];
  const paths: string[] = [];
  let offset = 0;
  groups.forEach((g, gi) => {
    const at = `${field}[${gi}]`;
    const group = c.expectObject(g, at);
    c.checkKeys(group, at, ["paths", "weights"]);
    c.requireKeys(group, at, ["paths", "weights"]);
    const ps = c.expectArray(group.paths, `${at}.paths`);
    const ws = c.expectArray(group.weights, `${at}.weights`);
    if (paths.length + ps.length > MAX_ENTRIES) c.fail(`${at}.paths`, `more than ${MAX_ENTRIES} weight files`);
    if (weights.length + ws.length > MAX_ENTRIES) c.fail(`${at}.weights`, `more than ${MAX_ENTRIES} weights`);
    ps.forEach((p, pi) => paths.push(name(p, `${at}.paths[${pi}]`)));
    ws.forEach((w, wi) => {
      const wat = `${at}.weights[${wi}]`;
      const spec = c.expectObject(w, wat);
      if (c.own(spec, "quantization") !== undefined) c.fail(`${wat}.quantization`, "quantized weights cannot be read: convert the model without quantization (float32)");
      c.checkKeys(spec, wat, ["name", "shape", "dtype", "group"]);
      c.requireKeys(spec, wat, ["name", "shape", "dtype"]);
      if (spec.dtype !== "float32") c.fail(`${wat}.dtype`, `weights of dtype ${c.describe(spec.dtype)} cannot be read (only float32)`);
      const shapeIn = c.expectArray(spec.shape, `${wat}.shape`);
      if (shapeIn.length > 4) c.fail(`${wat}.shape`, `${shapeIn.length} dimensions: no weight of these layers has more than 2`);
      let count = 1;
      const shape = shapeIn.map((d, di) => {
        const n = c.positiveInteger(d, `${wat}.shape[${di}]`, LIMITS.maxParameters);
        count *= n;
        if (count > LIMITS.maxParameters) c.fail(`${wat}.shape`, `more than ${LIMITS.maxParameters} values`);
        return n;
      });
      weights.push({ name: name(spec.name, `${wat}.name`), shape, offset, field: wat });
      offset += 4 * count;
      if (offset > 4 * (LIMITS.maxParameters + MAX_ENTRIES)) c.fail(field, `the weights exceed the limit of ${LIMITS.maxParameters} parameters`);
    });
  });
  return { weights, paths, byteLength: offset };
}

/**
 * Checks a parsed model.json and returns what it describes, in our terms. Throws ModelFileError
 * naming the field (e.g. `modelTopology.config.layers[1].config.go_backwards`).
 */
export function readTfjsModelJSON(obj: unknown): TfjsReading {
  const root = c.expectObject(obj, "");
  c.checkKeys(root, "", null);
  const format = c.own(root, "format");
  if (format === "graph-model") c.fail("format", "a TensorFlow.js graph model cannot be imported: only the layers format (a Keras model converted with --input_format keras) carries the layers");
  if (format !== undefined && format !== TFJS_FORMAT) c.fail("format", `expected "${TFJS_FORMAT}" (got ${c.describe(format)})`);
  c.checkKeys(root, "", TOP_KEYS);
  c.requireKeys(root, "", ["modelTopology", "weightsManifest"]);
  const topology = c.expectObject(root.modelTopology, "modelTopology");
  c.checkKeys(topology, "modelTopology", TOPOLOGY_KEYS);
  const { inputSize, layers } = readLayers(topology, kerasMajorOf(c.own(root, "generatedBy")));
  const parameters = parameterCount(inputSize, layers);
  if (parameters > LIMITS.maxParameters) c.fail("modelTopology", `${parameters} parameters in all exceed the limit ${LIMITS.maxParameters}`);
  const manifest = readManifest(root.weightsManifest);
  const metaIn = c.own(root, "userDefinedMetadata");
  let userDefinedMetadata: Plain | null = null;
  if (metaIn !== undefined && metaIn !== null) {
    userDefinedMetadata = c.expectObject(metaIn, "userDefinedMetadata");
    c.checkKeys(userDefinedMetadata, "userDefinedMetadata", null);
  }
  return { inputSize, layers, ...manifest, userDefinedMetadata };
}

export { ModelFileError };
