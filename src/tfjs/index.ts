/**
 * TensorFlow.js / Keras models in and out: `exportTfjs` writes any model of ours in the
 * TensorFlow.js layers format (model.json + float32 weights), `importTfjs` reads one back.
 *
 * What a forecast in real units needs besides the network (scaler, window, transform, intervals)
 * travels in model.json's `userDefinedMetadata["node-red-rnn"]`, the place the format keeps for
 * a model's own data (TensorFlow.js loads it and hands it back with getUserDefinedMetadata()). A
 * model converted from Keras has none: the caller may give them (`extras`), else the model
 * imports as a bare network, which forecasts only once they are set.
 */
import { createHash } from "crypto";
import { Model, ModelExtras } from "../model";
import { fieldChecks as c, MODEL_FORMAT, MODEL_VERSION, ModelFileError } from "../modelFile";
import { RnnLayer } from "../layer";
import type { ModelJSON } from "../types";
import { METADATA_KEY, METADATA_VERSION, TFJS_FORMAT, TFJS_WEIGHTS_FILE, TfjsModelJSON } from "./format";
import { layerNames, specsOf, toTopology, TopologyOptions } from "./topology";
import { readTfjsModelJSON, TfjsReading } from "./validate";
import { packWeights, unpackWeights } from "./weights";

export { TFJS_FORMAT, TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE, METADATA_KEY } from "./format";
export type { TfjsModelJSON, TfjsWeightSpec, TfjsWeightsGroup } from "./format";
export { readTfjsModelJSON } from "./validate";
export type { TfjsReading } from "./validate";

export interface ExportedTfjs {
  modelJson: TfjsModelJSON;
  /** The float32 weights, the content of weights.bin. */
  weights: Uint8Array;
}

export interface ImportOptions {
  /** Scaler, window, transform, … to use when model.json carries none of its own. */
  extras?: ModelExtras;
}

const EXTRAS_KEYS = ["scaler", "window", "transform", "intervals", "training"] as const;
const METADATA_KEYS = ["version", ...EXTRAS_KEYS, "weightsSha256"];

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Model → model.json and weights.bin. Weights become float32, which is what the format holds. */
export function exportTfjs(model: Model, options: TopologyOptions = {}): ExportedTfjs {
  const names = layerNames(model);
  const { specs, data } = packWeights(model.layers, names);
  const meta: Record<string, unknown> = { version: METADATA_VERSION };
  for (const key of EXTRAS_KEYS) if (model[key]) meta[key] = model[key];
  // The weights' digest ties weights.bin to this model.json: a pair from two different saves is refused.
  meta.weightsSha256 = sha256(data);
  const modelJson: TfjsModelJSON = {
    format: TFJS_FORMAT,
    generatedBy: "@rnnflow/node-red-rnn",
    convertedBy: null,
    modelTopology: toTopology(model, names, options),
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: specs }],
    userDefinedMetadata: { [METADATA_KEY]: meta },
  };
  return { modelJson, weights: data };
}

/** Our metadata entry, its keys checked; the sections themselves are checked with the model below. */
function metadataOf(reading: TfjsReading): Record<string, unknown> | null {
  const all = reading.userDefinedMetadata;
  if (!all || c.own(all, METADATA_KEY) === undefined) return null;
  const field = `userDefinedMetadata.${METADATA_KEY}`;
  const meta = c.expectObject(all[METADATA_KEY], field);
  c.checkKeys(meta, field, METADATA_KEYS);
  if (meta.version !== METADATA_VERSION) c.fail(`${field}.version`, `expected ${METADATA_VERSION} (got ${c.describe(meta.version)})`);
  return meta;
}

/**
 * model.json (parsed) and the bytes of its weight files (concatenated in manifest order) →
 * Model. Everything is checked before the weights are read; the result is validated as our own
 * model file is. Throws ModelFileError naming the field at fault.
 */
export function importTfjs(modelJson: unknown, weights: Uint8Array | ArrayBuffer, options: ImportOptions = {}): Model {
  const reading = readTfjsModelJSON(modelJson);
  const bytes = weights instanceof Uint8Array ? weights : weights instanceof ArrayBuffer ? new Uint8Array(weights) : null;
  if (!bytes) throw new ModelFileError("", `the weights must be bytes (a Uint8Array or an ArrayBuffer), got ${c.describe(weights)}`);
  if (bytes.byteLength !== reading.byteLength) {
    throw new ModelFileError("weightsManifest", `the weight files hold ${bytes.byteLength} bytes but the manifest describes ${reading.byteLength}${bytes.byteLength < reading.byteLength ? " (truncated?)" : ""}`);
  }
  const meta = metadataOf(reading);
  if (meta && meta.weightsSha256 !== undefined && meta.weightsSha256 !== sha256(bytes)) {
    throw new ModelFileError(`userDefinedMetadata.${METADATA_KEY}.weightsSha256`, "the weights are not the ones this model.json was written with (weights.bin from another save, or damaged)");
  }
  const specs = specsOf(reading);
  const params = unpackWeights(reading, specs, bytes);
  const json: ModelJSON = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    inputSize: reading.inputSize,
    layers: specs.map((spec, k) => new RnnLayer(spec, params[k]).toJSON()),
  };
  const extras = (meta ?? options.extras ?? {}) as Record<string, unknown>;
  for (const key of EXTRAS_KEYS) if (extras[key] !== undefined && extras[key] !== null) (json as unknown as Record<string, unknown>)[key] = extras[key];
  try {
    return Model.fromJSON(json);
  } catch (e) {
    // A section from our metadata is named as model.json names it.
    if (e instanceof ModelFileError && meta && (EXTRAS_KEYS as readonly string[]).includes(e.field.split(/[.[]/)[0])) {
      throw new ModelFileError(`userDefinedMetadata.${METADATA_KEY}.${e.field}`, e.message.slice(e.field.length + 2));
    }
    throw e;
  }
}
