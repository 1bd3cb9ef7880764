/**
 * rnn layer: one Elman layer. Runs the forward pass on msg.payload (B×T×I) and replaces it with
 * the outputs; on training batches it keeps the activations (bounded, keyed) for the trainer's BPTT.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import {
  allFinite,
  fastBackend,
  ForwardResult,
  HIDDEN_ACTIVATIONS,
  LayerJSON,
  LayerSpec,
  LIMITS,
  MAX_TENSOR_VALUES,
  OUTPUT_ACTIVATIONS,
  packInputs,
  RnnLayer,
  unpackOutputs,
} from "../src";
import type { InitializerName } from "../src";
import { LayerNodeApi } from "./shared/apis";
import {
  announcePackageDir,
  boolField,
  BoundedMap,
  Done,
  enumField,
  fail,
  fmt,
  intField,
  isRunInfo,
  nestingDepth,
  Send,
  setupNode,
} from "./shared/runtime";

/** Training batches whose activations a layer keeps at once (one is in flight; slack for fan-out). */
const MAX_CACHED_BATCHES = 8;
/** Per-topic hidden states kept in stateful mode; the least recently used is evicted beyond it. */
const MAX_STATEFUL_TOPICS = 1000;

interface LayerConfig {
  hiddenSize: number;
  activation: LayerSpec["activation"];
  projection: boolean;
  outputSize: number;
  outputActivation: NonNullable<LayerSpec["outputActivation"]>;
  init: InitializerName;
  seed: number;
  stateful: boolean;
}

function readLayerConfig(raw: Record<string, unknown>): LayerConfig {
  return {
    hiddenSize: intField(raw, "hiddenSize", 32, 1, 1024),
    activation: enumField(raw, "activation", "tanh", HIDDEN_ACTIVATIONS),
    // On by default: a single layer, the first flow most users build, then emits one value per target.
    projection: boolField(raw, "projection", true),
    // Checked only with a projection: a stale value in a flow that does not use it is harmless.
    outputSize: boolField(raw, "projection", true) ? intField(raw, "outputSize", 1, 1, 1024) : 1,
    outputActivation: boolField(raw, "projection", true) ? enumField(raw, "outputActivation", "linear", OUTPUT_ACTIVATIONS) : "linear",
    init: enumField<InitializerName>(raw, "init", "orthogonal", ["orthogonal", "identity", "glorotUniform"]),
    seed: intField(raw, "seed", 1, -2147483648, 2147483647),
    stateful: boolField(raw, "stateful", false),
  };
}

interface Cached {
  runId: string;
  fwd: ForwardResult;
}

