import { checkPositive, checkUnitInterval, Optimizer, OptimizerOptions, ParamState } from "./optimizer";

/**
 * Adam (Kingma & Ba, 2015), with bias correction:
 *
 *     m ← β1·m + (1 − β1)·g          v ← β2·v + (1 − β2)·g²
 *     m̂ = m / (1 − β1^t)            v̂ = v / (1 − β2^t)
 *     w ← w − lr·m̂ / (√v̂ + ε)
 *
 * The correction undoes the zero start of m and v, so the first step is lr·g/(|g| + ε), about
 * lr·sign(g), whatever the gradient's scale. t counts the updates of each parameter array.
 * Defaults: lr 0.001, β1 0.9, β2 0.999, ε 1e-8.
 */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  constructor(options: OptimizerOptions = {}) {
    super("adam", 0.001, options);
    this.beta1 = checkUnitInterval("adam", "beta1", options.beta1 ?? 0.9);
    this.beta2 = checkUnitInterval("adam", "beta2", options.beta2 ?? 0.999);
    this.epsilon = checkPositive("adam", "epsilon", options.epsilon ?? 1e-8);
  }

  protected override createSlots(length: number): Float64Array[] {
    return [new Float64Array(length), new Float64Array(length)];
  }

  protected override update(w: Float64Array, g: Float64Array, state: ParamState): void {
    const lr = this.learningRate;
    const wd = this.weightDecay;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const eps = this.epsilon;
    const [m, v] = state.slots;
    const c1 = 1 - Math.pow(b1, state.t);
    const c2 = 1 - Math.pow(b2, state.t);
    for (let j = 0; j < w.length; j++) {
      const gj = g[j] + wd * w[j];
      const mj = b1 * m[j] + (1 - b1) * gj;
      const vj = b2 * v[j] + (1 - b2) * gj * gj;
      m[j] = mj;
      v[j] = vj;
      w[j] -= (lr * (mj / c1)) / (Math.sqrt(vj / c2) + eps);
    }
  }

  protected override extraConfig(): OptimizerOptions {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}
