import { layerShapes, LayerParams, RnnLayer } from "../layer";
import { Model } from "../model";
import { LayerSpec } from "../types";

/**
 * Models whose parameters live in one SharedArrayBuffer, so that every training thread reads the
 * weights the leader has just updated without any copy.
 */

/** Parameter names of a layer spec, in `RnnLayer.names()` order, with their lengths. */
function layout(spec: LayerSpec): [string, number][] {
  return layerShapes(spec).map((s) => [s.name, s.rows * s.cols]);
}

/** Number of parameters of a stack of layers: the length of the shared weight array. */
export function parameterCount(specs: readonly LayerSpec[]): number {
  let n = 0;
  for (const spec of specs) for (const [, len] of layout(spec)) n += len;
  return n;
}

/** A model whose parameter arrays are views into `weights`, laid out in `parameters()` order. */
export function modelOverSharedWeights(inputSize: number, specs: readonly LayerSpec[], weights: SharedArrayBuffer): Model {
  const all = new Float64Array(weights);
  if (all.length !== parameterCount(specs)) throw new Error(`shared weights hold ${all.length} numbers, the layers need ${parameterCount(specs)}`);
  let offset = 0;
  const layers = specs.map((spec) => {
    const params: LayerParams = {};
    for (const [name, len] of layout(spec)) {
      params[name] = all.subarray(offset, offset + len);
      offset += len;
    }
    return new RnnLayer(spec, params);
  });
  return new Model(inputSize, layers);
}

/** Copies every parameter of `model` into the shared array, or back (same layout). */
export function copyParameters(model: Model, weights: SharedArrayBuffer, direction: "toShared" | "fromShared"): void {
  const all = new Float64Array(weights);
  let offset = 0;
  for (const p of model.parameters()) {
    if (direction === "toShared") all.set(p, offset);
    else p.set(all.subarray(offset, offset + p.length));
    offset += p.length;
  }
}
