/**
 * From a run message's chain description to one model: the layers' settings checked again (the
 * description travelled through other nodes), the widths checked against the prepared series, and
 * the weights chosen.
 */
import type { NodeAPI } from "node-red";
import { Model, RnnLayer } from "../../src";
import type { PreparedRun, WeightDraw } from "../../src";
import { findApi, LayerNodeApi } from "./apis";
import { drawOptions, LayerConfig, layerFits, layerSettings, layerSpec, readLayerConfig } from "./layerConfig";
import type { RunRecord } from "./runs";
import { configMessage, Translate } from "./runtime";

export interface CompiledLayer {
  id: string;
  name: string;
  config: LayerConfig;
}

/** Where the weights of a compiled model came from. */
export type WeightsFrom = "file" | "last" | "layers" | "fresh";

export interface CompiledChain {
  model: Model;
  layers: CompiledLayer[];
  from: WeightsFrom;
  /** A resumed model file was there but does not fit this chain. */
  fileMismatch: boolean;
  /**
   * Fresh weights are not drawn here but where the model trains (src/session.ts): for a large
   * layer that is milliseconds Node-RED's thread would be held. Until then the model's are zeros.
   */
  draws: WeightDraw[];
}

export interface WeightCandidates {
  /** Read from the model file at deploy and not used by a run yet (Resume on). */
  file: Model | null;
  /** The trainer's last model, and the layer node ids of the chain it was trained for. */
  last: Model | null;
  lastIds: string[];
}

/**
 * Builds the model a run message describes. Weights, in this order: the model file's when it
 * fits (the first run after a deploy continues from it); the trainer's last model when it fits
 * the same chain; the layer nodes' current weights when they all fit; else a fresh
 * initialisation from each layer's seed and init, the same weights the layer node would build,
 * drawn where the model trains (`draws`).
 */
export function compileChain(RED: NodeAPI, record: RunRecord, data: PreparedRun, candidates: WeightCandidates, t: Translate): CompiledChain {
  if (record.layers.length === 0) throw new Error(t("errors.noLayer"));
  if (!record.loss) throw new Error(t("errors.noLoss"));
  const layers: CompiledLayer[] = record.layers.map((l) => {
    const layer = l.name || l.id;
    if (!findApi<LayerNodeApi>(RED, l.id, "rnn-layer")) throw new Error(t("errors.layerNotDeployed", { layer }));
    try {
      return { id: l.id, name: l.name, config: readLayerConfig(l.settings) };
    } catch (e) {
      throw new Error(t("errors.layerConfig", { layer, message: configMessage(e, t) }));
    }
  });
  const inputSize = data.inputSize;
  const widths: number[] = [];
  let width = inputSize;
  for (const l of layers) {
    widths.push(width);
    width = l.config.projection ? l.config.outputSize : l.config.hiddenSize;
  }
  const w = data.window;
  if (width !== data.outputSize) {
    const last = layers[layers.length - 1];
    const what = t(w.direct ? "errors.targetsDirect" : "errors.targets", { count: w.targets.length, targets: w.targets.join(", "), horizon: w.horizon });
    const fix = t(last.config.projection ? "errors.fixOutputSize" : "errors.fixProjection", { size: data.outputSize });
    throw new Error(t("errors.shape", { message: t("errors.lastLayerWidth", { layer: last.name || last.id, width, what, fix }) }));
  }
  const fits = (m: Model | null): m is Model => !!m && m.inputSize === inputSize && m.layers.length === layers.length && layers.every((l, k) => layerFits(m.layers[k], l.config, widths[k]));
  const live = layers.map((l) => findApi<LayerNodeApi>(RED, l.id, "rnn-layer")?.getLayer() ?? null);
  let chosen: RnnLayer[];
  let from: WeightsFrom;
  let draws: WeightDraw[] = [];
  if (fits(candidates.file)) {
    chosen = candidates.file.layers.map((l) => l.clone());
    from = "file";
  } else if (fits(candidates.last) && candidates.lastIds.join() === layers.map((l) => l.id).join()) {
    chosen = candidates.last.layers.map((l) => l.clone());
    from = "last";
  } else if (live.every((l, k) => l !== null && layerFits(l, layers[k].config, widths[k]))) {
    chosen = live.map((l) => (l as RnnLayer).clone());
    from = "layers";
  } else {
    chosen = layers.map((l, k) => RnnLayer.undrawn(layerSpec(l.config, widths[k])));
    draws = layers.map((l, k) => ({ layer: k, options: drawOptions(l.config) }));
    from = "fresh";
  }
  const model = new Model(inputSize, chosen, { scaler: data.scaler, window: data.window, transform: data.transform, intervals: null, training: null });
  return { model, layers, from, fileMismatch: candidates.file !== null && from !== "file", draws };
}

/**
 * The first layer node of a compiled chain that was redeployed with other settings (or removed),
 * said as the warning that ends its run: the model being trained is no longer the one the flow
 * shows. Null while the flow still shows the chain.
 */
export function changedLayer(RED: NodeAPI, layers: readonly CompiledLayer[], deployed: boolean, t: Translate): string | null {
  for (const l of layers) {
    const live = findApi<LayerNodeApi>(RED, l.id, "rnn-layer");
    // In the middle of a deploy a redeployed node is briefly absent: only a finished deploy tells.
    if (!live) {
      if (deployed) return t("warnings.layerRemoved", { layer: l.name || l.id });
      continue;
    }
    if (JSON.stringify(layerSettings(live.config)) !== JSON.stringify(layerSettings(l.config))) return t("warnings.layerChanged", { layer: live.name || l.id });
  }
  return null;
}
