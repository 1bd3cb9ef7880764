/**
 * Normalisation of features and targets, stored with the model so that forecasts come back
 * in the sensor's own units. Every kind is the same affine map per column:
 *
 *     x_scaled = (x − offset) / scale
 *
 * so a saved scaler needs nothing but offsets and scales, whatever kind produced them.
 */
import { ScalerJSON } from "../types";

export type ScalerKind = ScalerJSON["kind"];
export const SCALER_KINDS: readonly ScalerKind[] = ["none", "minmax", "zscore"];

/** Per-column affine parameters. */
export interface Affine {
  offset: number[];
  scale: number[];
}

const MAX_COLUMNS = 1_000;

/**
 * Offset and scale of one column of the fitting rows.
 * minmax: offset = min, scale = max − min, so the fitted range maps to [0, 1].
 * zscore: offset = mean, scale = population standard deviation (divided by n, not n − 1), so
 * the fitted rows get mean 0 and standard deviation 1 exactly.
 * A constant column gets scale 1: it becomes 0 after scaling instead of a division by zero.
 */
function fitColumn(rows: number[][], col: number, kind: ScalerKind): [number, number] {
  if (kind === "none") return [0, 1];
  const n = rows.length;
  if (kind === "minmax") {
    let lo = Infinity;
    let hi = -Infinity;
    for (let r = 0; r < n; r++) {
      const v = rows[r][col];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const range = hi - lo;
    if (!Number.isFinite(range)) throw new Error(`scaler: column ${col} spans a range too large to scale`);
    return [lo, range > 0 ? range : 1];
  }
  // Two passes: the textbook one-pass formula loses precision when the mean is large.
  let sum = 0;
  for (let r = 0; r < n; r++) sum += rows[r][col];
  const mean = sum / n;
  let sq = 0;
  for (let r = 0; r < n; r++) {
    const d = rows[r][col] - mean;
    sq += d * d;
  }
  const std = Math.sqrt(sq / n);
  if (!Number.isFinite(mean) || !Number.isFinite(std)) throw new Error(`scaler: column ${col} holds values too large to scale`);
  return [mean, std > 0 ? std : 1];
}

function fitColumns(rows: number[][], cols: number[], kind: ScalerKind): Affine {
  const offset: number[] = [];
  const scale: number[] = [];
  for (const c of cols) {
    const [o, s] = fitColumn(rows, c, kind);
    offset.push(o);
    scale.push(s);
  }
  return { offset, scale };
}

function checkLength(values: ArrayLike<number>, expected: number, what: string): void {
  if (values.length !== expected) throw new Error(`scaler: expected ${expected} ${what}, got ${values.length}`);
}

function forward(values: ArrayLike<number>, a: Affine, what: string): number[] {
  checkLength(values, a.offset.length, what);
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = (values[i] - a.offset[i]) / a.scale[i];
  return out;
}

function inverse(values: ArrayLike<number>, a: Affine, what: string): number[] {
  checkLength(values, a.offset.length, what);
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] * a.scale[i] + a.offset[i];
  return out;
}

function forwardInPlace(table: number[][], a: Affine, what: string): number[][] {
  for (const row of table) {
    checkLength(row, a.offset.length, what);
    for (let i = 0; i < row.length; i++) row[i] = (row[i] - a.offset[i]) / a.scale[i];
  }
  return table;
}

function readAffine(value: unknown, path: string): Affine {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${path} must be an object`);
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key !== "offset" && key !== "scale") throw new Error(`${path}: unexpected field ${JSON.stringify(key)}`);
  }
  const read = (name: "offset" | "scale"): number[] => {
    const arr = obj[name];
    if (!Array.isArray(arr)) throw new Error(`${path}.${name} must be an array of numbers`);
    if (arr.length === 0 || arr.length > MAX_COLUMNS) {
      throw new Error(`${path}.${name} must hold 1 to ${MAX_COLUMNS} numbers, got ${arr.length}`);
    }
    return arr.map((v, i) => {
      if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${path}.${name}[${i}] must be a finite number`);
      if (name === "scale" && v === 0) throw new Error(`${path}.scale[${i}] must not be 0`);
      return v;
    });
  };
  const offset = read("offset");
  const scale = read("scale");
  if (offset.length !== scale.length) {
    throw new Error(`${path}: offset has ${offset.length} entries but scale has ${scale.length}`);
  }
  return { offset, scale };
}

