/**
 * How a training run gets from an rnn sequence node to an rnn trainer.
 *
 * One message travels the wires at the start of a run. The sequence node prepares the series and
 * leaves it here, under the run's id; the message carries only that id and collects, node by node,
 * the description of the chain (each rnn layer adds its settings, the rnn loss adds its loss). The
 * trainer that receives it claims the prepared data, builds one model from the description and
 * trains it; through the same ticket the sequence hears how the run goes and can stop it. Nothing
 * heavy travels in messages, so fan-out copies and debug nodes cost nothing, and there is one
 * place where a run's state lives: the trainer.
 */
import type { LossName, PreparedRun } from "../../src";
import { LOSSES } from "../../src";
import { BoundedMap } from "./runtime";

/** What an rnn layer node puts into the chain description: its id and its settings as configured. */
export interface ChainLayer {
  id: string;
  /** The node's label, for messages that name it. */
  name: string;
  /** The layer's settings, as the layer node's configuration fields (validated again by the trainer). */
  settings: Record<string, unknown>;
}

export interface ChainLoss {
  id: string;
  loss: LossName;
  delta: number;
}

/** msg.rnn of the message that starts a run (contract: docs/nodes.md). */
export interface RunRecord {
  /** The id of the run: the key of its ticket. */
  run: string;
  /** The rnn sequence node that prepared it. */
  source: string;
  layers: ChainLayer[];
  loss: ChainLoss | null;
}

/** The settings of the sequence node that shape training (the trainer's loop follows them). */
export interface RunSettings {
  epochs: number;
  batchSize: number;
  shuffle: boolean;
  seed: number;
}

export type RunEnd = "completed" | "early-stopped" | "stopped" | "diverged" | "failed";

/** What the sequence hears about its run, and how the trainer can be asked to stop it. */
export interface RunTicket {
  readonly id: string;
  readonly source: string;
  /** _msgid of the message that started the run: a node that built a new message kept it. */
  readonly msgid: string;
  /** The series as prepared for training: windows packed, scaler fitted, baselines measured. */
  readonly data: PreparedRun;
  readonly settings: RunSettings;
  /** The trainer that took the run, once one has. */
  trainer: string | null;
  /** Set by the trainer when it takes the run: ends it after the current minibatch. */
  stop: (() => void) | null;
  /** Set by the sequence: the trainer reports here. */
  onClaim(trainer: string): void;
  onEpoch(epoch: number, epochs: number): void;
  onEnd(reason: RunEnd, why?: string): void;
}

/**
 * The tickets of runs prepared and not yet ended, by run id. Each sequence node has at most one
 * (one run at a time) and removes it when the run ends or the node closes, so this holds at most
 * one entry per deployed sequence node.
 */
const tickets = new Map<string, RunTicket>();
/** Runs that ended recently: their message may still be on its way, and is then dropped quietly. */
const ended = new BoundedMap<string, true>(64);

export function publish(ticket: RunTicket): void {
  tickets.set(ticket.id, ticket);
}

export function withdraw(id: string): void {
  if (tickets.delete(id)) ended.set(id, true);
}

export function hasEnded(id: unknown): boolean {
  return typeof id === "string" && ended.get(id) === true;
}

export function findTicket(id: unknown): RunTicket | null {
  return typeof id === "string" ? tickets.get(id) ?? null : null;
}

/** The unclaimed run whose starting message had this _msgid (a node on the way dropped msg.rnn). */
export function findByMessage(msgid: unknown): RunTicket | null {
  if (typeof msgid !== "string") return null;
  for (const t of tickets.values()) if (t.msgid === msgid && t.trainer === null) return t;
  return null;
}

/** Longest chain description accepted (layers in one chain). */
const MAX_CHAIN_LAYERS = 64;

/** Whether `v` is an object that has every one of `keys` as its own property (not inherited). */
function hasOwn(v: unknown, keys: string[]): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && keys.every((k) => Object.prototype.hasOwnProperty.call(v, k));
}

/** Most settings a layer entry may carry (a layer node writes seven). */
export const MAX_LAYER_SETTINGS = 32;
/** Longest run id accepted (the sequence node's ids are 16 characters). */
export const MAX_RUN_ID = 200;

/**
 * A layer's settings are flat: what the node's dialog stores (numbers, strings, true/false; null
 * or undefined for "the default"). Nothing nested can then travel inside a run record.
 */
function isFlatSettings(v: unknown): boolean {
  if (!hasOwn(v, [])) return false;
  const entries = Object.entries(v);
  return entries.length <= MAX_LAYER_SETTINGS && entries.every(([, x]) => x === null || x === undefined || typeof x === "number" || typeof x === "string" || typeof x === "boolean");
}

function isChainLayer(v: unknown): v is ChainLayer {
  if (!hasOwn(v, ["id", "name", "settings"])) return false;
  return typeof v.id === "string" && typeof v.name === "string" && isFlatSettings(v.settings);
}

function isChainLoss(v: unknown): v is ChainLoss {
  if (!hasOwn(v, ["id", "loss", "delta"])) return false;
  return typeof v.id === "string" && LOSSES.includes(v.loss as LossName) && typeof v.delta === "number" && Number.isFinite(v.delta) && v.delta > 0;
}

/**
 * Whether `v` is a whole run record. Every field a node reads is checked here, so a record edited
 * on its way fails this one test, with one message, instead of failing deep inside a node.
 */
export function isRunRecord(v: unknown): v is RunRecord {
  // Own properties only: a record built on another by Object.create would lose them when copied.
  if (!hasOwn(v, ["run", "source", "layers", "loss"])) return false;
  const layers = v.layers;
  return typeof v.run === "string" && v.run.length <= MAX_RUN_ID && typeof v.source === "string" && Array.isArray(layers) && layers.length <= MAX_CHAIN_LAYERS &&
    layers.every(isChainLayer) && (v.loss === null || isChainLoss(v.loss));
}
