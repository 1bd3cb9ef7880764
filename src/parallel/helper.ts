import { Model } from "../model";
import { PartWork } from "./part";
import { CTRL, FitCommand, TASK } from "./protocol";
import { PeerFailedError, waitForChange } from "./sync";

/**
 * A helper's side of one fit: wait for the leader to publish a task, compute this part of it,
 * say so, until the leader publishes the end. Runs synchronously, blocking the helper's own
 * event loop for the length of the fit, which is what a thread that only does arithmetic wants.
 */
export function runHelper(model: Model, command: FitCommand, part: number, parts: number, ctrl: Int32Array): void {
  const work = new PartWork(model, part, parts, command);
  let seen = command.seqBase;
  for (;;) {
    try {
      seen = waitForChange(ctrl, CTRL.SEQ, seen);
    } catch (err) {
      // The thread that failed reports why; this one just leaves the fit.
      if (err instanceof PeerFailedError) return;
      throw err;
    }
    const task = Atomics.load(ctrl, CTRL.TASK);
    if (task === TASK.END) return;
    const start = Atomics.load(ctrl, CTRL.START);
    const count = Atomics.load(ctrl, CTRL.COUNT);
    if (task === TASK.TRAIN) work.train(start, count);
    else if (task === TASK.EVALUATE) work.evaluate(start, count);
    Atomics.store(ctrl, CTRL.DONE + part, seen);
    Atomics.notify(ctrl, CTRL.DONE + part);
  }
}
