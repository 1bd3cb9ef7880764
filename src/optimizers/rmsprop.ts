import { checkPositive, checkUnitInterval, Optimizer, OptimizerOptions, ParamState } from "./optimizer";

/**
 * RMSProp (Tieleman & Hinton, 2012): each weight's step is divided by a running root mean square
 * of its recent gradients, which evens out the very different gradient scales of W_xh, W_hh and
 * the biases.
 *
 *     s ← ρ·s + (1 − ρ)·g²
 *     w ← w − lr·g / (√s + ε)
 *
 * No bias correction: s starts at zero, so the first steps are larger than lr (lr/√(1 − ρ) at
 * step one). Defaults: lr 0.001, ρ 0.9, ε 1e-7.
 */
export class RmsProp extends Optimizer {
  readonly rho: number;
  readonly epsilon: number;

  constructor(options: OptimizerOptions = {}) {
    super("rmsprop", 0.001, options);
    this.rho = checkUnitInterval("rmsprop", "rho", options.rho ?? 0.9);
    this.epsilon = checkPositive("rmsprop", "epsilon", options.epsilon ?? 1e-7);
  }

  protected override createSlots(length: number): Float64Array[] {
    return [new Float64Array(length)];
  }

  protected override update(w: Float64Array, g: Float64Array, state: ParamState): void {
    const lr = this.learningRate;
    const wd = this.weightDecay;
    const rho = this.rho;
    const eps = this.epsilon;
    const s = state.slots[0];
    for (let j = 0; j < w.length; j++) {
      const gj = g[j] + wd * w[j];
      const sj = rho * s[j] + (1 - rho) * gj * gj;
      s[j] = sj;
      w[j] -= (lr * gj) / (Math.sqrt(sj) + eps);
    }
  }

  protected override extraConfig(): OptimizerOptions {
    return { rho: this.rho, epsilon: this.epsilon };
  }
}
