import { getBackend, LayerBackend } from "./backends";
import { LayerParams } from "./layer";
import { addMetricSums, computeLoss, emptyMetricSums, mergeMetricSums, LossOptions, RealUnits } from "./losses";
import type { Model } from "./model";
import type { PackedData } from "./packedData";
import type { FitOptions, MinibatchWork, ValidationSums } from "./trainingLoop";
import { LossName } from "./types";
import { Workspace } from "./workspace";

/**
 * The arithmetic of a fit on one thread: rows of a packed dataset copied out in a given order,
 * run forward and backward through the model's own `forwardFlat`/`backwardFlat`. `Model.fit`
 * gives it whole minibatches; each thread of a parallel fit gives it chunks of them. One code
 * path for both is what makes one worker reproduce `Model.fit` bit for bit.
 */
export class RowWork {
  /** Mean gradients of the last `train` call with targets, in `Model.parameters()` order. */
  readonly grads: Float64Array[];
  /** Its Σ_rows ‖∂L/∂h_t‖² per layer and step, when the fit reports gradients per step. */
  readonly dhNormSq: Float64Array[] | null;
  private readonly layerGrads: LayerParams[];
  private readonly backend: LayerBackend;
  private readonly lossName: LossName;
  private readonly lossOptions: LossOptions;
  private readonly validationOptions: LossOptions;
  private readonly truncate: number;
  private readonly realUnits: RealUnits | null;
  private readonly xRows: Float64Array;
  private readonly targetRows: Float64Array;
  /** One per layer: the kernels' buffers, reused from minibatch to minibatch. */
  private readonly workspaces: Workspace[];

  /** `maxRows`: the most rows one `train` call is given (the buffers are sized once for it). */
  constructor(
    private readonly model: Model,
    private readonly data: PackedData,
    private readonly validation: PackedData | null,
    options: FitOptions,
    maxRows: number,
  ) {
    this.backend = getBackend(options.backend);
    this.lossName = options.loss ?? "mse";
    this.lossOptions = { delta: options.delta };
    this.validationOptions = { delta: options.delta, valueOnly: true };
    this.truncate = options.truncate ?? 0;
    this.realUnits = options.realUnits ?? null;
    this.layerGrads = model.layers.map((l) => l.zeros());
    this.grads = this.layerGrads.flatMap((g, k) => model.layers[k].names().map((n) => g[n] as Float64Array));
    this.dhNormSq = options.gradientReport ? model.layers.map(() => new Float64Array(data.T)) : null;
    const rows = Math.min(maxRows, data.B);
    this.xRows = new Float64Array(rows * data.T * model.inputSize);
    this.targetRows = new Float64Array(rows * data.T * model.outputSize);
    this.workspaces = model.layers.map(() => new Workspace());
  }

  /**
   * Rows order[first … first+B) of the training data: their mean loss over the entries with a
   * target and the count of those; with a count, the mean gradients in `grads` and `dhNormSq`.
   */
  train(order: ArrayLike<number>, first: number, B: number): { loss: number; count: number } {
    const { model, data } = this;
    const T = data.T;
    const rowIn = T * model.inputSize;
    const rowOut = T * model.outputSize;
    for (let r = 0; r < B; r++) {
      const src = order[first + r];
      this.xRows.set(data.x.subarray(src * rowIn, (src + 1) * rowIn), r * rowIn);
      this.targetRows.set(data.target.subarray(src * rowOut, (src + 1) * rowOut), r * rowOut);
    }
    const full = B * rowIn === this.xRows.length;
    const x = full ? this.xRows : this.xRows.subarray(0, B * rowIn);
    const target = full ? this.targetRows : this.targetRows.subarray(0, B * rowOut);
    const results = model.forwardFlat(x, B, T, this.backend, undefined, this.workspaces);
    const loss = computeLoss(this.lossName, results[results.length - 1].y, target, model.outputSize, model.outputActivation, this.lossOptions);
    if (loss.count === 0) return { loss: 0, count: 0 };
    for (const g of this.grads) g.fill(0);
    if (this.dhNormSq) for (const a of this.dhNormSq) a.fill(0);
    model.backwardFlat(results, loss.dY, loss.dYIsLogit, this.layerGrads, this.backend, { truncate: this.truncate }, this.dhNormSq ?? undefined);
    return { loss: loss.loss, count: loss.count };
  }

  /** Adds the loss sum, the count and (with real units) the error sums of validation rows [first, first+B). */
  validate(first: number, B: number, sums: ValidationSums): void {
    const v = this.validation;
    if (!v || B === 0) return;
    const { model } = this;
    const O = model.outputSize;
    // Validation rows are taken in their stored order, so they are read in place.
    const x = v.x.subarray(first * v.T * model.inputSize, (first + B) * v.T * model.inputSize);
    const target = v.target.subarray(first * v.T * O, (first + B) * v.T * O);
    const results = model.forwardFlat(x, B, v.T, this.backend, undefined, this.workspaces);
    const y = results[results.length - 1].y;
    const loss = computeLoss(this.lossName, y, target, O, model.outputActivation, this.validationOptions);
    sums.loss += loss.loss * loss.count;
    sums.count += loss.count;
    if (sums.metrics) {
      // The chunk's own sums first, then added: the same grouping whether the running sums are
      // this thread's or the leader's total, so one worker matches Model.fit exactly.
      mergeMetricSums(sums.metrics, addMetricSums(emptyMetricSums(), y, target, O, this.realUnits));
    }
  }
}

/** A fit's work on the calling thread: every minibatch computed whole by one RowWork. */
export class LocalWork implements MinibatchWork {
  readonly rows: number;
  readonly steps: number;
  readonly layers: number;
  readonly validationRows: number;
  private readonly work: RowWork;

  constructor(model: Model, data: PackedData, validation: PackedData | null, options: FitOptions, batchSize: number) {
    this.work = new RowWork(model, data, validation, options, batchSize);
    this.rows = data.B;
    this.steps = data.T;
    this.layers = model.layers.length;
    this.validationRows = validation ? validation.B : 0;
  }

  train(order: ArrayLike<number>, start: number, B: number, grads: Float64Array[], dhNormSq: Float64Array[] | null): { loss: number; count: number } {
    const r = this.work.train(order, start, B);
    if (r.count === 0) return r;
    this.work.grads.forEach((g, i) => grads[i].set(g));
    const own = this.work.dhNormSq;
    if (dhNormSq && own) {
      for (let k = 0; k < own.length; k++) for (let t = 0; t < own[k].length; t++) dhNormSq[k][t] += own[k][t];
    }
    return r;
  }

  validate(start: number, B: number, sums: ValidationSums): void {
    this.work.validate(start, B, sums);
  }
}
