import { LossName, LOSSES, OutputActivation } from "./types";

/**
 * Losses over flat tensors. A NaN in the target marks "no loss here" (a null target in the
 * message); the loss is the mean over the remaining entries, so padding and masked steps change
 * neither the loss nor the gradients.
 */

export interface LossOptions {
  /** Huber threshold δ (default 1). */
  delta?: number;
  /** Skip the gradient (validation). */
  valueOnly?: boolean;
}

export interface LossResult {
  loss: number;
  /** Entries (or, for softmax cross-entropy, steps) that carried a target. */
  count: number;
  /** ∂loss/∂y, or ∂loss/∂(output pre-activation) when `dYIsLogit`. Empty when valueOnly. */
  dY: Float64Array;
  dYIsLogit: boolean;
}

const LOG_FLOOR = 1e-300;

export function checkLossName(name: string): LossName {
  if (!(LOSSES as readonly string[]).includes(name)) throw new Error(`unknown loss "${name}" (expected one of ${LOSSES.join(", ")})`);
  return name as LossName;
}

/**
 * @param y       outputs, B·T·O
 * @param target  same length; NaN = no loss at that entry
 * @param O       output width (softmax cross-entropy works on whole steps of O entries)
 */
export function computeLoss(name: LossName, y: Float64Array, target: Float64Array, O: number, outputActivation: OutputActivation, options: LossOptions = {}): LossResult {
  if (y.length !== target.length) throw new Error(`outputs have ${y.length} values but targets ${target.length}`);
  const n = y.length;
  const wantGrad = !options.valueOnly;
  const dY = new Float64Array(wantGrad ? n : 0);
  let sum = 0;
  let count = 0;
  switch (name) {
    case "mse":
      for (let i = 0; i < n; i++) {
        const t = target[i];
        if (t !== t) continue;
        const d = y[i] - t;
        sum += d * d;
        count++;
        if (wantGrad) dY[i] = 2 * d;
      }
      break;
    case "mae":
      for (let i = 0; i < n; i++) {
        const t = target[i];
        if (t !== t) continue;
        const d = y[i] - t;
        sum += Math.abs(d);
        count++;
        if (wantGrad) dY[i] = d > 0 ? 1 : d < 0 ? -1 : 0;
      }
      break;
    case "huber": {
      const delta = options.delta ?? 1;
      if (!(delta > 0) || !Number.isFinite(delta)) throw new Error(`huber delta must be a positive number, got ${delta}`);
      for (let i = 0; i < n; i++) {
        const t = target[i];
        if (t !== t) continue;
        const d = y[i] - t;
        const a = Math.abs(d);
        sum += a <= delta ? 0.5 * d * d : delta * (a - 0.5 * delta);
        count++;
        if (wantGrad) dY[i] = a <= delta ? d : delta * Math.sign(d);
      }
      break;
    }
    case "crossentropy":
      if (outputActivation === "softmax") {
        // Whole steps: the fused gradient with respect to the logits is y·Σt − t.
        for (let s = 0; s < n; s += O) {
          let masked = 0;
          for (let o = 0; o < O; o++) if (target[s + o] !== target[s + o]) masked++;
          if (masked === O) continue;
          if (masked > 0) throw new Error("crossentropy needs whole target steps: a step's class probabilities must be all numbers or null");
          let tsum = 0;
          for (let o = 0; o < O; o++) {
            const t = target[s + o];
            tsum += t;
            if (t !== 0) sum -= t * Math.log(Math.max(y[s + o], LOG_FLOOR));
          }
          if (wantGrad) for (let o = 0; o < O; o++) dY[s + o] = y[s + o] * tsum - target[s + o];
          count++;
        }
      } else if (outputActivation === "sigmoid") {
        // Binary cross-entropy per entry; the fused gradient with respect to the logit is y − t.
        for (let i = 0; i < n; i++) {
          const t = target[i];
          if (t !== t) continue;
          const p = y[i];
          sum -= t * Math.log(Math.max(p, LOG_FLOOR)) + (1 - t) * Math.log(Math.max(1 - p, LOG_FLOOR));
          count++;
          if (wantGrad) dY[i] = p - t;
        }
      } else {
        throw new Error(`crossentropy needs a softmax or sigmoid output, the last layer's output is "${outputActivation}"`);
      }
      break;
    default:
      throw new Error(`unknown loss "${String(name)}" (expected one of ${LOSSES.join(", ")})`);
  }
  if (count === 0) return { loss: 0, count: 0, dY, dYIsLogit: name === "crossentropy" };
  if (wantGrad) {
    const scale = 1 / count;
    for (let i = 0; i < dY.length; i++) dY[i] *= scale;
  }
  return { loss: sum / count, count, dY, dYIsLogit: name === "crossentropy" };
}

