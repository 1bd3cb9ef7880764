/**
 * rnn sequence: turns readings into a prepared series (differenced, scaled, windowed) and starts a
 * training run with one message. The message collects the chain's description on its way to the
 * rnn trainer, which takes the prepared series from here and trains; this node shows how it goes.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { DIFFERENCINGS, GAP_POLICIES, TooFewRowsError, MAX_SEASON, NUMERIC_STRING, prepareRunOffThread, PreparedRun, rowsNeeded, SCALER_KINDS, TARGET_MODES } from "../src";
import type { Differencing, GapPolicy, ScalerKind, TargetMode } from "../src";
import { ReadingBuffer } from "./shared/readingBuffer";
import { publish, RunEnd, RunRecord, RunTicket, withdraw } from "./shared/runs";
import {
  announcePackageDir,
  boolField,
  ConfigError,
  Done,
  enumField,
  errorMessage,
  fail,
  fieldList,
  intField,
  numField,
  readingTime,
  Send,
  setupNode,
  short,
  Translate,
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
function seasonField(raw: Record<string, unknown>, t: Translate): number | "auto" | null {
  const v = raw.season;
  if (v === undefined || v === "auto") return "auto";
  if (v === "" || v === null || v === 0 || v === "0" || v === "none") return null;
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 2 || n > MAX_SEASON) throw new ConfigError(t("errors.seasonValue", { max: MAX_SEASON, value: JSON.stringify(v) }));
  return n;
}

function readConfig(raw: Record<string, unknown>, t: Translate): SequenceConfig {
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
    season: seasonField(raw, t),
    timeField: typeof raw.timeField === "string" && raw.timeField.trim() ? raw.timeField.trim() : "auto",
    calendar: enumField(raw, "calendar", "auto", ["auto", "none"] as const),
    gaps: enumField(raw, "gaps", "linear", GAP_POLICIES),
    multiStep: enumField(raw, "multiStep", "recursive", ["recursive", "direct"] as const),
  };
  if (c.multiStep === "direct" && c.targetMode !== "last") throw new ConfigError(t("errors.directEvery"));
  if (c.trainAfter > c.bufferSize) throw new ConfigError(t("errors.trainAfterExceeds", { trainAfter: c.trainAfter, bufferSize: c.bufferSize }));
  return c;
}

/** Fields read from object readings: the features and targets named in the config, or all. */
function readingFields(config: SequenceConfig): string[] | undefined {
  return config.features || config.targets ? Array.from(new Set([...(config.features ?? []), ...(config.targets ?? [])])) : undefined;
}

/**
 * Plain numbers have one column, "value": a Features or Targets name other than that matches no
 * field of them. Field names would otherwise only rename that column, and a typo, or a flow meant
 * for row objects fed single numbers, would train without a word.
 */
function unmatchedField(config: SequenceConfig, reading: unknown, t: Translate): { field: string; setting: string } | null {
  if (!isPlainNumber(reading)) return null;
  // The setting as its edit dialog labels it.
  for (const [setting, names] of [[t("label.features"), config.features], [t("label.targets"), config.targets]] as const) {
    const other = names?.find((n) => n !== "value");
    if (other !== undefined) return { field: other, setting };
  }
  return null;
}

/** A reading that is one number (or a numeric string, as a series of CSV text may hold). */
function isPlainNumber(reading: unknown): boolean {
  return typeof reading === "number" || (typeof reading === "string" && NUMERIC_STRING.test(reading.trim()));
}

/** One log line saying what the preparation found and chose, so a user can check it. */
function describeSeries(data: PreparedRun, t: Translate): string {
  const r = data.report;
  const chosen = (what: string, auto: boolean) => (auto ? t("log.auto", { what }) : what);
  const parts = [t("log.rows", { rows: r.rows })];
  if (r.step !== null) {
    const seconds = r.step / 1000;
    parts.push(!r.gaps ? t("log.step", { seconds }) : t(r.filled ? "log.stepFilled" : "log.stepSplit", { seconds, gaps: r.gaps, filled: r.filled }));
  }
  parts.push(chosen(r.season === null ? t("log.noSeason") : t("log.season", { season: r.season }), r.seasonAuto));
  parts.push(chosen(t("log.difference", { difference: r.difference }), r.differenceAuto));
  if (r.calendar.length) parts.push(t("log.calendar", { features: r.calendar.join(", ") }));
  return t("log.series", { parts: parts.join(" · ") });
}

