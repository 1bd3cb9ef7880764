/**
 * What the editor's rnn sidebar draws, sent over Node-RED's own editor connection (RED.comms):
 * one retained message per node on `rnn/trainer/<id>` or `rnn/predictor/<id>`, holding the whole
 * bounded picture (not increments), so an editor opened after a run still shows it and a
 * message replaces the one before it. Nothing here grows with time: each node keeps one bounded
 * buffer, dropped when the node closes, and publishes at most a few times per second.
 */
import type { Node, NodeAPI } from "node-red";
import { BoundedMap } from "./runtime";

/** Epochs kept per trainer; a longer run keeps every k-th epoch (k doubling) and always the latest. */
export const MAX_EPOCHS = 500;
/** Readings kept per predictor. */
export const MAX_READINGS = 300;
/** Least time between two publications of one node: a fast run ends hundreds of epochs a second. */
export const PUBLISH_INTERVAL_MS = 250;

export const trainerTopic = (id: string): string => `rnn/trainer/${id}`;
export const predictorTopic = (id: string): string => `rnn/predictor/${id}`;

type Publish = (topic: string, data: unknown, retain: boolean) => void;

/** RED.comms.publish when this runtime has it (a test runtime may not). */
function publisherOf(RED: NodeAPI): Publish | null {
  const comms = (RED as unknown as { comms?: { publish?: unknown } }).comms;
  if (!comms || typeof comms.publish !== "function") return null;
  const publish = comms.publish as Publish;
  return (topic, data, retain) => publish.call(comms, topic, data, retain);
}

const finite = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const first = (v: unknown): number | null => finite(Array.isArray(v) ? v[0] : v);

/**
 * One node's retained topic: coalesces changes into at most one publication per interval (the
 * last state always goes out), and on close stops its timer; a removed node's topic is emptied.
 */
class Channel {
  private readonly publish: Publish | null;
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private closed = false;

  constructor(RED: NodeAPI, node: Node, private readonly topic: string, private readonly snapshot: () => unknown, private readonly onClose: () => void) {
    this.publish = publisherOf(RED);
    node.on("close", (removed: boolean, done: () => void) => {
      this.closed = true;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.onClose();
      // A redeploy keeps the last picture (the new instance replaces it at its next run); a node
      // taken out of the flows takes its picture with it (retain false removes the retained copy).
      if (removed) this.send(null, false);
      done();
    });
  }

  /** The state changed: publish now if the interval has passed (or `now`), else once it has. */
  changed(now = false): void {
    if (this.closed || !this.publish) return;
    const wait = PUBLISH_INTERVAL_MS - (Date.now() - this.last);
    if (now || wait <= 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, wait);
      this.timer.unref();
    }
  }

  private flush(): void {
    if (this.closed) return;
    this.last = Date.now();
    this.send(this.snapshot(), true);
  }

  private send(data: unknown, retain: boolean): void {
    try {
      this.publish?.(this.topic, data, retain);
    } catch {
      // The editor's connection is a view: a failure there must never reach a node's message handling.
    }
  }
}

/** Columns of the per-epoch series, one entry per kept epoch (columns: what uPlot draws). */
interface EpochColumns {
  epoch: number[];
  loss: (number | null)[];
  valLoss: (number | null)[];
  valRmse: (number | null)[];
  lr: (number | null)[];
  skipped: number[];
}

export interface TrainerPicture {
  kind: "trainer";
  /** "running" while a run trains; otherwise how the last run ended. */
  state: string;
  epochs: number;
  bestEpoch: number | null;
  /** Every `stride`-th epoch is kept (1 until the run outgrows MAX_EPOCHS), and the latest. */
  stride: number;
  points: EpochColumns;
  /** The naive rules' validation RMSE in real units (the unit of valRmse), when known. */
  baselines: { persistence: number | null; seasonal: number | null; season: number | null; best: string | null } | null;
  /** ‖∂L/∂h_t‖ of the latest epoch per layer, index 0 = the oldest time step (with Gradients on). */
  gradient: { epoch: number; layers: number[][] } | null;
}

const emptyColumns = (): EpochColumns => ({ epoch: [], loss: [], valLoss: [], valRmse: [], lr: [], skipped: [] });

/** A trainer's feed: `start` at a run's start (clears), `epoch` with each epoch payload, `end` with how it ended. */
export class TrainerFeed {
  private picture: TrainerPicture = TrainerFeed.blank(0);
  /** Epochs seen in this run (the decimation counts them, whatever their numbers). */
  private seen = 0;
  /** Whether the last kept point is only there as "the latest" and gives way to the next one. */
  private provisional = false;
  private readonly channel: Channel;

  constructor(RED: NodeAPI, node: Node) {
    this.channel = new Channel(RED, node, trainerTopic(node.id), () => this.picture, () => (this.picture = TrainerFeed.blank(0)));
  }

  private static blank(epochs: number): TrainerPicture {
    return { kind: "trainer", state: "running", epochs, bestEpoch: null, stride: 1, points: emptyColumns(), baselines: null, gradient: null };
  }

  start(epochs: number): void {
    this.picture = TrainerFeed.blank(epochs);
    this.seen = 0;
    this.provisional = false;
    this.channel.changed(true);
  }