/** Scales feature vectors and target vectors (each in window order, not table order). */
export class Scaler {
  readonly kind: ScalerKind;
  readonly features: Readonly<Affine>;
  readonly targets: Readonly<Affine>;

  constructor(kind: ScalerKind, features: Affine, targets: Affine) {
    if (!SCALER_KINDS.includes(kind)) throw new Error(`scaling must be "none", "minmax" or "zscore", got ${String(kind)}`);
    this.kind = kind;
    this.features = Object.freeze({ offset: features.offset.slice(), scale: features.scale.slice() });
    this.targets = Object.freeze({ offset: targets.offset.slice(), scale: targets.scale.slice() });
  }

  /**
   * Fit on the rows given: pass the training rows only, so nothing about the validation
   * part (its range, its mean) leaks into training.
   */
  static fit(rows: number[][], featureCols: number[], targetCols: number[], kind: ScalerKind): Scaler {
    if (!SCALER_KINDS.includes(kind)) throw new Error(`scaling must be "none", "minmax" or "zscore", got ${String(kind)}`);
    if (!Array.isArray(rows) || rows.length === 0) throw new Error("scaler: no rows to fit on");
    const width = rows[0].length;
    for (const [name, cols] of [["featureCols", featureCols], ["targetCols", targetCols]] as const) {
      if (!Array.isArray(cols) || cols.length === 0) throw new Error(`scaler: ${name} must be a non-empty array`);
      cols.forEach((c, i) => {
        if (!Number.isInteger(c) || c < 0 || c >= width) throw new Error(`scaler: ${name}[${i}] = ${c} is not a column index`);
      });
    }
    const used = Array.from(new Set([...featureCols, ...targetCols]));
    rows.forEach((row, r) => {
      if (!Array.isArray(row) || row.length !== width) throw new Error(`scaler: rows[${r}] must hold ${width} numbers`);
      for (const c of used) {
        if (typeof row[c] !== "number" || !Number.isFinite(row[c])) throw new Error(`scaler: rows[${r}][${c}] is not a finite number`);
      }
    });
    return new Scaler(kind, fitColumns(rows, featureCols, kind), fitColumns(rows, targetCols, kind));
  }

  /** A scaler that changes nothing, for F features and O targets. */
  static identity(F: number, O: number): Scaler {
    const ident = (k: number): Affine => ({ offset: new Array(k).fill(0), scale: new Array(k).fill(1) });
    return new Scaler("none", ident(F), ident(O));
  }

  get featureCount(): number {
    return this.features.offset.length;
  }
  get targetCount(): number {
    return this.targets.offset.length;
  }

  transformFeatures(values: ArrayLike<number>): number[] {
    return forward(values, this.features, "features");
  }
  transformTargets(values: ArrayLike<number>): number[] {
    return forward(values, this.targets, "targets");
  }
  inverseFeatures(values: ArrayLike<number>): number[] {
    return inverse(values, this.features, "features");
  }
  /** Back to real units, e.g. a forecast from the network. */
  inverseTargets(values: ArrayLike<number>): number[] {
    return inverse(values, this.targets, "targets");
  }

  /** Scale a table of feature vectors in place (and return it). */
  transformFeatureRows(table: number[][]): number[][] {
    return forwardInPlace(table, this.features, "features");
  }
  /** Scale a table of target vectors in place (and return it). */
  transformTargetRows(table: number[][]): number[][] {
    return forwardInPlace(table, this.targets, "targets");
  }

  toJSON(): ScalerJSON {
    return {
      kind: this.kind,
      features: { offset: this.features.offset.slice(), scale: this.features.scale.slice() },
      targets: { offset: this.targets.offset.slice(), scale: this.targets.scale.slice() },
    };
  }

  /** Read a saved scaler, checking every field; `path` prefixes error messages. */
  static fromJSON(json: unknown, path = "scaler"): Scaler {
    if (typeof json !== "object" || json === null || Array.isArray(json)) throw new Error(`${path} must be an object`);
    const obj = json as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (key !== "kind" && key !== "features" && key !== "targets") {
        throw new Error(`${path}: unexpected field ${JSON.stringify(key)}`);
      }
    }
    const kind = obj.kind;
    if (typeof kind !== "string" || !SCALER_KINDS.includes(kind as ScalerKind)) {
      throw new Error(`${path}.kind must be "none", "minmax" or "zscore"`);
    }
    return new Scaler(kind as ScalerKind, readAffine(obj.features, `${path}.features`), readAffine(obj.targets, `${path}.targets`));
  }
}
