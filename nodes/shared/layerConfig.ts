/**
 * The settings of an rnn layer node. Read once by the layer node at deploy, and again by the
 * trainer from the chain description a run carries, with the same rules and limits: a description
 * edited on its way cannot build a layer that the node's own dialog would refuse.
 */
import { CELL_NAMES, DEFAULT_CELL, HIDDEN_ACTIVATIONS, LayerSpec, OUTPUT_ACTIVATIONS, RnnLayer } from "../../src";
import type { CellName, InitializerName, WeightDraw } from "../../src";
import { boolField, enumField, intField } from "./runtime";

export interface LayerConfig {
  cell: CellName;
  hiddenSize: number;
  activation: LayerSpec["activation"];
  projection: boolean;
  outputSize: number;
  outputActivation: NonNullable<LayerSpec["outputActivation"]>;
  init: InitializerName;
  seed: number;
  stateful: boolean;
}

export function readLayerConfig(raw: Record<string, unknown>): LayerConfig {
  const projection = boolField(raw, "projection", true);
  return {
    // Flows saved before the setting existed have no cell: they are Elman layers, as they were.
    cell: enumField<CellName>(raw, "cell", DEFAULT_CELL, CELL_NAMES),
    hiddenSize: intField(raw, "hiddenSize", 32, 1, 1024),
    activation: enumField(raw, "activation", "tanh", HIDDEN_ACTIVATIONS),
    // On by default: a single layer, the first flow most users build, then emits one value per target.
    projection,
    // Checked only with a projection: a stale value in a flow that does not use it is harmless.
    outputSize: projection ? intField(raw, "outputSize", 1, 1, 1024) : 1,
    outputActivation: projection ? enumField(raw, "outputActivation", "linear", OUTPUT_ACTIVATIONS) : "linear",
    init: enumField<InitializerName>(raw, "init", "orthogonal", ["orthogonal", "identity", "glorotUniform"]),
    seed: intField(raw, "seed", 1, -2147483648, 2147483647),
    stateful: boolField(raw, "stateful", false),
  };
}

/** The settings that shape the weights (what the chain description carries). */
export function layerSettings(c: LayerConfig): Record<string, unknown> {
  const s: Record<string, unknown> = { hiddenSize: c.hiddenSize, activation: c.activation, projection: c.projection, init: c.init, seed: c.seed };
  // The default cell stays implicit, so an Elman layer's description reads as it always has.
  if (c.cell !== DEFAULT_CELL) s.cell = c.cell;
  if (c.projection) {
    s.outputSize = c.outputSize;
    s.outputActivation = c.outputActivation;
  }
  return s;
}

export function layerSpec(c: LayerConfig, inputSize: number): LayerSpec {
  const spec: LayerSpec = { inputSize, hiddenSize: c.hiddenSize, activation: c.activation };
  if (c.cell !== DEFAULT_CELL) spec.cell = c.cell;
  if (c.projection) {
    spec.outputSize = c.outputSize;
    spec.outputActivation = c.outputActivation;
  }
  return spec;
}

/** How the node's settings draw a fresh layer's weights (the same weights for the same seed). */
export function drawOptions(c: LayerConfig): WeightDraw["options"] {
  return { seed: c.seed, recurrent: c.init };
}

/** A fresh layer, initialised as the node's settings say. */
export function buildLayer(c: LayerConfig, inputSize: number): RnnLayer {
  return RnnLayer.create(layerSpec(c, inputSize), drawOptions(c));
}

/** Whether an existing layer has exactly these settings' shapes and activations for this input. */
export function layerFits(layer: RnnLayer, c: LayerConfig, inputSize: number): boolean {
  const s = layer.spec;
  return (s.cell ?? DEFAULT_CELL) === c.cell && s.inputSize === inputSize && s.hiddenSize === c.hiddenSize && s.activation === c.activation &&
    (s.outputSize !== undefined) === c.projection &&
    (!c.projection || (s.outputSize === c.outputSize && (s.outputActivation ?? "linear") === c.outputActivation));
}