  /** Takes the payload the trainer sends on its first output for one epoch. */
  epoch(payload: Record<string, unknown>): void {
    const p = this.picture;
    const cols = p.points;
    if (this.provisional) for (const c of Object.values(cols)) c.pop();
    const metrics = payload.metrics as { rmse?: unknown } | undefined;
    cols.epoch.push(Number(payload.epoch));
    cols.loss.push(finite(payload.loss));
    cols.valLoss.push(finite(payload.valLoss));
    cols.valRmse.push(finite(metrics?.rmse));
    cols.lr.push(finite(payload.lr));
    cols.skipped.push(Number(payload.skipped) || 0);
    this.provisional = this.seen % p.stride !== 0;
    this.seen++;
    if (cols.epoch.length > MAX_EPOCHS) this.thin();
    const b = payload.baselines as { best?: string | null; persistence?: { rmse?: unknown } | null; seasonal?: { rmse?: unknown; season?: unknown } | null } | undefined;
    if (b) p.baselines = { persistence: finite(b.persistence?.rmse), seasonal: finite(b.seasonal?.rmse), season: finite(b.seasonal?.season), best: b.best ?? null };
    const layers = payload.dhNormLayers;
    if (Array.isArray(layers)) p.gradient = { epoch: Number(payload.epoch), layers: layers.map((l) => (Array.isArray(l) ? l.map((v) => finite(v) ?? 0) : [])) };
    this.channel.changed();
  }

  /** Doubles the stride: keeps the epochs on the new grid, and the latest one. */
  private thin(): void {
    const p = this.picture;
    p.stride *= 2;
    const cols = p.points;
    const n = cols.epoch.length;
    // Kept point k is the (k·oldStride)-th epoch of the run, except a provisional last one.
    const keep: number[] = [];
    for (let k = 0; k < n; k++) if (k % 2 === 0 || k === n - 1) keep.push(k);
    const columns = cols as unknown as Record<string, unknown[]>;
    for (const key of Object.keys(columns)) columns[key] = keep.map((k) => columns[key][k]);
    this.provisional = (this.seen - 1) % p.stride !== 0;
  }

  end(reason: string, bestEpoch: number | null): void {
    this.picture.state = reason;
    this.picture.bestEpoch = bestEpoch;
    this.channel.changed(true);
  }
}

/** Columns of a predictor's recent readings: time (ms), the reading, the forecast made for it and its interval. */
interface ReadingColumns {
  time: number[];
  actual: (number | null)[];
  predicted: (number | null)[];
  lower: (number | null)[];
  upper: (number | null)[];
  anomaly: boolean[];
}

/** One stream's part of the picture. */
export interface StreamPicture {
  level: number | null;
  points: ReadingColumns;
  /** The forecast made at the latest reading, `ahead` readings later, with its interval. */
  next: { ahead: number; predicted: number | null; lower: number | null; upper: number | null } | null;
}

export interface PredictorPicture {
  kind: "predictor";
  /** Per msg.topic (a predictor may serve several sensors), the most recently read first out of MAX_STREAMS. */
  streams: Record<string, StreamPicture>;
  /** The stream of the latest reading. */
  latest: string | null;
}

/** Streams kept per predictor; the one read least recently is dropped beyond it. */
export const MAX_STREAMS = 4;

const emptyReadings = (): ReadingColumns => ({ time: [], actual: [], predicted: [], lower: [], upper: [], anomaly: [] });

/** What the predictor knows at one reading of its stream. */
export interface ForecastAtReading {
  stream: string;
  time: number;
  /** The reading's value of the first target. */
  actual: unknown;
  /** The check of the forecast made earlier for this reading (msg.forecast.previous), if any. */
  previous?: { predicted?: unknown; lower?: unknown; upper?: unknown; anomaly?: unknown };
  /** The forecast made now (its first step and first target are drawn). */
  forecast: { values: number[][]; lower: number[][] | null; upper: number[][] | null; level: number | null };
  /** Readings ahead that forecast is for. */
  ahead: number;
}

/** A predictor's feed: `reading` at each reading it forecasts from, `clear` when it forgets its readings. */
export class PredictorFeed {
  private readonly streams = new BoundedMap<string, StreamPicture>(MAX_STREAMS);
  private latest: string | null = null;
  private readonly channel: Channel;

  constructor(RED: NodeAPI, node: Node) {
    this.channel = new Channel(RED, node, predictorTopic(node.id), () => this.picture(), () => this.forget());
  }

  private picture(): PredictorPicture {
    const streams: Record<string, StreamPicture> = {};
    for (const [name, s] of this.streams.entries()) streams[name] = s;
    return { kind: "predictor", streams, latest: this.latest };
  }

  private forget(): void {
    this.streams.clear();
    this.latest = null;
  }

  reading(r: ForecastAtReading): void {
    let s = this.streams.touch(r.stream);
    if (!s) {
      s = { level: null, points: emptyReadings(), next: null };
      this.streams.set(r.stream, s);
    }
    this.latest = r.stream;
    const cols = s.points;
    const prev = r.previous;
    cols.time.push(r.time);
    cols.actual.push(finite(r.actual));
    cols.predicted.push(first(prev?.predicted));
    cols.lower.push(first(prev?.lower));
    cols.upper.push(first(prev?.upper));
    cols.anomaly.push(prev?.anomaly === true);
    if (cols.time.length > MAX_READINGS) for (const c of Object.values(cols)) c.shift();
    const f = r.forecast;
    s.level = f.level;
    s.next = { ahead: r.ahead, predicted: finite(f.values[0]?.[0]), lower: finite(f.lower?.[0]?.[0]), upper: finite(f.upper?.[0]?.[0]) };
    this.channel.changed();
  }

  clear(): void {
    this.forget();
    this.channel.changed();
  }
}
