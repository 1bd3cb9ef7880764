/**
 * Minibatches: which windows go together, and the conversion between the nested arrays that
 * messages carry (batch × time × features) and the flat Float64Array the kernels work on.
 */
import { Random } from "../random";

/** Largest tensor (in numbers) that a message or a dataset may make us allocate. */
export const MAX_TENSOR_ELEMENTS = 50_000_000;

/** A flat batch × time × features tensor; element (b, t, f) is at `(b*T + t)*F + f`. */
export interface Flat3 {
  data: Float64Array;
  B: number;
  T: number;
  F: number;
}

function checkCount(value: unknown, name: string, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/**
 * Split the indices 0..n-1 into batches of `batchSize` (the last one may be smaller).
 * With an rng the order is shuffled first, so the same seed gives the same batches.
 */
export function batchIndices(n: number, batchSize: number, rng: Random | null): number[][] {
  checkCount(n, "n", 0);
  checkCount(batchSize, "batchSize", 1);
  if (n > MAX_TENSOR_ELEMENTS) throw new Error(`n is ${n}, at most ${MAX_TENSOR_ELEMENTS} allowed`);
  const order = Array.from({ length: n }, (_, i) => i);
  if (rng) rng.shuffle(order);
  const batches: number[][] = [];
  for (let start = 0; start < n; start += batchSize) batches.push(order.slice(start, start + batchSize));
  return batches;
}

/** The items at the given indices, in that order. */
export function gather<T>(items: T[], idx: number[]): T[] {
  return idx.map((i) => {
    if (!Number.isInteger(i) || i < 0 || i >= items.length) {
      throw new Error(`index ${String(i)} is out of range 0..${items.length - 1}`);
    }
    return items[i];
  });
}

function checkExpected(got: number, expected: number | undefined, what: string, name: string): void {
  if (expected !== undefined && got !== expected) throw new Error(`${name}: expected ${expected} ${what}, got ${got}`);
}

/**
 * Read the shape from the first element of each level and check it against any expected size,
 * before anything is allocated.
 */
function leadingShape(
  nested: unknown,
  name: string,
  nullableSteps: boolean,
  B?: number,
  T?: number,
  F?: number,
): [number, number, number] {
  if (!Array.isArray(nested)) throw new Error(`${name}: expected an array (batch × time × features)`);
  const b = nested.length;
  if (b === 0) throw new Error(`${name}: empty batch`);
  checkExpected(b, B, "sequences", name);
  const seq0: unknown = nested[0];
  if (!Array.isArray(seq0)) throw new Error(`${name}[0]: expected an array of time steps`);
  const t = seq0.length;
  if (t === 0) throw new Error(`${name}[0]: empty sequence`);
  checkExpected(t, T, "time steps", `${name}[0]`);
  let f: number | undefined = F;
  if (f === undefined) {
    // With null steps allowed (targets) the first non-null step tells the width.
    for (let s = 0; s < t && f === undefined; s++) {
      const step: unknown = seq0[s];
      if (Array.isArray(step)) f = step.length;
      else if (!(nullableSteps && step === null)) throw new Error(`${name}[0][${s}]: expected an array of values`);
    }
    if (f === undefined) throw new Error(`${name}[0]: every step is null, so the width is unknown`);
  }
  if (f === 0) throw new Error(`${name}: zero features per step`);
  if (b * t * f > MAX_TENSOR_ELEMENTS) {
    throw new Error(`${name}: ${b}×${t}×${f} = ${b * t * f} numbers, at most ${MAX_TENSOR_ELEMENTS} allowed`);
  }
  return [b, t, f];
}

function flattenInto(nested: unknown[], name: string, nullable: boolean, B: number, T: number, F: number): Float64Array {
  const data = new Float64Array(B * T * F);
  for (let b = 0; b < B; b++) {
    const seq: unknown = nested[b];
    if (!Array.isArray(seq)) throw new Error(`${name}[${b}]: expected an array of time steps`);
    if (seq.length !== T) throw new Error(`${name}[${b}]: expected ${T} time steps, got ${seq.length}`);
    for (let t = 0; t < T; t++) {
      const step: unknown = seq[t];
      const base = (b * T + t) * F;
      if (nullable && step === null) {
        data.fill(NaN, base, base + F);
        continue;
      }
      if (!Array.isArray(step)) throw new Error(`${name}[${b}][${t}]: expected an array of ${F} values`);
      if (step.length !== F) {
        throw new Error(`${name}[${b}][${t}]: expected ${F} ${nullable ? "values" : "features"}, got ${step.length}`);
      }
      for (let f = 0; f < F; f++) {
        const v: unknown = step[f];
        if (nullable && v === null) {
          data[base + f] = NaN;
        } else if (typeof v === "number" && Number.isFinite(v)) {
          data[base + f] = v;
        } else {
          const shown = typeof v === "string" ? JSON.stringify(v) : v === undefined ? "undefined" : String(v);
          throw new Error(`${name}[${b}][${t}][${f}]: ${shown} is not a finite number`);
        }
      }
    }
  }
  return data;
}

/**
 * Flatten B×T×F nested arrays (e.g. `msg.payload`) into a Float64Array, checking that the
 * shape is rectangular and every number finite. B, T and F, when given, are the sizes expected.
 */
export function flatten3(nested: unknown, B?: number, T?: number, F?: number, name = "inputs"): Flat3 {
  const [b, t, f] = leadingShape(nested, name, false, B, T, F);
  return { data: flattenInto(nested as unknown[], name, false, b, t, f), B: b, T: t, F: f };
}

/**
 * Flatten targets like `flatten3`, where a `null` step or a `null` entry becomes NaN, the mark
 * for "no loss here". A NaN or infinite number that was sent is an error, never a silent mask.
 */
export function flattenTargets(nested: unknown, B?: number, T?: number, O?: number, name = "targets"): Flat3 {
  const [b, t, o] = leadingShape(nested, name, true, B, T, O);
  return { data: flattenInto(nested as unknown[], name, true, b, t, o), B: b, T: t, F: o };
}

function checkFlatShape(data: ArrayLike<number>, B: number, T: number, F: number): void {
  checkCount(B, "B", 0);
  checkCount(T, "T", 0);
  checkCount(F, "F", 0);
  if (data.length !== B * T * F) throw new Error(`data has ${data.length} numbers, expected ${B}×${T}×${F} = ${B * T * F}`);
}

/** Nested B×T×F arrays from a flat tensor (the inverse of `flatten3`). */
export function unflatten3(data: ArrayLike<number>, B: number, T: number, F: number): number[][][] {
  checkFlatShape(data, B, T, F);
  const out: number[][][] = new Array(B);
  for (let b = 0; b < B; b++) {
    const seq: number[][] = new Array(T);
    for (let t = 0; t < T; t++) {
      const base = (b * T + t) * F;
      const step = new Array<number>(F);
      for (let f = 0; f < F; f++) step[f] = data[base + f];
      seq[t] = step;
    }
    out[b] = seq;
  }
  return out;
}

/** Nested targets from a flat tensor: NaN entries become `null`, and a step of only NaN becomes `null`. */
export function unflattenTargets(data: ArrayLike<number>, B: number, T: number, O: number): ((number | null)[] | null)[][] {
  checkFlatShape(data, B, T, O);
  const out: ((number | null)[] | null)[][] = new Array(B);
  for (let b = 0; b < B; b++) {
    const seq: ((number | null)[] | null)[] = new Array(T);
    for (let t = 0; t < T; t++) {
      const base = (b * T + t) * O;
      const step = new Array<number | null>(O);
      let any = false;
      for (let o = 0; o < O; o++) {
        const v = data[base + o];
        if (Number.isNaN(v)) step[o] = null;
        else {
          step[o] = v;
          any = true;
        }
      }
      seq[t] = any ? step : null;
    }
    out[b] = seq;
  }
  return out;
}
