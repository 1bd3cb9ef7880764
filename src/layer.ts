import { initialize, InitializerName } from "./initializers";
import { Random } from "./random";
import { HiddenActivation, LayerJSON, LayerSpec, OutputActivation, WeightName } from "./types";

/** One layer's parameters, row-major Float64Arrays; rows are output units (W_xh is H×I). */
export interface LayerParams {
  W_xh: Float64Array;
  W_hh: Float64Array;
  b_h: Float64Array;
  W_hy: Float64Array | null;
  b_y: Float64Array | null;
}

export interface LayerInit {
  /** Initialiser of W_xh and W_hy (default glorotUniform). */
  input?: InitializerName;
  /** Initialiser of W_hh (default orthogonal; identity suits relu). */
  recurrent?: InitializerName;
  /** Gain applied by the recurrent initialiser (default 1). */
  recurrentGain?: number;
}

export interface LayerOptions extends LayerInit {
  seed?: number;
  rng?: Random;
}

/** Shape of each named weight for a spec: [rows, cols] (cols = 1 marks a vector). */
export function weightShapes(spec: LayerSpec): Partial<Record<WeightName, [number, number]>> {
  const { inputSize: I, hiddenSize: H } = spec;
  const shapes: Partial<Record<WeightName, [number, number]>> = { W_xh: [H, I], W_hh: [H, H], b_h: [H, 1] };
  if (spec.outputSize !== undefined) {
    shapes.W_hy = [spec.outputSize, H];
    shapes.b_y = [spec.outputSize, 1];
  }
  return shapes;
}

/**
 * An Elman layer: h_t = f(W_xh x_t + W_hh h_{t-1} + b_h), and, with an output projection,
 * y_t = g(W_hy h_t + b_y). Without the projection the layer emits h_t, so layers stack.
 */
export class RnnLayer {
  readonly spec: Readonly<LayerSpec>;
  readonly params: LayerParams;

  constructor(spec: LayerSpec, params: LayerParams) {
    this.spec = Object.freeze({ ...spec });
    this.params = params;
  }

  static create(spec: LayerSpec, options: LayerOptions = {}): RnnLayer {
    const rng = options.rng ?? new Random(options.seed ?? 1);
    const { inputSize: I, hiddenSize: H } = spec;
    const recurrent = options.recurrent ?? (spec.activation === "relu" ? "identity" : "orthogonal");
    const input = options.input ?? "glorotUniform";
    const params: LayerParams = {
      W_xh: initialize(input, H, I, rng),
      W_hh: initialize(recurrent, H, H, rng, options.recurrentGain ?? 1),
      b_h: new Float64Array(H),
      W_hy: null,
      b_y: null,
    };
    if (spec.outputSize !== undefined) {
      params.W_hy = initialize(input, spec.outputSize, H, rng);
      params.b_y = new Float64Array(spec.outputSize);
    }
    return new RnnLayer(spec, params);
  }

  get inputSize(): number {
    return this.spec.inputSize;
  }
  get hiddenSize(): number {
    return this.spec.hiddenSize;
  }
  get hasOutput(): boolean {
    return this.spec.outputSize !== undefined;
  }
  /** Width of what the layer emits: the output size, or the hidden size without a projection. */
  get outputSize(): number {
    return this.spec.outputSize ?? this.spec.hiddenSize;
  }
  get activation(): HiddenActivation {
    return this.spec.activation;
  }
  get outputActivation(): OutputActivation {
    return this.spec.outputActivation ?? "linear";
  }

  /** Parameter names in a fixed order (the order optimizers and gradients use). */
  names(): WeightName[] {
    return this.hasOutput ? ["W_xh", "W_hh", "b_h", "W_hy", "b_y"] : ["W_xh", "W_hh", "b_h"];
  }

  /** The parameter arrays in `names()` order. */
  list(): Float64Array[] {
    return this.names().map((n) => this.params[n] as Float64Array);
  }

  /** Zero-filled arrays with the shapes of this layer's parameters (for gradients). */
  zeros(): LayerParams {
    const p = this.params;
    return {
      W_xh: new Float64Array(p.W_xh.length),
      W_hh: new Float64Array(p.W_hh.length),
      b_h: new Float64Array(p.b_h.length),
      W_hy: p.W_hy ? new Float64Array(p.W_hy.length) : null,
      b_y: p.b_y ? new Float64Array(p.b_y.length) : null,
    };
  }

  clone(): RnnLayer {
    const p = this.params;
    return new RnnLayer({ ...this.spec }, {
      W_xh: p.W_xh.slice(),
      W_hh: p.W_hh.slice(),
      b_h: p.b_h.slice(),
      W_hy: p.W_hy ? p.W_hy.slice() : null,
      b_y: p.b_y ? p.b_y.slice() : null,
    });
  }

  /** Copies another layer's weights into this one (same spec). */
  copyWeightsFrom(other: RnnLayer): void {
    const src = other.list();
    this.list().forEach((dst, i) => dst.set(src[i]));
  }

  /** Sum of squares of all weights, as a norm: a one-number summary for the status. */
  weightNorm(): number {
    let s = 0;
    for (const w of this.list()) for (let i = 0; i < w.length; i++) s += w[i] * w[i];
    return Math.sqrt(s);
  }

  toJSON(): LayerJSON {
    const shapes = weightShapes(this.spec);
    const weights: Record<string, number[] | number[][]> = {};
    for (const name of this.names()) {
      const [rows, cols] = shapes[name] as [number, number];
      weights[name] = name.startsWith("b_") ? Array.from(this.params[name] as Float64Array) : toRows(this.params[name] as Float64Array, rows, cols);
    }
    const json: LayerJSON = {
      type: "rnn",
      hiddenSize: this.spec.hiddenSize,
      activation: this.spec.activation,
      weights: weights as unknown as LayerJSON["weights"],
    };
    if (this.hasOutput) {
      json.outputSize = this.spec.outputSize;
      json.outputActivation = this.outputActivation;
    }
    return json;
  }

  /** Builds a layer from an already validated model-file entry. */
  static fromJSON(json: LayerJSON, inputSize: number): RnnLayer {
    const spec: LayerSpec = { inputSize, hiddenSize: json.hiddenSize, activation: json.activation };
    if (json.outputSize !== undefined) {
      spec.outputSize = json.outputSize;
      spec.outputActivation = json.outputActivation ?? "linear";
    }
    const w = json.weights;
    return new RnnLayer(spec, {
      W_xh: Float64Array.from(w.W_xh.flat()),
      W_hh: Float64Array.from(w.W_hh.flat()),
      b_h: Float64Array.from(w.b_h),
      W_hy: w.W_hy ? Float64Array.from(w.W_hy.flat()) : null,
      b_y: w.b_y ? Float64Array.from(w.b_y) : null,
    });
  }
}

export function toRows(flat: Float64Array, rows: number, cols: number): number[][] {
  const out: number[][] = new Array(rows);
  for (let r = 0; r < rows; r++) out[r] = Array.from(flat.subarray(r * cols, (r + 1) * cols));
  return out;
}
