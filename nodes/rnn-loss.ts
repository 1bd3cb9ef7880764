/**
 * rnn loss: names the loss a training run minimises, and measures it outside training. At the
 * start of a run it adds its loss to the chain description the run message carries (the trainer
 * computes it); any other message compares msg.payload with msg.target and sets msg.loss, and on
 * request msg.metrics (mse, rmse, mae, mape).
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { addMetricSums, allocateInputs, allocateTargets, computeLoss, emptyMetricSums, LOSSES, metricsFromSums, packInputSteps, packTargetSteps } from "../src";
import { defaultMaxValues, MAX_VALUES_SETTING, maxValues } from "./shared/messageBudget";
import { NestedShape, nestedShape } from "./shared/nestedShape";
import { admit, inTurns, OrderedWork, STEPS_PER_CHUNK } from "./shared/orderedWork";
import { isRunRecord } from "./shared/runs";
import { announcePackageDir, Done, enumField, errorMessage, fail, fmt, numField, Send, setupNode } from "./shared/runtime";

/** Values the loss is computed over between two looks at the clock (about a millisecond's work). */
const LOSS_CHUNK_VALUES = 65_536;

export = function register(RED: NodeAPI): void {
  announcePackageDir();
  /** Numbers one message may bring (read once: settings.js does not change while Node-RED runs). */
  const limit = maxValues(RED, "rnn-loss", (value) => RED.log.warn(RED._("rnn-loss.warnings.badMaxValues", { setting: MAX_VALUES_SETTING, value, limit: defaultMaxValues() })));
  function RnnLossNode(this: Node, def: NodeDef): void {
    const node = this;
    const setup = setupNode(RED, node, def, "rnn-loss", (raw: Record<string, unknown>) => {
      const loss = enumField(raw, "loss", "mse", LOSSES);
      return { loss, delta: loss === "huber" ? numField(raw, "delta", 1, 0, 1e6, { exclusiveMin: true }) : 1 };
    });
    if (!setup) return;
    const { t, status } = setup;
    const { loss, delta } = setup.config;
    // The loss as the edit dialog names it, not its code name.
    node.status({ fill: "grey", shape: "ring", text: t(`options.loss.${loss}`) });

    type LossMessage = NodeMessageInFlow & { target?: unknown; rnn?: unknown; loss?: number; metrics?: unknown };
    const work = new OrderedWork(limit);

    node.on("input", (msg: LossMessage, send: Send, done: Done) => {
      // Weighed before anything is allocated: the payload's numbers and as many targets.
      const shape = msg.rnn === undefined ? nestedShape(msg.payload) : null;
      const values = shape ? 2 * shape.B * shape.T * shape.F : 0;
      admit(work, { values, limit, isRun: msg.rnn !== undefined, t, refuse: (e) => fail(status, done, msg, e), handle: (release) => handle(msg, shape, send, done, release) });
    });

    /** One message, in its turn (see OrderedWork). */
    async function handle(msg: LossMessage, shape: NestedShape | null, send: Send, done: Done, release: () => void): Promise<void> {
      let sent = false;
      const alive = () => work.alive;
      try {
        if (!alive()) throw new Error(t("errors.closed"));
        if (msg.rnn !== undefined) {
          if (!isRunRecord(msg.rnn)) throw new Error(t("errors.notRunRecord"));
          if (msg.rnn.loss) throw new Error(t("errors.secondLoss"));
          if (msg.rnn.layers.length === 0) throw new Error(t("errors.noLayer"));
          msg.rnn = { ...msg.rnn, loss: { id: node.id, loss, delta } };
          send(msg);
          sent = true;
          done();
          return;
        }
        if (msg.payload === undefined) throw new Error(t("errors.noPayload"));
        if (msg.target === undefined) throw new Error(t("errors.noTarget"));
        if (!shape) throw new Error(t("errors.badPayload", { message: t("errors.payloadShape") }));
        const { depth, batch, F: O } = shape;
        // Targets are wrapped like the outputs; a non-array target is left for allocateTargets to name.
        const v = msg.target;
        const targets = depth === 3 ? v : depth === 2 ? [v] : Array.isArray(v) ? [v] : v;
        const packed = allocateInputs(batch, O, "msg.payload");
        const steps = packed.B * packed.T;
        const packing = inTurns(steps, STEPS_PER_CHUNK, (from, to) => packInputSteps(batch, packed, from, to, "msg.payload"), alive);
        if (packing) await packing;
        const target = allocateTargets(targets, packed, O, "msg.target");
        const packingTargets = inTurns(steps, STEPS_PER_CHUNK, (from, to) => packTargetSteps(targets as unknown[][], packed, O, target, from, to, "msg.target"), alive);
        if (packingTargets) await packingTargets;
        if (!alive()) throw new Error(t("errors.closed"));
        // Cross-entropy needs to know how the outputs were squashed; outside a chain that is the usual pairing.
        const g = loss === "crossentropy" ? (O > 1 ? "softmax" : "sigmoid") : "linear";
        // A stretch of whole steps at a time: the loss is a mean over the entries (softmax
        // cross-entropy: the steps) with a target, so the stretches' sums add up to it, and the
        // metrics' sums add up entry by entry as in one pass.
        const chunkValues = Math.max(1, Math.floor(LOSS_CHUNK_VALUES / O)) * O;
        const chunks = Math.ceil(packed.data.length / chunkValues);
        const sums = emptyMetricSums();
        let sum = 0;
        let count = 0;
        let only = 0;
        const measuring = inTurns(chunks, 1, (from, to) => {
          for (let k = from; k < to; k++) {
            const y = packed.data.subarray(k * chunkValues, (k + 1) * chunkValues);
            const tk = target.subarray(k * chunkValues, (k + 1) * chunkValues);
            const part = computeLoss(loss, y, tk, O, g, { delta, valueOnly: true });
            sum += part.loss * part.count;
            count += part.count;
            only = part.loss;
            addMetricSums(sums, y, tk);
          }
        }, alive);
        if (measuring) await measuring;
        if (!alive()) throw new Error(t("errors.closed"));
        // One stretch (every message but huge ones) is computeLoss itself, to the last bit.
        const value = count === 0 ? 0 : chunks === 1 ? only : sum / count;
        msg.loss = count > 0 && Number.isFinite(value) ? value : null as unknown as number;
        const metrics = metricsFromSums(sums);
        // Without a single target there is nothing to measure: null, as msg.loss, rather than NaNs.
        msg.metrics = metrics.count > 0 ? metrics : null;
        status.set({ fill: "green", shape: "dot", text: t("status.loss", { loss: fmt(value) }) });
        send(msg);
        sent = true;
        done();
      } catch (e) {
        // Once the message has gone on, it is not this node's to end again (nor to edit): the
        // failure was in ending it (Node-RED copies it for Complete nodes), so it is only logged.
        if (sent) node.error(errorMessage(e));
        else fail(status, done, msg, e);
      } finally {
        release();
      }
    }

    node.on("close", (_removed: boolean, done: () => void) => {
      work.close();
      status.cancel();
      done();
    });
  }

  RED.nodes.registerType("rnn-loss", RnnLossNode);
};
