/**
 * rnn sequence: turns readings into scaled windows and feeds a training run, one minibatch per
 * message. The next batch leaves only when the trainer has acknowledged the previous one, so at
 * most one batch is in flight and Node-RED's event loop gets a turn between batches.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { DIFFERENCINGS, GAP_POLICIES, TooFewRowsError, LazyWindows, MAX_SEASON, prepareSeries, PreparedSeries, Random, rowsNeeded, SCALER_KINDS, TARGET_MODES, toRow, toTable, warmUp } from "../src";
import type { Differencing, GapPolicy, ScalerKind, TargetMode } from "../src";
import { findApi, SequenceNodeApi, TrainerNodeApi } from "./shared/apis";
import {
  announcePackageDir,
  batchToken,
  boolField,
  BoundedMap,
  ConfigError,
  Done,
  enumField,
  errorMessage,
  fail,
  fieldList,
  intField,
  numField,
  readingTime,
  RunInfo,
  Send,
  setupNode,
} from "./shared/runtime";

interface SequenceConfig {
  windowLength: number;
  horizon: number;
  features?: string[];
  targets?: string[];
  targetMode: TargetMode;
  scaling: ScalerKind;
  validationSplit: number;
  batchSize: number;
  epochs: number;
  shuffle: boolean;
  seed: number;
  bufferSize: number;
  trainAfter: number;
  ackTimeout: number;
  difference: Differencing | "auto";
  season: number | "auto" | null;
  timeField: string;
  calendar: "auto" | "none";
  gaps: GapPolicy;
  /** "recursive": one step, fed back for more; "direct": every step 1…horizon as one output. */
  multiStep: "recursive" | "direct";
}

/** The season setting: "auto", "" or 0 for none, or a number of rows. */
function seasonField(raw: Record<string, unknown>): number | "auto" | null {
  const v = raw.season;
  if (v === undefined || v === "auto") return "auto";
  if (v === "" || v === null || v === 0 || v === "0" || v === "none") return null;
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 2 || n > MAX_SEASON) throw new ConfigError(`season must be "auto", 0 (none) or a whole number of rows from 2 to ${MAX_SEASON}, got ${JSON.stringify(v)}`);
  return n;
}

function readConfig(raw: Record<string, unknown>): SequenceConfig {
  const c: SequenceConfig = {
    windowLength: intField(raw, "windowLength", 24, 1, 10000),
    horizon: intField(raw, "horizon", 1, 1, 1000),
    features: fieldList(raw, "features"),
    targets: fieldList(raw, "targets"),
    targetMode: enumField(raw, "targetMode", "last", TARGET_MODES),
    scaling: enumField(raw, "scaling", "zscore", SCALER_KINDS),
    validationSplit: numField(raw, "validationSplit", 0.2, 0, 0.9),
    batchSize: intField(raw, "batchSize", 32, 1, 4096),
    epochs: intField(raw, "epochs", 50, 1, 100000),
    shuffle: boolField(raw, "shuffle", true),
    seed: intField(raw, "seed", 1, -2147483648, 2147483647),
    bufferSize: intField(raw, "bufferSize", 10000, 10, 1000000),
    trainAfter: intField(raw, "trainAfter", 0, 0, 1000000),
    ackTimeout: numField(raw, "ackTimeout", 60, 0.05, 86400),
    difference: enumField(raw, "difference", "auto", ["auto", ...DIFFERENCINGS] as const),
    season: seasonField(raw),
    timeField: typeof raw.timeField === "string" && raw.timeField.trim() ? raw.timeField.trim() : "auto",
    calendar: enumField(raw, "calendar", "auto", ["auto", "none"] as const),
    gaps: enumField(raw, "gaps", "linear", GAP_POLICIES),
    multiStep: enumField(raw, "multiStep", "recursive", ["recursive", "direct"] as const),
  };
  if (c.multiStep === "direct" && c.targetMode !== "last") throw new ConfigError('multi-step "direct" needs target mode "last"');
  if (c.trainAfter > c.bufferSize) throw new ConfigError(`trainAfter (${c.trainAfter}) cannot exceed bufferSize (${c.bufferSize})`);
  return c;
}

interface Run {
  id: string;
  /** The scaled series; a batch's windows are cut when it is sent. */
  data: PreparedSeries;
  epoch: number;
  phase: "train" | "validate";
  /** 1-based index of the batch in flight within its phase. */
  batch: number;
  batches: number;
  valBatches: number;
  order: number[];
  rng: Random;
  inFlight: string | null;
  watchdog: NodeJS.Timeout | null;
  trainer: string | null;
  /** Properties of the message that started the run, carried on every batch (e.g. _msgid-free context). */
  topicBase: Record<string, unknown>;
}

