import { Target3, Tensor3 } from "./types";

/**
 * Conversions between what the public API accepts (nested arrays, mathjs matrices) and the flat
 * batch-major Float64Arrays the backends work on: element (b, t, f) at (b*T + t)*F + f.
 */

/** The part of a mathjs Matrix the API needs, checked by shape so mathjs need not be loaded. */
export interface MatrixLike {
  isMatrix: true;
  toArray(): unknown;
  size(): number[];
}

export function isMatrixLike(x: unknown): x is MatrixLike {
  return typeof x === "object" && x !== null && (x as { isMatrix?: unknown }).isMatrix === true && typeof (x as MatrixLike).toArray === "function";
}

export function fromTensorInput(x: unknown): unknown {
  return isMatrixLike(x) ? x.toArray() : x;
}

export function toMatrixOutput(nested: Tensor3): MatrixLike {
  // Loaded on demand: only users of the matrix API pay for mathjs.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { math } = require("./math") as { math: { matrix(data: unknown, format?: string, datatype?: string): MatrixLike } };
  return math.matrix(nested, "dense", "number");
}

/** Upper bound on the values one call may pack, checked before allocating. */
export const MAX_TENSOR_VALUES = 50_000_000;

export interface Packed {
  data: Float64Array;
  B: number;
  /** Longest sequence; shorter ones are padded at the end. */
  T: number;
  F: number;
  /** Length of each sequence before padding. */
  lengths: number[];
}

/**
 * Packs B sequences of F-wide steps. Sequences may differ in length: they are padded at the end
 * with zeros, which cannot change earlier outputs (the recurrence runs forward in time), and the
 * padded steps get no target (see packTargets), so they change neither loss nor gradients.
 */
export function packInputs(inputs: unknown, F: number, name = "inputs"): Packed {
  if (!Array.isArray(inputs) || inputs.length === 0) throw new Error(`${name}: expected a non-empty array of sequences (batch × time × features)`);
  const B = inputs.length;
  let T = 0;
  let total = 0;
  const lengths = new Array<number>(B);
  for (let b = 0; b < B; b++) {
    const seq = inputs[b];
    if (!Array.isArray(seq) || seq.length === 0) throw new Error(`${name}[${b}]: expected a non-empty array of time steps`);
    lengths[b] = seq.length;
    if (seq.length > T) T = seq.length;
  }
  total = B * T * F;
  if (total > MAX_TENSOR_VALUES) throw new Error(`${name}: ${B}×${T}×${F} values exceed the limit of ${MAX_TENSOR_VALUES}`);
  const data = new Float64Array(total);
  for (let b = 0; b < B; b++) {
    const seq = inputs[b] as unknown[];
    for (let t = 0; t < seq.length; t++) {
      const step = seq[t];
      const o = (b * T + t) * F;
      if (typeof step === "number" && F === 1) {
        if (!Number.isFinite(step)) throw new Error(`${name}[${b}][${t}]: not a finite number`);
        data[o] = step;
        continue;
      }
      if (!Array.isArray(step) || step.length !== F) {
        throw new Error(`${name}[${b}][${t}]: expected ${F} feature${F === 1 ? "" : "s"}, got ${Array.isArray(step) ? step.length : typeof step}`);
      }
      for (let f = 0; f < F; f++) {
        const v = step[f];
        if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${name}[${b}][${t}][${f}]: not a finite number`);
        data[o + f] = v;
      }
    }
  }
  return { data, B, T, F, lengths };
}

/** Targets aligned with packed inputs; null steps/entries and padding become NaN (no loss). */
export function packTargets(targets: Target3 | unknown, inputs: Packed, O: number, name = "targets"): Float64Array {
  if (!Array.isArray(targets) || targets.length !== inputs.B) {
    throw new Error(`${name}: expected ${inputs.B} sequences to match the inputs, got ${Array.isArray(targets) ? targets.length : typeof targets}`);
  }
  const { B, T } = inputs;
  const out = new Float64Array(B * T * O).fill(NaN);
  for (let b = 0; b < B; b++) {
    const seq = targets[b];
    if (!Array.isArray(seq) || seq.length !== inputs.lengths[b]) {
      throw new Error(`${name}[${b}]: expected ${inputs.lengths[b]} time steps to match the inputs, got ${Array.isArray(seq) ? seq.length : typeof seq}`);
    }
    for (let t = 0; t < seq.length; t++) {
      const step = seq[t];
      if (step === null || step === undefined) continue;
      const o = (b * T + t) * O;
      if (typeof step === "number" && O === 1) {
        if (!Number.isFinite(step)) throw new Error(`${name}[${b}][${t}]: not a finite number (use null for "no target")`);
        out[o] = step;
        continue;
      }
      if (!Array.isArray(step) || step.length !== O) {
        throw new Error(`${name}[${b}][${t}]: expected ${O} value${O === 1 ? "" : "s"} or null, got ${Array.isArray(step) ? step.length : typeof step}`);
      }
      for (let k = 0; k < O; k++) {
        const v = step[k];
        if (v === null) continue;
        if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${name}[${b}][${t}][${k}]: not a finite number (use null for "no target")`);
        out[o + k] = v;
      }
    }
  }
  return out;
}

/** Flat outputs back to nested arrays, each sequence cut to its own length. */
export function unpackOutputs(y: Float64Array, packed: Packed, O: number): Tensor3 {
  const out: Tensor3 = new Array(packed.B);
  for (let b = 0; b < packed.B; b++) {
    const len = packed.lengths[b];
    const seq: number[][] = new Array(len);
    for (let t = 0; t < len; t++) {
      const o = (b * packed.T + t) * O;
      seq[t] = Array.from(y.subarray(o, o + O));
    }
    out[b] = seq;
  }
  return out;
}
