/**
 * How the nodes of one chain reach each other. A node is found by id with RED.nodes.getNode and
 * exposes one small object under a known property; heavy state (activations, gradients) never
 * travels in messages, only the keys to find it.
 */
import type { NodeAPI } from "node-red";
import type { LayerJSON, LayerParams, Model, RnnLayer, SeriesHistory } from "../../src";

export interface LayerBackwardResult {
  dX: Float64Array | null;
  grads: LayerParams;
}

export interface LayerNodeApi {
  readonly kind: "rnn-layer";
  getLayer(): RnnLayer | null;
  /** BPTT through the activations recorded under `key` (consumed: a key works once). */
  backward(key: string, dY: Float64Array, options: { truncate: number; dYIsLogit: boolean; needInputGrad: boolean; dhNormSq?: Float64Array }): LayerBackwardResult;
  /** Whether a saved layer has this node's sizes and activations (nothing is changed). */
  fits(json: LayerJSON): boolean;
  /** Replaces the weights (resume from a file); false, changing nothing, when the saved layer does not fit. */
  loadWeights(json: LayerJSON, inputSize: number): boolean;
  /** Forgets the weights: the next message builds a fresh initialisation. */
  resetWeights(): void;
  /** Drops every cached activation of a run. */
  releaseRun(runId: string): void;
}

export interface LossRecord {
  runId: string;
  loss: number;
  count: number;
  /** ∂L/∂y (training batches only). */
  dY: Float64Array | null;
  dYIsLogit: boolean;
}

export interface LossNodeApi {
  readonly kind: "rnn-loss";
  take(key: string): LossRecord | undefined;
  releaseRun(runId: string): void;
}

export interface SequenceNodeApi {
  readonly kind: "rnn-sequence";
  /** The trainer has used the batch `token`; `stop` ends the run. False if not the batch in flight. */
  ack(runId: string, token: string, options: { stop: boolean; trainer: string; earlyStop?: boolean }): boolean;
  /** Ends a run now (trainer's "stop" command). */
  stopRun(runId: string): void;
  /** Whether `token` of run `runId` is the batch this node is waiting to have acknowledged. */
  inFlight(runId: string, token: string): boolean;
  /** Whether `runId` is a run of this node that has ended (its last batch may still be on its way). */
  hasEnded(runId: string): boolean;
  /** The run's rows in real units (for calibrating intervals on its validation part); null once it ended. */
  history(runId: string): SeriesHistory | null;
}

export interface TrainerNodeApi {
  readonly kind: "rnn-trainer";
  /** The model as trained so far (or as loaded from its file); version changes on every update. */
  getModel(): { model: Model; version: number } | null;
  /** The sequence ended the run without the trainer (its own "stop", "reset" or a timeout). */
  runEnded(runId: string, reason: string): void;
}

type Api = LayerNodeApi | LossNodeApi | SequenceNodeApi | TrainerNodeApi;

/** The api object of node `id` if it is of the expected kind. */
export function findApi<T extends Api>(RED: NodeAPI, id: unknown, kind: T["kind"]): T | null {
  if (typeof id !== "string" || id.length === 0) return null;
  const node = RED.nodes.getNode(id) as unknown as { rnnApi?: Api } | null;
  const api = node?.rnnApi;
  return api && api.kind === kind ? (api as T) : null;
}
