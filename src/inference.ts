import { defaultBackendName } from "./backends";
import type { WindowRunner } from "./cells";
import type { BackendName } from "./types";
import { Model } from "./model";
import { projectOne } from "./projection";

/**
 * Forecasting one sequence, the predictor's hot path. Runs all layers step by step keeping only
 * the current state of each (no B×T history, no nested arrays), computes the output projection
 * only where it is needed, and reuses its buffers from call to call: nothing is allocated per call.
 * Equal to `model.predict` on a batch of one (checked in the tests); the weights are read live,
 * so a model that keeps training is always used as it stands.
 *
 * On the wasm backend, when every layer's cell has a window runner there (Elman does), it runs
 * layer after layer over the whole window instead, one call into WebAssembly per layer rather than
 * one step at a time in JavaScript: the same numbers (to rounding), several times faster.
 */
export class Forecaster {
  /** Per layer, the state s_{t-1} and the buffer s_t is written into (swapped every step). */
  private readonly s: Float64Array[];
  private readonly next: Float64Array[];
  private readonly scratch: Float64Array[];
  private readonly outs: Float64Array[];
  private readonly lastOut: Float64Array;
  /** The layers' window runners (all or none), and per layer its h_1 … h_T and projected outputs. */
  private readonly runners: WindowRunner[] | null;
  private readonly windowH: Float64Array[];
  private readonly windowOut: Float64Array[];

  /** `backend`: whose window runners to use (default: the default backend); "fast" always steps. */
  constructor(readonly model: Model, backend: BackendName = defaultBackendName()) {
    this.s = model.layers.map((l) => new Float64Array(l.stateSize));
    this.next = model.layers.map((l) => new Float64Array(l.stateSize));
    this.scratch = model.layers.map((l) => new Float64Array(l.cell.stepScratch(l.spec)));
    this.outs = model.layers.map((l) => new Float64Array(l.outputSize));
    this.lastOut = new Float64Array(model.outputSize);
    const runners = model.layers.map((l) => l.cell.windowRunner?.(l.spec, backend) ?? null);
    this.runners = runners.every((r) => r !== null) ? (runners as WindowRunner[]) : null;
    this.windowH = model.layers.map(() => new Float64Array(0));
    this.windowOut = model.layers.map(() => new Float64Array(0));
  }

  /**
   * x holds T steps of the model's inputSize features (row-major). Returns the output of the last
   * step (a view valid until the next call; copy it to keep it).
   */
  run(x: ArrayLike<number>, T: number): Float64Array {
    const layers = this.model.layers;
    const I0 = this.model.inputSize;
    if (x.length !== T * I0) throw new Error(`expected ${T}×${I0} input values, got ${x.length}`);
    if (this.runners && T > 0 && this.runWindows(x, T)) return this.lastOut;
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

  /** Layer after layer over the whole window; false (nothing written) when a runner could not run. */
  private runWindows(x: ArrayLike<number>, T: number): boolean {
    const layers = this.model.layers;
    const runners = this.runners as WindowRunner[];
    let input: ArrayLike<number> = x;
    for (let k = 0; k < layers.length; k++) {
      const layer = layers[k];
      const H = layer.hiddenSize;
      if (this.windowH[k].length < T * H) this.windowH[k] = new Float64Array(T * H);
      const hs = this.windowH[k];
      if (!runners[k].run(layer.params, input, T, hs)) return false;
      const last = k === layers.length - 1;
      if (last) {
        const hT = hs.subarray((T - 1) * H, T * H);
        if (layer.hasOutput) projectOne(layer.spec, layer.params, hT, this.lastOut);
        else this.lastOut.set(hT);
      } else if (layer.hasOutput) {
        const O = layer.outputSize;
        if (this.windowOut[k].length < T * O) this.windowOut[k] = new Float64Array(T * O);
        const out = this.windowOut[k];
        const y = this.outs[k];
        for (let t = 0; t < T; t++) {
          projectOne(layer.spec, layer.params, hs.subarray(t * H, (t + 1) * H), y);
          out.set(y, t * O);
        }
        input = out.length === T * O ? out : out.subarray(0, T * O);
      } else {
        input = hs.length === T * H ? hs : hs.subarray(0, T * H);
      }
    }
    return true;
  }
}
