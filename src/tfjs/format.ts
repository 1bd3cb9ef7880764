/**
 * The TensorFlow.js layers format as this package reads and writes it: the names of the file's
 * parts, and which Keras layer and which Keras weight each of our cells' parameters is.
 *
 * A model.json holds `modelTopology` (a Keras Sequential model's configuration, keys in Python's
 * snake_case) and `weightsManifest` (groups of weights, each stored in the files its `paths`
 * list, float32 little-endian, one after the other in manifest order).
 */
import type { CellName, HiddenActivation, OutputActivation, RecurrentActivation } from "../types";

export const TFJS_FORMAT = "layers-model";
export const TFJS_MODEL_FILE = "model.json";
export const TFJS_WEIGHTS_FILE = "weights.bin";
/** The key of `userDefinedMetadata` under which the scaler, window and transform travel. */
export const METADATA_KEY = "node-red-rnn";
export const METADATA_VERSION = 1;

/** One entry of a weights manifest group. */
export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: "float32";
}

export interface TfjsWeightsGroup {
  paths: string[];
  weights: TfjsWeightSpec[];
}

/** model.json as written by `exportTfjs` (and the part of it `importTfjs` reads). */
export interface TfjsModelJSON {
  format: typeof TFJS_FORMAT;
  generatedBy: string;
  convertedBy: string | null;
  modelTopology: Record<string, unknown>;
  weightsManifest: TfjsWeightsGroup[];
  userDefinedMetadata?: Record<string, unknown>;
}

/**
 * How one Keras weight is made of our parameters. "transpose": a Keras matrix is (inputs ×
 * units) where ours is (units × inputs). "rows": a Keras tensor whose rows are our vectors in
 * the order listed (one vector: a Keras vector; GRU reset-after: the 2 × 3H bias).
 */
export interface WeightMapping {
  /** The Keras weight's last name segment. */
  readonly keras: "kernel" | "recurrent_kernel" | "bias";
  readonly params: readonly string[];
  readonly layout: "transpose" | "rows";
}

/** The Keras layer of each of our cells. */
export const KERAS_CLASS: Readonly<Record<CellName, string>> = Object.freeze({ elman: "SimpleRNN", lstm: "LSTM", gru: "GRU" });

/** The layer name stem TensorFlow.js gives each class, for the names of exported layers. */
export const NAME_STEM: Readonly<Record<string, string>> = Object.freeze({ SimpleRNN: "simple_rnn", LSTM: "lstm", GRU: "gru", Dense: "dense" });

/** Our cell's parameter names per Keras weight (W_xh and W_x are the same role in different cells). */
export function recurrentWeights(cell: CellName, resetAfter: boolean): WeightMapping[] {
  const [wx, wh, b] = cell === "elman" ? ["W_xh", "W_hh", "b_h"] : ["W_x", "W_h", "bias"];
  return [
    { keras: "kernel", params: [wx], layout: "transpose" },
    { keras: "recurrent_kernel", params: [wh], layout: "transpose" },
    // Keras keeps the GRU's two biases (reset after the product) as the rows of one 2 × 3H bias.
    { keras: "bias", params: cell === "gru" && resetAfter ? [b, "recurrentBias"] : [b], layout: "rows" },
  ];
}

/** The projection W_hy, b_y is a Dense layer applied at every step. */
export const DENSE_WEIGHTS: readonly WeightMapping[] = Object.freeze([
  { keras: "kernel", params: ["W_hy"], layout: "transpose" },
  { keras: "bias", params: ["b_y"], layout: "rows" },
]);

/** Activation names as Keras writes them, and ours. */
export const HIDDEN_ACTIVATION_NAMES: Readonly<Record<string, HiddenActivation>> = Object.freeze({ tanh: "tanh", relu: "relu", sigmoid: "sigmoid", linear: "linear" });
export const OUTPUT_ACTIVATION_NAMES: Readonly<Record<string, OutputActivation>> = Object.freeze({ linear: "linear", sigmoid: "sigmoid", softmax: "softmax" });
/** TensorFlow.js writes "hard_sigmoid" (its class name is "hardSigmoid"): both mean clip(0.2·a + 0.5). */
export const RECURRENT_ACTIVATION_NAMES: Readonly<Record<string, RecurrentActivation>> = Object.freeze({ sigmoid: "sigmoid", hard_sigmoid: "hardSigmoid", hardSigmoid: "hardSigmoid" });

/** The Keras name of our activation. */
export function kerasActivation(name: HiddenActivation | OutputActivation | RecurrentActivation): string {
  return name === "hardSigmoid" ? "hard_sigmoid" : name;
}
