import { HiddenActivation, OutputActivation, RecurrentActivation } from "./types";

/**
 * Activations applied in place, and their derivatives written in terms of the activation's
 * output (the backward pass keeps outputs, not pre-activations).
 */

export function activateInPlace(name: HiddenActivation | OutputActivation | RecurrentActivation, v: Float64Array, start: number, length: number): void {
  const end = start + length;
  switch (name) {
    case "hardSigmoid":
      for (let i = start; i < end; i++) { const a = 0.2 * v[i] + 0.5; v[i] = a < 0 ? 0 : a > 1 ? 1 : a; }
      return;
    case "tanh":
      for (let i = start; i < end; i++) v[i] = Math.tanh(v[i]);
      return;
    case "relu":
      for (let i = start; i < end; i++) if (v[i] < 0) v[i] = 0;
      return;
    case "sigmoid":
      for (let i = start; i < end; i++) v[i] = 1 / (1 + Math.exp(-v[i]));
      return;
    case "linear":
      return;
    case "softmax": {
      let max = -Infinity;
      for (let i = start; i < end; i++) if (v[i] > max) max = v[i];
      let sum = 0;
      for (let i = start; i < end; i++) {
        const e = Math.exp(v[i] - max);
        v[i] = e;
        sum += e;
      }
      for (let i = start; i < end; i++) v[i] /= sum;
      return;
    }
  }
}

/** d f / d a, given y = f(a), for element-wise activations. */
export function derivativeFromOutput(name: HiddenActivation | RecurrentActivation, y: number): number {
  switch (name) {
    case "hardSigmoid":
      // Flat where it clips; the output tells which side of the kinks the input was on.
      return y > 0 && y < 1 ? 0.2 : 0;
    case "tanh":
      return 1 - y * y;
    case "relu":
      return y > 0 ? 1 : 0;
    case "sigmoid":
      return y * (1 - y);
    default:
      return 1;
  }
}
