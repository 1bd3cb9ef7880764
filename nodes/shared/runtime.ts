/**
 * What the five nodes share: reading their configuration, bounded caches, reading times, and
 * status throttling. Nothing numerical lives here (that is `src/`).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from "node-red";
import { parseTime, resolveModelPath, splitTimes } from "../../src";
import { oversizedNote } from "./messageBudget";

export type Send = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type Done = (err?: Error) => void;

/** A configuration value that is out of range: the message names the field. */
export class ConfigError extends Error {}

/**
 * A setting the readers below refuse. They run before a node has its catalogue at hand (and the
 * trainer reads a layer's settings with them again), so the error carries the key of its text in
 * the node's catalogue and its values; `configMessage` gives the text where the node reports it.
 */
export class SettingError extends ConfigError {
  constructor(readonly key: string, readonly subs: Record<string, string | number>) {
    super(key);
  }
}

/** The text of a configuration error in the node's language. */
export function configMessage(e: unknown, t: Translate): string {
  return e instanceof SettingError ? t(e.key, e.subs) : errorMessage(e);
}

type Raw = Record<string, unknown>;

function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== "";
}

/** A setting's value as an error shows it: JSON when it has one, else its type in brackets ([bigint], [symbol]…). */
function shown(v: unknown): string {
  try {
    const text = JSON.stringify(v);
    if (text !== undefined) return text.length > 60 ? `${text.slice(0, 60)}…` : text;
  } catch {
    // a BigInt, or a cycle: the type says enough
  }
  return `[${typeof v}]`;
}

/** Only these can be a setting's value; anything else (a Symbol, a BigInt, a function) is refused before Number() or String() throws. */
function plainValue(config: Raw, key: string): unknown {
  const v = config[key];
  const type = typeof v;
  if (v !== undefined && v !== null && type !== "number" && type !== "string" && type !== "boolean") throw new SettingError("errors.settingKind", { setting: key, value: shown(v) });
  return v;
}

export function intField(config: Raw, key: string, def: number, min: number, max: number): number {
  const v = plainValue(config, key);
  const raw = present(v) ? Number(v) : def;
  if (!Number.isInteger(raw) || raw < min || raw > max) {
    throw new SettingError("errors.settingInt", { setting: key, min, max, value: shown(config[key]) });
  }
  return raw;
}

export function numField(config: Raw, key: string, def: number, min: number, max: number, { exclusiveMin = false } = {}): number {
  const v = plainValue(config, key);
  const raw = present(v) ? Number(v) : def;
  if (!Number.isFinite(raw) || raw > max || (exclusiveMin ? raw <= min : raw < min)) {
    throw new SettingError(exclusiveMin ? "errors.settingAbove" : "errors.settingNumber", { setting: key, min, max, value: shown(config[key]) });
  }
  return raw;
}

export function enumField<T extends string>(config: Raw, key: string, def: T, allowed: readonly T[]): T {
  const v = plainValue(config, key);
  const raw = present(v) ? String(v) : def;
  if (!(allowed as readonly string[]).includes(raw)) throw new SettingError("errors.settingChoice", { setting: key, choices: allowed.join(", "), value: shown(config[key]) });
  return raw as T;
}

export function boolField(config: Raw, key: string, def: boolean): boolean {
  const v = plainValue(config, key);
  if (v === undefined || v === null || v === "") return def;
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  throw new SettingError("errors.settingBool", { setting: key, value: shown(v) });
}

const FORBIDDEN_FIELDS = new Set(["__proto__", "constructor", "prototype"]);

/** "temp, humidity" → ["temp", "humidity"]; empty → undefined (meaning "all"). */
export function fieldList(config: Raw, key: string): string[] | undefined {
  const v = config[key];
  if (!present(v)) return undefined;
  const names = String(v).split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  for (const n of names) if (FORBIDDEN_FIELDS.has(n)) throw new SettingError("errors.settingFieldName", { setting: key, field: n });
  return names.length ? names : undefined;
}

/**
 * The time of one reading: inside it ([time, value…] or a time field, found by `timeField` as in a
 * series), otherwise msg.timestamp; null when it has neither. `value` is the reading without its time.
 */
