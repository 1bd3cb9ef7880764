/**
 * rnn layer: one Elman layer. At the start of a training run it adds its settings to the chain
 * description the run message carries (the trainer builds and trains the model from it, and pushes
 * the trained weights back here). Any other message runs the forward pass on msg.payload (B×T×I)
 * with the current weights and replaces it with the outputs.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { allFinite, getBackend, LIMITS, MAX_TENSOR_VALUES, packInputs, RnnLayer, unpackOutputs } from "../src";
import { LayerNodeApi } from "./shared/apis";
import { buildLayer, layerFits, layerSettings, readLayerConfig } from "./shared/layerConfig";
import { isRunRecord } from "./shared/runs";
import { announcePackageDir, BoundedMap, Done, errorMessage, fail, fmt, nestingDepth, Send, setupNode } from "./shared/runtime";

/** Per-topic hidden states kept in stateful mode; the least recently used is evicted beyond it. */
const MAX_STATEFUL_TOPICS = 1000;

export = function register(RED: NodeAPI): void {
  announcePackageDir();
  function RnnLayerNode(this: Node, def: NodeDef): void {
    const node = this;
    const setup = setupNode(RED, node, def, "rnn-layer", readLayerConfig);
    if (!setup) return;
    const { config, t, status } = setup;

    let layer: RnnLayer | null = null;
    const states = new BoundedMap<string, Float64Array>(MAX_STATEFUL_TOPICS);

    // The cell's name leads the status only when it is not the default Elman one.
    const gated = config.cell !== "elman";
    const cell = gated ? t(`options.cell.${config.cell}`) : "";

    function showSummary(urgent = false): void {
      if (!layer) {
        // A summary of forgotten weights still waiting in the throttle must not land after this.
        status.cancel();
        node.status({ fill: "grey", shape: "ring", text: t(gated ? "status.unbuiltCell" : "status.unbuilt", { cell, hidden: config.hiddenSize, activation: config.activation }) });
        return;
      }
      status.set({ fill: "green", shape: "dot", text: t(gated ? "status.summaryCell" : "status.summary", { cell, hidden: config.hiddenSize, activation: config.activation, norm: fmt(layer.weightNorm(), 3) }) }, urgent);
    }

    const api: LayerNodeApi = {
      kind: "rnn-layer",
      config,
      name: node.name || "",
      getLayer: () => layer,
      setWeights(trained) {
        if (!layerFits(trained, config, trained.inputSize)) return false;
        // Same shapes: the weights change in place and the states kept per topic stay, so a live
        // stream goes on with the newer weights; other shapes start every topic afresh.
        if (layer && layer.inputSize === trained.inputSize) {
          const params = layer.list();
          trained.list().forEach((p, i) => params[i].set(p));
        } else {
          layer = trained.clone();
          states.clear();
        }
        showSummary();
        return true;
      },
      resetWeights() {
        layer = null;
        states.clear();
        showSummary(true);
      },
    };
    (node as unknown as { rnnApi: LayerNodeApi }).rnnApi = api;
    showSummary(true);

    node.on("input", (msg: NodeMessageInFlow & { rnn?: unknown }, send: Send, done: Done) => {
      let sent = false;
      try {
        if (msg.rnn !== undefined) {
          if (!isRunRecord(msg.rnn)) throw new Error("msg.rnn is not a run record from an rnn sequence node (it must pass the rnn nodes unchanged)");
          if (msg.rnn.loss) throw new Error("this run message has already passed an rnn loss node: rnn layers go before rnn loss");
          if (msg.rnn.layers.some((l) => l.id === node.id)) throw new Error("this run message passed this rnn layer twice: the chain must not loop");
          // A new record rather than a push: a fanned-out copy must not see another branch's entries.
          msg.rnn = { ...msg.rnn, layers: [...msg.rnn.layers, { id: node.id, name: node.name || "", settings: layerSettings(config) }] };
          send(msg);
          sent = true;
          done();
          return;
        }
        if (msg.topic === "reset") {
          states.clear();
          done();
          return;
        }
        if (msg.payload === undefined) throw new Error(t("errors.noPayload"));
        const depth = nestingDepth(msg.payload);
        if (depth === 0) throw new Error(t("errors.badPayload", { message: "expected numbers: batch × time × features (or time × features, or a list of numbers)" }));
        const nested = depth === 3 ? msg.payload : depth === 2 ? [msg.payload] : [(msg.payload as number[]).map((v) => [v])];
        const I = (nested as number[][][])[0][0].length;
        // The first message fixes the weight shapes: a wild one must not make W_xh gigabytes large.
        if (!layer && I > LIMITS.maxInputSize) throw new Error(t("errors.shape", { message: `${I} input features exceed the limit of ${LIMITS.maxInputSize}` }));
        if (layer && layer.inputSize !== I) {
          throw new Error(t("errors.shape", { message: `this layer takes ${layer.inputSize} input feature(s) (fixed when it first ran or was trained), got ${I}; send topic "reset" to the trainer to start again with new sizes` }));
        }
        const packed = packInputs(nested, I, "msg.payload");
        // The forward pass keeps every hidden state: bound that, not just the inputs.
        const kept = packed.B * (packed.T + 1) * Math.max(config.hiddenSize, config.projection ? config.outputSize : 0);
        if (kept > MAX_TENSOR_VALUES) throw new Error(t("errors.shape", { message: `${packed.B}×${packed.T} steps would keep ${kept} hidden values, more than the limit of ${MAX_TENSOR_VALUES}: send shorter sequences or smaller batches` }));
        if (!layer) layer = buildLayer(config, I);
        const topic = typeof msg.topic === "string" ? msg.topic : "";
        let h0: Float64Array | null = null;
        // The state kept for a topic is the one after the last step; padded shorter sequences would
        // run extra steps on zeros and keep a state they never reached.
        if (config.stateful && packed.lengths.some((l) => l !== packed.T)) {
          throw new Error(t("errors.badPayload", { message: "in stateful mode the sequences of one message must have equal lengths" }));
        }
        if (config.stateful) {
          const s = states.touch(topic);
          if (s && s.length === packed.B * layer.stateSize) h0 = s;
          // A state holds one row per sequence: another batch size cannot continue it. Say so
          // rather than start from zeros silently.
          else if (s) node.warn(t("warnings.stateReset", { topic: topic || "(no topic)", was: s.length / layer.stateSize, now: packed.B }));
        }
        // The default backend, as the trainer and the core Model use: the same numbers as theirs.
        const fwd = getBackend().forward(layer, packed.data, packed.B, packed.T, h0);
        // A NaN would travel on, and in stateful mode it would stick to the topic for good.
        if (!allFinite([fwd.y, fwd.state])) {
          throw new Error(t("errors.badPayload", { message: "the outputs overflowed to non-finite values (inputs far larger than this layer's weights can take); the state was left as it was" }));
        }
        if (config.stateful) states.set(topic, fwd.state);
        const out = unpackOutputs(fwd.y, packed, layer.outputSize);
        msg.payload = depth === 3 ? out : depth === 2 ? out[0] : out[0].map((step) => (step.length === 1 ? step[0] : step));
        showSummary();
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
      states.clear();
      done();
    });
  }

  RED.nodes.registerType("rnn-layer", RnnLayerNode);
};