/** One log line saying what the preparation found and chose, so a user can check it. */
function describeSeries(data: PreparedSeries): string {
  const r = data.report;
  const parts = [`${r.rows} rows`];
  if (r.step !== null) parts.push(`step ${r.step / 1000} s${r.gaps ? `, ${r.gaps} gap(s)${r.filled ? ` (${r.filled} rows filled)` : " (not spanned)"}` : ""}`);
  parts.push(`season ${r.season ?? "none"}${r.seasonAuto ? " (auto)" : ""}`);
  parts.push(`difference ${r.difference}${r.differenceAuto ? " (auto)" : ""}`);
  if (r.calendar.length) parts.push(`calendar ${r.calendar.join(", ")}`);
  return `series: ${parts.join(" · ")}`;
}

export = function register(RED: NodeAPI): void {
  announcePackageDir();
  function RnnSequenceNode(this: Node, def: NodeDef): void {
    const node = this;
    const setup = setupNode(RED, node, def, "rnn-sequence", readConfig);
    if (!setup) return;
    const { config, t, status } = setup;

    /** Rolling buffer of readings for streams; oldest dropped beyond bufferSize. */
    let buffer: unknown[] = [];
    /** The time of each buffered reading (ms), or null where it had none. */
    let bufferTimes: (number | null)[] = [];
    /** What every buffered reading looks like (kind and columns), so all of them make one table. */
    let bufferShape = "";
    let sinceTraining = 0;
    let run: Run | null = null;
    let next: NodeJS.Immediate | null = null;
    let cancelWarmUp: (() => void) | null = null;
    /** Runs that ended recently: their last batch may still be on its way to the trainer. */
    const endedRuns = new BoundedMap<string, true>(16);
    let closed = false;

    const idle = () => node.status({ fill: "grey", shape: "ring", text: buffer.length ? t("status.buffered", { count: buffer.length }) : t("status.idle") });
    idle();

    function clearTimers(): void {
      if (next) clearImmediate(next);
      next = null;
      if (cancelWarmUp) cancelWarmUp();
      cancelWarmUp = null;
      if (run?.watchdog) clearTimeout(run.watchdog);
      if (run) run.watchdog = null;
    }

    function endRun(reason: "completed" | "stopped" | "reset" | "timeout", notifyTrainer: boolean): void {
      if (!run) return;
      const ended = run;
      clearTimers();
      run = null;
      endedRuns.set(ended.id, true);
      if (notifyTrainer && ended.trainer) findApi<TrainerNodeApi>(RED, ended.trainer, "rnn-trainer")?.runEnded(ended.id, reason);
      if (closed) return;
      status.cancel(); // a throttled "epoch n/N" must not land after the final word
      if (reason === "completed") node.status({ fill: "green", shape: "dot", text: t("status.done") });
      else if (reason === "timeout") node.status({ fill: "red", shape: "ring", text: t("status.noAck") });
      else node.status({ fill: "grey", shape: "ring", text: t("status.stopped") });
    }

    /** The windows of one batch, cut now: the run never holds all of them at once. */
    function cutBatch(windows: LazyWindows, order: number[] | null, batch: number): { inputs: number[][][]; targets: (number[] | null)[][] } {
      const start = (batch - 1) * config.batchSize;
      const end = Math.min(windows.count, start + config.batchSize);
      const inputs: number[][][] = [];
      const targets: (number[] | null)[][] = [];
      for (let i = start; i < end; i++) {
        const w = windows.at(order ? order[i] : i);
        inputs.push(w.input);
        targets.push(w.target);
      }
      return { inputs, targets };
    }

    function emit(): void {
      next = null;
      if (!run || closed) return;
      const r = run;
      const batch = cutBatch(r.phase === "train" ? r.data.train : r.data.validation, r.phase === "train" ? r.order : null, r.batch);
      const info: RunInfo = {
        id: r.id,
        phase: r.phase,
        epoch: r.epoch,
        epochs: config.epochs,
        batch: r.batch,
        batches: r.batches,
        valBatches: r.valBatches,
        source: node.id,
        scaler: r.data.scaler.toJSON(),
        window: r.data.window,
        transform: r.data.transform,
        baselines: r.data.baselines,
        series: r.data.report,
        layers: [],
      };
      const msg = {
        ...r.topicBase,
        _msgid: RED.util.generateId(),
        topic: r.phase,
        payload: batch.inputs,
        target: batch.targets,
        rnn: info,
      };
      r.inFlight = batchToken(info);
      r.watchdog = setTimeout(() => {
        if (!run || run !== r) return;
        node.error(`rnn sequence: no acknowledgement for batch ${r.batch} of epoch ${r.epoch} within ${config.ackTimeout} s — is an rnn trainer wired at the end of the chain, and did every node pass the batch on?`);
        endRun("timeout", true);
      }, config.ackTimeout * 1000);
      if (r.batch === 1 && r.phase === "train") status.set({ fill: "blue", shape: "dot", text: t("status.epoch", { epoch: r.epoch, epochs: config.epochs }) });
      node.send(msg);
    }

    function advance(r: Run): boolean {
      if (r.phase === "train" && r.batch < r.batches) {
        r.batch++;
        return true;
      }
      if (r.phase === "train" && r.valBatches > 0) {
        r.phase = "validate";
        r.batch = 1;
        return true;
      }
      if (r.phase === "validate" && r.batch < r.valBatches) {
        r.batch++;
        return true;
      }
      if (r.epoch >= config.epochs) return false;
      r.epoch++;
      r.phase = "train";
      r.batch = 1;
      if (config.shuffle) r.rng.shuffle(r.order);
      return true;
    }

    const api: SequenceNodeApi = {
      kind: "rnn-sequence",
      inFlight(runId, token) {
        return run !== null && run.id === runId && run.inFlight === token;
      },
      hasEnded(runId) {
        return endedRuns.get(runId) === true;
      },
      ack(runId, token, options) {
        if (!run || run.id !== runId || run.inFlight !== token) return false;
        const r = run;
        r.trainer = options.trainer;
        r.inFlight = null;
        if (r.watchdog) clearTimeout(r.watchdog);
        r.watchdog = null;
        if (options.stop || !advance(r)) {
          // Early stopping is a normal end of training, not an interruption.
          endRun(options.stop && !options.earlyStop ? "stopped" : "completed", false);
          return true;
        }
        // The next batch leaves on a later turn of the event loop: other flows run in between.
        next = setImmediate(emit);
        return true;
      },
      stopRun(runId) {
        if (run && run.id === runId) endRun("stopped", false);
      },
      history(runId) {
        return run && run.id === runId ? run.data.history : null;
      },
    };
    (node as unknown as { rnnApi: SequenceNodeApi }).rnnApi = api;

    /** The buffered readings' times when every one of them has a time; otherwise none are used. */
    function bufferedTimes(): number[] | null {
      return bufferTimes.length > 0 && bufferTimes.every((v) => v !== null) ? (bufferTimes.slice() as number[]) : null;
    }

    /** Fields read from object readings: the features and targets named in the config, or all. */
    function readingFields(): string[] | undefined {
      return config.features || config.targets ? Array.from(new Set([...(config.features ?? []), ...(config.targets ?? [])])) : undefined;
    }

    function startRun(series: unknown, msg: Record<string, unknown>, times: number[] | null): void {
      const data = prepareSeries(series, {
        difference: config.difference,
        season: config.season,
        timeField: times ? "none" : config.timeField,
        times,
        calendar: config.calendar === "auto" ? "auto" : [],
        gaps: config.gaps,
        direct: config.multiStep === "direct",
        features: config.features,
        targets: config.targets,
        fields: readingFields(),
        length: config.windowLength,
        horizon: config.horizon,
        targetMode: config.targetMode,
        scaling: config.scaling,
        validationSplit: config.validationSplit,
      });
      if (data.train.count === 0) throw new Error("no training windows could be made from the series");
      node.log(describeSeries(data));
      const n = data.train.count;
      const rng = new Random(config.seed);
      const order = Array.from({ length: n }, (_, i) => i);
      if (config.shuffle) rng.shuffle(order);
      const base: Record<string, unknown> = {};
      // Carry user context (e.g. msg.flowName) but none of the fields the contract defines.
      for (const [k, v] of Object.entries(msg)) if (!["_msgid", "payload", "target", "rnn", "topic", "_event", "parts"].includes(k)) base[k] = v;
      run = {
        id: RED.util.generateId(),
        data,
        epoch: 1,
        phase: "train",
        batch: 1,
        batches: Math.ceil(n / config.batchSize),
        valBatches: Math.ceil(data.validation.count / config.batchSize),
        order,
        rng,
        inFlight: null,
        watchdog: null,
        trainer: null,
        topicBase: base,
      };
      sinceTraining = 0;
      // Compile the training path on a tiny model first (a few turns of the event loop), so the
      // first batches do not run cold code that would hold the loop (see src/warmup.ts).
      cancelWarmUp = warmUp(() => {
        cancelWarmUp = null;
        emit();
      });
    }

    node.on("input", (msg: NodeMessageInFlow, _send: Send, done: Done) => {
      try {
        const topic = typeof msg.topic === "string" ? msg.topic : "";
        if (topic === "reset") {
          endRun("reset", true);
          buffer = [];
          bufferTimes = [];
          sinceTraining = 0;
          idle();
          done();
          return;
        }
        if (topic === "stop") {
          endRun("stopped", true);
          done();
          return;
        }
        if (topic === "train") {
          if (run) throw new Error(t("errors.busy"));
          const series = msg.payload === undefined || msg.payload === null || msg.payload === "" ? buffer : msg.payload;
          if (!Array.isArray(series)) throw new Error(t("errors.badPayload", { message: "a series must be an array (numbers, arrays, or objects such as CSV rows)" }));
          startRun(series, msg as unknown as Record<string, unknown>, series === buffer ? bufferedTimes() : null);
          done();
          return;
        }
        // Any other message is one reading for the rolling buffer.
        if (msg.payload === undefined) throw new Error(t("errors.noPayload"));
        let reading = msg.payload;
        let time: number | null = null;
        try {
          // A time inside the reading ([time, value] or a time field) comes out before the numbers are read.
          if (config.timeField !== "none") {
            const stamped = readingTime(reading, (msg as { timestamp?: unknown }).timestamp, config.timeField);
            time = stamped.time;
            reading = stamped.value as typeof reading;
          }
        } catch (e) {
          throw new Error(t("errors.badPayload", { message: errorMessage(e) }));
        }
        if (!(typeof reading === "number" || Array.isArray(reading) || (typeof reading === "object" && reading !== null))) {
          throw new Error(t("errors.badPayload", { message: "a reading is a number, an array of numbers or an object of named values" }));
        }
        // Checked now, so one bad reading is refused alone instead of spoiling a later training run.
        let row: number[];
        let columns: string[];
        try {
          row = toRow(reading, readingFields());
          columns = toTable([reading], readingFields()).columns;
        } catch (e) {
          throw new Error(t("errors.badPayload", { message: errorMessage(e) }));
        }
        // Same width is not enough: a training table needs the same kind and the same field names.
        const shape = typeof reading === "number" ? "a single number" : Array.isArray(reading) ? `an array of ${row.length} values` : `the fields ${columns.join(", ")}`;
        if (buffer.length > 0 && shape !== bufferShape) {
          throw new Error(t("errors.badPayload", { message: `this reading has ${shape} but the buffered ones have ${bufferShape} (send topic "reset" to start a new buffer)` }));
        }
        bufferShape = shape;
        // Only the numbers are kept: whatever else a reading carried is not held for bufferSize readings.
        buffer.push(typeof reading === "number" ? row[0] : Array.isArray(reading) ? row : Object.fromEntries(columns.map((c, i) => [c, row[i]])));
        bufferTimes.push(time);
        if (buffer.length > config.bufferSize) {
          buffer.splice(0, buffer.length - config.bufferSize);
          bufferTimes.splice(0, bufferTimes.length - config.bufferSize);
        }
        sinceTraining++;
        if (!run) status.set({ fill: "grey", shape: "dot", text: t("status.buffered", { count: buffer.length }) });
        // Not before the buffer can make a window and its target (a smaller trainAfter would fail each time).
        if (config.trainAfter > 0 && !run && sinceTraining >= config.trainAfter && buffer.length >= Math.max(config.trainAfter, rowsNeeded(config.windowLength, config.horizon))) {
          try {
            startRun(buffer.slice(), msg as unknown as Record<string, unknown>, bufferedTimes());
          } catch (e) {
            // The validation part and the differences need rows too: not an error, a wait for more
            // readings — unless the buffer is full, when more readings cannot help.
            if (!(e instanceof TooFewRowsError) || buffer.length >= config.bufferSize) throw e;
          }
        }
        done();
      } catch (e) {
        fail(status, done, msg, e);
      }
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      closed = true;
      status.cancel();
      endRun("stopped", true);
      buffer = [];
      bufferTimes = [];
      done();
    });
  }

  RED.nodes.registerType("rnn-sequence", RnnSequenceNode);
};
