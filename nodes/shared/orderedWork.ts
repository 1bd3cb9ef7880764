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
   * would without the queue. The job ends its message itself, whatever happens: a rejection
   * here is only kept from stopping the jobs behind it.
   */
  add(values: number, job: () => Promise<void>): void {
    this.queued++;
    this.queuedValues += values;
    const finish = (): void => {
      this.queued--;
      this.queuedValues -= values;
    };
    const run = (): Promise<void> => job().then(finish, finish);
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
