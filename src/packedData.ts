import { packInputs, packTargets } from "./tensors";
import { Target3, Tensor3 } from "./types";

/**
 * A dataset already in the flat layout the backends work on, so that it can be handed to a fit
 * (or to worker threads) without building nested arrays first. Batch-major: x is B×T×I with
 * element (b, t, i) at (b·T + t)·I + i, target B×T×O likewise, NaN meaning "no target here"
 * (what `packTargets` makes of a null step or entry, and of padding).
 */
export interface PackedData {
  x: Float64Array;
  target: Float64Array;
  B: number;
  T: number;
}

/** The nested form: sequences may differ in length, a null target means "no loss here". */
export interface NestedData {
  inputs: Tensor3;
  targets: Target3;
}

/** What a fit accepts as training or validation data. */
export type TrainingData = NestedData | PackedData;

export function isPackedData(data: unknown): data is PackedData {
  return typeof data === "object" && data !== null && (data as PackedData).x instanceof Float64Array;
}

/** Whether the data holds no rows: an empty validation set means no validation. */
export function isEmptyData(data: TrainingData): boolean {
  return isPackedData(data) ? data.B === 0 : Array.isArray(data.inputs) && data.inputs.length === 0;
}

/**
 * The data in packed form for a model with I inputs and O outputs: nested arrays are packed,
 * packed data is checked (shapes, finite inputs, targets finite or NaN) and passed on as it is.
 */
export function toPackedData(data: TrainingData, I: number, O: number, name: string): PackedData {
  if (!isPackedData(data)) {
    if (typeof data !== "object" || data === null) throw new Error(`${name}: expected { inputs, targets } or packed data { x, target, B, T }`);
    const inputs = packInputs(data.inputs, I, `${name}.inputs`);
    const target = packTargets(data.targets, inputs, O, `${name}.targets`);
    return { x: inputs.data, target, B: inputs.B, T: inputs.T };
  }
  const { x, target, B, T } = data;
  if (!Number.isInteger(B) || B < 1) throw new Error(`${name}.B: expected a positive number of sequences, got ${B}`);
  if (!Number.isInteger(T) || T < 1) throw new Error(`${name}.T: expected a positive number of time steps, got ${T}`);
  if (x.length !== B * T * I) throw new Error(`${name}.x: expected ${B}×${T}×${I} = ${B * T * I} values, got ${x.length}`);
  if (!(target instanceof Float64Array) || target.length !== B * T * O) {
    throw new Error(`${name}.target: expected a Float64Array of ${B}×${T}×${O} = ${B * T * O} values, got ${target instanceof Float64Array ? target.length : typeof target}`);
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new Error(`${name}.x[${i}]: not a finite number`);
  }
  for (let i = 0; i < target.length; i++) {
    const t = target[i];
    // NaN is "no target"; an infinity is a broken reading, as packTargets says of nested data.
    if (t === Infinity || t === -Infinity) throw new Error(`${name}.target[${i}]: not a finite number (use NaN for "no target")`);
  }
  return data;
}
