/** Names shared by the core, the model file and the nodes. */

export type HiddenActivation = "tanh" | "relu" | "sigmoid" | "linear";
export type OutputActivation = "linear" | "sigmoid" | "softmax";
export type LossName = "mse" | "mae" | "huber" | "crossentropy";
export type MetricName = "mse" | "rmse" | "mae" | "mape";
export type BackendName = "fast" | "reference";

export const HIDDEN_ACTIVATIONS: readonly HiddenActivation[] = ["tanh", "relu", "sigmoid", "linear"];
export const OUTPUT_ACTIVATIONS: readonly OutputActivation[] = ["linear", "sigmoid", "softmax"];
export const LOSSES: readonly LossName[] = ["mse", "mae", "huber", "crossentropy"];

/** Batch × time × features, as plain nested arrays (what the API and messages carry). */
export type Tensor3 = number[][][];
/** Targets: a whole step or a single entry may be `null`, meaning "no loss here". */
export type Target3 = (ReadonlyArray<number | null> | null)[][];

/** Names of one layer's parameters, as in the model file. Rows are output units. */
export type WeightName = "W_xh" | "W_hh" | "b_h" | "W_hy" | "b_y";
export const WEIGHT_NAMES: readonly WeightName[] = ["W_xh", "W_hh", "b_h", "W_hy", "b_y"];

/** Weights as they appear in the model file: matrices as row arrays, vectors as arrays. */
export interface LayerWeightsJSON {
  W_xh: number[][];
  W_hh: number[][];
  b_h: number[];
  W_hy?: number[][];
  b_y?: number[];
}

/** Hyper-parameters of one Elman layer (everything but the weights). */
export interface LayerSpec {
  inputSize: number;
  hiddenSize: number;
  activation: HiddenActivation;
  /** Present when the layer has an output projection y_t = g(W_hy h_t + b_y). */
  outputSize?: number;
  outputActivation?: OutputActivation;
}

export interface LayerJSON {
  type: "rnn";
  hiddenSize: number;
  activation: HiddenActivation;
  outputSize?: number;
  outputActivation?: OutputActivation;
  weights: LayerWeightsJSON;
}

export interface WindowJSON {
  length: number;
  horizon: number;
  features: string[];
  targets: string[];
}

export interface TrainingJSON {
  epochs?: number;
  loss?: number | null;
  valLoss?: number | null;
  savedAt?: string;
  [key: string]: unknown;
}

export interface ModelJSON {
  format: "node-red-rnn/model";
  version: 1;
  inputSize: number;
  layers: LayerJSON[];
  scaler?: ScalerJSON | null;
  window?: WindowJSON | null;
  training?: TrainingJSON | null;
}

/** How inputs and targets were normalised: one entry per feature / target column. */
export interface ScalerJSON {
  kind: "none" | "minmax" | "zscore";
  /** Per column: x_scaled = (x - offset) / scale. */
  features: { offset: number[]; scale: number[] };
  targets: { offset: number[]; scale: number[] };
}
