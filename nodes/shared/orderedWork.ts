/**
 * The messages of one node, worked on one at a time in the order they came. A large message is
 * worked on in slices with turns of the event loop between them (inSlices), so other messages
 * arrive meanwhile; they wait here and start, in order, once it has ended. A stateful layer's
 * state per topic, and every flow that expects its outputs in the order of its inputs, rely on it.
 *
 * What may wait is bounded: a number of messages, and the numbers they carry together (the same
 * limit as one message: waiting messages hold their payloads). Beyond either, `admits` is false
 * and the node refuses the message at once as busy.
 */
import { inTimedSlices } from "../../src";
import { MAX_VALUES_SETTING } from "./messageBudget";
import type { Translate } from "./runtime";
export const MAX_WAITING_MESSAGES = 10_000;

/**
 * The time one slice of a message's work may take before the event loop gets a turn
 * (inTimedSlices). A slice can run over it by one chunk (a block of the forward pass, about a
 * tenth of a millisecond, or STEPS_PER_CHUNK steps packed); a turn every 5 ms costs little.
 */
export const MESSAGE_SLICE_MS = 5;

/**
 * Steps of a batch packed or unpacked between two looks at the clock: well under a millisecond
 * even for steps of a thousand features.
 */
export const STEPS_PER_CHUNK = 256;

/**
 * Calls `work(from, to)` over [0, count): at once when it is one chunk, else in timed slices
 * (inTimedSlices). Returns the promise of the slices, or null when the work is already done: the
 * caller awaits only a promise, so a small message goes through its node without leaving the
 * turn it came in, in order with a message sent right after it, as before there were slices.
 */
export function inTurns(count: number, chunk: number, work: (from: number, to: number) => void, alive: () => boolean): Promise<void> | null {
  if (count <= chunk) {
    work(0, count);
    return null;
  }
  return inTimedSlices(count, chunk, work, MESSAGE_SLICE_MS, alive);
}

export class OrderedWork {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  private queuedValues = 0;
  private open = true;

  constructor(private readonly maxValues: number, private readonly maxMessages = MAX_WAITING_MESSAGES) {}

  /** Messages accepted and not yet ended (the one being worked on included). */
  get pending(): number {
    return this.queued;
  }

  /** Whether a message carrying `values` numbers may join. */
  admits(values: number): boolean {
    if (this.queued === 0) return true;
    return this.queued < this.maxMessages && this.queuedValues + values <= this.maxValues;
  }

  /**
   * Runs `job` after every job added before it has finished; at once (synchronously up to its
   * first await) when none is pending, so a small message on an idle node ends as soon as it
   * would without the queue. The job ends its message itself, whatever happens, and calls
   * `release` once it has (in a `finally`: synchronously when it never had to wait, so that a
   * message sent right after it finds the node idle). A job that rejects or never releases is
   * released when its promise settles, so it cannot stop the jobs behind it.
   */
  add(values: number, job: (release: () => void) => Promise<void>): void {
    this.queued++;
    this.queuedValues += values;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.queued--;
      this.queuedValues -= values;
    };
    const run = (): Promise<void> => job(release).then(release, release);
    this.tail = this.queued === 1 ? run() : this.tail.then(run);
  }

  /** False once the node closes: jobs still to run or in the middle of their slices stop. */
  get alive(): boolean {
    return this.open;
  }

  close(): void {
    this.open = false;
  }
}

/** What `admit` needs of the node a message came to. */
export interface Admission {
  /** Numbers the message brings in and out (0 for one that carries no batch). */
  values: number;
  limit: number;
  /** A training run's message: it carries no batch and is not held behind messages being worked on. */
  isRun: boolean;
  t: Translate;
  /** Ends the message with this error (Catch-visible, red status). */
  refuse(err: Error): void;
  /** Works on the message; `release` ends its turn. */
  handle(release: () => void): Promise<void>;
}

/**
 * A message's way in, the same for every node that weighs its work: beyond the limit it is refused
 * from its shape alone; a run message is handled at once; any other waits its turn, unless too
 * much already waits.
 */
export function admit(work: OrderedWork, a: Admission): void {
  if (a.values > a.limit) {
    a.refuse(new Error(a.t("errors.tooLarge", { values: a.values, limit: a.limit, setting: MAX_VALUES_SETTING })));
    return;
  }
  if (a.isRun) {
    void a.handle(() => undefined);
    return;
  }
  if (!work.admits(a.values)) {
    a.refuse(new Error(a.t("errors.busy", { waiting: work.pending })));
    return;
  }
  work.add(a.values, a.handle);
}
