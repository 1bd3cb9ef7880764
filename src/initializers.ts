import { Random } from "./random";

/** Named initialisers. Each returns a row-major Float64Array of rows × cols. */
export type InitializerName = "glorotUniform" | "xavierUniform" | "orthogonal" | "identity" | "zeros";
export const INITIALIZERS: readonly InitializerName[] = ["glorotUniform", "xavierUniform", "orthogonal", "identity", "zeros"];

/** Glorot / Xavier uniform: U(-a, a) with a = sqrt(6 / (fanIn + fanOut)). */
export function glorotUniform(rows: number, cols: number, rng: Random): Float64Array {
  const limit = Math.sqrt(6 / (rows + cols));
  const w = new Float64Array(rows * cols);
  for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-limit, limit);
  return w;
}

/**
 * A random orthogonal matrix (Gram–Schmidt on a Gaussian matrix), times `gain`.
 * Orthogonal recurrent weights keep ‖W_hh h‖ = ‖h‖ at the start, which delays vanishing and
 * exploding gradients through time.
 */
export function orthogonal(n: number, rng: Random, gain = 1): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  for (let r = 0; r < n; r++) {
    // Two passes of modified Gram–Schmidt keep the rows orthogonal to float64 precision.
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < r; p++) {
        let dot = 0;
        for (let c = 0; c < n; c++) dot += q[r * n + c] * q[p * n + c];
        for (let c = 0; c < n; c++) q[r * n + c] -= dot * q[p * n + c];
      }
    }
    let norm = 0;
    for (let c = 0; c < n; c++) norm += q[r * n + c] * q[r * n + c];
    norm = Math.sqrt(norm) || 1;
    for (let c = 0; c < n; c++) q[r * n + c] = (gain * q[r * n + c]) / norm;
  }
  return q;
}

/** `scale` times the identity (the IRNN initialisation for relu layers). */
export function identity(n: number, scale = 1): Float64Array {
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) w[i * n + i] = scale;
  return w;
}

export function zeros(length: number): Float64Array {
  return new Float64Array(length);
}

/** Builds a rows × cols matrix with the named initialiser. */
export function initialize(name: InitializerName, rows: number, cols: number, rng: Random, gain = 1): Float64Array {
  switch (name) {
    case "glorotUniform":
    case "xavierUniform": {
      const w = glorotUniform(rows, cols, rng);
      if (gain !== 1) for (let i = 0; i < w.length; i++) w[i] *= gain;
      return w;
    }
    case "orthogonal":
      if (rows !== cols) throw new Error(`orthogonal initialiser needs a square matrix, got ${rows}×${cols}`);
      return orthogonal(rows, rng, gain);
    case "identity":
      if (rows !== cols) throw new Error(`identity initialiser needs a square matrix, got ${rows}×${cols}`);
      return identity(rows, gain);
    case "zeros":
      return zeros(rows * cols);
    default:
      throw new Error(`unknown initialiser "${String(name)}" (expected one of ${INITIALIZERS.join(", ")})`);
  }
}
