/**
 * How many numbers one message may bring to an rnn layer or rnn loss node outside training. The
 * limit is set from the memory a message costs while it is worked on, against a share of the
 * JavaScript heap Node-RED runs with, so that one message cannot take a small device's Node-RED
 * down; a flow that needs more raises it in settings.js (`rnnMaxValues`).
 */
import * as v8 from "v8";
import type { NodeAPI } from "node-red";
import { MAX_TENSOR_VALUES } from "../../src";
import { nestedShape } from "./nestedShape";

/**
 * Bytes one number costs while a message is worked on, counted for every number that comes in
 * and every number that goes out (measured with Node.js 20, `process.memoryUsage` after GC):
 * - 64: the number as it arrives or leaves, a step [x] of a nested array (a small array of its
 *   own: 56 bytes, and 8 for the pointer to it; a flat list of numbers takes 8);
 * - 2 × 80: two deep copies Node-RED may make of it (lodash's cloneDeep, 80 bytes a step): one
 *   for a Catch or Complete node, one for a second wire out of the node before it or after it;
 * - 8: the packed Float64Array the forward pass (or the loss) reads or writes;
 * - 24 to spare for the rest: the hidden states of a block, the arrays' headers, V8's slack.
 * 64 + 160 + 8 + 24 = 256.
 */
export const BYTES_PER_VALUE = 256;

/**
 * The share of the heap one message may take (1/4): the rest is Node-RED, the other flows, and
 * room for V8 to collect in. The V8 heap limit is `--max-old-space-size` plus the young
 * generation: 560 MB with `--max-old-space-size=512` (a Raspberry Pi's Node-RED), 4 GB by
 * default on a 64-bit machine with enough memory.
 */
export const HEAP_SHARE = 1 / 4;

/** The setting in settings.js that replaces the default. */
export const MAX_VALUES_SETTING = "rnnMaxValues";

/**
 * The default limit: heap limit × 1/4 ÷ 256 bytes. With a 560 MB heap limit that is 573,000
 * numbers in and out together (e.g. 286,000 readings into a layer with one output each); with
 * 4 GB, 4.2 million. Never above what one packed tensor may hold.
 */
export function defaultMaxValues(heapLimitBytes = v8.getHeapStatistics().heap_size_limit): number {
  return Math.min(MAX_TENSOR_VALUES, Math.floor((heapLimitBytes * HEAP_SHARE) / BYTES_PER_VALUE));
}

/** Runtimes (their settings objects) already told that their setting is unusable. */
const warned = new WeakSet<object>();

/**
 * The limit of the runtime, with the note that stands for a payload beyond it (see oversizedNote).
 * Set when the layer and loss node types register, which they do whenever Node-RED loads the
 * package: every node's errors go through it, and Node-RED runs one runtime per process.
 */
let inForce: { limit: number; note: (values: number) => string } | null = null;

/**
 * The limit in force: settings.js's `rnnMaxValues` (a whole number from 1 to MAX_TENSOR_VALUES),
 * else the default. `invalid` is called with the value when the setting is there but unusable
 * (then the default applies): the node says so in the log rather than refuse every message, once
 * per runtime for all the node types that read it. `type` names the catalogue of the note.
 */
export function maxValues(RED: NodeAPI, type: string, invalid: (value: string) => void): number {
  const settings = RED.settings as unknown as Record<string, unknown>;
  let raw: unknown;
  try {
    raw = settings[MAX_VALUES_SETTING];
  } catch {
    raw = undefined;
  }
  let limit = defaultMaxValues();
  if (typeof raw === "number" && Number.isInteger(raw) && raw >= 1 && raw <= MAX_TENSOR_VALUES) limit = raw;
  else if (raw !== undefined && raw !== null && !warned.has(settings)) {
    warned.add(settings);
    invalid(typeof raw === "string" || typeof raw === "number" ? String(raw) : typeof raw);
  }
  inForce = { limit, note: (values) => RED._(`${type}.errors.removed`, { values }) };
  return limit;
}

/**
 * How many numbers a payload holds, as far as can be told without reading them: B×T×F for a
 * numeric batch (nestedShape), else the entries of an array (a series of rows, readings), else 0.
 */
export function countNumbers(v: unknown): number {
  if (!Array.isArray(v)) return 0;
  const shape = nestedShape(v);
  return shape ? shape.B * shape.T * shape.F : v.length;
}

/**
 * The note that replaces a payload (or target) of a message ended with an error when it holds
 * more numbers than the limit; null when it does not. Node-RED gives every Catch node a deep copy
 * of a failed message: of a payload that size, a second copy as large as the one the limit kept
 * from being worked on (2,000,000 numbers nested as steps: half a second and 160 MB).
 */
export function oversizedNote(v: unknown): string | null {
  if (!inForce) return null;
  const n = countNumbers(v);
  return n > inForce.limit ? inForce.note(n) : null;
}
