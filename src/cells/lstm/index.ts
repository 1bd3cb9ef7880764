import { initialize } from "../../initializers";
import { BackendName, HIDDEN_ACTIVATIONS, LayerSpec, RECURRENT_ACTIVATIONS } from "../../types";
import { Cell, CellKernel, ParamShape } from "../cell";
import { lstmFast, lstmStep, lstmStepScratch } from "./fast";
import { lstmWasm, lstmWindowRunner } from "./wasm";

/**
 * The LSTM cell as Keras and TensorFlow.js define it: gates i, f, c (the candidate), o, with
 * c_t = f ⊙ c_{t-1} + i ⊙ φ(…) and h_t = o ⊙ φ(c_t); φ is the layer's `activation`, the gates'
 * σ its `recurrentActivation`. The state it carries per sequence is [h, c] (2H numbers, h first).
 *
 * The parameters are the four gates' blocks stacked along the rows in that order, so that each
 * maps onto Keras's weights by one transpose: W_x (4H×I) = kernelᵀ, W_h (4H×H) =
 * recurrent_kernelᵀ, bias (4H) = bias.
 */

/** Which rows of the stacked parameters belong to the forget gate (the second block). */
const FORGET_BLOCK = 1;

export const lstmCell: Cell = {
  name: "lstm",
  fileType: "lstm",
  activations: HIDDEN_ACTIVATIONS,
  fileKeys: ["activation", "recurrentActivation"],

  shapes(spec: Readonly<LayerSpec>): ParamShape[] {
    const { inputSize: I, hiddenSize: H } = spec;
    return [
      { name: "W_x", rows: 4 * H, cols: I, vector: false, meaning: ["4 × hiddenSize: gates i, f, c, o", "input"] },
      { name: "W_h", rows: 4 * H, cols: H, vector: false, meaning: ["4 × hiddenSize: gates i, f, c, o", "hiddenSize"] },
      { name: "bias", rows: 4 * H, cols: 1, vector: true, meaning: ["4 × hiddenSize: gates i, f, c, o", ""] },
    ];
  },

  stateSize: (spec) => 2 * spec.hiddenSize,

  init(spec, rng, options) {
    const { inputSize: I, hiddenSize: H } = spec;
    const W_x = initialize(options.input ?? "glorotUniform", 4 * H, I, rng);
    // Each gate's H×H block is drawn orthogonal on its own (Keras draws the whole H×4H kernel
    // orthogonal, which leaves each block's singular values below 1): every gate's recurrent map
    // then starts norm-preserving, as Elman's W_hh does.
    const W_h = new Float64Array(4 * H * H);
    for (let k = 0; k < 4; k++) W_h.set(initialize(options.recurrent ?? "orthogonal", H, H, rng, options.recurrentGain ?? 1), k * H * H);
    // A forget gate that starts open (bias 1, Keras's unit_forget_bias) keeps c from being wiped
    // at every step before training has learnt what to keep.
    const bias = new Float64Array(4 * H);
    bias.fill(1, FORGET_BLOCK * H, (FORGET_BLOCK + 1) * H);
    return { W_x, W_h, bias };
  },

  extraKernels: ["wasm"],

  kernel(backend: BackendName): CellKernel {
    if (backend === "fast") return lstmFast;
    if (backend === "wasm") return lstmWasm;
    // Loaded on first use only: mathjs costs memory a runtime that never asks for it should not pay.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return (require("./reference") as typeof import("./reference")).lstmReference;
  },

  windowRunner: (spec, backend) => (backend === "wasm" ? lstmWindowRunner(spec) : null),

  stepScratch: lstmStepScratch,
  step: lstmStep,

  kerasWeights: () => [
    { keras: "kernel", params: ["W_x"], layout: "transpose", isBias: false },
    { keras: "recurrent_kernel", params: ["W_h"], layout: "transpose", isBias: false },
    { keras: "bias", params: ["bias"], layout: "rows", isBias: true },
  ],

  readFields(read) {
    const activation = read.oneOf("activation", HIDDEN_ACTIVATIONS);
    // Required in the file: Keras's default is sigmoid but TensorFlow.js's is hardSigmoid, so a
    // file that left it out would be ambiguous. In a spec, absent means sigmoid (kept implicit,
    // as the default cell is, so a spec reads back exactly as it was made).
    const recurrentActivation = read.oneOf("recurrentActivation", RECURRENT_ACTIVATIONS);
    return recurrentActivation === "sigmoid" ? { activation } : { activation, recurrentActivation };
  },
  writeFields: (spec) => ({ activation: spec.activation, recurrentActivation: spec.recurrentActivation ?? "sigmoid" }),
};
