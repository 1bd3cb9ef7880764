import { Model } from "../model";
import { EpochInfo, FitResult, MinibatchWork, runToEnd, trainingLoop, ValidationSums } from "../trainingLoop";
import { PartWork } from "./part";
import { chunkRows, claimWord, CTRL, ENDED, FitCommand, LEFT, LOCKED, nextSeq, SLOT, slotLength, TASK } from "./protocol";
import { waitForOneOf, waitForValue } from "./sync";

/**
 * The work of a fit shared out between threads: every minibatch (and every chunk of validation
 * rows) is published as a task, cut into chunks that the leader and the helpers claim, and the
 * chunks' sums are combined here. Given to the same `trainingLoop` as `Model.fit`'s local work,
 * so a parallel fit ends on the weights a single-threaded fit reaches, up to float rounding.
 */
class SharedWork implements MinibatchWork {
  readonly rows: number;
  readonly steps: number;
  readonly layers: number;
  readonly validationRows: number;
  private readonly own: PartWork;
  private readonly slots: Float64Array;
  private readonly slotLen: number;
  private readonly paramCount: number;
  private readonly sharedOrder: Int32Array;
  private seq: number;

  constructor(
    model: Model,
    command: FitCommand,
    private readonly parts: number,
    private readonly ctrl: Int32Array,
  ) {
    this.rows = command.train.B;
    this.steps = command.train.T;
    this.layers = model.layers.length;
    this.validationRows = command.validation ? command.validation.B : 0;
    this.own = new PartWork(model, parts, command);
    this.paramCount = model.parameters().reduce((n, p) => n + p.length, 0);
    this.slotLen = slotLength(this.paramCount, this.layers, this.steps);
    this.slots = new Float64Array(command.slots);
    this.sharedOrder = new Int32Array(command.order);
    this.seq = command.seqBase;
  }

  train(order: ArrayLike<number>, start: number, B: number, grads: Float64Array[], dhNormSq: Float64Array[] | null): { loss: number; count: number } {
    // Only this minibatch's part of the order: the helpers read no other.
    for (let i = start; i < start + B; i++) this.sharedOrder[i] = order[i];
    const chunks = this.runTask(TASK.TRAIN, start, B);
    const { slots, slotLen, paramCount } = this;
    let count = 0;
    let lossTotal = 0;
    for (let c = 0; c < chunks; c++) {
      lossTotal += slots[c * slotLen + paramCount + SLOT.LOSS];
      count += slots[c * slotLen + paramCount + SLOT.COUNT];
    }
    if (count === 0) return { loss: 0, count: 0 };
    // Mean gradient of the whole minibatch: the chunks' sums added in chunk order, divided once
    // by the count. A lone thread already holds the mean (see PartWork.train).
    const w = this.parts > 1 ? count : 1;
    let offset = 0;
    for (const g of grads) {
      const n = g.length;
      for (let i = 0; i < n; i++) {
        let s = slots[offset + i];
        for (let c = 1; c < chunks; c++) s += slots[c * slotLen + offset + i];
        g[i] = s / w;
      }
      offset += n;
    }
    if (dhNormSq) {
      const w2 = w * w;
      let o = paramCount + SLOT.DH;
      for (const a of dhNormSq) {
        for (let t = 0; t < a.length; t++) {
          let s = 0;
          for (let c = 0; c < chunks; c++) s += slots[c * slotLen + o + t];
          a[t] += s / w2;
        }
        o += a.length;
      }
    }
    return { loss: lossTotal / w, count };
  }

  validate(start: number, B: number, sums: ValidationSums): void {
    const chunks = this.runTask(TASK.EVALUATE, start, B);
    const { slots, slotLen, paramCount } = this;
    for (let c = 0; c < chunks; c++) {
      const o = c * slotLen + paramCount;
      sums.loss += slots[o + SLOT.LOSS];
      sums.count += slots[o + SLOT.COUNT];
      const m = sums.metrics;
      if (m) {
        m.squared += slots[o + SLOT.SQUARED];
        m.absolute += slots[o + SLOT.ABSOLUTE];
        m.relative += slots[o + SLOT.RELATIVE];
        m.count += slots[o + SLOT.METRIC_COUNT];
        m.relativeCount += slots[o + SLOT.RELATIVE_COUNT];
      }
    }
  }

  /**
   * Publishes a task, takes chunks of it here like any helper, and waits until every chunk is
   * done; returns the number of chunks (of slots holding results). The previous task is
   * complete, so nobody is writing to the slots or reading the parameters while they change
   * (NEXT is LOCKED meanwhile: see `claimWord`).
   */
  private runTask(task: number, start: number, count: number): number {
    const { ctrl } = this;
    const chunk = chunkRows(count, this.parts);
    const chunks = Math.ceil(count / chunk);
    Atomics.store(ctrl, CTRL.NEXT, LOCKED);
    Atomics.store(ctrl, CTRL.TASK, task);
    Atomics.store(ctrl, CTRL.START, start);
    Atomics.store(ctrl, CTRL.COUNT, count);
    Atomics.store(ctrl, CTRL.CHUNK, chunk);
    Atomics.store(ctrl, CTRL.COMPLETED, 0);
    this.seq = nextSeq(this.seq);
    Atomics.store(ctrl, CTRL.NEXT, claimWord(this.seq));
    Atomics.store(ctrl, CTRL.SEQ, this.seq);
    Atomics.notify(ctrl, CTRL.SEQ);
    this.own.work(ctrl);
    waitForValue(ctrl, CTRL.COMPLETED, chunks);
    return chunks;
  }
}

/**
 * The leader worker's side of one fit: `trainingLoop` over the shared work. `model` has its
 * parameters in shared memory: the updates made here are what helpers read. `onEpoch` posts an
 * epoch report; it returns after the main thread has handled it when the command asks the leader
 * to wait. The main thread stops the fit through CTRL.STOP (`stop()`, or its onEpoch returning false).
 */
export function runLeader(model: Model, command: FitCommand, parts: number, ctrl: Int32Array, onEpoch: (info: EpochInfo) => void): FitResult {
  const work = new SharedWork(model, command, parts, ctrl);
  const stopped = () => Atomics.load(ctrl, CTRL.STOP) !== 0;
  return runToEnd(trainingLoop(model.parameters(), work, command.options, stopped), (info) => void onEpoch(info));
}

/**
 * Ends the fit for the helpers, whatever way it ended: publishes the end and waits until every
 * helper has left its loop. Only then may the main thread hear that the fit is over and start
 * another one, so no helper can still be working on this fit's data when the next one begins.
 */
export function endFit(ctrl: Int32Array, parts: number): void {
  Atomics.store(ctrl, CTRL.NEXT, LOCKED);
  Atomics.store(ctrl, CTRL.TASK, TASK.END);
  // Only the leader writes SEQ, so reading it back here is safe.
  Atomics.store(ctrl, CTRL.SEQ, nextSeq(Atomics.load(ctrl, CTRL.SEQ)));
  Atomics.notify(ctrl, CTRL.SEQ);
  for (let k = 1; k < parts; k++) waitForOneOf(ctrl, CTRL.DONE + k, ENDED, LEFT);
}
