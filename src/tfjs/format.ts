/**
 * The TensorFlow.js layers format as this package reads and writes it: the names of the file's
 * parts, and which Keras layer each of our cells is (which Keras weight each parameter is, each
 * cell says: `kerasWeights`; the projection's Dense, src/projection).
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

/** The Keras layer of each of our cells. */
export const KERAS_CLASS: Readonly<Record<CellName, string>> = Object.freeze({ elman: "SimpleRNN", lstm: "LSTM", gru: "GRU" });

/** The layer name stem TensorFlow.js gives each class, for the names of exported layers. */
export const NAME_STEM: Readonly<Record<string, string>> = Object.freeze({ SimpleRNN: "simple_rnn", LSTM: "lstm", GRU: "gru", Dense: "dense" });

/** Activation names as Keras writes them, and ours. */
export const HIDDEN_ACTIVATION_NAMES: Readonly<Record<string, HiddenActivation>> = Object.freeze({ tanh: "tanh", relu: "relu", sigmoid: "sigmoid", linear: "linear" });
export const OUTPUT_ACTIVATION_NAMES: Readonly<Record<string, OutputActivation>> = Object.freeze({ linear: "linear", sigmoid: "sigmoid", softmax: "softmax" });
/** TensorFlow.js writes "hard_sigmoid" (its class name is "hardSigmoid"): both mean clip(0.2·a + 0.5). */
export const RECURRENT_ACTIVATION_NAMES: Readonly<Record<string, RecurrentActivation>> = Object.freeze({ sigmoid: "sigmoid", hard_sigmoid: "hardSigmoid", hardSigmoid: "hardSigmoid" });

/** The Keras name of our activation. */
export function kerasActivation(name: HiddenActivation | OutputActivation | RecurrentActivation): string {
  return name === "hardSigmoid" ? "hard_sigmoid" : name;
}
