import { Model } from "../model";
import { PartWork } from "./part";
import { CTRL, ENDED, FitCommand, LEFT, TASK } from "./protocol";
import { PeerFailedError, raiseError, waitForChange } from "./sync";

/**
 * A helper's side of one fit: wait for the leader to publish a task, take chunks of it until none
 * is left, until the leader publishes the end. Runs synchronously, blocking the helper's own event
 * loop for the length of the fit, which is what a thread that only does arithmetic wants. Whatever
 * way it leaves, it says so in its DONE slot (ENDED or LEFT): the leader must not let another fit
 * start while this loop could still touch this fit's data.
 */
export function runHelper(model: Model, command: FitCommand, part: number, parts: number, ctrl: Int32Array, report: (err: unknown) => void): void {
  const done = CTRL.DONE + part;
  let seen = command.seqBase;
  try {
    const work = new PartWork(model, parts, command);
    for (;;) {
      seen = waitForChange(ctrl, CTRL.SEQ, seen);
      if (Atomics.load(ctrl, CTRL.TASK) === TASK.END) {
        Atomics.store(ctrl, done, ENDED);
        Atomics.notify(ctrl, done);
        return;
      }
      work.work(ctrl);
    }
  } catch (err) {
    // The thread that failed reports why; one that only saw the error flag just leaves.
    if (!(err instanceof PeerFailedError)) {
      // The cause goes out first, so the main thread holds it before the leader's "another
      // thread failed"; the flag goes up before LEFT, because once every helper is out the
      // leader may end the fit, and the main thread clears the flag for the next one.
      report(err);
      raiseError(ctrl);
    }
    Atomics.store(ctrl, done, LEFT);
    Atomics.notify(ctrl, done);
  }
}
