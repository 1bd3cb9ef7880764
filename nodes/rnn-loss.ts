/**
 * rnn loss: names the loss a training run minimises, and measures it outside training. At the
 * start of a run it adds its loss to the chain description the run message carries (the trainer
 * computes it); any other message compares msg.payload with msg.target and sets msg.loss, and on
 * request msg.metrics (mse, rmse, mae, mape).
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { computeLoss, computeMetrics, LOSSES, packInputs, packTargets } from "../src";
import { isRunRecord } from "./shared/runs";
import { announcePackageDir, Done, enumField, errorMessage, fail, fmt, nestingDepth, numField, Send, setupNode } from "./shared/runtime";

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
    node.status({ fill: "grey", shape: "ring", text: loss });

    node.on("input", (msg: NodeMessageInFlow & { target?: unknown; rnn?: unknown; loss?: number; metrics?: unknown }, send: Send, done: Done) => {
      let sent = false;
      try {
        if (msg.rnn !== undefined) {
          if (!isRunRecord(msg.rnn)) throw new Error("msg.rnn is not a run record from an rnn sequence node (it must pass the rnn nodes unchanged)");
          if (msg.rnn.loss) throw new Error("this run message has already passed an rnn loss node: a chain has one");
          if (msg.rnn.layers.length === 0) throw new Error("this run message passed no rnn layer: wire rnn sequence → rnn layer(s) → rnn loss → rnn trainer");
          msg.rnn = { ...msg.rnn, loss: { id: node.id, loss, delta } };
          send(msg);
          sent = true;
          done();
          return;
        }
        if (msg.payload === undefined) throw new Error(t("errors.noPayload"));
        if (msg.target === undefined) throw new Error(t("errors.noTarget"));
        const depth = nestingDepth(msg.payload);
        if (depth === 0) throw new Error(t("errors.badPayload", { message: "expected the outputs as batch × time × values (or time × values, or a list of numbers)" }));
        // Targets are wrapped like the outputs; a non-array target is left for packTargets to name.
        const wrap = (v: unknown) => (depth === 3 ? v : depth === 2 ? [v] : Array.isArray(v) ? [v.map((x) => (x === null ? null : [x]))] : v);
        const nested = wrap(msg.payload) as number[][][];
        const O = nested[0][0].length;
        const packed = packInputs(nested, O, "msg.payload");
        const target = packTargets(wrap(msg.target), packed, O, "msg.target");
        // Cross-entropy needs to know how the outputs were squashed; outside a chain that is the usual pairing.
        const g = loss === "crossentropy" ? (O > 1 ? "softmax" : "sigmoid") : "linear";
        const result = computeLoss(loss, packed.data, target, O, g, { delta, valueOnly: true });
        msg.loss = result.count > 0 && Number.isFinite(result.loss) ? result.loss : null as unknown as number;
        const metrics = computeMetrics(packed.data, target);
        // Without a single target there is nothing to measure: null, as msg.loss, rather than NaNs.
        msg.metrics = metrics.count > 0 ? metrics : null;
        status.set({ fill: "green", shape: "dot", text: t("status.loss", { loss: fmt(result.loss) }) });
        send(msg);
        sent = true;
        done();
      } catch (e) {
        // Once the message has gone on, it is not this node's to end again (nor to edit): the
        // failure was in ending it (Node-RED copies it for Complete nodes), so it is only logged.
        if (sent) node.error(errorMessage(e));
        else fail(status, done, msg, e);
      }
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      status.cancel();
      done();
    });
  }

  RED.nodes.registerType("rnn-loss", RnnLossNode);
};
