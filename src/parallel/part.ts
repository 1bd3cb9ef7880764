import { getBackend, LayerBackend } from "../backends";
import { LayerParams } from "../layer";
import { computeLoss } from "../losses";
import { Model } from "../model";
import { LossName } from "../types";
import { CHUNK_BITS, chunkRange, chunkRows, CTRL, FitCommand, LOCKED, slotLength, TASK } from "./protocol";

/**
 * One thread's share of the work: chunks of rows copied out of the shared dataset, run forward
 * and backward with the model's own `forwardFlat`/`backwardFlat`, their sums added into the
 * thread's slot of the shared results. Leader and helpers run the same code, so a chunk is
 * computed the same way whichever thread takes it.
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
    part: number,
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
    // No chunk of a training minibatch is longer than this.
    const rows = chunkRows(options.batchSize ?? 32, parts);
    this.xBatch = new Float64Array(rows * this.T * model.inputSize);
    this.tBatch = new Float64Array(rows * this.T * model.outputSize);
  }

  /**
   * Claims chunks of the published task until none is left, computes them and counts each one
   * finished (see `claimWord` for why a claim can never mix two tasks).
   */
  work(ctrl: Int32Array): void {
    for (;;) {
      const word = Atomics.load(ctrl, CTRL.NEXT);
      const task = Atomics.load(ctrl, CTRL.TASK);
      const start = Atomics.load(ctrl, CTRL.START);
      const count = Atomics.load(ctrl, CTRL.COUNT);
      const chunk = Atomics.load(ctrl, CTRL.CHUNK);
      const c = word & CHUNK_BITS;
      // A task being published, the end, or nothing left: the caller waits for the next task.
      if (word === LOCKED || task === TASK.END || c >= Math.ceil(count / chunk)) return;
      if (Atomics.compareExchange(ctrl, CTRL.NEXT, word, word + 1) !== word) continue;
      const [lo, hi] = chunkRange(count, chunk, c);
      if (task === TASK.TRAIN) this.train(start, lo, hi);
      else this.evaluate(start, lo, hi);
      Atomics.add(ctrl, CTRL.COMPLETED, 1);
      Atomics.notify(ctrl, CTRL.COMPLETED);
    }
  }

  /**
   * Adds to the slot the gradient sums of rows [lo, hi) of the minibatch `order[start …]`: the
   * gradient and loss multiplied by the chunk's target count, Σ‖∂L/∂h_t‖² by its square, so
   * that the chunks add up to the whole minibatch (see `slotLength`).
   */
  private train(start: number, lo: number, hi: number): void {
    const B = hi - lo;
    const { model, T, slot } = this;
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
    // A lone thread's chunk is the whole minibatch: it keeps the means as they are, so that one
    // worker reproduces Model.fit bit for bit (multiplying by c and dividing again would not).
    const w = this.parts > 1 ? c : 1;
    let offset = 0;
    for (const g of this.gradList) {
      for (let i = 0; i < g.length; i++) slot[offset + i] += g[i] * w;
      offset += g.length;
    }
    slot[offset] += loss.loss * w;
    slot[offset + 1] += c;
    if (this.dhNormSq) {
      const w2 = w * w;
      let o = offset + 2;
      for (const a of this.dhNormSq) {
        for (let t = 0; t < a.length; t++) slot[o + t] += a[t] * w2;
        o += a.length;
      }
    }
  }

  /** Adds to the slot the loss sum and target count of validation rows [start+lo, start+hi). */
  private evaluate(start: number, lo: number, hi: number): void {
    if (!this.valX || !this.valTarget) return;
    const B = hi - lo;
    const { model, slot } = this;
    const T = this.valT;
    const rowIn = T * model.inputSize;
    const rowOut = T * model.outputSize;
    const first = start + lo;
    // Validation rows are taken in their stored order, so they are read in place.
    const x = this.valX.subarray(first * rowIn, (first + B) * rowIn);
    const target = this.valTarget.subarray(first * rowOut, (first + B) * rowOut);
    const results = model.forwardFlat(x, B, T, this.backend);
    const loss = computeLoss(this.lossName, results[results.length - 1].y, target, model.outputSize, model.outputActivation, { ...this.command.options, valueOnly: true });
    slot[this.paramCount] += loss.loss * (this.parts > 1 ? loss.count : 1);
    slot[this.paramCount + 1] += loss.count;
  }
}
