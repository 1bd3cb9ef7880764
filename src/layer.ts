import { Cell, cellOfFileType, DEFAULT_CELL, getCell, ParamShape, Params } from "./cells";
import { InitializerName } from "./initializers";
import { outputActivationOf, projectionInit, projectionShapes } from "./projection";
import { Random } from "./random";
import { CellName, HiddenActivation, LayerJSON, LayerSpec, OutputActivation } from "./types";

/** One layer's parameters by name (the cell's, then the projection's W_hy and b_y), row-major. */
export type LayerParams = Params;

export interface LayerInit {
  /** Initialiser of the input weights and of W_hy (default glorotUniform). */
  input?: InitializerName;
  /** Initialiser of the recurrent weights (default orthogonal; identity suits relu). */
  recurrent?: InitializerName;
  /** Gain applied by the recurrent initialiser (default 1). */
  recurrentGain?: number;
}

export interface LayerOptions extends LayerInit {
  seed?: number;
  rng?: Random;
}

/**
 * Weights to draw for layer `layer` of a model before its first minibatch, where the model trains.
 * Drawing is milliseconds of work for a large layer (an orthogonal H×H matrix is a QR
 * factorisation), which a thread serving an event loop should not spend; the seed makes the
 * weights the same wherever they are drawn. No `rng`: a draw crosses to worker threads.
 */
export interface WeightDraw {
  readonly layer: number;
  readonly options: Readonly<LayerInit & { seed?: number }>;
}

/** Throws unless every draw names one of `layers` layers, once, with options that can cross to a worker. */
export function checkDraws(draws: readonly WeightDraw[], layers: number): void {
  if (!Array.isArray(draws)) throw new Error("draws must be an array of { layer, options }");
  const seen = new Set<number>();
  for (const d of draws) {
    if (!d || !Number.isInteger(d.layer) || d.layer < 0 || d.layer >= layers) throw new Error(`a weight draw must name a layer from 0 to ${layers - 1}, got ${JSON.stringify(d && d.layer)}`);
    if (seen.has(d.layer)) throw new Error(`layer ${d.layer} has more than one weight draw`);
    seen.add(d.layer);
    if ("rng" in (d.options ?? {})) throw new Error("a weight draw takes a seed, not an rng (it may be drawn in another thread)");
  }
}

/** Fills the model's layers that `draws` names with their drawn weights (in place). */
export function drawWeights(layers: readonly RnnLayer[], draws: readonly WeightDraw[]): void {
  for (const d of draws) {
    const layer = layers[d.layer];
    if (!layer) throw new Error(`a weight draw names layer ${d.layer}, but the model has ${layers.length} layer(s)`);
    layer.draw(d.options);
  }
}

/** Every parameter of a layer spec in order: the cell's, then the projection's. */
export function layerShapes(spec: Readonly<LayerSpec>): ParamShape[] {
  return [...getCell(spec.cell).shapes(spec), ...projectionShapes(spec)];
}

/** Shape of each named weight for a spec: [rows, cols]. */
export function weightShapes(spec: LayerSpec): Record<string, [number, number]> {
  const shapes: Record<string, [number, number]> = {};
  for (const s of layerShapes(spec)) shapes[s.name] = [s.rows, s.cols];
  return shapes;
}

/**
 * A recurrent layer: a cell run over time (src/cells; Elman by default) and, when the spec has an
 * output size, the projection y_t = g(W_hy h_t + b_y). Without the projection the layer emits h_t,
 * so layers stack. The layer knows its parameters only by the names its cell and projection give.
 */
export class RnnLayer {
  readonly spec: Readonly<LayerSpec>;
  readonly cell: Cell;
  readonly params: LayerParams;
  private readonly shapeList: readonly ParamShape[];

  constructor(spec: LayerSpec, params: LayerParams) {
    this.spec = Object.freeze({ ...spec });
    this.cell = getCell(spec.cell);
    this.shapeList = layerShapes(this.spec);
    for (const s of this.shapeList) {
      const w = params[s.name];
      if (!(w instanceof Float64Array) || w.length !== s.rows * s.cols) {
        throw new Error(`${s.name}: expected ${s.rows}×${s.cols} values, got ${w instanceof Float64Array ? w.length : typeof w}`);
      }
    }
    this.params = params;
  }

  static create(spec: LayerSpec, options: LayerOptions = {}): RnnLayer {
    const rng = options.rng ?? new Random(options.seed ?? 1);
    // The cell draws first, then the projection: a seed gives the same weights as it always has.
    const params = { ...getCell(spec.cell).init(spec, rng, options), ...projectionInit(spec, rng, options.input) };
    return new RnnLayer(spec, params);
  }

