import { emptyMetricSums } from "../losses";
import { RowWork } from "../localWork";
import { Model } from "../model";
import type { ValidationSums } from "../trainingLoop";
import { CHUNK_BITS, chunkRange, chunkRows, CTRL, FitCommand, LOCKED, SLOT, slotLength, TASK } from "./protocol";

/**
 * One thread's share of the work: chunks of the published task computed by the same `RowWork`
 * that `Model.fit` uses, each chunk's sums written into that chunk's slot of the shared results.
 * Leader and helpers run the same code, so a chunk is computed the same way whichever thread
 * takes it.
 */
export class PartWork {
  private readonly rows: RowWork;
  private readonly order: Int32Array;
  private readonly slots: Float64Array;
  private readonly slotLen: number;
  private readonly paramCount: number;
  /** One chunk's validation sums, before they go into its slot. */
  private readonly sums: ValidationSums;

  constructor(
    model: Model,
    private readonly parts: number,
    command: FitCommand,
  ) {
    const { options, train, validation } = command;
    const shared = (d: NonNullable<FitCommand["validation"]>) => ({ x: new Float64Array(d.x), target: new Float64Array(d.target), B: d.B, T: d.T });
    // No chunk of a training minibatch is longer than this.
    this.rows = new RowWork(model, shared(train), validation ? shared(validation) : null, options, chunkRows(options.batchSize ?? 32, parts));
    this.order = new Int32Array(command.order);
    this.paramCount = this.rows.grads.reduce((n, g) => n + g.length, 0);
    this.slotLen = slotLength(this.paramCount, model.layers.length, train.T);
    this.slots = new Float64Array(command.slots);
    this.sums = { loss: 0, count: 0, metrics: options.realUnits ? emptyMetricSums() : null };
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
      const slot = this.slots.subarray(c * this.slotLen, (c + 1) * this.slotLen);
      if (task === TASK.TRAIN) this.train(start + lo, hi - lo, slot);
      else this.validate(start + lo, hi - lo, slot);
      Atomics.add(ctrl, CTRL.COMPLETED, 1);
      Atomics.notify(ctrl, CTRL.COMPLETED);
    }
  }

  /**
   * Writes into the chunk's slot the sums of rows order[first … first+B): the gradient and loss
   * multiplied by the chunk's target count c, Σ‖∂L/∂h_t‖² by c², so that the chunks add up to
   * the whole minibatch (see `slotLength`). Every number the leader reads is written, so the
   * slot needs no clearing between tasks.
   */
  private train(first: number, B: number, slot: Float64Array): void {
    const r = this.rows.train(this.order, first, B);
    const c = r.count;
    if (c === 0) {
      slot.fill(0);
      return;
    }
    // A lone thread's chunk is the whole minibatch: it keeps the means as they are, so that one
    // worker reproduces Model.fit bit for bit (multiplying by c and dividing again would not).
    const w = this.parts > 1 ? c : 1;
    let offset = 0;
    for (const g of this.rows.grads) {
      for (let i = 0; i < g.length; i++) slot[offset + i] = g[i] * w;
      offset += g.length;
    }
    slot[offset + SLOT.LOSS] = r.loss * w;
    slot[offset + SLOT.COUNT] = c;
    const dh = this.rows.dhNormSq;
    if (dh) {
      const w2 = w * w;
      let o = offset + SLOT.DH;
      for (const a of dh) {
        for (let t = 0; t < a.length; t++) slot[o + t] = a[t] * w2;
        o += a.length;
      }
    }
  }

  /** Writes into the chunk's slot the validation sums of rows [first, first+B). */
  private validate(first: number, B: number, slot: Float64Array): void {
    const s = this.sums;
    s.loss = s.count = 0;
    const m = s.metrics;
    if (m) m.squared = m.absolute = m.relative = m.count = m.relativeCount = 0;
    this.rows.validate(first, B, s);
    const o = this.paramCount;
    slot[o + SLOT.LOSS] = s.loss;
    slot[o + SLOT.COUNT] = s.count;
    if (m) {
      slot[o + SLOT.SQUARED] = m.squared;
      slot[o + SLOT.ABSOLUTE] = m.absolute;
      slot[o + SLOT.RELATIVE] = m.relative;
      slot[o + SLOT.METRIC_COUNT] = m.count;
      slot[o + SLOT.RELATIVE_COUNT] = m.relativeCount;
    }
  }
}
