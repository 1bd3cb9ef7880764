import { checkBoolean, checkUnitInterval, Optimizer, OptimizerOptions, ParamState } from "./optimizer";

/**
 * Gradient descent with momentum (heavy ball), velocity v per weight:
 *
 *     v ← μ·v + g
 *     w ← w − lr·v                 (classic)
 *     w ← w − lr·(g + μ·v)         (Nesterov, with the v just updated)
 *
 * The Nesterov form evaluates the look-ahead through the velocity instead of at shifted weights,
 * which needs no second gradient. Defaults: μ 0.9, learning rate 0.01, nesterov false.
 */
export class Momentum extends Optimizer {
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(options: OptimizerOptions = {}) {
    super("momentum", 0.01, options);
    this.momentum = checkUnitInterval("momentum", "momentum", options.momentum ?? 0.9);
    this.nesterov = checkBoolean("momentum", "nesterov", options.nesterov ?? false);
  }

  protected override createSlots(length: number): Float64Array[] {
    return [new Float64Array(length)];
  }

  protected override update(w: Float64Array, g: Float64Array, state: ParamState): void {
    const lr = this.learningRate;
    const wd = this.weightDecay;
    const mu = this.momentum;
    const v = state.slots[0];
    if (this.nesterov) {
      for (let j = 0; j < w.length; j++) {
        const gj = g[j] + wd * w[j];
        const vj = mu * v[j] + gj;
        v[j] = vj;
        w[j] -= lr * (gj + mu * vj);
      }
    } else {
      for (let j = 0; j < w.length; j++) {
        const vj = mu * v[j] + g[j] + wd * w[j];
        v[j] = vj;
        w[j] -= lr * vj;
      }
    }
  }

  protected override extraConfig(): OptimizerOptions {
    return { momentum: this.momentum, nesterov: this.nesterov };
  }
}
