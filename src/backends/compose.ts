import type { Cell, CellForward, CellKernel, Params } from "../cells/cell";
import type { RnnLayer } from "../layer";
import { projectionKernel, ProjectionForward } from "../projection";
import { BackendName } from "../types";
import { scratch, Workspace } from "../workspace";
import { BackwardOptions, ForwardResult, LayerBackend } from "./backend";

/**
 * A backend is a choice of kernels: the layer's cell runs over time, then the projection (when
 * the layer has one) maps every h_t to y_t. This file is the one place that joins them, for
 * every cell and every backend, and checks the shapes and the weight rule of the contract.
 */

interface LayerCache {
  readonly backend: BackendName;
  readonly cell: CellForward;
  readonly projection: ProjectionForward | null;
  /** A fingerprint of the weights forward used (see `fingerprint`). */
  readonly weights: number;
  readonly ws: Workspace | null;
}

/**
 * A position-weighted sum of every parameter. Backward recomputes it: when the weights changed
 * after forward, the gradient would belong to neither set of weights (and the backends would
 * disagree on which one they read), so backward refuses instead. Its cost is one pass over the
 * parameters, about 1/(B·T) of the forward pass's work.
 */
function fingerprint(layer: RnnLayer): number {
  let s = 0;
  let k = 1;
  for (const w of layer.list()) {
    for (let i = 0; i < w.length; i++) s += w[i] * (k++ % 1021);
  }
  return s;
}

/** Time-major T×B×n copy of a batch-major B×T×n array (or back, with `toBatchMajor`). */
function transpose(src: Float64Array, B: number, T: number, n: number, toBatchMajor: boolean, out: Float64Array): Float64Array {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const bm = (b * T + t) * n;
      const tm = (t * B + b) * n;
      if (toBatchMajor) out.set(src.subarray(tm, tm + n), bm);
      else out.set(src.subarray(bm, bm + n), tm);
    }
  }
  return out;
}

/**
 * The kernel of `cell` for this backend: the fast one when the cell has none of its own for it
 * (a new cell need not come with a WebAssembly kernel on the day it arrives).
 */
function kernelOf(cell: Cell, backend: BackendName): CellKernel {
  const own = backend === "fast" || backend === "reference" || (cell.extraKernels?.includes(backend) ?? false);
  return cell.kernel(own ? backend : "fast");
}

function expectLength(backend: BackendName, what: string, actual: number, expected: number, shape: string): void {
  if (actual !== expected) throw new Error(`${backend} backend: ${what} has ${actual} entries, expected ${expected} (${shape})`);
}

export function composeBackend(name: BackendName): LayerBackend {
  const projection = projectionKernel(name);

  function forward(layer: RnnLayer, x: Float64Array, B: number, T: number, s0?: Float64Array | null, ws?: Workspace | null): ForwardResult {
    const { spec, cell } = layer;
    const I = layer.inputSize, H = layer.hiddenSize, S = layer.stateSize;
    expectLength(name, "x", x.length, B * T * I, `B×T×I = ${B}×${T}×${I}`);
    if (s0) expectLength(name, "the initial state", s0.length, B * S, `B×S = ${B}×${S}`);
    const weights = fingerprint(layer);
    const work = ws ?? null;
    const c = kernelOf(cell, name).forward(spec, layer.params, x, B, T, s0 ?? null, work);
    const p = layer.hasOutput ? projection.forward(spec, layer.params, c.h, B, T, work) : null;
    const y = p ? p.y : transpose(c.h, B, T, H, true, scratch(work, "layer.y", B * T * H, false));
    const cache: LayerCache = { backend: name, cell: c, projection: p, weights, ws: work };
    return { B, T, x, y, state: c.state, cache };
  }

  function backward(layer: RnnLayer, fwd: ForwardResult, dY: Float64Array, grads: Params, options: BackwardOptions = {}): Float64Array | null {
    const cache = fwd.cache as LayerCache | null;
    if (!cache || cache.backend !== name) throw new Error(`${name} backend: backward needs the result of the ${name} backend's forward`);
    const { B, T } = fwd;
    const O = layer.outputSize;
    expectLength(name, "dY", dY.length, B * T * O, `B×T×O = ${B}×${T}×${O}`);
    if (options.dhNormSq) expectLength(name, "dhNormSq", options.dhNormSq.length, T, `T = ${T}`);
    if (!Object.is(fingerprint(layer), cache.weights)) {
      throw new Error(`${name} backend: the layer's weights changed between forward and backward (the gradient would be of neither)`);
    }
    const { spec } = layer;
    const dH = cache.projection
      ? projection.backward(spec, layer.params, cache.projection, cache.cell.h, B, T, dY, grads, options.dYIsLogit ?? false, cache.ws)
      : transpose(dY, B, T, layer.hiddenSize, false, scratch(cache.ws, "layer.dH", dY.length, false));
    return kernelOf(layer.cell, name).backward(spec, layer.params, cache.cell, fwd.x, dH, grads, {
      truncate: options.truncate ?? 0,
      dhNormSq: options.dhNormSq,
      needInputGrad: options.needInputGrad !== false,
    }, cache.ws);
  }

  return { name, forward, backward };
}
