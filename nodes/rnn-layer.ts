/**
 * rnn layer: one Elman layer. At the start of a training run it adds its settings to the chain
 * description the run message carries (the trainer builds and trains the model from it, and pushes
 * the trained weights back here). Any other message runs the forward pass on msg.payload (B×T×I)
 * with the current weights and replaces it with the outputs.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { allocateInputs, allocateOutputs, ForwardInBlocks, LIMITS, packInputSteps, RnnLayer, unpackOutputSteps } from "../src";
import { LayerNodeApi } from "./shared/apis";
import { buildLayer, layerFits, layerSettings, readLayerConfig } from "./shared/layerConfig";
import { isRunRecord } from "./shared/runs";
import { defaultMaxValues, MAX_VALUES_SETTING, maxValues } from "./shared/messageBudget";
import { NestedShape, nestedShape } from "./shared/nestedShape";
import { admit, inTurns, OrderedWork, STEPS_PER_CHUNK } from "./shared/orderedWork";
import { announcePackageDir, BoundedMap, Done, errorMessage, fail, fmt, Send, setupNode } from "./shared/runtime";

/** Per-topic hidden states kept in stateful mode; the least recently used is evicted beyond it. */
const MAX_STATEFUL_TOPICS = 1000;

export = function register(RED: NodeAPI): void {
  announcePackageDir();
  /** Numbers one message may bring in and out (read once: settings.js does not change while Node-RED runs). */
  const limit = maxValues(RED, "rnn-layer", (value) => RED.log.warn(RED._("rnn-layer.warnings.badMaxValues", { setting: MAX_VALUES_SETTING, value, limit: defaultMaxValues() })));
  function RnnLayerNode(this: Node, def: NodeDef): void {
    const node = this;
    const setup = setupNode(RED, node, def, "rnn-layer", readLayerConfig);
    if (!setup) return;
    const { config, t, status } = setup;

    let layer: RnnLayer | null = null;
    const states = new BoundedMap<string, Float64Array>(MAX_STATEFUL_TOPICS);
    /** Counts the times the weights were replaced or forgotten (and the states with them). */
    let weightsGeneration = 0;
    const work = new OrderedWork(limit);
    /** Numbers per step the layer emits. */
    const outputWidth = config.projection ? config.outputSize : config.hiddenSize;

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
          weightsGeneration++;
        }
        showSummary();
        return true;
      },
      resetWeights() {
        layer = null;
        states.clear();
        weightsGeneration++;
        showSummary(true);
      },
    };
    (node as unknown as { rnnApi: LayerNodeApi }).rnnApi = api;
    showSummary(true);

    node.on("input", (msg: NodeMessageInFlow & { rnn?: unknown }, send: Send, done: Done) => {
      // A forward pass is weighed before anything is allocated: the numbers in and the outputs
      // they become, against the limit (nodes/shared/messageBudget.ts).
      const shape = msg.rnn === undefined && msg.topic !== "reset" ? nestedShape(msg.payload) : null;
      const values = shape ? shape.B * shape.T * (shape.F + outputWidth) : 0;
      admit(work, { values, limit, isRun: msg.rnn !== undefined, t, refuse: (e) => fail(status, done, msg, e), handle: (release) => handle(msg, shape, send, done, release) });
    });

    /** One message, in its turn (see OrderedWork). */
    async function handle(msg: NodeMessageInFlow & { rnn?: unknown }, shape: NestedShape | null, send: Send, done: Done, release: () => void): Promise<void> {
      let sent = false;
      const alive = () => work.alive;
      try {
        if (!alive()) throw new Error(t("errors.closed"));
        if (msg.rnn !== undefined) {
          if (!isRunRecord(msg.rnn)) throw new Error(t("errors.notRunRecord"));
          if (msg.rnn.loss) throw new Error(t("errors.afterLoss"));
          if (msg.rnn.layers.some((l) => l.id === node.id)) throw new Error(t("errors.passedTwice"));
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
        if (!shape) throw new Error(t("errors.badPayload", { message: t("errors.payloadShape") }));
        const { depth, batch, F: I } = shape;
        const checkInputSize = () => {
          // The first message fixes the weight shapes: a wild one must not make W_xh gigabytes large.
          if (!layer && I > LIMITS.maxInputSize) throw new Error(t("errors.shape", { message: t("errors.tooManyInputs", { inputs: I, limit: LIMITS.maxInputSize }) }));
          if (layer && layer.inputSize !== I) {
            throw new Error(t("errors.shape", { message: t("errors.inputSize", { expected: layer.inputSize, got: I }) }));
          }
        };
        checkInputSize();
        const packed = allocateInputs(batch, I, "msg.payload");
        const packing = inTurns(packed.B * packed.T, STEPS_PER_CHUNK, (from, to) => packInputSteps(batch, packed, from, to, "msg.payload"), alive);
        if (packing) await packing;
        if (!alive()) throw new Error(t("errors.closed"));
        // A training run may have handed the layer weights of another input size while it was packed.
        checkInputSize();
        // The state kept for a topic is the one after the last step; padded shorter sequences would
        // run extra steps on zeros and keep a state they never reached.
        if (config.stateful && packed.lengths.some((l) => l !== packed.T)) {
          throw new Error(t("errors.badPayload", { message: t("errors.unequalLengths") }));
        }
        if (!layer) layer = buildLayer(config, I);
        const topic = typeof msg.topic === "string" ? msg.topic : "";
        let h0: Float64Array | null = null;
        if (config.stateful) {
          const s = states.touch(topic);
          if (s && s.length === packed.B * layer.stateSize) h0 = s;
          // A state holds one row per sequence: another batch size cannot continue it. Say so
          // rather than start from zeros silently.
          else if (s) node.warn(t("warnings.stateReset", { topic: topic || t("warnings.noTopic"), was: s.length / layer.stateSize, now: packed.B }));
        }
        const generation = weightsGeneration;
        const pass = new ForwardInBlocks(layer, packed.data, packed.B, packed.T, h0);
        // One block between looks at the clock: a block of a wide layer is already a tenth of a millisecond.
        const running = inTurns(pass.count, 1, (from, to) => pass.run(from, to), alive);
        if (running) await running;
        if (!alive()) throw new Error(t("errors.closed"));
        // A NaN would travel on, and in stateful mode it would stick to the topic for good.
        if (!pass.finite) {
          throw new Error(t("errors.badPayload", { message: t("errors.overflow") }));
        }
        // Weights replaced or forgotten meanwhile have cleared the states: this one is of the old weights.
        if (config.stateful && generation === weightsGeneration) states.set(topic, pass.state);
        const O = pass.outputSize;
        const out = allocateOutputs(packed);
        const unpacking = inTurns(packed.B * packed.T, STEPS_PER_CHUNK, (from, to) => unpackOutputSteps(pass.y, packed, O, out, from, to, depth === 1), alive);
        if (unpacking) await unpacking;
        if (!alive()) throw new Error(t("errors.closed"));
        msg.payload = depth === 3 ? out : out[0];
        showSummary();
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
      states.clear();
      done();
    });
  }

  RED.nodes.registerType("rnn-layer", RnnLayerNode);
};
