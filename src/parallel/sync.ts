import { CTRL } from "./protocol";

/**
 * Waiting on the control array. A training step is about a millisecond and the other side usually
 * answers within microseconds, so a waiter first re-reads the slot for a short while before it
 * sleeps in `Atomics.wait` (a sleep and a wake-up cost tens of microseconds each).
 */

/** Re-reads before sleeping: about a hundred microseconds on current machines. */
const SPINS = 20000;
/** A sleeping waiter wakes at least this often to look at the error flag. */
const NAP_MS = 50;

/** Thrown in a thread that was waiting for another thread which failed. */
export class PeerFailedError extends Error {
  constructor() {
    super("another training thread failed");
    this.name = "PeerFailedError";
  }
}

function checkError(ctrl: Int32Array): void {
  if (Atomics.load(ctrl, CTRL.ERROR) !== 0) throw new PeerFailedError();
}

/** Waits until `ctrl[index]` differs from `seen` and returns the new value. */
export function waitForChange(ctrl: Int32Array, index: number, seen: number): number {
  for (let i = 0; i < SPINS; i++) {
    const v = Atomics.load(ctrl, index);
    if (v !== seen) return v;
  }
  for (;;) {
    const v = Atomics.load(ctrl, index);
    if (v !== seen) return v;
    checkError(ctrl);
    Atomics.wait(ctrl, index, seen, NAP_MS);
  }
}

/** Waits until `ctrl[index]` equals `value`; throws PeerFailedError when the error flag is raised. */
export function waitForValue(ctrl: Int32Array, index: number, value: number): void {
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(ctrl, index) === value) return;
  }
  for (;;) {
    const v = Atomics.load(ctrl, index);
    if (v === value) return;
    checkError(ctrl);
    Atomics.wait(ctrl, index, v, NAP_MS);
  }
}

/**
 * Waits until `ctrl[index]` is `a` or `b`, whatever the error flag says: for the end of a fit,
 * when every other thread is known to get there (or to be terminated with the whole trainer).
 */
export function waitForOneOf(ctrl: Int32Array, index: number, a: number, b: number): void {
  for (let i = 0; i < SPINS; i++) {
    const v = Atomics.load(ctrl, index);
    if (v === a || v === b) return;
  }
  for (;;) {
    const v = Atomics.load(ctrl, index);
    if (v === a || v === b) return;
    Atomics.wait(ctrl, index, v, NAP_MS);
  }
}

/** Raises the error flag and wakes every waiter, so nobody keeps waiting for the failed thread. */
export function raiseError(ctrl: Int32Array): void {
  Atomics.store(ctrl, CTRL.ERROR, 1);
  for (let i = 0; i < ctrl.length; i++) Atomics.notify(ctrl, i);
}
