import { initialize } from "../../initializers";
import { BackendName, HIDDEN_ACTIVATIONS, LayerSpec } from "../../types";
import { Cell, CellKernel, ParamShape } from "../cell";
import { elmanFast, elmanStep } from "./fast";
import { elmanWasm, elmanWindowRunner } from "./wasm";

/**
 * The Elman cell, h_t = f(W_xh x_t + W_hh h_{t-1} + b_h): the state it carries is h alone.
 * Its parameter names are the equations' (rows are output units: W_xh is H×I).
 */
export const elmanCell: Cell = {
  name: "elman",
  fileType: "rnn",
  activations: HIDDEN_ACTIVATIONS,
  fileKeys: ["activation"],

  shapes(spec: Readonly<LayerSpec>): ParamShape[] {
    const { inputSize: I, hiddenSize: H } = spec;
    return [
      { name: "W_xh", rows: H, cols: I, vector: false, meaning: ["hiddenSize", "input"] },
      { name: "W_hh", rows: H, cols: H, vector: false, meaning: ["hiddenSize", "hiddenSize"] },
      { name: "b_h", rows: H, cols: 1, vector: true, meaning: ["hiddenSize", ""] },
    ];
  },

  stateSize: (spec) => spec.hiddenSize,

  init(spec, rng, options) {
    const { inputSize: I, hiddenSize: H } = spec;
    // relu keeps what identity recurrence carries; orthogonal suits the saturating activations.
    const recurrent = options.recurrent ?? (spec.activation === "relu" ? "identity" : "orthogonal");
    return {
      W_xh: initialize(options.input ?? "glorotUniform", H, I, rng),
      W_hh: initialize(recurrent, H, H, rng, options.recurrentGain ?? 1),
      b_h: new Float64Array(H),
    };
  },

  extraKernels: ["wasm"],

  kernel(backend: BackendName): CellKernel {
    if (backend === "fast") return elmanFast;
    if (backend === "wasm") return elmanWasm;
    // Loaded on first use only: mathjs costs memory a runtime that never asks for it should not pay.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return (require("./reference") as typeof import("./reference")).elmanReference;
  },

  windowRunner: (spec, backend) => (backend === "wasm" ? elmanWindowRunner(spec) : null),

  stepScratch: () => 0,
  step: elmanStep,

  // SimpleRNN's weights.
  kerasWeights: () => [
    { keras: "kernel", params: ["W_xh"], layout: "transpose", isBias: false },
    { keras: "recurrent_kernel", params: ["W_hh"], layout: "transpose", isBias: false },
    { keras: "bias", params: ["b_h"], layout: "rows", isBias: true },
  ],

  readFields: (read) => ({ activation: read.oneOf("activation", HIDDEN_ACTIVATIONS) }),
  writeFields: (spec) => ({ activation: spec.activation }),
};
