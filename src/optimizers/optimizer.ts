/** Names of the optimizers, as used in node configuration and `createOptimizer`. */
export type OptimizerName = "sgd" | "momentum" | "adam" | "rmsprop";

/**
 * Hyper-parameters. Each optimizer reads the ones it uses and ignores the rest, so one options
 * object taken from a node's configuration can be handed to any of them. `undefined` (or `null`)
 * means "use the default".
 */
export interface OptimizerOptions {
  learningRate?: number;
  /** L2 coefficient added to the gradient (g + weightDecay·w) before the update. */
  weightDecay?: number;
  momentum?: number;
  nesterov?: boolean;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  rho?: number;
}

/** What `getConfig()` returns: enough to build an identical optimizer with `createOptimizer`. */
export interface OptimizerConfig extends OptimizerOptions {
  name: OptimizerName;
  learningRate: number;
  weightDecay: number;
}

/** The state an optimizer keeps for one parameter array (one index of the list). */
export interface ParamState {
  /** Length of the array the state was allocated for. */
  readonly length: number;
  /** Number of updates applied to this array since the state was created (1 during the first). */
  t: number;
  /** Per-element accumulators (velocity, moments…), each of `length` entries. */
  readonly slots: Float64Array[];
}

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** A finite number > 0. */
export function checkPositive(owner: string, option: string, value: unknown): number {
  if (!isNumber(value) || value <= 0) {
    throw new Error(`${owner}: ${option} must be a finite number > 0, got ${show(value)}`);
  }
  return value;
}

/** A finite number ≥ 0. */
export function checkNonNegative(owner: string, option: string, value: unknown): number {
  if (!isNumber(value) || value < 0) {
    throw new Error(`${owner}: ${option} must be a finite number >= 0, got ${show(value)}`);
  }
  return value;
}

/** A number in [0, 1): a decay rate; 1 would make the accumulator never forget. */
export function checkUnitInterval(owner: string, option: string, value: unknown): number {
  if (!isNumber(value) || value < 0 || value >= 1) {
    throw new Error(`${owner}: ${option} must be a number in [0, 1), got ${show(value)}`);
  }
  return value;
}

export function checkBoolean(owner: string, option: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new Error(`${owner}: ${option} must be true or false, got ${show(value)}`);
  return value;
}

/**
 * Base of all optimizers. An optimizer owns the state it needs between steps (velocities,
 * moments), kept per index of the parameter list and allocated on first use, so the caller only
 * hands over the same list of arrays in the same order every step.
 *
 * Weight decay is classic L2 regularisation coupled into the gradient, g ← g + weightDecay·w, for
 * every optimizer (for Adam and RMSProp this means the decay is rescaled by the adaptive
 * denominator, unlike the decoupled AdamW). It applies to every array passed to `step`; a caller
 * that wants biases left undecayed uses a second optimizer for them.
 */
export abstract class Optimizer {
  readonly name: OptimizerName;
  private lr: number;
  private wd: number;
  private state: (ParamState | undefined)[] = [];

  protected constructor(name: OptimizerName, defaultLearningRate: number, options: OptimizerOptions) {
    this.name = name;
    this.lr = checkPositive(name, "learningRate", options.learningRate ?? defaultLearningRate);
    this.wd = checkNonNegative(name, "weightDecay", options.weightDecay ?? 0);
  }

  /** Step size. Settable: the trainer lowers it after a divergence or on a plateau. */
  get learningRate(): number {
    return this.lr;
  }

  set learningRate(value: number) {
    this.lr = checkPositive(this.name, "learningRate", value);
  }

  get weightDecay(): number {
    return this.wd;
  }

  set weightDecay(value: number) {
    this.wd = checkNonNegative(this.name, "weightDecay", value);
  }

  /**
   * Applies one update to every `params[i]` in place, using `grads[i]` (same length). Everything
   * is checked before any array is touched, so a rejected call leaves the weights as they were.
   */
  step(params: readonly Float64Array[], grads: readonly Float64Array[]): void {
    if (params.length !== grads.length) {
      throw new Error(`${this.name}: got ${params.length} parameter arrays but ${grads.length} gradient arrays`);
    }
    for (let i = 0; i < params.length; i++) {
      const n = params[i].length;
      if (grads[i].length !== n) {
        throw new Error(`${this.name}: parameter ${i} has ${n} entries but its gradient has ${grads[i].length}`);
      }
      const s = this.state[i];
      if (s !== undefined && s.length !== n) {
        throw new Error(
          `${this.name}: parameter ${i} changed length from ${s.length} to ${n}; call reset() when the parameters change`,
        );
      }
    }
    for (let i = 0; i < params.length; i++) {
      let s = this.state[i];
      if (s === undefined) {
        s = { length: params[i].length, t: 0, slots: this.createSlots(params[i].length) };
        this.state[i] = s;
      }
      s.t++;
      this.update(params[i], grads[i], s);
    }
  }

  /** Forgets all state (moments, step counts, lengths), e.g. after weights were restored. */
  reset(): void {
    this.state = [];
  }

  /** The hyper-parameters, so that `createOptimizer(c.name, c)` builds an identical optimizer. */
  getConfig(): OptimizerConfig {
    return { name: this.name, learningRate: this.lr, weightDecay: this.wd, ...this.extraConfig() };
  }

  /** The accumulators one parameter array of `length` entries needs (zero-filled). */
  protected abstract createSlots(length: number): Float64Array[];

  /** Updates `w` in place from `g`; `state.t` already counts this step. */
  protected abstract update(w: Float64Array, g: Float64Array, state: ParamState): void;

  /** The hyper-parameters beyond learningRate and weightDecay. */
  protected abstract extraConfig(): OptimizerOptions;
}
