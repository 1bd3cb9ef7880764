import { Model } from "../model";
import { PartWork } from "./part";
import { CTRL, FitCommand, LEFT, TASK } from "./protocol";
import { PeerFailedError, raiseError, waitForChange } from "./sync";

/**
 * A helper's side of one fit: wait for the leader to publish a task, compute this part of it,
 * say so, until the leader publishes the end. Runs synchronously, blocking the helper's own
 * event loop for the length of the fit, which is what a thread that only does arithmetic wants.
 * Whatever way it leaves, it says so in its DONE slot (the end's number, or LEFT), because the
 * leader must not start another fit while this loop could still take that fit's first task for
 * one of this fit.
 */
export function runHelper(model: Model, command: FitCommand, part: number, parts: number, ctrl: Int32Array, report: (err: unknown) => void): void {
  const done = CTRL.DONE + part;
  let seen = command.seqBase;
  try {
    const work = new PartWork(model, part, parts, command);
    for (;;) {
      seen = waitForChange(ctrl, CTRL.SEQ, seen);
      const task = Atomics.load(ctrl, CTRL.TASK);
      if (task === TASK.TRAIN) work.train(Atomics.load(ctrl, CTRL.START), Atomics.load(ctrl, CTRL.COUNT));
      else if (task === TASK.EVALUATE) work.evaluate(Atomics.load(ctrl, CTRL.START), Atomics.load(ctrl, CTRL.COUNT));
      Atomics.store(ctrl, done, seen);
      Atomics.notify(ctrl, done);
      if (task === TASK.END) return;
    }
  } catch (err) {
    // The thread that failed reports why; one that only saw the error flag just leaves.
    if (!(err instanceof PeerFailedError)) {
      // The cause goes out first, so the main thread holds it before the leader's "another
      // thread failed"; the flag goes up before LEFT, because once every helper is LEFT or done
      // the leader may end the fit, and the main thread clears the flag for the next one.
      report(err);
      raiseError(ctrl);
    }
    Atomics.store(ctrl, done, LEFT);
    Atomics.notify(ctrl, done);
  }
}
