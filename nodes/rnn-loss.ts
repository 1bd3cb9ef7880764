/**
 * rnn loss: compares msg.payload with msg.target. Sets msg.loss; on training batches it keeps
 * ∂L/∂y for the trainer; on validation batches it also measures mse, rmse, mae and mape in the
 * sensor's own units (undoing the sequence node's scaling).
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { computeLoss, computeMetrics, LOSSES, LossName, OutputActivation, packInputs, packTargets } from "../src";
import { findApi, LayerNodeApi, LossNodeApi, LossRecord } from "./shared/apis";
import {
  announcePackageDir,
  BoundedMap,
  Done,
  enumField,
  fail,
  fmt,
  isRunInfo,
  nestingDepth,
  numField,
  Send,
  setupNode,
} from "./shared/runtime";

const MAX_CACHED_BATCHES = 8;

export = function register(RED: NodeAPI): void {
  announcePackageDir();
  function RnnLossNode(this: Node, def: NodeDef): void {
    const node = this;
    const setup = setupNode(RED, node, def, "rnn-loss", (raw: Record<string, unknown>) => {
      const loss = enumField(raw, "loss", "mse", LOSSES);
      return { loss, delta: loss === "huber" ? numField(raw, "delta", 1, 0, 1e6, { exclusiveMin: true }) : 1 };
    });
    if (!setup) return;
    const { t, status } = setup;
    const { loss, delta } = setup.config;

    const records = new BoundedMap<string, LossRecord>(MAX_CACHED_BATCHES);
    const api: LossNodeApi = {
      kind: "rnn-loss",
      take: (key) => records.take(key),
      releaseRun: (runId) => records.deleteWhere((r) => r.runId === runId),
    };
    (node as unknown as { rnnApi: LossNodeApi }).rnnApi = api;
    node.status({ fill: "grey", shape: "ring", text: loss });

    /** The output activation of the last layer the batch passed, when known (cross-entropy needs it). */
    function outputActivation(rnnLayers: { id: string }[] | undefined, O: number): OutputActivation {
      const last = rnnLayers && rnnLayers.length ? findApi<LayerNodeApi>(RED, rnnLayers[rnnLayers.length - 1].id, "rnn-layer") : null;
      const layer = last?.getLayer();
      if (layer) return layer.outputActivation;
      return loss === "crossentropy" ? (O > 1 ? "softmax" : "sigmoid") : "linear";
    }

    node.on("input", (msg: NodeMessageInFlow & { target?: unknown; rnn?: unknown; loss?: number; metrics?: unknown }, send: Send, done: Done) => {
      try {
        if (msg.payload === undefined) throw new Error(t("errors.noPayload"));
        if (msg.target === undefined) throw new Error(t("errors.noTarget"));
        const depth = nestingDepth(msg.payload);
        if (depth === 0) throw new Error(t("errors.badPayload", { message: "expected the outputs as batch × time × values (or time × values, or a list of numbers)" }));
        // Targets are wrapped like the outputs; a non-array target is left for packTargets to name.
        const wrap = (v: unknown) => (depth === 3 ? v : depth === 2 ? [v] : Array.isArray(v) ? [v.map((x) => (x === null ? null : [x]))] : v);
        const nested = wrap(msg.payload) as number[][][];
        const O = nested[0][0].length;
        const rnn = isRunInfo(msg.rnn) ? msg.rnn : null;
        // In a training run the layers pass on outputs that overflowed (weights blown up by too
        // large a step). The batch then gets a non-finite loss, which the trainer refuses and
        // undoes; an error here would instead leave the run waiting for an acknowledgement.
        const overflow = rnn !== null && hasNonFinite(nested);
        const packed = packInputs(overflow ? finiteCopy(nested) : nested, O, "msg.payload");
        if (overflow) packed.data.fill(NaN);
        // The commonest first-flow mistake: the last layer emits its hidden state, not one value per target.
        const outputs = rnn ? rnn.window.targets.length * (rnn.window.direct ? rnn.window.horizon : 1) : O;
        if (rnn && outputs !== O) {
          const what = rnn.window.direct ? `${rnn.window.targets.length} target(s) (${rnn.window.targets.join(", ")}) × ${rnn.window.horizon} steps ahead (direct)` : `${rnn.window.targets.length} target(s) (${rnn.window.targets.join(", ")})`;
          throw new Error(t("errors.shape", { message: `the layers emit ${O} value(s) per step but the series has ${what}: tick "Projection" on the last rnn layer, with output size ${outputs}` }));
        }
        const target = packTargets(wrap(msg.target), packed, O, "msg.target");
        const g = outputActivation(rnn?.layers, O);
        const training = rnn?.phase === "train";
        const result = computeLoss(loss, packed.data, target, O, g, { delta, valueOnly: !training });
        msg.loss = result.count > 0 && Number.isFinite(result.loss) ? result.loss : null as unknown as number;
        if (rnn) {
          const key = RED.util.generateId();
          records.set(key, { runId: rnn.id, loss: result.loss, count: result.count, dY: training ? result.dY : null, dYIsLogit: result.dYIsLogit });
          msg.rnn = { ...rnn, loss: { id: node.id, key } };
          if (rnn.phase === "validate") {
            const metrics = realUnitMetrics(packed.data, target, O, rnn.scaler?.targets);
            // A differenced model's targets are changes, not levels: an error relative to a change is no percentage of the reading.
            if (rnn.transform && rnn.transform.difference !== "none") metrics.mape = null;
            msg.metrics = metrics;
          }
        }
        status.set({ fill: "green", shape: "dot", text: t("status.loss", { loss: fmt(result.loss) }) });
        send(msg);
        done();
      } catch (e) {
        fail(status, done, msg, e);
      }
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      status.cancel();
      records.clear();
      done();
    });
  }

  function isNonFinite(v: unknown): boolean {
    return typeof v === "number" && !Number.isFinite(v);
  }

  /** Whether a B×T×O batch of outputs holds NaN or ±Infinity (its shape is checked later). */
  function hasNonFinite(nested: unknown[]): boolean {
    return nested.some((seq) => Array.isArray(seq) && seq.some((step) => (Array.isArray(step) ? step.some(isNonFinite) : isNonFinite(step))));
  }

  /** The same batch with every non-finite number replaced by 0, for the shape checks of packing. */
  function finiteCopy(nested: unknown[]): unknown[] {
    const fix = (v: unknown) => (isNonFinite(v) ? 0 : v);
    return nested.map((seq) => (Array.isArray(seq) ? seq.map((step) => (Array.isArray(step) ? step.map(fix) : fix(step))) : seq));
  }

  /** Metrics after undoing the scaling: x = x_scaled · scale + offset per target column. */
  function realUnitMetrics(y: Float64Array, target: Float64Array, O: number, affine?: { offset: number[]; scale: number[] }) {
    if (!affine || affine.offset.length !== O) return computeMetrics(y, target);
    const py = new Float64Array(y.length);
    const pt = new Float64Array(target.length);
    for (let i = 0; i < y.length; i++) {
      const o = i % O;
      py[i] = y[i] * affine.scale[o] + affine.offset[o];
      pt[i] = target[i] * affine.scale[o] + affine.offset[o];
    }
    return computeMetrics(py, pt);
  }

  RED.nodes.registerType("rnn-loss", RnnLossNode);
};