export = function register(RED: NodeAPI): void {
  announcePackageDir();
  function RnnLayerNode(this: Node, def: NodeDef): void {
    const node = this;
    const setup = setupNode(RED, node, def, "rnn-layer", readLayerConfig);
    if (!setup) return;
    const { config, t, status } = setup;

    let layer: RnnLayer | null = null;
    const cache = new BoundedMap<string, Cached>(MAX_CACHED_BATCHES);
    const states = new BoundedMap<string, Float64Array>(MAX_STATEFUL_TOPICS);

    function build(inputSize: number): RnnLayer {
      const spec: LayerSpec = { inputSize, hiddenSize: config.hiddenSize, activation: config.activation };
      if (config.projection) {
        spec.outputSize = config.outputSize;
        spec.outputActivation = config.outputActivation;
      }
      return RnnLayer.create(spec, { seed: config.seed, recurrent: config.init });
    }

    function showSummary(urgent = false): void {
      if (!layer) {
        node.status({ fill: "grey", shape: "ring", text: `${config.hiddenSize} ${config.activation}` });
        return;
      }
      status.set({ fill: "green", shape: "dot", text: t("status.summary", { hidden: config.hiddenSize, activation: config.activation, norm: fmt(layer.weightNorm(), 3) }) }, urgent);
    }

    const api: LayerNodeApi = {
      kind: "rnn-layer",
      getLayer: () => layer,
      backward(key, dY, options) {
        const entry = cache.take(key);
        if (!entry || !layer) throw new Error(`rnn layer "${node.name || node.id}": the activations of this batch are gone (already used, or evicted)`);
        const grads = layer.zeros();
        const dX = fastBackend.backward(layer, entry.fwd, dY, grads, options);
        showSummary();
        return { dX, grads };
      },
      fits(json: LayerJSON) {
        return json.hiddenSize === config.hiddenSize && json.activation === config.activation &&
          (json.outputSize !== undefined) === config.projection &&
          (!config.projection || (json.outputSize === config.outputSize && (json.outputActivation ?? "linear") === config.outputActivation));
      },
      loadWeights(json: LayerJSON, inputSize: number) {
        if (!api.fits(json)) return false;
        layer = RnnLayer.fromJSON(json, inputSize);
        cache.clear();
        states.clear();
        showSummary(true);
        return true;
      },
      resetWeights() {
        layer = null;
        cache.clear();
        states.clear();
        showSummary(true);
      },
      releaseRun(runId: string) {
        cache.deleteWhere((v) => v.runId === runId);
      },
    };
    (node as unknown as { rnnApi: LayerNodeApi }).rnnApi = api;
    showSummary(true);

    node.on("input", (msg: NodeMessageInFlow & { rnn?: unknown }, send: Send, done: Done) => {
      try {
        const rnn = isRunInfo(msg.rnn) ? msg.rnn : null;
        if (!rnn && msg.topic === "reset") {
          states.clear();
          done();
          return;
        }
        if (msg.payload === undefined) throw new Error(t("errors.noPayload"));
        const depth = nestingDepth(msg.payload);
        if (depth === 0) throw new Error(t("errors.badPayload", { message: "expected numbers: batch × time × features (or time × features, or a list of numbers)" }));
        if (rnn && depth !== 3) throw new Error(t("errors.badPayload", { message: "a training batch must be batch × time × features" }));
        const nested = depth === 3 ? msg.payload : depth === 2 ? [msg.payload] : [(msg.payload as number[]).map((v) => [v])];
        const I = (nested as number[][][])[0][0].length;
        // The first message fixes the weight shapes: a wild one must not make W_xh gigabytes large.
        if (!layer && I > LIMITS.maxInputSize) throw new Error(t("errors.shape", { message: `${I} input features exceed the limit of ${LIMITS.maxInputSize}` }));
        if (layer && layer.inputSize !== I) {
          throw new Error(t("errors.shape", { message: `this layer takes ${layer.inputSize} input feature(s) (fixed when it first ran), got ${I}; send topic "reset" to the trainer to start again with new sizes` }));
        }
        const packed = packInputs(nested, I, "msg.payload");
        if (rnn && packed.lengths.some((l) => l !== packed.T)) throw new Error(t("errors.badPayload", { message: "sequences of a training batch must have equal lengths" }));
        // The forward pass keeps every hidden state: bound that, not just the inputs.
        const kept = packed.B * (packed.T + 1) * Math.max(config.hiddenSize, config.projection ? config.outputSize : 0);
        if (kept > MAX_TENSOR_VALUES) throw new Error(t("errors.shape", { message: `${packed.B}×${packed.T} steps would keep ${kept} hidden values, more than the limit of ${MAX_TENSOR_VALUES}: send shorter sequences or smaller batches` }));
        if (!layer) layer = build(I);
        const topic = typeof msg.topic === "string" ? msg.topic : "";
        let h0: Float64Array | null = null;
        // The state kept for a topic is the one after the last step; padded shorter sequences would
        // run extra steps on zeros and keep a state they never reached.
        if (config.stateful && !rnn && packed.lengths.some((l) => l !== packed.T)) {
          throw new Error(t("errors.badPayload", { message: "in stateful mode the sequences of one message must have equal lengths" }));
        }
        if (config.stateful && !rnn) {
          const s = states.touch(topic);
          if (s && s.length === packed.B * layer.hiddenSize) h0 = s;
        }
        const fwd = fastBackend.forward(layer, packed.data, packed.B, packed.T, h0);
        // In training the trainer's guard deals with overflow (it refuses the step); outside it a
        // NaN would travel on, and in stateful mode it would stick to the topic for good.
        if (!rnn && !allFinite([fwd.y, fwd.hT])) {
          throw new Error(t("errors.badPayload", { message: "the outputs overflowed to non-finite values (inputs far larger than this layer's weights can take); the state was left as it was" }));
        }
        if (config.stateful && !rnn) states.set(topic, fwd.hT);
        const out = unpackOutputs(fwd.y, packed, layer.outputSize);
        if (rnn) {
          let key: string | null = null;
          if (rnn.phase === "train") {
            key = RED.util.generateId();
            cache.set(key, { runId: rnn.id, fwd });
          }
          // A new record rather than a push: a fanned-out copy must not see another branch's entries.
          msg.rnn = { ...rnn, layers: [...rnn.layers, { id: node.id, key }] };
        }
        msg.payload = depth === 3 ? out : depth === 2 ? out[0] : out[0].map((step) => (step.length === 1 ? step[0] : step));
        showSummary();
        send(msg);
        done();
      } catch (e) {
        fail(status, done, msg, e);
      }
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      status.cancel();
      cache.clear();
      states.clear();
      done();
    });
  }

  RED.nodes.registerType("rnn-layer", RnnLayerNode);
};
