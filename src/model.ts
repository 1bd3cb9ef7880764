import { ForwardResult, LayerBackend } from "./backends/backend";
import { getBackend } from "./backends";
import { LayerInit, LayerParams, paramsToNested, RnnLayer } from "./layer";
import { computeLoss, LossOptions } from "./losses";
import { MODEL_VERSION, validateModelJSON } from "./modelFile";
import { Random } from "./random";
import { LocalWork } from "./localWork";
import type { Workspace } from "./workspace";
import { isEmptyData, toPackedData, TrainingData } from "./packedData";
import { checkFitOptions, FitOptions, FitResult, fitLength, LoopEvent, runToEnd, trainingLoop, trainingSummary } from "./trainingLoop";
import { DEFAULT_CELL, getCell } from "./cells";
import {
  BackendName,
  CellName,
  HiddenActivation,
  IntervalsJSON,
  LayerSpec,
  LayerWeightsJSON,
  LossName,
  ModelJSON,
  OutputActivation,
  RECURRENT_ACTIVATIONS,
  RecurrentActivation,
  ScalerJSON,
  Target3,
  Tensor3,
  TrainingJSON,
  TransformJSON,
  WindowJSON,
} from "./types";
import { fromTensorInput, isMatrixLike, MatrixLike, packInputs, packTargets, toMatrixOutput, unpackOutputs } from "./tensors";

export interface ModelLayerConfig extends LayerInit {
  /** The recurrent cell (default Elman). */
  cell?: CellName;
  hiddenSize: number;
  activation?: HiddenActivation;
  /** LSTM and GRU: the gates' activation (default sigmoid). */
  recurrentActivation?: RecurrentActivation;
  /** GRU: the reset gate after the recurrent product, Keras 3's default form (default false). */
  resetAfter?: boolean;
  outputSize?: number;
  outputActivation?: OutputActivation;
}

export interface ModelConfig {
  inputSize: number;
  layers: ModelLayerConfig[];
  /** Seed of the weight initialisation (default 1). */
  seed?: number;
}

export interface GradientOptions extends LossOptions {
  loss?: LossName;
  /** Truncated BPTT window (0 = full). */
  truncate?: number;
  backend?: BackendName;
  /** Initial states per layer (B×S each, S = the layer's stateSize), for stateful use. */
  states?: (Float64Array | null)[];
}

export interface GradientResult {
  loss: number;
  /** Entries that carried a target. */
  count: number;
  /** Same structure and names as the weights in the model file: one object per layer. */
  grads: LayerWeightsJSON[];
  /** ‖∂L/∂h_t‖ per time step, per layer (index 0 = first layer). */
  dhNorm: number[][];
}

/** What a model carries besides its layers, to be used on real readings. */
export interface ModelExtras {
  scaler?: ScalerJSON | null;
  window?: WindowJSON | null;
  transform?: TransformJSON | null;
  intervals?: IntervalsJSON | null;
  training?: TrainingJSON | null;
}

/** A stack of recurrent layers plus what is needed to use it on real data (scaler, window). */
export class Model {
  readonly inputSize: number;
  readonly layers: RnnLayer[];
  scaler: ScalerJSON | null;
  window: WindowJSON | null;
  /** Differencing, season and calendar features: applied to readings before the scaler, undone on forecasts. */
  transform: TransformJSON | null;
  /** Prediction intervals calibrated on validation residuals. */
  intervals: IntervalsJSON | null;
  training: TrainingJSON | null;

  constructor(inputSize: number, layers: RnnLayer[], extras: ModelExtras = {}) {
    if (layers.length === 0) throw new Error("a model needs at least one layer");
    let width = inputSize;
    layers.forEach((layer, k) => {
      if (layer.inputSize !== width) throw new Error(`layers[${k}] expects ${layer.inputSize} inputs but receives ${width}`);
      width = layer.outputSize;
    });
    this.inputSize = inputSize;
    this.layers = layers;
    this.scaler = extras.scaler ?? null;
    this.window = extras.window ?? null;
    this.transform = extras.transform ?? null;
    this.intervals = extras.intervals ?? null;
    this.training = extras.training ?? null;
  }

