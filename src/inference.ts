import { Model } from "./model";
import { projectOne } from "./projection";

/**
 * Forecasting one sequence, the predictor's hot path. Runs all layers step by step keeping only
 * the current state of each (no B×T history, no nested arrays), computes the output projection
 * only where it is needed, and reuses its buffers from call to call: nothing is allocated per call.
 * Equal to `model.predict` on a batch of one (checked in the tests); the weights are read live,
 * so a model that keeps training is always used as it stands.
 */
export class Forecaster {
  /** Per layer, the state s_{t-1} and the buffer s_t is written into (swapped every step). */
  private readonly s: Float64Array[];
  private readonly next: Float64Array[];
  private readonly scratch: Float64Array[];
  private readonly outs: Float64Array[];
  private readonly lastOut: Float64Array;

  constructor(readonly model: Model) {
    this.s = model.layers.map((l) => new Float64Array(l.stateSize));
    this.next = model.layers.map((l) => new Float64Array(l.stateSize));
    this.scratch = model.layers.map((l) => new Float64Array(l.cell.stepScratch(l.spec)));
    this.outs = model.layers.map((l) => new Float64Array(l.outputSize));
    this.lastOut = new Float64Array(model.outputSize);
  }

  /**
   * x holds T steps of the model's inputSize features (row-major). Returns the output of the last
   * step (a view valid until the next call; copy it to keep it).
   */
  run(x: ArrayLike<number>, T: number): Float64Array {
    const layers = this.model.layers;
    const I0 = this.model.inputSize;
    if (x.length !== T * I0) throw new Error(`expected ${T}×${I0} input values, got ${x.length}`);
    for (const s of this.s) s.fill(0);
    const L = layers.length;
    for (let t = 0; t < T; t++) {
      let input: ArrayLike<number> = x;
      let offset = t * I0;
      for (let k = 0; k < L; k++) {
        const layer = layers[k];
        const s = this.s[k], next = this.next[k];
        layer.cell.step(layer.spec, layer.params, input, offset, s, next, this.scratch[k]);
        this.s[k] = next;
        this.next[k] = s;
        const last = k === L - 1;
        // The state's first H entries are h_t.
        if (layer.hasOutput) {
          // The last layer's projection is only needed at the last step.
          if (!last || t === T - 1) {
            const y = last ? this.lastOut : this.outs[k];
            projectOne(layer.spec, layer.params, next, y);
            input = y;
          }
        } else {
          if (last && t === T - 1) for (let j = 0; j < layer.hiddenSize; j++) this.lastOut[j] = next[j];
          input = next;
        }
        offset = 0;
      }
    }
    return this.lastOut;
  }
}
