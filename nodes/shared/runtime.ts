/**
 * What the five nodes share: reading their configuration, the record a training batch carries in
 * msg.rnn, bounded caches, and status throttling. Nothing numerical lives here (that is `src/`).
 */
import type { Node, NodeMessage } from "node-red";
import type { ScalerJSON, WindowJSON } from "../../src";

export type Send = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type Done = (err?: Error) => void;

/** A configuration value that is out of range: the message names the field. */
export class ConfigError extends Error {}

type Raw = Record<string, unknown>;

function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== "";
}

export function intField(config: Raw, key: string, def: number, min: number, max: number): number {
  const raw = present(config[key]) ? Number(config[key]) : def;
  if (!Number.isInteger(raw) || raw < min || raw > max) {
    throw new ConfigError(`${key} must be a whole number from ${min} to ${max}, got ${JSON.stringify(config[key])}`);
  }
  return raw;
}

export function numField(config: Raw, key: string, def: number, min: number, max: number, { exclusiveMin = false } = {}): number {
  const raw = present(config[key]) ? Number(config[key]) : def;
  if (!Number.isFinite(raw) || raw > max || (exclusiveMin ? raw <= min : raw < min)) {
    throw new ConfigError(`${key} must be a number ${exclusiveMin ? "above" : "from"} ${min}${max < Infinity ? ` to ${max}` : ""}, got ${JSON.stringify(config[key])}`);
  }
  return raw;
}

export function enumField<T extends string>(config: Raw, key: string, def: T, allowed: readonly T[]): T {
  const raw = present(config[key]) ? String(config[key]) : def;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${key} must be one of ${allowed.join(", ")}, got ${JSON.stringify(config[key])}`);
  return raw as T;
}

export function boolField(config: Raw, key: string, def: boolean): boolean {
  const v = config[key];
  if (v === undefined || v === null || v === "") return def;
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  throw new ConfigError(`${key} must be true or false, got ${JSON.stringify(v)}`);
}

const FORBIDDEN_FIELDS = new Set(["__proto__", "constructor", "prototype"]);

/** "temp, humidity" → ["temp", "humidity"]; empty → undefined (meaning "all"). */
export function fieldList(config: Raw, key: string): string[] | undefined {
  const v = config[key];
  if (!present(v)) return undefined;
  const names = String(v).split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  for (const n of names) if (FORBIDDEN_FIELDS.has(n)) throw new ConfigError(`${key}: "${n}" cannot be used as a field name`);
  return names.length ? names : undefined;
}

/** Where a layer (or the loss node) keeps the heavy state of one batch: looked up by the trainer. */
export interface StateRef {
  id: string;
  key: string | null;
}

/** What a training batch carries in msg.rnn (contract: see docs/nodes.md). */
export interface RunInfo {
  id: string;
  phase: "train" | "validate";
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  valBatches: number;
  /** The rnn sequence node that emitted the batch and waits for its acknowledgement. */
  source: string;
  scaler: ScalerJSON;
  window: WindowJSON;
  layers: StateRef[];
  loss?: StateRef;
}

export function isRunInfo(v: unknown): v is RunInfo {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Partial<RunInfo>;
  return typeof r.id === "string" && (r.phase === "train" || r.phase === "validate") && typeof r.source === "string" && Array.isArray(r.layers) &&
    Number.isInteger(r.epoch) && Number.isInteger(r.batch) && Number.isInteger(r.batches) && Number.isInteger(r.valBatches) && Number.isInteger(r.epochs);
}

/** A token naming one batch of one run, for acknowledgements and de-duplication. */
export function batchToken(r: RunInfo): string {
  return `${r.id}/${r.epoch}/${r.phase}/${r.batch}`;
}

/**
 * A Map with a size bound: the oldest entry is dropped when full. Caches of activations use it so
 * a dropped message can never make memory grow.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly limit: number) {}

  get size(): number {
    return this.map.size;
  }
  get(key: K): V | undefined {
    return this.map.get(key);
  }
  /** Reads and refreshes recency (for per-topic states). */
  touch(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.limit) {
      const oldest = this.map.keys().next().value as K;
      this.map.delete(oldest);
    }
  }
  take(key: K): V | undefined {
    const v = this.map.get(key);
    this.map.delete(key);
    return v;
  }
  /** Removes every entry whose value matches (e.g. all batches of a finished run). */
  deleteWhere(pred: (value: V) => boolean): void {
    for (const [k, v] of Array.from(this.map)) if (pred(v)) this.map.delete(k);
  }
  clear(): void {
    this.map.clear();
  }
}

/**
 * Status updates throttled to one per interval (a training run changes state hundreds of times a
 * second; the editor only needs to see the latest), with the last one always delivered.
 */
export class StatusThrottle {
  private last = 0;
  private pending: Parameters<Node["status"]>[0] | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly node: Node, private readonly intervalMs = 250) {}

  set(status: Parameters<Node["status"]>[0], urgent = false): void {
    const now = Date.now();
    if (urgent || now - this.last >= this.intervalMs) {
      this.cancel();
      this.last = now;
      this.node.status(status);
      return;
    }
    this.pending = status;
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.pending) {
          this.last = Date.now();
          this.node.status(this.pending);
          this.pending = null;
        }
      }, this.intervalMs - (now - this.last));
    }
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }
}

/** Short text for a status: at most `max` characters. */
export function short(text: string, max = 32): string {
  return text.length <= max ? text : text.slice(0, max - 1) + "…";
}

export function fmt(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return Number(v.toPrecision(digits)).toString();
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Shape of a nested numeric payload: 3 = B×T×F, 2 = T×F, 1 = a flat list, 0 = not numeric. */
export function nestingDepth(v: unknown): number {
  let depth = 0;
  let cur: unknown = v;
  while (Array.isArray(cur)) {
    if (cur.length === 0) return 0;
    depth++;
    cur = cur[0];
    if (depth > 3) return 0;
  }
  return typeof cur === "number" ? depth : 0;
}
