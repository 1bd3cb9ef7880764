/**
 * What the nodes of a chain ask of each other outside the run message: the trainer pushes trained
 * weights to its layer nodes and checks that they are still the ones it compiled, and a predictor
 * reads a trainer's model. A node is found by id with RED.nodes.getNode and exposes one small
 * object under a known property.
 */
import type { NodeAPI } from "node-red";
import type { Model, RnnLayer } from "../../src";
import type { LayerConfig } from "./layerConfig";

export interface LayerNodeApi {
  readonly kind: "rnn-layer";
  /** The node's settings and label as deployed. */
  readonly config: LayerConfig;
  readonly name: string;
  /** The weights its forward pass uses (set by a trainer, or built at the first message). */
  getLayer(): RnnLayer | null;
  /** Takes a copy of trained weights; false, changing nothing, when they do not fit the settings. */
  setWeights(layer: RnnLayer): boolean;
  /** Forgets the weights: the next message builds a fresh initialisation. */
  resetWeights(): void;
}

export interface TrainerNodeApi {
  readonly kind: "rnn-trainer";
  /** The model as trained so far (or as loaded from its file); version changes on every update. */
  getModel(): { model: Model; version: number } | null;
}

type Api = LayerNodeApi | TrainerNodeApi;

/** The api object of node `id` if it is of the expected kind. */
export function findApi<T extends Api>(RED: NodeAPI, id: unknown, kind: T["kind"]): T | null {
  if (typeof id !== "string" || id.length === 0) return null;
  const node = RED.nodes.getNode(id) as unknown as { rnnApi?: Api } | null;
  const api = node?.rnnApi;
  return api && api.kind === kind ? (api as T) : null;
}
