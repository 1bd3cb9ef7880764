import type { LayerSpec, RecurrentActivation } from "../../types";

/** The GRU's two settings besides its activation, with their defaults in one place. */

/** The gates' activation σ: sigmoid unless the spec says otherwise (as in Keras). */
export function gateActivationOf(spec: Readonly<LayerSpec>): RecurrentActivation {
  return spec.recurrentActivation ?? "sigmoid";
}

/**
 * Whether the reset gate applies after the recurrent product. The default is the form before it
 * because it is the only one TensorFlow.js implements (and Keras 2's default), so a model moves
 * between the two without a setting; Keras 3 made the other form its default, and a model from
 * there says so with `resetAfter: true`.
 */
export function resetsAfter(spec: Readonly<LayerSpec>): boolean {
  return spec.resetAfter === true;
}