export = function register(RED: NodeAPI): void {
  announcePackageDir();
  function RnnSequenceNode(this: Node, def: NodeDef): void {
    const node = this;
    const setup = setupNode(RED, node, def, "rnn-sequence", readConfig);
    if (!setup) return;
    const { config, t, status } = setup;

    const buffer = new ReadingBuffer(config.bufferSize, config.timeField, readingFields(config), t);
    /** Readings since the last run started (trainAfter). */
    let sinceTraining = 0;
    /**
     * The run started here and not yet ended: being prepared (no ticket yet; the series is read,
     * differenced, scaled and windowed in a worker thread), waiting for a trainer, or training.
     */
    let run: { ticket: RunTicket | null; watchdog: NodeJS.Timeout | null } | null = null;
    let closed = false;

    const idle = () => node.status({ fill: "grey", shape: "ring", text: buffer.length ? t("status.buffered", { readings: buffer.length }) : t("status.idle") });
    idle();

    /** Readings received since deploy; an automatic attempt that found too few rows waits for more. */
    let received = 0;
    let receivedAtLastAttempt = -1;

    /** trainAfter: enough new readings, and the buffer can make a window and its target (a smaller trainAfter would fail each time). */
    function autoRunDue(): boolean {
      return config.trainAfter > 0 && !run && sinceTraining >= config.trainAfter && received !== receivedAtLastAttempt &&
        buffer.length >= Math.max(config.trainAfter, rowsNeeded(config.windowLength, config.horizon));
    }

    /**
     * Starts a run on the buffer by itself. Too few rows (the validation part and the differences
     * need rows too) is no error but a wait for more readings, unless the buffer is full, when more
     * readings cannot help. Readings that arrived while an attempt was being prepared get their
     * attempt as soon as it fails, instead of waiting for yet another reading.
     */
    function autoRun(msg: Record<string, unknown>, send: Send): Promise<void> {
      const full = buffer.full;
      receivedAtLastAttempt = received;
      return startRun(buffer.series(), msg, buffer.seriesTimes(), send).catch((e: unknown) => {
        if (!(e instanceof TooFewRowsError) || full) throw e;
        if (autoRunDue()) return autoRun(msg, send);
      });
    }

    /** Ends the run as far as this node is concerned; `stopTrainer` asks the trainer to end it too. */
    function endRun(stopTrainer: boolean): void {
      if (!run) return;
      const { ticket, watchdog } = run;
      run = null;
      if (watchdog) clearTimeout(watchdog);
      // A preparation still in progress finds `run` changed and drops its result.
      if (!ticket) return;
      withdraw(ticket.id);
      if (stopTrainer && ticket.stop) ticket.stop();
    }

    /** The final status of a run, as the trainer (or the watchdog) reported its end. */
    function showEnd(reason: RunEnd | "timeout" | "refused", why?: string): void {
      if (closed) return;
      status.cancel(); // a throttled "epoch n/N" must not land after the final word
      if (reason === "completed" || reason === "early-stopped") node.status({ fill: "green", shape: "dot", text: t("status.done") });
      else if (reason === "timeout") node.status({ fill: "red", shape: "ring", text: t("status.noAck") });
      else if (reason === "refused" || reason === "failed") node.status({ fill: "red", shape: "ring", text: short(t("status.refused", { why: why ?? reason })) });
      else if (reason === "diverged") node.status({ fill: "red", shape: "dot", text: t("status.diverged") });
      else node.status({ fill: "grey", shape: "ring", text: t("status.stopped") });
    }

    /**
     * Prepares the series off the main thread, then leaves it for the trainer and sends the run
     * message. Resolves once the message is sent (or the run was stopped meanwhile); rejects with
     * the preparation's error.
     */
    function startRun(series: unknown, msg: Record<string, unknown>, times: number[] | null, send: Send): Promise<void> {
      const pending: NonNullable<typeof run> = { ticket: null, watchdog: null };
      run = pending;
      status.set({ fill: "blue", shape: "ring", text: t("status.preparing") }, true);
      const preparing = prepareRunOffThread(series, {
        difference: config.difference,
        season: config.season,
        timeField: times ? "none" : config.timeField,
        times,
        calendar: config.calendar === "auto" ? "auto" : [],
        gaps: config.gaps,
        direct: config.multiStep === "direct",
        features: config.features,
        targets: config.targets,
        fields: readingFields(config),
        length: config.windowLength,
        horizon: config.horizon,
        targetMode: config.targetMode,
        scaling: config.scaling,
        validationSplit: config.validationSplit,
      });
      return preparing.then(
        (data) => {
          // Stopped, reset or closed while it was being prepared: nothing to start.
          if (run !== pending || closed) return;
          sendRun(pending, data, msg, send);
        },
        (e: unknown) => {
          if (run === pending) {
            run = null;
            idle();
          }
          throw e;
        },
      );
    }

    function sendRun(pending: NonNullable<typeof run>, data: PreparedRun, msg: Record<string, unknown>, send: Send): void {
      if (data.train.B === 0) {
        run = null;
        throw new Error(t("errors.noWindows"));
      }
      node.log(describeSeries(data, t));
      const id = RED.util.generateId();
      const msgid = RED.util.generateId();
      const ticket: RunTicket = {
        id,
        source: node.id,
        msgid,
        data,
        settings: { epochs: config.epochs, batchSize: config.batchSize, shuffle: config.shuffle, seed: config.seed },
        trainer: null,
        stop: null,
        onClaim() {
          if (run?.ticket !== ticket) return;
          if (run.watchdog) clearTimeout(run.watchdog);
          run.watchdog = null;
        },
        onEpoch(epoch, epochs) {
          if (run?.ticket === ticket && !closed) status.set({ fill: "blue", shape: "dot", text: t("status.epoch", { epoch, epochs }) });
        },
        onEnd(reason, why) {
          if (run?.ticket !== ticket) return;
          endRun(false);
          showEnd(reason, why);
        },
      };
      publish(ticket);
      const watchdog = setTimeout(() => {
        if (run?.ticket !== ticket || ticket.trainer !== null) return;
        // With the message that started the run, so a Catch node sees it.
        node.error(t("errors.noTrainerTook", { seconds: config.ackTimeout }), msg);
        endRun(false);
        showEnd("timeout");
      }, config.ackTimeout * 1000);
      pending.ticket = ticket;
      pending.watchdog = watchdog;
      sinceTraining = 0;
      const record: RunRecord = { run: id, source: node.id, layers: [], loss: null };
      const out: Record<string, unknown> = {};
      // Carry user context (e.g. msg.flowName) but none of the fields the contract defines.
      for (const [k, v] of Object.entries(msg)) if (!["_msgid", "payload", "target", "rnn", "topic", "_event", "parts"].includes(k)) out[k] = v;
      status.set({ fill: "blue", shape: "ring", text: t("status.waiting") }, true);
      send({
        ...out,
        _msgid: msgid,
        topic: "train",
        payload: { rows: data.report.rows, windows: data.train.B, validationWindows: data.validation.B, window: data.window, series: data.report, baselines: data.baselines },
        rnn: record,
      });
    }

    /** Throws, naming the field, when a Features or Targets name matches nothing in the reading. */
    function checkFields(reading: unknown): void {
      let value = reading;
      try {
        // [time, value] and {time, value} readings are plain numbers once their time is out.
        if (config.timeField !== "none") value = readingTime(reading, undefined, config.timeField).value;
      } catch {
        // A time that does not read is the preparation's (or the buffer's) error to report.
      }
      const unmatched = unmatchedField(config, value, t);
      if (unmatched) throw new Error(t("errors.fieldNotFound", unmatched));
    }

    node.on("input", (msg: NodeMessageInFlow, send: Send, done: Done) => {
      try {
        const topic = typeof msg.topic === "string" ? msg.topic : "";
        if (topic === "reset") {
          endRun(true);
          buffer.clear();
          sinceTraining = 0;
          idle();
          done();
          return;
        }
        if (topic === "stop") {
          if (run) {
            endRun(true);
            showEnd("stopped");
          }
          done();
          return;
        }
        if (topic === "train") {
          if (run) throw new Error(t("errors.busy"));
          const buffered = msg.payload === undefined || msg.payload === null || msg.payload === "";
          const series = buffered ? buffer.series() : msg.payload;
          if (!Array.isArray(series)) throw new Error(t("errors.badPayload", { message: t("errors.seriesKind") }));
          checkFields(series[0]);
          // Done once the run message has left (or the preparation failed: then with its error).
          startRun(series, msg as unknown as Record<string, unknown>, buffered ? buffer.seriesTimes() : null, send).then(() => done(), (e: unknown) => fail(status, done, msg, e));
          return;
        }
        // Any other message is one reading for the rolling buffer.
        if (msg.payload === undefined) throw new Error(t("errors.noPayload"));
        checkFields(msg.payload);
        try {
          buffer.push(msg.payload, (msg as { timestamp?: unknown }).timestamp);
        } catch (e) {
          throw new Error(t("errors.badPayload", { message: errorMessage(e) }));
        }
        sinceTraining++;
        if (!run) status.set({ fill: "grey", shape: "dot", text: t("status.buffered", { readings: buffer.length }) });
        received++;
        if (autoRunDue()) {
          autoRun(msg as unknown as Record<string, unknown>, send).then(() => done(), (e: unknown) => fail(status, done, msg, e));
          return;
        }
        done();
      } catch (e) {
        fail(status, done, msg, e);
      }
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      closed = true;
      status.cancel();
      endRun(true);
      buffer.clear();
      done();
    });
  }

  RED.nodes.registerType("rnn-sequence", RnnSequenceNode);
};