export function readingTime(reading: unknown, timestamp: unknown, timeField: string): { time: number | null; value: unknown } {
  if (Array.isArray(reading) || (typeof reading === "object" && reading !== null)) {
    const split = splitTimes([reading], timeField);
    if (split.times) return { time: split.times[0], value: split.values[0] };
  }
  return { time: timestamp === undefined ? null : parseTime(timestamp, "msg.timestamp"), value: reading };
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
  /** Entries, the least recently set or touched first. */
  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
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

/** Properties of a failed message nested deeper than this are cut out (see endWithError). */
export const MAX_ERROR_NESTING = 500;

/**
 * The note that stands for a property cut out for its nesting, in the runtime's language. Set by
 * every node that starts (setupNode), from its own catalogue: they all have the same text, and
 * Node-RED runs one runtime per process.
 */
let nestedNote: ((levels: number) => string) | null = null;

/**
 * Ends a message with an error. Node-RED hands every Catch node a deep copy of the failed message,
 * made by a recursive function: data nested a few thousand levels deep overflows the stack there,
 * and that RangeError escapes the flow and stops Node-RED. Such properties are replaced by a short
 * note first, and so are a payload and a target larger than one message may be (their copy
 * would cost what the limit spares); nothing else in the message changes.
 */
export function endWithError(done: Done, msg: object, e: unknown): void {
  try {
    const m = msg as Record<string, unknown>;
    // A payload or target beyond the limit of one message first (nodes/shared/messageBudget.ts):
    // then the walk below need not visit its millions of entries.
    for (const key of ["payload", "target"]) {
      const note = oversizedNote(m[key]);
      if (note !== null) m[key] = note;
    }
    for (const key of Object.keys(m)) {
      if (nestedDeeperThan(m[key], MAX_ERROR_NESTING)) m[key] = nestedNote ? nestedNote(MAX_ERROR_NESTING) : "[…]";
    }
  } catch {
    // A property that throws when read (a getter) is Node-RED's to copy or not; the error still goes out.
  }
  done(e instanceof Error ? e : new Error(String(e)));
}

/** Whether the arrays and objects inside `v` nest deeper than `limit` (walked without recursion). */
export function nestedDeeperThan(v: unknown, limit: number): boolean {
  if (typeof v !== "object" || v === null) return false;
  const seen = new Set<object>();
  const stack: object[] = [v];
  const depths: number[] = [1];
  while (stack.length > 0) {
    const cur = stack.pop() as object;
    const depth = depths.pop() as number;
    if (depth > limit) return true;
    if (ArrayBuffer.isView(cur) || seen.has(cur)) continue;
    const values: unknown[] = Array.isArray(cur) ? cur : cur instanceof Map ? [...cur.keys(), ...cur.values()] : cur instanceof Set ? [...cur] : Object.values(cur);
    let inner = false;
    for (const x of values) {
      if (typeof x === "object" && x !== null) {
        stack.push(x);
        depths.push(depth + 1);
        inner = true;
      }
    }
    // Only containers of containers can close a cycle; leaves (rows of numbers) need no record.
    if (inner) seen.add(cur);
  }
  return false;
}

export type Translate = (key: string, subs?: Record<string, string | number>) => string;

export interface NodeSetup<C> {
  config: C;
  /** The node's message catalogue: t("status.idle") reads "<type>.status.idle". */
  t: Translate;
  status: StatusThrottle;
}

/**
 * The start every node shares: create the node, read its configuration once. A configuration that
 * does not validate (a flow imported with a bad value) gives a red status, one logged error naming
 * the field, and an input handler that ends every message with that error: the node stays inert
 * but never throws.
 */
export function setupNode<C>(RED: NodeAPI, node: Node, def: NodeDef, type: string, read: (raw: Record<string, unknown>, t: Translate) => C): NodeSetup<C> | null {
  RED.nodes.createNode(node, def);
  const t: Translate = (key, subs) => RED._(`${type}.${key}`, subs);
  nestedNote = (levels) => RED._(`${type}.errors.nested`, { levels });
  try {
    return { config: read(def as unknown as Record<string, unknown>, t), t, status: new StatusThrottle(node) };
  } catch (e) {
    const message = t("errors.badConfig", { message: configMessage(e, t) });
    node.error(message);
    node.status({ fill: "red", shape: "ring", text: t("status.invalidConfig") });
    node.on("input", (msg: NodeMessageInFlow, _send: Send, done: Done) => endWithError(done, msg, new ConfigError(message)));
    return null;
  }
}

/** Ends a failed message: red status with the reason, and done(err) for Catch nodes. */
export function fail(status: StatusThrottle, done: Done, msg: object, e: unknown): void {
  status.set({ fill: "red", shape: "ring", text: short(errorMessage(e)) }, true);
  endWithError(done, msg, e);
}

/** Node-RED's user directory: where relative model paths live. */
export function userDir(RED: NodeAPI): string {
  const dir = (RED.settings as unknown as { userDir?: string }).userDir;
  return typeof dir === "string" && dir ? dir : process.cwd();
}

/**
 * A node's model path resolved inside the user directory. A path outside it is refused with the
 * text `outside` gives for the path and the directory: the node's catalogue puts the words of its
 * edit dialog first, so the editor and the runtime say the same thing (the core's own message
 * speaks of an option the nodes do not show).
 */
export function modelFilePath(RED: NodeAPI, p: string, outside: (where: { path: string; dir: string }) => string): string {
  const dir = userDir(RED);
  try {
    return resolveModelPath(dir, p);
  } catch (e) {
    if (errorMessage(e).includes("outside the user directory")) throw new ConfigError(outside({ path: JSON.stringify(p), dir }));
    throw e;
  }
}

/**
 * Example flows find the files shipped with the package (the Seattle CSV) through this variable,
 * wherever the package is installed (palette manager, npm, a container): a file-in node resolves
 * relative paths against the process's working directory, which the package does not control.
 */
export function announcePackageDir(): void {
  // dist/nodes/shared → the package root
  if (!process.env.NODE_RED_RNN_DIR) process.env.NODE_RED_RNN_DIR = require("path").resolve(__dirname, "..", "..", "..");
}