/** Errors of predictions against targets; mape in %, null when not measured. */
export interface ValidationMetrics {
  mse: number;
  rmse: number;
  mae: number;
  /** Mean absolute percentage error in %, over entries whose true value is not 0; null if none. */
  mape: number | null;
}

export interface Metrics extends ValidationMetrics {
  count: number;
}

/**
 * How scaled values map back to real units, one offset and scale per output column
 * (real = scaled · scale + offset), and whether a percentage error means anything there (it does
 * not for a differenced series, whose targets are changes rather than levels).
 */
export interface RealUnits {
  offset: number[];
  scale: number[];
  mape: boolean;
}

/**
 * What the metrics are made of, as sums: they add up over chunks of a dataset (the threads of a
 * parallel fit, the slices of a validation pass), and the metrics are taken once at the end.
 */
export interface MetricSums {
  /** Σ e², Σ |e|, Σ |e|/|t| over the entries with a target (the last only where t ≠ 0). */
  squared: number;
  absolute: number;
  relative: number;
  count: number;
  relativeCount: number;
}

export function emptyMetricSums(): MetricSums {
  return { squared: 0, absolute: 0, relative: 0, count: 0, relativeCount: 0 };
}

/** Checks real-unit settings against the output width O; throws with what is wrong. */
export function checkRealUnits(units: RealUnits, O: number): void {
  const { offset, scale } = units;
  if (!Array.isArray(offset) || !Array.isArray(scale) || offset.length !== O || scale.length !== O) {
    throw new Error(`realUnits needs one offset and one scale per output column (${O}), got ${Array.isArray(offset) ? offset.length : typeof offset} and ${Array.isArray(scale) ? scale.length : typeof scale}`);
  }
  for (let o = 0; o < O; o++) {
    if (typeof offset[o] !== "number" || !Number.isFinite(offset[o]) || typeof scale[o] !== "number" || !Number.isFinite(scale[o])) {
      throw new Error(`realUnits: offset[${o}] and scale[${o}] must be finite numbers`);
    }
  }
  if (typeof units.mape !== "boolean") throw new Error("realUnits.mape must be true or false");
}

/**
 * Adds the errors of `pred` against `actual` (flat, O values per step, NaN = no target) to `sums`.
 * With `units`, both are taken to real units first (column o = i mod O); the percentage error is
 * skipped when `units.mape` is false.
 */
export function addMetricSums(sums: MetricSums, pred: ArrayLike<number>, actual: ArrayLike<number>, O = 1, units: RealUnits | null = null): MetricSums {
  if (pred.length !== actual.length) throw new Error(`metrics: ${pred.length} predictions for ${actual.length} targets`);
  const relative = units ? units.mape : true;
  for (let i = 0; i < pred.length; i++) {
    let a = actual[i];
    if (a !== a) continue;
    let p = pred[i];
    if (units) {
      const o = i % O;
      p = p * units.scale[o] + units.offset[o];
      a = a * units.scale[o] + units.offset[o];
    }
    const d = p - a;
    sums.squared += d * d;
    sums.absolute += Math.abs(d);
    sums.count++;
    if (relative && a !== 0) {
      sums.relative += Math.abs(d / a);
      sums.relativeCount++;
    }
  }
  return sums;
}

/** Adds the sums `from` into `into`. */
export function mergeMetricSums(into: MetricSums, from: MetricSums): MetricSums {
  into.squared += from.squared;
  into.absolute += from.absolute;
  into.relative += from.relative;
  into.count += from.count;
  into.relativeCount += from.relativeCount;
  return into;
}

export function metricsFromSums(s: MetricSums): Metrics {
  if (s.count === 0) return { mse: NaN, rmse: NaN, mae: NaN, mape: null, count: 0 };
  const mse = s.squared / s.count;
  return { mse, rmse: Math.sqrt(mse), mae: s.absolute / s.count, mape: s.relativeCount ? (100 * s.relative) / s.relativeCount : null, count: s.count };
}

/** Validation metrics over entries whose target is not NaN (usually in real units). */
export function computeMetrics(pred: ArrayLike<number>, actual: ArrayLike<number>): Metrics {
  return metricsFromSums(addMetricSums(emptyMetricSums(), pred, actual));
}
