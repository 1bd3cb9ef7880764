/** Names shared by the core, the model file and the nodes. */

export type HiddenActivation = "tanh" | "relu" | "sigmoid" | "linear";
export type OutputActivation = "linear" | "sigmoid" | "softmax";
export type LossName = "mse" | "mae" | "huber" | "crossentropy";
export type MetricName = "mse" | "rmse" | "mae" | "mape";
/**
 * How the layers compute: "fast" (Float64Array loops), "wasm" (WebAssembly SIMD, where the engine
 * has it; a cell without a wasm kernel runs its fast one) or "reference" (mathjs, the yardstick).
 */
export type BackendName = "fast" | "wasm" | "reference";

export const HIDDEN_ACTIVATIONS: readonly HiddenActivation[] = ["tanh", "relu", "sigmoid", "linear"];
export const OUTPUT_ACTIVATIONS: readonly OutputActivation[] = ["linear", "sigmoid", "softmax"];
export const LOSSES: readonly LossName[] = ["mse", "mae", "huber", "crossentropy"];

/** Batch × time × features, as plain nested arrays (what the API and messages carry). */
export type Tensor3 = number[][][];
/** Targets: a whole step or a single entry may be `null`, meaning "no loss here". */
export type Target3 = (ReadonlyArray<number | null> | null)[][];

/** The recurrent cells a layer can run (src/cells). */
export type CellName = "elman" | "lstm" | "gru";

/**
 * The gates' activation of the gated cells. "hardSigmoid" is clip(0.2·a + 0.5, 0, 1), the
 * definition of TensorFlow.js and Keras 2 (TensorFlow.js's default recurrent activation); Keras 3
 * changed its own hard_sigmoid to a slope of 1/6, which an importer must not confuse with this one.
 */
export type RecurrentActivation = "sigmoid" | "hardSigmoid";
export const RECURRENT_ACTIVATIONS: readonly RecurrentActivation[] = ["sigmoid", "hardSigmoid"];

/**
 * Weights as they appear in the model file, by the names the layer's cell and projection give
 * them (Elman: W_xh, W_hh, b_h; the projection: W_hy, b_y): matrices as row arrays, vectors flat.
 */
export type LayerWeightsJSON = Record<string, number[] | number[][]>;

/** Hyper-parameters of one recurrent layer (everything but the weights). */
export interface LayerSpec {
  /** The cell run over time; absent means Elman. */
  cell?: CellName;
  inputSize: number;
  hiddenSize: number;
  /** Elman: f of h_t = f(…); LSTM and GRU: the candidate's and (LSTM) the output's activation. */
  activation: HiddenActivation;
  /** LSTM and GRU: the gates' activation (default sigmoid). */
  recurrentActivation?: RecurrentActivation;
  /** GRU: the reset gate applies after the recurrent product (Keras 3's default form) when true. */
  resetAfter?: boolean;
  /** Present when the layer has an output projection y_t = g(W_hy h_t + b_y). */
  outputSize?: number;
  outputActivation?: OutputActivation;
}

export interface LayerJSON {
  /** The cell, as the file names it ("rnn" is Elman, as in version 1). */
  type: string;
  hiddenSize: number;
  activation: HiddenActivation;
  outputSize?: number;
  outputActivation?: OutputActivation;
  weights: LayerWeightsJSON;
}

export interface WindowJSON {
  length: number;
  /** Rows ahead of the last input that the forecast is for; with `direct`, the steps 1…horizon. */
  horizon: number;
  features: string[];
  targets: string[];
  /** Version 2: the network outputs every step 1…horizon at once (targets × horizon values, step-major). */
  direct?: boolean;
}

export interface TrainingJSON {
  epochs?: number;
  loss?: number | null;
  valLoss?: number | null;
  savedAt?: string;
  [key: string]: unknown;
}

/** How the series is differenced before scaling (see src/data/transform.ts). */
export type Differencing = "none" | "first" | "seasonal" | "both";

/** Calendar features, each fed to the network as a sin/cos pair (UTC). */
export type CalendarFeature = "hourOfDay" | "dayOfWeek" | "dayOfYear";

/** What is done to the readings between the table and the scaler, and undone on forecasts. */
export interface TransformJSON {
  difference: Differencing;
  /** Season length in rows (used by seasonal differencing and the seasonal-naive baseline); null when none. */
  season: number | null;
  /** Calendar features appended to the network's inputs after the scaled features. */
  calendar: CalendarFeature[];
  /** The usual time between rows, ms, when the readings carried times; null otherwise. */
  step: number | null;
}

/** Prediction intervals calibrated on validation residuals (split conformal, see src/intervals.ts). */
export interface IntervalsJSON {
  method: "split-conformal";
  /** Nominal coverage levels, ascending, e.g. [0.5, 0.8, 0.9, 0.95, 0.99]. */
  levels: number[];
  /** halfWidth[level][step][target], real units: the forecast ± this is the interval. */
  halfWidth: number[][][];
  /** Empirical coverage per level on the later half of the validation origins, calibrated on the earlier half; null when too few. */
  coverage: (number | null)[];
  /** Forecast origins the widths were calibrated on. */
  origins: number;
}

export interface ModelJSON {
  format: "node-red-rnn/model";
  version: 1 | 2;
  inputSize: number;
  layers: LayerJSON[];
  scaler?: ScalerJSON | null;
  window?: WindowJSON | null;
  /** Version 2: differencing, season and calendar; absent means none of them. */
  transform?: TransformJSON | null;
  /** Version 2: prediction intervals. */
  intervals?: IntervalsJSON | null;
  training?: TrainingJSON | null;
}

/** How inputs and targets were normalised: one entry per feature / target column. */
export interface ScalerJSON {
  kind: "none" | "minmax" | "zscore";
  /** Per column: x_scaled = (x - offset) / scale. */
  features: { offset: number[]; scale: number[] };
  targets: { offset: number[]; scale: number[] };
}