  static create(config: ModelConfig): Model {
    const rng = new Random(config.seed ?? 1);
    let width = config.inputSize;
    if (!Number.isInteger(width) || width < 1) throw new Error(`inputSize must be a positive integer, got ${width}`);
    const layers = config.layers.map((c) => {
      const spec: LayerSpec = { inputSize: width, hiddenSize: c.hiddenSize, activation: c.activation ?? "tanh" };
      if (c.cell !== undefined && c.cell !== DEFAULT_CELL) spec.cell = c.cell;
      if (c.recurrentActivation !== undefined) {
        if (!getCell(c.cell).fileKeys.includes("recurrentActivation")) {
          throw new Error(`recurrentActivation applies to a gated cell only, not to "${getCell(c.cell).name}"`);
        }
        if (!RECURRENT_ACTIVATIONS.includes(c.recurrentActivation)) {
          throw new Error(`recurrentActivation must be one of ${RECURRENT_ACTIVATIONS.map((r) => `"${r}"`).join(", ")}, got ${JSON.stringify(c.recurrentActivation)}`);
        }
        // The default stays implicit, as in a spec read from a model file.
        if (c.recurrentActivation !== "sigmoid") spec.recurrentActivation = c.recurrentActivation;
      }
      if (c.resetAfter === true) {
        if (!getCell(c.cell).fileKeys.includes("resetAfter")) throw new Error(`resetAfter applies to the GRU cell only, not to "${getCell(c.cell).name}"`);
        spec.resetAfter = true;
      }
      if (c.outputSize !== undefined) {
        spec.outputSize = c.outputSize;
        spec.outputActivation = c.outputActivation ?? "linear";
      }
      const layer = RnnLayer.create(spec, { ...c, rng });
      width = layer.outputSize;
      return layer;
    });
    return new Model(config.inputSize, layers);
  }

  /** Builds a model from a model file's object, validated strictly first. */
  static fromJSON(obj: unknown): Model {
    const json = validateModelJSON(obj);
    let width = json.inputSize;
    const layers = json.layers.map((l) => {
      const layer = RnnLayer.fromJSON(l, width);
      width = layer.outputSize;
      return layer;
    });
    return new Model(json.inputSize, layers, { scaler: json.scaler, window: json.window, transform: json.transform, intervals: json.intervals, training: json.training });
  }

  toJSON(): ModelJSON {
    const json: ModelJSON = {
      format: "node-red-rnn/model",
      version: MODEL_VERSION,
      inputSize: this.inputSize,
      layers: this.layers.map((l) => l.toJSON()),
    };
    if (this.scaler) json.scaler = this.scaler;
    if (this.window) json.window = this.window;
    if (this.transform) json.transform = this.transform;
    if (this.intervals) json.intervals = this.intervals;
    if (this.training) json.training = this.training;
    return json;
  }

  get outputSize(): number {
    return this.layers[this.layers.length - 1].outputSize;
  }

  get outputActivation(): OutputActivation {
    return this.layers[this.layers.length - 1].outputActivation;
  }

  clone(): Model {
    return new Model(this.inputSize, this.layers.map((l) => l.clone()), {
      scaler: this.scaler,
      window: this.window,
      transform: this.transform,
      intervals: this.intervals,
      training: this.training ? { ...this.training } : null,
    });
  }

  /** Every parameter array, layer by layer in `RnnLayer.names()` order. */
  parameters(): Float64Array[] {
    return this.layers.flatMap((l) => l.list());
  }

  /** Forward through all layers on flat data; returns each layer's result. */
  forwardFlat(x: Float64Array, B: number, T: number, backend: LayerBackend, states?: (Float64Array | null)[], workspaces?: Workspace[]): ForwardResult[] {
    const results: ForwardResult[] = [];
    let input = x;
    this.layers.forEach((layer, k) => {
      const r = backend.forward(layer, input, B, T, states?.[k] ?? null, workspaces?.[k] ?? null);
      results.push(r);
      input = r.y;
    });
    return results;
  }

  /**
   * Backward through all layers from ∂L/∂y of the last layer; gradients are added into `grads`
   * (one LayerParams per layer). `dhNormSq`, when given, gets one array per layer.
   */
  backwardFlat(results: ForwardResult[], dY: Float64Array, dYIsLogit: boolean, grads: LayerParams[], backend: LayerBackend, options: { truncate?: number } = {}, dhNormSq?: Float64Array[]): void {
    let d: Float64Array | null = dY;
    for (let k = this.layers.length - 1; k >= 0 && d; k--) {
      d = backend.backward(this.layers[k], results[k], d, grads[k], {
        // Always a number: an options object of one shape keeps the kernel's optimised code valid.
        truncate: options.truncate ?? 0,
        dYIsLogit: k === this.layers.length - 1 ? dYIsLogit : false,
        needInputGrad: k > 0,
        dhNormSq: dhNormSq?.[k],
      });
    }
  }

