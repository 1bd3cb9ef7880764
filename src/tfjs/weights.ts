/**
 * Our parameters ↔ the float32 bytes of a weights manifest. Ours are row-major with the rows the
 * output units (W is units × inputs); Keras's matrices are (inputs × units), so each is
 * transposed on the way. Which Keras weight is which of our parameters, the cells and the
 * projection say (`kerasWeights`, `projectionKerasWeights`).
 */
import { getCell, KerasWeight, Params } from "../cells";
import { layerShapes, RnnLayer } from "../layer";
import { fieldChecks as c } from "../modelFile";
import { projectionKerasWeights } from "../projection";
import type { LayerSpec } from "../types";
import type { TfjsWeightSpec } from "./format";
import type { ManifestWeight, TfjsReading } from "./validate";

/** One of our layers' Keras names: the recurrent layer's and its Dense's (null without a projection). */
export interface LayerNames {
  readonly recurrent: string;
  readonly dense: string | null;
}

type Shapes = ReadonlyMap<string, { rows: number; cols: number }>;

function shapesOf(spec: Readonly<LayerSpec>): Shapes {
  return new Map(layerShapes(spec).map((s) => [s.name, s]));
}

/** The Keras shape of a weight, from our parameters' shapes. */
function kerasShape(w: KerasWeight, shapes: Shapes): number[] {
  const first = shapes.get(w.params[0])!;
  if (w.layout === "transpose") return [first.cols, first.rows];
  return w.params.length === 1 ? [first.rows] : [w.params.length, first.rows];
}

/** The layer's Keras weights: its cell's (the recurrent layer), then its projection's (the Dense). */
function weightsOf(spec: Readonly<LayerSpec>): { weight: KerasWeight; owner: "recurrent" | "dense" }[] {
  return [
    ...getCell(spec.cell).kerasWeights(spec).map((weight) => ({ weight, owner: "recurrent" as const })),
    ...projectionKerasWeights(spec).map((weight) => ({ weight, owner: "dense" as const })),
  ];
}

/** Writes every layer's parameters as float32, in manifest order, with the manifest's entries. */
export function packWeights(layers: readonly RnnLayer[], names: readonly LayerNames[]): { specs: TfjsWeightSpec[]; data: Uint8Array } {
  const specs: TfjsWeightSpec[] = [];
  const parts: { layer: RnnLayer; weight: KerasWeight; shapes: Shapes }[] = [];
  let bytes = 0;
  layers.forEach((layer, k) => {
    const shapes = shapesOf(layer.spec);
    for (const { weight, owner } of weightsOf(layer.spec)) {
      const shape = kerasShape(weight, shapes);
      specs.push({ name: `${owner === "dense" ? names[k].dense : names[k].recurrent}/${weight.keras}`, shape, dtype: "float32" });
      parts.push({ layer, weight, shapes });
      bytes += 4 * shape.reduce((a, b) => a * b, 1);
    }
  });
  const data = new Uint8Array(bytes);
  const view = new DataView(data.buffer);
  let offset = 0;
  for (const { layer, weight, shapes } of parts) {
    if (weight.layout === "transpose") {
      const p = weight.params[0];
      const { rows, cols } = shapes.get(p)!;
      const w = layer.params[p];
      // Keras's [cols][rows] is our [rows][cols] read column by column.
      for (let i = 0; i < cols; i++) for (let r = 0; r < rows; r++, offset += 4) view.setFloat32(offset, w[r * cols + i], true);
    } else {
      for (const p of weight.params) for (const v of layer.params[p]) { view.setFloat32(offset, v, true); offset += 4; }
    }
  }
  return { specs, data };
}

/** The manifest entry of a layer's Keras weight: its name's segments contain the layer's name and end with the weight's. */
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
 * Reads every layer's parameters (for `specs`, one per layer of `reading`) out of the weight
 * bytes. A missing weight is an error, except a bias the Keras layer does not have (use_bias
 * false): it stays zero. Every manifest entry must belong to a layer. `bytes` has been checked to
 * hold exactly `reading.byteLength` bytes.
 */
export function unpackWeights(reading: TfjsReading, specs: readonly LayerSpec[], bytes: Uint8Array): Params[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const used = new Set<ManifestWeight>();
  const out = reading.layers.map((entry, k) => {
    const spec = specs[k];
    const shapes = shapesOf(spec);
    const params: Params = {};
    for (const [name, s] of shapes) params[name] = new Float64Array(s.rows * s.cols);
    for (const { weight, owner } of weightsOf(spec)) {
      const keras = owner === "dense" ? entry.dense! : entry.recurrent;
      const names = owner === "dense" ? entry.dense!.names : [entry.recurrent.name];
      const layerName = names[names.length - 1];
      const w = findWeight(reading.weights, used, names, weight.keras);
      if (weight.isBias && !keras.useBias) {
        if (w) c.fail(w.field, `"${w.name}" is given but ${layerName} has use_bias false`);
        continue; // no bias: ours stay zero, which computes the same
      }
      if (!w) c.fail("weightsManifest", `no weight for ${layerName}'s ${weight.keras} (${keras.field})`);
      used.add(w);
      const expected = kerasShape(weight, shapes);
      if (w.shape.length !== expected.length || w.shape.some((d, i) => d !== expected[i])) {
        c.fail(`${w.field}.shape`, `"${w.name}" is [${w.shape.join(", ")}] but ${layerName} needs [${expected.join(", ")}]`);
      }
      let offset = w.offset;
      if (weight.layout === "transpose") {
        const p = weight.params[0];
        const { rows, cols } = shapes.get(p)!;
        const dst = params[p];
        for (let i = 0; i < cols; i++) for (let r = 0; r < rows; r++, offset += 4) dst[r * cols + i] = view.getFloat32(offset, true);
      } else {
        for (const p of weight.params) {
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
