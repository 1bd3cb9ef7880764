import { getBackend, LayerBackend } from "../backends";
import { LayerParams } from "../layer";
import { computeLoss } from "../losses";
import { Model } from "../model";
import { LossName } from "../types";
import { FitCommand, partRange, slotLength } from "./protocol";

/**
 * One thread's share of a minibatch: its rows are copied out of the shared dataset, run forward
 * and backward with the model's own `forwardFlat`/`backwardFlat`, and the sums are written into
 * the thread's slot of the shared results. Leader and helpers run the same code, so every part
 * of a minibatch is computed the same way whichever thread computes it.
 */
export class PartWork {
  private readonly backend: LayerBackend;
  private readonly lossName: LossName;
  private readonly x: Float64Array;
  private readonly target: Float64Array;
  private readonly T: number;
  private readonly valX: Float64Array | null;
  private readonly valTarget: Float64Array | null;
  private readonly valT: number;
  private readonly order: Int32Array;
  private readonly slot: Float64Array;
  private readonly grads: LayerParams[];
  private readonly gradList: Float64Array[];
  private readonly dhNormSq: Float64Array[] | undefined;
  private readonly xBatch: Float64Array;
  private readonly tBatch: Float64Array;
  private readonly paramCount: number;

  constructor(
    private readonly model: Model,
    private readonly part: number,
    private readonly parts: number,
    private readonly command: FitCommand,
  ) {
    const { options, train, validation } = command;
    this.backend = getBackend(options.backend);
    this.lossName = options.loss ?? "mse";
    this.x = new Float64Array(train.x);
    this.target = new Float64Array(train.target);
    this.T = train.T;
    this.valX = validation ? new Float64Array(validation.x) : null;
    this.valTarget = validation ? new Float64Array(validation.target) : null;
    this.valT = validation ? validation.T : 0;
    this.order = new Int32Array(command.order);
    this.grads = model.layers.map((l) => l.zeros());
    this.gradList = this.grads.flatMap((g, k) => model.layers[k].names().map((n) => g[n] as Float64Array));
    this.paramCount = this.gradList.reduce((n, g) => n + g.length, 0);
    const len = slotLength(this.paramCount, model.layers.length, this.T);
    this.slot = new Float64Array(command.slots, part * len * Float64Array.BYTES_PER_ELEMENT, len);
    this.dhNormSq = options.gradientReport ? model.layers.map(() => new Float64Array(this.T)) : undefined;
    // A part never holds more than its share of a minibatch (rounded up).
    const rows = Math.ceil((options.batchSize ?? 32) / parts);
    this.xBatch = new Float64Array(rows * this.T * model.inputSize);
    this.tBatch = new Float64Array(rows * this.T * model.outputSize);
  }

  /**
   * Gradient sums of this part's rows of the minibatch made of `order[start .. start+count)`.
   * The slot gets Σ-form values: the gradient and loss multiplied by the part's target count,
   * Σ‖∂L/∂h_t‖² by its square, so that the parts add up to the whole minibatch.
   */
  train(start: number, count: number): void {
    const slot = this.slot;
    slot.fill(0);
    const [lo, hi] = partRange(count, this.parts, this.part);
    const B = hi - lo;
    if (B === 0) return;
    const { model, T } = this;
    const I = model.inputSize;
    const O = model.outputSize;
    const rowIn = T * I;
    const rowOut = T * O;
    for (let r = 0; r < B; r++) {
      const src = this.order[start + lo + r];
      this.xBatch.set(this.x.subarray(src * rowIn, (src + 1) * rowIn), r * rowIn);
      this.tBatch.set(this.target.subarray(src * rowOut, (src + 1) * rowOut), r * rowOut);
    }
    const x = this.xBatch.subarray(0, B * rowIn);
    const target = this.tBatch.subarray(0, B * rowOut);
    const results = model.forwardFlat(x, B, T, this.backend);
    const options = this.command.options;
    const loss = computeLoss(this.lossName, results[results.length - 1].y, target, O, model.outputActivation, options);
    const c = loss.count;
    if (c === 0) return;
    for (const g of this.gradList) g.fill(0);
    if (this.dhNormSq) for (const a of this.dhNormSq) a.fill(0);
    model.backwardFlat(results, loss.dY, loss.dYIsLogit, this.grads, this.backend, { truncate: options.truncate }, this.dhNormSq);
    let offset = 0;
    for (const g of this.gradList) {
      for (let i = 0; i < g.length; i++) slot[offset + i] = g[i] * c;
      offset += g.length;
    }
    slot[offset] = loss.loss * c;
    slot[offset + 1] = c;
    if (this.dhNormSq) {
      const c2 = c * c;
      let o = offset + 2;
      for (const a of this.dhNormSq) {
        for (let t = 0; t < a.length; t++) slot[o + t] = a[t] * c2;
        o += a.length;
      }
    }
  }

  /** Loss sum and target count of this part's rows of the validation rows [start, start+count). */
  evaluate(start: number, count: number): void {
    const slot = this.slot;
    const at = this.paramCount;
    slot[at] = 0;
    slot[at + 1] = 0;
    if (!this.valX || !this.valTarget) return;
    const [lo, hi] = partRange(count, this.parts, this.part);
    const B = hi - lo;
    if (B === 0) return;
    const { model } = this;
    const T = this.valT;
    const rowIn = T * model.inputSize;
    const rowOut = T * model.outputSize;
    const first = start + lo;
    // Validation rows are taken in their stored order, so they are read in place.
    const x = this.valX.subarray(first * rowIn, (first + B) * rowIn);
    const target = this.valTarget.subarray(first * rowOut, (first + B) * rowOut);
    const results = model.forwardFlat(x, B, T, this.backend);
    const loss = computeLoss(this.lossName, results[results.length - 1].y, target, model.outputSize, model.outputActivation, { ...this.command.options, valueOnly: true });
    slot[at] = loss.loss * loss.count;
    slot[at + 1] = loss.count;
  }
}