  /**
   * Outputs of every time step, B×T×O. Accepts nested arrays (B×T×I; sequences may differ in
   * length) or a mathjs matrix of size [B, T, I]; a matrix input gives a matrix output.
   */
  predict(inputs: Tensor3 | MatrixLike, options: { backend?: BackendName; states?: (Float64Array | null)[] } = {}): Tensor3 | MatrixLike {
    const asMatrix = isMatrixLike(inputs);
    const packed = packInputs(fromTensorInput(inputs), this.inputSize);
    const results = this.forwardFlat(packed.data, packed.B, packed.T, getBackend(options.backend), options.states);
    const out = unpackOutputs(results[results.length - 1].y, packed, this.outputSize);
    return asMatrix ? toMatrixOutput(out) : out;
  }

  /**
   * Loss and exact gradients (BPTT) of every parameter. `targets` is B×T×O with `null` (a whole
   * step or one entry) meaning "no loss here"; the loss is the mean over the non-null entries.
   */
  gradients(inputs: Tensor3 | MatrixLike, targets: Target3 | MatrixLike, options: GradientOptions = {}): GradientResult {
    const packed = packInputs(fromTensorInput(inputs), this.inputSize);
    const target = packTargets(fromTensorInput(targets) as Target3, packed, this.outputSize);
    const backend = getBackend(options.backend);
    const results = this.forwardFlat(packed.data, packed.B, packed.T, backend, options.states);
    const lossName = options.loss ?? "mse";
    const loss = computeLoss(lossName, results[results.length - 1].y, target, this.outputSize, this.outputActivation, options);
    const grads = this.layers.map((l) => l.zeros());
    const dhNormSq = this.layers.map(() => new Float64Array(packed.T));
    this.backwardFlat(results, loss.dY, loss.dYIsLogit, grads, backend, { truncate: options.truncate }, dhNormSq);
    return {
      loss: loss.loss,
      count: loss.count,
      grads: grads.map((g, k) => paramsToJSON(this.layers[k], g)),
      dhNorm: dhNormSq.map((a) => Array.from(a, Math.sqrt)),
    };
  }

  /**
   * Trains on the calling thread, synchronously: minibatches, the chosen optimizer with clipping
   * and the non-finite guard, validation, early stopping with best-weights restore (the
   * semantics are those of `trainingLoop`). `data` and `options.validation` are nested arrays or
   * packed data.
   */
  fit(data: TrainingData, options: FitOptions = {}): FitResult {
    return runToEnd(this.fitSteps(data, options), options.onEpoch);
  }

  /**
   * `fit` as a generator, one minibatch per resumption (see `trainingLoop` for what it yields and
   * how a caller stops it), for a caller that trains in time slices. `options.onEpoch` is not
   * called: the epochs are yielded. At the end, `training` records the fit.
   */
  *fitSteps(data: TrainingData, options: FitOptions = {}, shouldStop?: () => boolean): Generator<LoopEvent, FitResult, boolean | undefined> {
    checkFitOptions(options, this.outputSize);
    const train = toPackedData(data, this.inputSize, this.outputSize, "data");
    const v = options.validation;
    const validation = v && !isEmptyData(v) ? toPackedData(v, this.inputSize, this.outputSize, "validation") : null;
    const work = new LocalWork(this, train, validation, options, fitLength(options).batchSize);
    const result = yield* trainingLoop(this.parameters(), work, options, shouldStop);
    this.training = trainingSummary(result);
    return result;
  }

  /** Mean loss over a dataset without changing anything; NaN when no entry has a target. */
  evaluate(inputs: Tensor3, targets: Target3, options: GradientOptions = {}): number {
    const packed = packInputs(inputs, this.inputSize);
    const target = packTargets(targets, packed, this.outputSize);
    return this.evaluateFlat(packed, target, options.loss ?? "mse", getBackend(options.backend), options) ?? NaN;
  }

  /** Mean loss, or null when no entry has a target (a loss of 0 would read as a perfect fit). */
  private evaluateFlat(packed: { data: Float64Array; B: number; T: number }, target: Float64Array, lossName: LossName, backend: LayerBackend, options: LossOptions): number | null {
    const results = this.forwardFlat(packed.data, packed.B, packed.T, backend);
    const r = computeLoss(lossName, results[results.length - 1].y, target, this.outputSize, this.outputActivation, { ...options, valueOnly: true });
    return r.count > 0 ? r.loss : null;
  }
}

/** A layer's flat gradients as the nested arrays of the model file. */
export function paramsToJSON(layer: RnnLayer, p: LayerParams): LayerWeightsJSON {
  return paramsToNested(layer.shapes(), p);
}
