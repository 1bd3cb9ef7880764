import { activateInPlace } from "./activations";
import { Model } from "./model";

/**
 * Forecasting one sequence, the predictor's hot path. Runs all layers step by step keeping only
 * the current state of each (no B×T history, no nested arrays), computes the output projection
 * only where it is needed, and reuses its buffers from call to call: nothing is allocated per call.
 * Equal to `model.predict` on a batch of one (checked in the tests); the weights are read live,
 * so a model that keeps training is always used as it stands.
 */
export class Forecaster {
  private readonly h: Float64Array[];
  private readonly next: Float64Array[];
  private readonly outs: Float64Array[];
  private readonly lastOut: Float64Array;

  constructor(readonly model: Model) {
    this.h = model.layers.map((l) => new Float64Array(l.hiddenSize));
    this.next = model.layers.map((l) => new Float64Array(l.hiddenSize));
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
    for (const h of this.h) h.fill(0);
    const L = layers.length;
    for (let t = 0; t < T; t++) {
      let input: ArrayLike<number> = x;
      let offset = t * I0;
      for (let k = 0; k < L; k++) {
        const layer = layers[k];
        const { W_xh, W_hh, b_h, W_hy, b_y } = layer.params;
        const I = layer.inputSize, H = layer.hiddenSize;
        const h = this.h[k], nh = this.next[k];
        for (let j = 0; j < H; j++) {
          let s = b_h[j];
          const wx = j * I;
          for (let i = 0; i < I; i++) s += W_xh[wx + i] * input[offset + i];
          // Four partial sums break the add-latency chain of one long dot product.
          const wh = j * H;
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          let m = 0;
          for (; m + 3 < H; m += 4) {
            s0 += W_hh[wh + m] * h[m];
            s1 += W_hh[wh + m + 1] * h[m + 1];
            s2 += W_hh[wh + m + 2] * h[m + 2];
            s3 += W_hh[wh + m + 3] * h[m + 3];
          }
          for (; m < H; m++) s0 += W_hh[wh + m] * h[m];
          nh[j] = s + (s0 + s1) + (s2 + s3);
        }
        activateInPlace(layer.activation, nh, 0, H);
        this.h[k] = nh;
        this.next[k] = h;
        const last = k === L - 1;
        if (W_hy && b_y) {
          // The last layer's projection is only needed at the last step.
          if (!last || t === T - 1) {
            const O = layer.outputSize;
            const y = last ? this.lastOut : this.outs[k];
            for (let o = 0; o < O; o++) {
              let s = b_y[o];
              const w = o * H;
              for (let j = 0; j < H; j++) s += W_hy[w + j] * nh[j];
              y[o] = s;
            }
            activateInPlace(layer.outputActivation, y, 0, O);
            input = y;
          }
        } else {
          if (last && t === T - 1) this.lastOut.set(nh);
          input = nh;
        }
        offset = 0;
      }
    }
    return this.lastOut;
  }
}
