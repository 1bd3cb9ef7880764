/**
 * Our parameters ↔ the float32 bytes of a weights manifest. Ours are row-major with the rows the
 * output units (W_x is G·H × I); Keras's are (inputs × units), so every matrix is transposed on
 * the way, and the GRU's two biases are the two rows of Keras's one bias.
 */
import type { Params } from "../cells";
import { fieldChecks as c } from "../modelFile";
import type { RnnLayer } from "../layer";
import { DENSE_WEIGHTS, recurrentWeights, TfjsWeightSpec, WeightMapping } from "./format";
import type { ManifestWeight, TfjsReading } from "./validate";

/** One of our layers' Keras names: the recurrent layer's and its Dense's (null without a projection). */
export interface LayerNames {
  readonly recurrent: string;
  readonly dense: string | null;
}

/** The Keras shape of a mapping, given our parameters' shapes. */
function kerasShape(m: WeightMapping, shapeOf: (param: string) => { rows: number; cols: number }): number[] {
  const first = shapeOf(m.params[0]);
  if (m.layout === "transpose") return [first.cols, first.rows];
  return m.params.length === 1 ? [first.rows] : [m.params.length, first.rows];
}

function mappingsOf(layer: RnnLayer): { mapping: WeightMapping; owner: "recurrent" | "dense" }[] {
  const own = recurrentWeights(layer.cellName, layer.spec.resetAfter === true).map((mapping) => ({ mapping, owner: "recurrent" as const }));
  return layer.hasOutput ? [...own, ...DENSE_WEIGHTS.map((mapping) => ({ mapping, owner: "dense" as const }))] : own;
}

/** Writes every layer's parameters as float32, in manifest order, with the manifest's entries. */
export function packWeights(layers: readonly RnnLayer[], names: readonly LayerNames[]): { specs: TfjsWeightSpec[]; data: Uint8Array } {
  const specs: TfjsWeightSpec[] = [];
  const parts: { layer: RnnLayer; mapping: WeightMapping; count: number }[] = [];
  let bytes = 0;
  layers.forEach((layer, k) => {
    const shapes = new Map(layer.shapes().map((s) => [s.name, s]));
    for (const { mapping, owner } of mappingsOf(layer)) {
      const shape = kerasShape(mapping, (p) => shapes.get(p)!);
      specs.push({ name: `${owner === "dense" ? names[k].dense : names[k].recurrent}/${mapping.keras}`, shape, dtype: "float32" });
      const count = shape.reduce((a, b) => a * b, 1);
      parts.push({ layer, mapping, count });
      bytes += 4 * count;
    }
  });
  const data = new Uint8Array(bytes);
  const view = new DataView(data.buffer);
  let offset = 0;
  for (const { layer, mapping } of parts) {
    const shapes = new Map(layer.shapes().map((s) => [s.name, s]));
    if (mapping.layout === "transpose") {
      const p = mapping.params[0];
      const { rows, cols } = shapes.get(p)!;
      const w = layer.params[p];
      // Keras's [cols][rows] is our [rows][cols] read column by column.
      for (let i = 0; i < cols; i++) for (let r = 0; r < rows; r++, offset += 4) view.setFloat32(offset, w[r * cols + i], true);
    } else {
      for (const p of mapping.params) for (const v of layer.params[p]) { view.setFloat32(offset, v, true); offset += 4; }
    }
  }
  return { specs, data };
}

/** What unpacking needs to know of one of our layers: its parameter shapes (from its spec). */
export interface LayerTarget {
  readonly shapes: readonly { name: string; rows: number; cols: number }[];
  readonly cellName: Parameters<typeof recurrentWeights>[0];
  readonly resetAfter: boolean;
}

/** The manifest entry of `layerName`'s Keras weight `keras`: its name's segments contain the layer's name and end with the weight's. */
function findWeight(weights: readonly ManifestWeight[], used: Set<ManifestWeight>, layerNames: readonly string[], keras: string): ManifestWeight | null {
  const found = weights.filter((w) => {
    const segments = w.name.split("/");
    // Keras writes "kernel:0" in some versions; the suffix names the same weight.
    const last = segments[segments.length - 1].replace(/:\d+$/, "");
    return last === keras && segments.slice(0, -1).some((s) => layerNames.includes(s));
  });
  if (found.length > 1) c.fail(found[1].field, `"${found[1].name}" and "${found[0].name}" both claim to be ${layerNames[layerNames.length - 1]}'s ${keras}`);
  const w = found[0] ?? null;
  if (w && used.has(w)) c.fail(w.field, `"${w.name}" claims to belong to two layers`);
  return w;
}

/**
 * Reads every layer's parameters out of the weight bytes. A missing weight is an error, except a
 * bias that the layer does not use (use_bias false): it is zero. Every manifest entry must
 * belong to a layer. `bytes` has been checked to hold exactly `reading.byteLength` bytes.
 */
export function unpackWeights(reading: TfjsReading, targets: readonly LayerTarget[], bytes: Uint8Array): Params[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const used = new Set<ManifestWeight>();
  const out = reading.layers.map((entry, k) => {
    const target = targets[k];
    const shapes = new Map(target.shapes.map((s) => [s.name, s]));
    const params: Params = {};
    for (const s of target.shapes) params[s.name] = new Float64Array(s.rows * s.cols);
    const groups: { mapping: WeightMapping; names: readonly string[]; useBias: boolean; field: string }[] = recurrentWeights(target.cellName, target.resetAfter).map((mapping) => ({ mapping, names: [entry.recurrent.name], useBias: entry.recurrent.useBias, field: entry.recurrent.field }));
    if (entry.dense) for (const mapping of DENSE_WEIGHTS) groups.push({ mapping, names: entry.dense.names, useBias: entry.dense.useBias, field: entry.dense.field });
    for (const { mapping, names, useBias, field } of groups) {
      const w = findWeight(reading.weights, used, names, mapping.keras);
      const layerName = names[names.length - 1];
      if (mapping.keras === "bias" && !useBias) {
        if (w) c.fail(w.field, `"${w.name}" is given but ${layerName} has use_bias false`);
        continue; // no bias: ours stay zero, which computes the same
      }
      if (!w) c.fail("weightsManifest", `no weight for ${layerName}'s ${mapping.keras} (${field})`);
      used.add(w);
      const expected = kerasShape(mapping, (p) => shapes.get(p)!);
      if (w.shape.length !== expected.length || w.shape.some((d, i) => d !== expected[i])) {
        c.fail(`${w.field}.shape`, `"${w.name}" is [${w.shape.join(", ")}] but ${layerName} needs [${expected.join(", ")}]`);
      }
      let offset = w.offset;
      if (mapping.layout === "transpose") {
        const p = mapping.params[0];
        const { rows, cols } = shapes.get(p)!;
        const dst = params[p];
        for (let i = 0; i < cols; i++) for (let r = 0; r < rows; r++, offset += 4) dst[r * cols + i] = view.getFloat32(offset, true);
      } else {
        for (const p of mapping.params) {
          const dst = params[p];
          for (let i = 0; i < dst.length; i++, offset += 4) dst[i] = view.getFloat32(offset, true);
        }
      }
    }
    return params;
  });
  const stray = reading.weights.find((w) => !used.has(w));
  if (stray) c.fail(stray.field, `"${stray.name}" belongs to none of the model's layers`);
  return out;
}
