import { allFinite, clipByGlobalNorm, clipByValue } from "./clipping";
import { createOptimizer, Optimizer, OptimizerName, OptimizerOptions } from "./optimizers";

/**
 * One parameter update, with the seed's failure modes handled: gradients are clipped (global norm
 * and/or value), and a step whose loss or gradients are not finite is refused, the last good
 * weights are restored and the learning rate is lowered.
 */

export interface UpdateOptions extends OptimizerOptions {
  optimizer?: OptimizerName;
  /** Clip the gradients' global L2 norm to this value (0 / undefined: off). */
  clipNorm?: number;
  /** Clamp every gradient entry to [−clipValue, clipValue] (0 / undefined: off). */
  clipValue?: number;
  /** Factor applied to the learning rate after a refused step (default 0.5). */
  divergenceDecay?: number;
}

export interface StepReport {
  accepted: boolean;
  /** Global gradient norm before clipping (NaN when the gradients were not finite). */
  gradNorm: number;
  clipped: boolean;
  /** Why the step was refused. */
  reason?: "non-finite loss" | "non-finite gradients" | "non-finite weights";
  learningRate: number;
}

export class ParameterUpdater {
  readonly optimizer: Optimizer;
  private readonly clipNorm: number;
  private readonly clipValue: number;
  private readonly decay: number;
  /** Weights that last produced a finite loss; what a refused step goes back to. */
  private lastGood: Float64Array[] | null = null;
  refusedSteps = 0;

  constructor(options: UpdateOptions = {}) {
    this.optimizer = createOptimizer(options.optimizer ?? "adam", options);
    this.clipNorm = options.clipNorm ?? 0;
    this.clipValue = options.clipValue ?? 0;
    this.decay = options.divergenceDecay ?? 0.5;
    if (!(this.clipNorm >= 0) || !(this.clipValue >= 0)) throw new Error("clipNorm and clipValue must be ≥ 0 (0 = off)");
    if (!(this.decay > 0 && this.decay <= 1)) throw new Error(`divergenceDecay must be in (0, 1], got ${this.decay}`);
  }

  get learningRate(): number {
    return this.optimizer.learningRate;
  }

  /**
   * Applies one step to `params` (in place) from `grads` (clipped in place).
   * `loss` is the loss the current params produced on this batch.
   */
  step(params: Float64Array[], grads: Float64Array[], loss: number): StepReport {
    if (!Number.isFinite(loss) || !allFinite(grads)) {
      return this.refuse(params, Number.isFinite(loss) ? "non-finite gradients" : "non-finite loss");
    }
    this.snapshot(params);
    let gradNorm: number;
    let clipped = false;
    if (this.clipValue > 0) clipped = clipByValue(grads, this.clipValue) > 0;
    if (this.clipNorm > 0) {
      gradNorm = clipByGlobalNorm(grads, this.clipNorm);
      clipped = clipped || gradNorm > this.clipNorm;
    } else {
      gradNorm = clipByGlobalNorm(grads, Infinity);
    }
    this.optimizer.step(params, grads);
    if (!allFinite(params)) return this.refuse(params, "non-finite weights");
    return { accepted: true, gradNorm, clipped, learningRate: this.optimizer.learningRate };
  }

  /** Forget the snapshot and the optimizer's state (after weights were replaced from outside). */
  reset(): void {
    this.lastGood = null;
    this.optimizer.reset();
  }

  private snapshot(params: Float64Array[]): void {
    if (!this.lastGood || this.lastGood.length !== params.length || this.lastGood.some((s, i) => s.length !== params[i].length)) {
      this.lastGood = params.map((p) => p.slice());
    } else {
      for (let i = 0; i < params.length; i++) this.lastGood[i].set(params[i]);
    }
  }

  private refuse(params: Float64Array[], reason: NonNullable<StepReport["reason"]>): StepReport {
    if (this.lastGood && this.lastGood.length === params.length) {
      for (let i = 0; i < params.length; i++) params[i].set(this.lastGood[i]);
    }
    // Moment estimates were built on the way to the blow-up: start them again.
    this.optimizer.reset();
    // Floor: the optimizer refuses a zero rate, and a rate this small means training has diverged anyway.
    this.optimizer.learningRate = Math.max(this.optimizer.learningRate * this.decay, 1e-12);
    this.refusedSteps++;
    return { accepted: false, gradNorm: NaN, clipped: false, reason, learningRate: this.optimizer.learningRate };
  }
}