  /**
   * A layer of `spec` whose weights are all zero until `draw` fills them: what a model is built
   * from when its weights are to be drawn where it trains (see `WeightDraw`), not on the thread
   * that builds it.
   */
  static undrawn(spec: LayerSpec): RnnLayer {
    const params: LayerParams = {};
    for (const s of layerShapes(spec)) params[s.name] = new Float64Array(s.rows * s.cols);
    return new RnnLayer(spec, params);
  }

  /**
   * Draws this layer's weights in place: the numbers `RnnLayer.create(spec, options)` gives, written
   * into the arrays the layer already has (which may be views on memory other threads read).
   */
  draw(options: LayerOptions): void {
    const fresh = RnnLayer.create({ ...this.spec }, options);
    for (const s of this.shapeList) this.params[s.name].set(fresh.params[s.name]);
  }

  get cellName(): CellName {
    return this.cell.name;
  }
  get inputSize(): number {
    return this.spec.inputSize;
  }
  get hiddenSize(): number {
    return this.spec.hiddenSize;
  }
  /** Numbers of state one sequence carries from step to step (h, and c for a cell that has it). */
  get stateSize(): number {
    return this.cell.stateSize(this.spec);
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
    return outputActivationOf(this.spec);
  }

  /** Every parameter's name and shape, in the fixed order optimizers and gradients use. */
  shapes(): readonly ParamShape[] {
    return this.shapeList;
  }

  /** Parameter names in that order. */
  names(): string[] {
    return this.shapeList.map((s) => s.name);
  }

  /** The parameter arrays in `names()` order. */
  list(): Float64Array[] {
    return this.shapeList.map((s) => this.params[s.name]);
  }

  /** Zero-filled arrays with the shapes of this layer's parameters (for gradients). */
  zeros(): LayerParams {
    const out: LayerParams = {};
    for (const s of this.shapeList) out[s.name] = new Float64Array(s.rows * s.cols);
    return out;
  }

  clone(): RnnLayer {
    const out: LayerParams = {};
    for (const s of this.shapeList) out[s.name] = this.params[s.name].slice();
    return new RnnLayer({ ...this.spec }, out);
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
    const json: LayerJSON = {
      type: this.cell.fileType,
      hiddenSize: this.spec.hiddenSize,
      ...this.cell.writeFields(this.spec),
    } as LayerJSON;
    if (this.hasOutput) {
      json.outputSize = this.spec.outputSize;
      json.outputActivation = this.outputActivation;
    }
    json.weights = paramsToNested(this.shapeList, this.params);
    return json;
  }

  /** Builds a layer from an already validated model-file entry (src/modelFile.ts). */
  static fromJSON(json: LayerJSON, inputSize: number): RnnLayer {
    const cell = cellOfFileType(json.type);
    if (!cell) throw new Error(`unknown layer type ${JSON.stringify(json.type)}`);
    // The entry is validated already, so the cell reads its own fields (activation; the gated
    // cells' recurrentActivation; GRU's resetAfter) back as they stand; they decide the shapes below.
    const fields = json as unknown as Record<string, unknown>;
    const own = cell.readFields({ oneOf: <T extends string>(key: string) => fields[key] as T, flag: (key) => fields[key] as boolean | undefined });
    const spec: LayerSpec = { inputSize, hiddenSize: json.hiddenSize, activation: json.activation, ...own };
    // The default cell is left implicit, so an Elman spec reads as it always has.
    if (cell.name !== DEFAULT_CELL) spec.cell = cell.name;
    if (json.outputSize !== undefined) {
      spec.outputSize = json.outputSize;
      spec.outputActivation = json.outputActivation ?? "linear";
    }
    const params: LayerParams = {};
    for (const s of layerShapes(spec)) {
      const w = json.weights[s.name];
      params[s.name] = Float64Array.from(s.vector ? (w as number[]) : (w as number[][]).flat());
    }
    return new RnnLayer(spec, params);
  }
}

/** Flat parameters (or gradients) as the model file's nested arrays: vectors flat, matrices as rows. */
export function paramsToNested(shapes: readonly ParamShape[], p: LayerParams): Record<string, number[] | number[][]> {
  const out: Record<string, number[] | number[][]> = {};
  for (const s of shapes) out[s.name] = s.vector ? Array.from(p[s.name]) : toRows(p[s.name], s.rows, s.cols);
  return out;
}

export function toRows(flat: Float64Array, rows: number, cols: number): number[][] {
  const out: number[][] = new Array(rows);
  for (let r = 0; r < rows; r++) out[r] = Array.from(flat.subarray(r * cols, (r + 1) * cols));
  return out;
}
