import { Optimizer, OptimizerOptions, ParamState } from "./optimizer";

/** Plain gradient descent: w ← w − lr·g. Default learning rate 0.01. */
export class Sgd extends Optimizer {
  constructor(options: OptimizerOptions = {}) {
    super("sgd", 0.01, options);
  }

  protected override createSlots(): Float64Array[] {
    return [];
  }

  protected override update(w: Float64Array, g: Float64Array, _state: ParamState): void {
    const lr = this.learningRate;
    const wd = this.weightDecay;
    for (let j = 0; j < w.length; j++) w[j] -= lr * (g[j] + wd * w[j]);
  }

  protected override extraConfig(): OptimizerOptions {
    return {};
  }
}
