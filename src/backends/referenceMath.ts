import type { Matrix } from "mathjs";
import { toRows } from "../layer";
import { math, toMatrix } from "../math";
import { HiddenActivation, OutputActivation, RecurrentActivation } from "../types";

/**
 * What the reference kernels (each cell's and the projection's) share: moving between the flat
 * arrays of the backend contract and mathjs columns, and the activations written as mathjs maps.
 */

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

export function hiddenActivation(f: HiddenActivation, a: Matrix): Matrix {
  switch (f) {
    case "tanh":
      return math.map(a, (v: number) => Math.tanh(v));
    case "relu":
      return math.map(a, (v: number) => (v < 0 ? 0 : v));
    case "sigmoid":
      return math.map(a, sigmoid);
    case "linear":
      return a;
  }
}

/** A gate's activation σ(a) (sigmoid, or TensorFlow.js's hard sigmoid clip(0.2a + 0.5, 0, 1)). */
export function gateActivation(r: RecurrentActivation, a: Matrix): Matrix {
  if (r === "sigmoid") return math.map(a, sigmoid);
  return math.map(a, (v: number) => Math.min(1, Math.max(0, 0.2 * v + 0.5)));
}

/** σ'(a) in terms of the gate's value g = σ(a). */
export function gateDerivative(r: RecurrentActivation, g: Matrix): Matrix {
  if (r === "sigmoid") return math.map(g, (v: number) => v * (1 - v));
  return math.map(g, (v: number) => (v > 0 && v < 1 ? 0.2 : 0));
}

/** f'(a), written in terms of h = f(a), which is what the caches keep. */
export function hiddenDerivative(f: HiddenActivation, h: Matrix): Matrix {
  switch (f) {
    case "tanh":
      return math.map(h, (v: number) => 1 - v * v);
    case "relu":
      return math.map(h, (v: number) => (v > 0 ? 1 : 0));
    case "sigmoid":
      return math.map(h, (v: number) => v * (1 - v));
    case "linear":
      return math.map(h, () => 1);
  }
}

export function outputActivation(g: OutputActivation, z: Matrix): Matrix {
  switch (g) {
    case "linear":
      return z;
    case "sigmoid":
      return math.map(z, sigmoid);
    case "softmax": {
      // Shifting by the largest logit changes nothing mathematically but keeps exp from overflowing.
      const zMax = math.max(z) as number;
      const e = math.map(z, (v: number) => Math.exp(v - zMax));
      return math.dotDivide(e, math.sum(e) as number);
    }
  }
}

/** dz = g'(z)ᵀ dy for y = g(z), written in terms of y. */
export function outputBackward(g: OutputActivation, y: Matrix, dy: Matrix): Matrix {
  switch (g) {
    case "linear":
      return dy;
    case "sigmoid":
      return math.dotMultiply(dy, math.map(y, (v: number) => v * (1 - v)));
    case "softmax":
      // The softmax Jacobian is diag(y) − y yᵀ, so its product with dy needs only the scalar dy·y.
      return math.dotMultiply(y, math.subtract(dy, math.dot(dy, y)) as Matrix);
  }
}

/** Entries [offset, offset + n) of a flat array, as an n×1 column. */
export function column(flat: Float64Array, offset: number, n: number): Matrix {
  return toMatrix(Array.from(flat.subarray(offset, offset + n), (v) => [v]));
}

/** Writes an n×1 column into flat[offset …]. */
export function writeColumn(c: Matrix, flat: Float64Array, offset: number): void {
  (c.valueOf() as number[][]).forEach((row, i) => {
    flat[offset + i] = row[0];
  });
}

/** flat += m, with m read row-major (the layout of the layers' parameters). */
export function addInto(flat: Float64Array, m: Matrix): void {
  (m.valueOf() as number[][]).flat().forEach((v, i) => {
    flat[i] += v;
  });
}

export function expectLength(what: string, actual: number, expected: number, shape: string): void {
  if (actual !== expected) {
    throw new Error(`reference backend: ${what} has ${actual} entries, expected ${expected} (${shape})`);
  }
}

/** A rows×cols parameter as a mathjs matrix, its length checked first. */
export function matrixOf(flat: Float64Array, name: string, rows: number, cols: number): Matrix {
  expectLength(name, flat.length, rows * cols, `${rows}×${cols}`);
  return toMatrix(toRows(flat, rows, cols));
}
