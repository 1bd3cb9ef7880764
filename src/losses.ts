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

export interface Metrics {
  mse: number;
  rmse: number;
  mae: number;
  /** Mean absolute percentage error in %, over entries whose true value is not 0; null if none. */
  mape: number | null;
  count: number;
}

/** Validation metrics over entries whose target is not NaN (usually in real units). */
export function computeMetrics(pred: ArrayLike<number>, actual: ArrayLike<number>): Metrics {
  if (pred.length !== actual.length) throw new Error(`metrics: ${pred.length} predictions for ${actual.length} targets`);
  let se = 0, ae = 0, pe = 0, count = 0, pcount = 0;
  for (let i = 0; i < pred.length; i++) {
    const a = actual[i];
    if (a !== a) continue;
    const d = pred[i] - a;
    se += d * d;
    ae += Math.abs(d);
    count++;
    if (a !== 0) {
      pe += Math.abs(d / a);
      pcount++;
    }
  }
  if (count === 0) return { mse: NaN, rmse: NaN, mae: NaN, mape: null, count: 0 };
  const mse = se / count;
  return { mse, rmse: Math.sqrt(mse), mae: ae / count, mape: pcount ? (100 * pe) / pcount : null, count };
}
