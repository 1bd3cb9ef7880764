/**
 * Minibatches: which windows go together. (Converting nested arrays to the kernels' flat
 * Float64Arrays is `src/tensors.ts`.)
 */
import { Random } from "../random";
import { MAX_TENSOR_VALUES } from "../tensors";

/** Largest tensor (in numbers) that a message or a dataset may make us allocate. */
export const MAX_TENSOR_ELEMENTS = MAX_TENSOR_VALUES;

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
