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
  const packed = allocateInputs(inputs, F, name);
  packInputSteps(inputs as unknown[][], packed, 0, packed.B * packed.T, name);
  return packed;
}

/**
 * The first half of packInputs: the shape of the sequences, checked, and zeroed room for them,
 * without reading a value. With packInputSteps the packing can be done a range at a time, so
 * that a huge batch need not hold the thread in one go (the rnn layer node does this).
 */
export function allocateInputs(inputs: unknown, F: number, name = "inputs"): Packed {
  if (!Array.isArray(inputs) || inputs.length === 0) throw new Error(`${name}: expected a non-empty array of sequences (batch × time × features)`);
  const B = inputs.length;
  let T = 0;
  const lengths = new Array<number>(B);
  for (let b = 0; b < B; b++) {
    const seq = inputs[b];
    if (!Array.isArray(seq) || seq.length === 0) throw new Error(`${name}[${b}]: expected a non-empty array of time steps`);
    lengths[b] = seq.length;
    if (seq.length > T) T = seq.length;
  }
  const total = B * T * F;
  if (total > MAX_TENSOR_VALUES) throw new Error(`${name}: ${B}×${T}×${F} values exceed the limit of ${MAX_TENSOR_VALUES}`);
  return { data: new Float64Array(total), B, T, F, lengths };
}

/**
 * Copies the steps [from, to) of `inputs` into `packed` (allocateInputs), counting steps b·T + t
 * over the padded batch; padding steps are skipped (they stay zero).
 */
export function packInputSteps(inputs: unknown[][], packed: Packed, from: number, to: number, name = "inputs"): void {
  const { data, T, F, lengths } = packed;
  for (let b = Math.floor(from / T); b * T < to; b++) {
    const seq = inputs[b] as unknown[];
    const tEnd = Math.min(lengths[b], to - b * T);
    for (let t = Math.max(0, from - b * T); t < tEnd; t++) {
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
}

/** Targets aligned with packed inputs; null steps/entries and padding become NaN (no loss). */
export function packTargets(targets: Target3 | unknown, inputs: Packed, O: number, name = "targets"): Float64Array {
  const out = allocateTargets(targets, inputs, O, name);
  packTargetSteps(targets as unknown[][], inputs, O, out, 0, inputs.B * inputs.T, name);
  return out;
}

/** The first half of packTargets: the batch checked against the inputs, and room for it (all NaN). */
export function allocateTargets(targets: unknown, inputs: Packed, O: number, name = "targets"): Float64Array {
  if (!Array.isArray(targets) || targets.length !== inputs.B) {
    throw new Error(`${name}: expected ${inputs.B} sequences to match the inputs, got ${Array.isArray(targets) ? targets.length : typeof targets}`);
  }
  return new Float64Array(inputs.B * inputs.T * O).fill(NaN);
}

/** Copies the target steps [from, to) (counted b·T + t, as packInputSteps) into `out` (allocateTargets). */
export function packTargetSteps(targets: unknown[][], inputs: Packed, O: number, out: Float64Array, from: number, to: number, name = "targets"): void {
  const { T } = inputs;
  for (let b = Math.floor(from / T); b * T < to; b++) {
    const seq = targets[b];
    if (!Array.isArray(seq) || seq.length !== inputs.lengths[b]) {
      throw new Error(`${name}[${b}]: expected ${inputs.lengths[b]} time steps to match the inputs, got ${Array.isArray(seq) ? seq.length : typeof seq}`);
    }
    const tEnd = Math.min(seq.length, to - b * T);
    for (let t = Math.max(0, from - b * T); t < tEnd; t++) {
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
}

/** Flat outputs back to nested arrays, each sequence cut to its own length. */
export function unpackOutputs(y: Float64Array, packed: Packed, O: number): Tensor3 {
  const out = allocateOutputs(packed);
  unpackOutputSteps(y, packed, O, out, 0, packed.B * packed.T);
  return out as Tensor3;
}

/**
 * The rows of unpackOutputs, each as long as its sequence and not yet filled; unpackOutputSteps
 * fills them a range at a time.
 */
export function allocateOutputs(packed: Packed): unknown[][] {
  const out: unknown[][] = new Array(packed.B);
  for (let b = 0; b < packed.B; b++) out[b] = new Array(packed.lengths[b]);
  return out;
}

/**
 * Fills the steps [from, to) (counted b·T + t, as packInputSteps) of `out` (allocateOutputs):
 * each an array of O numbers or, with `numbers` and O = 1, the number itself.
 */
export function unpackOutputSteps(y: Float64Array, packed: Packed, O: number, out: unknown[][], from: number, to: number, numbers = false): void {
  const { T, lengths } = packed;
  const bare = numbers && O === 1;
  for (let b = Math.floor(from / T); b * T < to; b++) {
    const seq = out[b];
    const tEnd = Math.min(lengths[b], to - b * T);
    for (let t = Math.max(0, from - b * T); t < tEnd; t++) {
      const o = (b * T + t) * O;
      seq[t] = bare ? y[o] : Array.from(y.subarray(o, o + O));
    }
  }
}
