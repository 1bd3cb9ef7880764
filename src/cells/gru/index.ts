import { initialize } from "../../initializers";
import { BackendName, HIDDEN_ACTIVATIONS, LayerSpec, RECURRENT_ACTIVATIONS } from "../../types";
import { Cell, CellKernel, ParamShape } from "../cell";
import { gruFast, gruStep } from "./fast";
import { gruWasm, gruWindowRunner } from "./wasm";
import { gateActivationOf, resetsAfter } from "./settings";

/**
 * The gated recurrent unit as Keras and TensorFlow.js define it, gates in their order z (update),
 * r (reset), h (candidate):
 *
 *   z_t = σ(W_xz x_t + W_hz h_{t-1} + b_z)      r_t = σ(W_xr x_t + W_hr h_{t-1} + b_r)
 *   reset before:  h̃_t = φ(W_xh x_t + W_hh (r_t ⊙ h_{t-1}) + b_h)
 *   reset after:   h̃_t = φ(W_xh x_t + b_xh + r_t ⊙ (W_hh h_{t-1} + b_hh))
 *   h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t          (z keeps the old state, as in Keras)
 *
 * φ is the layer's `activation`, σ its `recurrentActivation`. The three gates' weights are fused
 * and stacked along the rows: W_x (3H×I) is the transpose of Keras's `kernel`, W_h (3H×H) of its
 * `recurrent_kernel`, b its input bias and, with the reset after the product, recurrentBias its recurrent
 * bias (Keras keeps both as one 2×3H `bias`). The state it carries is h alone. The form with the
 * reset before the product is the default (`resetAfter` false; ./settings.ts says why).
 */

export const gruCell: Cell = {
  name: "gru",
  fileType: "gru",
  activations: HIDDEN_ACTIVATIONS,
  fileKeys: ["activation", "recurrentActivation", "resetAfter"],
  variants: [{ resetAfter: true }, { recurrentActivation: "hardSigmoid" }],

  shapes(spec: Readonly<LayerSpec>): ParamShape[] {
    const { inputSize: I, hiddenSize: H } = spec;
    const shapes: ParamShape[] = [
      { name: "W_x", rows: 3 * H, cols: I, vector: false, meaning: ["3 × hiddenSize: gates z, r, h", "input"] },
      { name: "W_h", rows: 3 * H, cols: H, vector: false, meaning: ["3 × hiddenSize: gates z, r, h", "hiddenSize"] },
      { name: "bias", rows: 3 * H, cols: 1, vector: true, meaning: ["3 × hiddenSize: gates z, r, h", ""] },
    ];
    if (resetsAfter(spec)) shapes.push({ name: "recurrentBias", rows: 3 * H, cols: 1, vector: true, meaning: ["3 × hiddenSize: gates z, r, h", ""] });
    return shapes;
  },

  stateSize: (spec) => spec.hiddenSize,

  init(spec, rng, options) {
    const { inputSize: I, hiddenSize: H } = spec;
    const W_x = initialize(options.input ?? "glorotUniform", 3 * H, I, rng);
    // Orthogonal per gate block (z, then r, then h): each gate's recurrent map then keeps the
    // norm of h_{t-1} at the start, which is what the initialiser is for; one orthogonal 3H×H
    // matrix would only make the columns orthonormal over the three blocks together.
    const W_h = new Float64Array(3 * H * H);
    for (let g = 0; g < 3; g++) W_h.set(initialize(options.recurrent ?? "orthogonal", H, H, rng, options.recurrentGain ?? 1), g * H * H);
    const params = { W_x, W_h, bias: new Float64Array(3 * H) };
    return resetsAfter(spec) ? { ...params, recurrentBias: new Float64Array(3 * H) } : params;
  },

  extraKernels: ["wasm"],

  kernel(backend: BackendName): CellKernel {
    if (backend === "fast") return gruFast;
    if (backend === "wasm") return gruWasm;
    // Loaded on first use only: mathjs costs memory a runtime that never asks for it should not pay.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return (require("./reference") as typeof import("./reference")).gruReference;
  },

  windowRunner: (spec, backend) => (backend === "wasm" ? gruWindowRunner(spec) : null),

  // The gates of one step (3H) and r ⊙ h_{t-1} or W_hh h_{t-1} + b_hh (H).
  stepScratch: (spec) => 4 * spec.hiddenSize,
  step: gruStep,

  // Keras keeps the two biases of the reset-after form as the rows of one 2 × 3H bias.
  kerasWeights: (spec) => [
    { keras: "kernel", params: ["W_x"], layout: "transpose", isBias: false },
    { keras: "recurrent_kernel", params: ["W_h"], layout: "transpose", isBias: false },
    { keras: "bias", params: resetsAfter(spec) ? ["bias", "recurrentBias"] : ["bias"], layout: "rows", isBias: true },
  ],

  // The file always states both settings; in memory a default is left implicit, so that a spec
  // read back from a file equals the one the model was created with.
  readFields(read) {
    const fields: Partial<LayerSpec> = { activation: read.oneOf("activation", HIDDEN_ACTIVATIONS) };
    const recurrentActivation = read.oneOf("recurrentActivation", RECURRENT_ACTIVATIONS);
    if (recurrentActivation !== "sigmoid") fields.recurrentActivation = recurrentActivation;
    if (read.flag("resetAfter") === true) fields.resetAfter = true;
    return fields;
  },
  writeFields: (spec) => ({ activation: spec.activation, recurrentActivation: gateActivationOf(spec), resetAfter: resetsAfter(spec) }),
};
