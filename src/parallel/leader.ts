import { EpochInfo, FitResult, Model } from "../model";
import { Random } from "../random";
import { FitProgress } from "../fitProgress";
import { ParameterUpdater } from "../training";
import { PartWork } from "./part";
import { chunkRows, claimWord, CTRL, ENDED, FitCommand, LEFT, LOCKED, nextSeq, slotLength, TASK } from "./protocol";
import { waitForOneOf, waitForValue } from "./sync";

/**
 * The training loop of `Model.fit`, run by the leader worker with every minibatch shared out in
 * chunks between the threads. The same epochs, row order (same seeded shuffle), optimizer, clipping, non-finite guard,
 * validation, early stopping and best-weights restore, so a parallel fit ends on the weights a
 * single-threaded fit reaches, up to float rounding.
 *
 * `model` has its parameters in shared memory: the updates made here are what helpers read.
 * `onEpoch` posts an epoch report; it returns after the main thread has handled it when the
 * command asks the leader to wait.
 */
export function runLeader(model: Model, command: FitCommand, parts: number, ctrl: Int32Array, onEpoch: (info: EpochInfo) => void): FitResult {
  const { options } = command;
  const epochs = options.epochs ?? 10;
  const batchSize = options.batchSize ?? 32;
  const N = command.train.B;
  const T = command.train.T;
  const own = new PartWork(model, 0, parts, command);
  const params = model.parameters();
  const combined = params.map((p) => new Float64Array(p.length));
  const paramCount = combined.reduce((n, g) => n + g.length, 0);
  const L = model.layers.length;
  const slotLen = slotLength(paramCount, L, T);
  const slots = new Float64Array(command.slots);
  const updater = new ParameterUpdater(options);
  const rng = new Random(options.seed ?? 1);
  const order = Array.from({ length: N }, (_, i) => i);
  const sharedOrder = new Int32Array(command.order);
  const dhEpoch = options.gradientReport ? new Float64Array(L * T) : null;
  const progress = new FitProgress(params, options.patience ?? 0);
  let seq = command.seqBase;

  /**
   * Publishes a task, takes chunks of it here like any helper, and waits until every chunk is
   * done. The previous task is complete, so nobody is writing to the slots or reading the
   * parameters while they change (NEXT is LOCKED meanwhile: see `claimWord`).
   */
  const runTask = (task: number, start: number, count: number): void => {
    const chunk = chunkRows(count, parts);
    Atomics.store(ctrl, CTRL.NEXT, LOCKED);
    slots.fill(0);
    Atomics.store(ctrl, CTRL.TASK, task);
    Atomics.store(ctrl, CTRL.START, start);
    Atomics.store(ctrl, CTRL.COUNT, count);
    Atomics.store(ctrl, CTRL.CHUNK, chunk);
    Atomics.store(ctrl, CTRL.COMPLETED, 0);
    seq = nextSeq(seq);
    Atomics.store(ctrl, CTRL.NEXT, claimWord(seq));
    Atomics.store(ctrl, CTRL.SEQ, seq);
    Atomics.notify(ctrl, CTRL.SEQ);
    own.work(ctrl);
    waitForValue(ctrl, CTRL.COMPLETED, Math.ceil(count / chunk));
  };

  /** Loss of the whole validation set: the mean over every target, or null without any (as `Model.fit`). */
  const validationLoss = (): number | null => {
    const v = command.validation as NonNullable<FitCommand["validation"]>;
    runTask(TASK.EVALUATE, 0, v.B);
    let sum = 0;
    let count = 0;
    for (let k = 0; k < parts; k++) {
      sum += slots[k * slotLen + paramCount];
      count += slots[k * slotLen + paramCount + 1];
    }
    if (count === 0) return null;
    return parts > 1 ? sum / count : sum;
  };

  if (options.shuffle === false) sharedOrder.set(order);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    progress.startEpoch();
    if (options.shuffle !== false) {
      rng.shuffle(order);
      sharedOrder.set(order);
    }
    if (dhEpoch) dhEpoch.fill(0);
    let stopped = false;
    for (let start = 0; start < N; start += batchSize) {
      const B = Math.min(batchSize, N - start);
      runTask(TASK.TRAIN, start, B);
      let c = 0;
      let lossTotal = 0;
      for (let k = 0; k < parts; k++) {
        lossTotal += slots[k * slotLen + paramCount];
        c += slots[k * slotLen + paramCount + 1];
      }
      if (c > 0) {
        // Mean gradient of the whole minibatch: the threads' sums added, divided once by the
        // count. A lone thread already holds the mean (see PartWork.train).
        const w = parts > 1 ? c : 1;
        let offset = 0;
        for (const g of combined) {
          const n = g.length;
          for (let i = 0; i < n; i++) {
            let s = slots[offset + i];
            for (let k = 1; k < parts; k++) s += slots[k * slotLen + offset + i];
            g[i] = s / w;
          }
          offset += n;
        }
        if (dhEpoch) {
          const w2 = w * w;
          for (let i = 0; i < L * T; i++) {
            let s = 0;
            for (let k = 0; k < parts; k++) s += slots[k * slotLen + paramCount + 2 + i];
            dhEpoch[i] += s / w2;
          }
        }
        const loss = lossTotal / w;
        if (!progress.record(updater.step(params, combined, loss), loss, c)) break;
      }
      if (Atomics.load(ctrl, CTRL.STOP) !== 0) {
        stopped = true;
        break;
      }
    }
    if (stopped) {
      // A stop in the middle of an epoch: that epoch is not reported, the completed ones stand.
      progress.reason = "stopped";
      break;
    }
    const valLoss = command.validation ? validationLoss() : null;
    const info = progress.endEpoch(epoch, valLoss, updater.learningRate);
    if (dhEpoch) info.dhNorm = Array.from(dhEpoch.subarray(0, T), (s) => Math.sqrt(s / Math.max(1, progress.batches)));
    if (progress.judge(info)) break;
    onEpoch(info);
    if (Atomics.load(ctrl, CTRL.STOP) !== 0) {
      progress.reason = "stopped";
      break;
    }
    if (progress.patienceExhausted(epoch)) break;
  }
  return progress.finish(options.restoreBest !== false, Boolean(command.validation));
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
