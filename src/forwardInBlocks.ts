import { getBackend, LayerBackend } from "./backends";
import { allFinite } from "./clipping";
import { RnnLayer } from "./layer";

/**
 * One layer's forward pass over a batch, cut into blocks of a few rows and a few time steps, so
 * that a caller can run it a few blocks at a time and let other work in between (the rnn layer
 * node runs a huge payload this way, with turns of the event loop between slices).
 *
 * A block is the default backend's forward on its rows and steps, started from the state the
 * previous block of the same rows ended in. The backend computes each row and each step with the
 * same sums in the same order whatever the batch around it, so the blocks give the outputs and
 * the final state of one forward over the whole batch bit for bit. Only a block's hidden states
 * are kept at a time, not the B×(T+1)×H of a whole pass.
 */

/** Multiply-adds in one block: about a tenth of a millisecond, so a slice can stop on time. */
export const BLOCK_WORK = 100_000;

export class ForwardInBlocks {
  /** Outputs of every step, B×T×O (as the backend's `y`). */
  readonly y: Float64Array;
  /** The cell's state after the last step, B×S (S = the layer's stateSize). */
  readonly state: Float64Array;
  /** Number of blocks; run them in order, each once. */
  readonly count: number;
  /** Whether every output and state computed so far is finite. */
  finite = true;
  private readonly rows: number;
  private readonly steps: number;
  private readonly timeBlocks: number;
  /** The running state of the rows being worked on (rows × S). */
  private running: Float64Array | null = null;

  /** The weights the blocks run with. */
  private readonly layer: RnnLayer;
  /**
   * The default backend, as the model the trainer hands over predicts with: the layer node's
   * outputs then equal the model's, bit for bit. Chosen once for the whole pass.
   */
  private readonly backend: LayerBackend = getBackend();

  /**
   * `x` is B×T×I as packInputs packs it; `s0` the starting state (B×S) or null for zeros. When
   * there is more than one block the weights are copied here: weights changed in place between
   * two blocks (a training run handing its result to the layer node) must not mix into one pass.
   */
  constructor(layer: RnnLayer, private readonly x: Float64Array, private readonly B: number, private readonly T: number, private readonly s0: Float64Array | null) {
    const O = layer.outputSize;
    // Work of one row for one step, whatever the cell: every weight is used once (the input and
    // recurrent products, the projection if any).
    let perStep = 0;
    for (const w of layer.list()) perStep += w.length;
    const wholeRows = Math.floor(BLOCK_WORK / (perStep * T));
    if (wholeRows >= 1) {
      this.rows = Math.min(B, wholeRows);
      this.steps = T;
    } else {
      // Four rows together is what the backend's inner loop is built for.
      this.rows = Math.min(B, 4);
      this.steps = Math.max(1, Math.min(T, Math.floor(BLOCK_WORK / (perStep * this.rows))));
    }
    this.timeBlocks = Math.ceil(T / this.steps);
    this.count = Math.ceil(B / this.rows) * this.timeBlocks;
    this.layer = this.count > 1 ? layer.clone() : layer;
    this.y = new Float64Array(B * T * O);
    this.state = new Float64Array(B * layer.stateSize);
  }

  /** Numbers per step in `y`. */
  get outputSize(): number {
    return this.layer.outputSize;
  }

  /** Runs blocks [from, to). */
  run(from: number, to: number): void {
    for (let k = from; k < to; k++) this.block(k);
  }

  private block(k: number): void {
    const { layer, x, B, T } = this;
    const I = layer.inputSize;
    const S = layer.stateSize;
    const O = layer.outputSize;
    const r0 = Math.floor(k / this.timeBlocks) * this.rows;
    const R = Math.min(this.rows, B - r0);
    const t0 = (k % this.timeBlocks) * this.steps;
    const C = Math.min(this.steps, T - t0);
    if (t0 === 0) this.running = this.s0 ? this.s0.slice(r0 * S, (r0 + R) * S) : null;
    // Whole sequences are contiguous in x; a stretch of steps of several rows is gathered.
    let xb: Float64Array;
    if (C === T) xb = x.subarray(r0 * T * I, (r0 + R) * T * I);
    else {
      xb = new Float64Array(R * C * I);
      for (let r = 0; r < R; r++) xb.set(x.subarray(((r0 + r) * T + t0) * I, ((r0 + r) * T + t0 + C) * I), r * C * I);
    }
    const fwd = this.backend.forward(layer, xb, R, C, this.running);
    if (C === T) this.y.set(fwd.y, r0 * T * O);
    else for (let r = 0; r < R; r++) this.y.set(fwd.y.subarray(r * C * O, (r + 1) * C * O), ((r0 + r) * T + t0) * O);
    this.running = fwd.state;
    if (this.finite && !allFinite([fwd.y, fwd.state])) this.finite = false;
    if (t0 + C === T) this.state.set(fwd.state, r0 * S);
  }
}

