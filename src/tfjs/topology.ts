/**
 * Our layer stack ↔ a Keras Sequential topology. Each of our layers is one recurrent Keras layer
 * (SimpleRNN, LSTM, GRU) and, when it has an output projection, the Dense that follows it: a
 * Dense on a sequence applies at every step, as ours does, so an intermediate projection needs
 * no TimeDistributed wrapper (one is read all the same). Every recurrent layer but the last
 * returns its sequence; the last returns its last step, the one a forecast reads.
 */
import type { Model } from "../model";
import { DEFAULT_CELL } from "../cells";
import type { LayerSpec } from "../types";
import { KERAS_CLASS, kerasActivation, NAME_STEM } from "./format";
import type { LayerNames } from "./weights";
import type { TfjsReading } from "./validate";

export interface TopologyOptions {
  /** The last recurrent layer returns every step (default false: its last step only). */
  returnSequences?: boolean;
}

/** Names of the exported layers: the TensorFlow.js stem and our layer's number, so all differ. */
export function layerNames(model: Model): LayerNames[] {
  return model.layers.map((layer, k) => ({
    recurrent: `${NAME_STEM[KERAS_CLASS[layer.cellName]]}_${k + 1}`,
    dense: layer.hasOutput ? `${NAME_STEM.Dense}_${k + 1}` : null,
  }));
}

/** The modelTopology of `model` (Keras's configuration keys, snake_case). */
export function toTopology(model: Model, names: readonly LayerNames[], options: TopologyOptions = {}): Record<string, unknown> {
  const layers: Record<string, unknown>[] = [];
  const last = model.layers.length - 1;
  model.layers.forEach((layer, k) => {
    const spec = layer.spec;
    const config: Record<string, unknown> = { name: names[k].recurrent, trainable: true, dtype: "float32" };
    // Any sequence length: the window is a setting of the forecast, not of the network.
    if (k === 0) config.batch_input_shape = [null, null, model.inputSize];
    config.units = spec.hiddenSize;
    config.activation = kerasActivation(spec.activation);
    if (layer.cellName !== "elman") config.recurrent_activation = kerasActivation(spec.recurrentActivation ?? "sigmoid");
    config.use_bias = true;
    if (layer.cellName === "gru") config.reset_after = spec.resetAfter === true;
    config.return_sequences = k < last || options.returnSequences === true;
    Object.assign(config, { return_state: false, go_backwards: false, stateful: false, unroll: false, dropout: 0, recurrent_dropout: 0 });
    layers.push({ class_name: KERAS_CLASS[layer.cellName], config });
    if (layer.hasOutput) {
      layers.push({
        class_name: "Dense",
        config: { name: names[k].dense, trainable: true, dtype: "float32", units: layer.outputSize, activation: kerasActivation(layer.outputActivation), use_bias: true },
      });
    }
  });
  return { class_name: "Sequential", config: { name: "node_red_rnn", layers }, backend: "tensor_flow.js" };
}

/** Our layer specs from a checked model.json. */
export function specsOf(reading: TfjsReading): LayerSpec[] {
  let width = reading.inputSize;
  return reading.layers.map(({ recurrent: r, dense }) => {
    const spec: LayerSpec = { inputSize: width, hiddenSize: r.units, activation: r.activation };
    if (r.cell !== DEFAULT_CELL) spec.cell = r.cell;
    // Defaults stay implicit, as in a spec read from our own model file.
    if (r.recurrentActivation !== null && r.recurrentActivation !== "sigmoid") spec.recurrentActivation = r.recurrentActivation;
    if (r.resetAfter) spec.resetAfter = true;
    if (dense) {
      spec.outputSize = dense.units;
      spec.outputActivation = dense.activation;
    }
    width = dense ? dense.units : r.units;
    return spec;
  });
}
