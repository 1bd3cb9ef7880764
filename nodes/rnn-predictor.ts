/**
 * rnn predictor: forecasts in the sensor's own units from a live trainer's model or a saved model
 * file. It keeps the last window of readings itself; when the real value of an earlier forecast
 * arrives it reports the error, and flags it when it is far beyond the recent typical error.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { canRecurse, forecast, halfWidthAt, historyLength, INTERVAL_LEVELS, NUMERIC_STRING, Model, splitTimes, toRow } from "../src";
import type { ForecastResult } from "../src";
import { findApi, TrainerNodeApi } from "./shared/apis";
import { PredictorFeed } from "./shared/editorFeed";
import { ModelFileWatch } from "./shared/modelFileWatch";
import {
  announcePackageDir,
  BoundedMap,
  ConfigError,
  Done,
  enumField,
  errorMessage,
  fail,
  fmt,
  intField,
  modelFilePath,
  numField,
  readingTime,
  Send,
  setupNode,
  Translate,
} from "./shared/runtime";

/** Errors kept for the running RMS that the anomaly flag compares against. */
const ERROR_HISTORY = 100;
/** Errors needed before anything is flagged (the RMS of fewer is not a useful yardstick). */
const MIN_ERRORS_FOR_FLAG = 10;
/**
 * Flags in a row after which the error yardstick takes them in: a level that shifted for good is
 * the new normal, and without this every reading after it would be flagged for ever.
 */
const SHIFT_AFTER_FLAGS = 3;

interface PredictorConfig {
  source: "trainer" | "file";
  trainer: string;
  modelPath: string;
  steps: number;
  /** "interval": a reading outside the forecast's prediction interval; "error": error beyond anomalyFactor × the recent RMS error. */
  anomaly: "interval" | "error" | "off";
  anomalyFactor: number;
  intervalLevel: number;
  /**
   * The interval a reading must leave to be flagged. Wider than the output interval by default: a
   * 90 % interval misses one normal reading in ten by construction, too many alarms for a flag.
   */
  anomalyLevel: number;
}

function readConfig(raw: Record<string, unknown>, t: Translate): PredictorConfig {
  const c: PredictorConfig = {
    source: enumField(raw, "source", "trainer", ["trainer", "file"] as const),
    trainer: typeof raw.trainer === "string" ? raw.trainer : "",
    modelPath: typeof raw.modelPath === "string" ? raw.modelPath.trim() : "",
    steps: intField(raw, "steps", 1, 1, 1000),
    anomalyFactor: numField(raw, "anomalyFactor", 3, 0, 1e6),
    // Flows saved before the interval rule meant "off" by a factor of 0.
    anomaly: enumField(raw, "anomaly", raw.anomaly === undefined && Number(raw.anomalyFactor) === 0 ? "off" : "interval", ["interval", "error", "off"] as const),
    intervalLevel: numField(raw, "intervalLevel", 0.9, 0.5, 0.99),
    anomalyLevel: numField(raw, "anomalyLevel", 0.99, 0.5, 0.99),
  };
  if (!INTERVAL_LEVELS.includes(c.anomalyLevel)) throw new ConfigError(t("errors.levelChoice", { setting: "anomalyLevel", levels: INTERVAL_LEVELS.join(", "), value: c.anomalyLevel }));
  if (!INTERVAL_LEVELS.includes(c.intervalLevel)) throw new ConfigError(t("errors.levelChoice", { setting: "intervalLevel", levels: INTERVAL_LEVELS.join(", "), value: c.intervalLevel }));
  if (c.source === "trainer" && !c.trainer) throw new ConfigError(t("errors.chooseTrainer"));
  if (c.source === "file" && !c.modelPath) throw new ConfigError(t("errors.modelPathRequired"));
  return c;
}

interface Usable {
  model: Model;
  features: string[];
  targets: string[];
  length: number;
  horizon: number;
  /** Readings kept: the window and what its differences look back. */
  history: number;
  /** Whether readings need a time (calendar features). */
  needsTime: boolean;
  /** The model outputs every step 1…horizon at once. */
  direct: boolean;
  version: number;
}

/** What one stream (one msg.topic) keeps: its readings, their times, its forecasts and errors. */
interface Stream {
  /** Readings in feature order and real units; at most historyLength of them. */
  window: number[][];
  /** Time of each kept reading (ms), parallel to `window`. */
  times: number[];
  readings: number;
  pending: Pending[];
  errors: number[];
  flagsInARow: number;
}

/** Streams kept at once; the least recently used is forgotten beyond it. */
const MAX_STREAMS = 100;

/** Forecast of one reading, kept until the reading it forecast arrives. */
interface Pending {
  due: number;
  values: number[];
  lower: number[] | null;
  upper: number[] | null;
}

export = function register(RED: NodeAPI): void {
  announcePackageDir();
  function RnnPredictorNode(this: Node, def: NodeDef): void {
    const node = this;
    const setup = setupNode(RED, node, def, "rnn-predictor", readConfig);
    if (!setup) return;
    const { config, t, status } = setup;

    let fileModel: Usable | null = null;
    let fileError: string | null = null;
    let watch: ModelFileWatch | null = null;
    /**
     * The message of the last error that kept messages from a model (no trainer, a bad file):
     * given to one message (and Catch nodes), then not again while the cause is the same, so a
     * sensor sending every second does not fill the log. The status stays red meanwhile.
     */
    let unavailableReported: string | null = null;
    /** One stream per msg.topic: two sensors into one predictor must not share a window. */
    const streams = new BoundedMap<string, Stream>(MAX_STREAMS);
    let windowKey = "";
    // The readings and forecasts of the editor's rnn sidebar.
    const feed = new PredictorFeed(RED, node);

    function streamOf(topic: string): Stream {
      let st = streams.touch(topic);
      if (!st) {
        st = { window: [], times: [], readings: 0, pending: [], errors: [], flagsInARow: 0 };
        streams.set(topic, st);
      }
      return st;
    }

    function usable(model: Model, version: number): Usable {
      if (!model.window || !model.scaler) throw new Error(t("errors.noForecastInfo"));
      const w = model.window;
      return { model, features: w.features, targets: w.targets, length: w.length, horizon: w.horizon, history: historyLength(model), needsTime: (model.transform?.calendar.length ?? 0) > 0, direct: w.direct === true, version };
    }

    function currentModel(): Usable | null {
      if (config.source === "file") {
        watch?.poke();
        // A model read before keeps forecasting while a newer version of the file cannot be used.
        if (fileModel) return fileModel;
        if (fileError) throw new Error(t("errors.loadFailed", { message: fileError }));
        return null;
      }
      const trainer = findApi<TrainerNodeApi>(RED, config.trainer, "rnn-trainer");
      if (!trainer) {
        // A trainer whose configuration did not validate is deployed but inert: say that, not "missing".
        const deployed = RED.nodes.getNode(config.trainer) as unknown as { type?: string } | null;
        throw new Error(t(deployed && deployed.type === "rnn-trainer" ? "errors.trainerNotRunning" : "errors.noTrainer"));
      }
      const got = trainer.getModel();
      return got ? usable(got.model, got.version) : null;
    }

    if (config.source === "file") {
      try {
        const path = modelFilePath(RED, config.modelPath, (where) => t("errors.modelPathOutsideAt", { message: t("errors.modelPathOutside"), ...where }));
        let warnedMissing = false;
        watch = new ModelFileWatch(path, {
          loaded(loaded) {
            try {
              fileModel = usable(Model.fromJSON(loaded.model), (fileModel?.version ?? 0) + 1);
            } catch (e) {
              this.failed(`${path}: ${errorMessage(e)}`);
              return;
            }
            fileError = null;
            if (loaded.warning) node.warn(loaded.warning);
            node.status({ fill: "green", shape: "dot", text: t("status.ready") });
          },
          missing() {
            if (fileModel) return; // deleted after it was read: the model in memory still forecasts
            // Not an error: a trainer in the flows may not have written it yet. One warning, not one per message.
            if (!warnedMissing) node.warn(t("warnings.noFileYet", { path }));
            warnedMissing = true;
            node.status({ fill: "yellow", shape: "ring", text: t("status.noModel") });
          },
          failed(message) {
            if (fileModel) {
              node.warn(t("warnings.reloadFailed", { message }));
              return;
            }
            fileError = message;
            node.status({ fill: "red", shape: "ring", text: t("status.badModelFile") });
            node.error(t("errors.loadFailed", { message }));
          },
        });
        void watch.start();
      } catch (e) {
        fileError = errorMessage(e);
        node.status({ fill: "red", shape: "ring", text: t("status.badModelPath") });
        node.error(t("errors.loadFailed", { message: fileError }));
      }
    } else {
      node.status({ fill: "grey", shape: "ring", text: t("status.idle") });
    }

    function reset(): void {
      streams.clear();
      feed.clear();
    }

    /** A direct model gives all the steps it was trained for; otherwise the configured steps, recursively. */
    function stepsOf(u: Usable): number {
      return u.direct ? u.horizon : config.steps;
    }

    /** Forecasts `steps` ahead from real-unit rows through the core's one forecasting path. */
    function predict(u: Usable, rows: number[][], times: number[] | null): ForecastResult {
      try {
        return forecast(u.model, rows, { steps: stepsOf(u), times: u.needsTime ? times : null, level: config.intervalLevel });
      } catch (e) {
        throw new Error(t("errors.badPayload", { message: errorMessage(e) }));
      }
    }

    /** A reading's time: inside it ([time, value] or a time field), msg.timestamp, or its arrival. */
    function stampOf(reading: unknown, msg: { timestamp?: unknown }): { time: number; value: unknown; explicit: boolean } {
      const r = readingTime(reading, msg.timestamp, "auto");
      return r.time !== null ? { time: r.time, value: r.value, explicit: true } : { time: Date.now(), value: r.value, explicit: false };
    }

    function asPayload(u: Usable, values: number[][]): unknown {
      const one = (v: number[]) => (u.targets.length === 1 ? v[0] : Object.fromEntries(u.targets.map((n, o) => [n, v[o]])));
      return stepsOf(u) === 1 ? one(values[0]) : values.map(one);
    }

    /** Is the payload a whole window (rather than one reading)? */
    function isWindow(payload: unknown, u: Usable): payload is unknown[] {
      if (!Array.isArray(payload) || payload.length === 0) return false;
      const first = payload[0];
      // [time, value…]: one reading whose first entry is a date, not a window of numbers.
      if (first instanceof Date || (typeof first === "string" && !NUMERIC_STRING.test(first.trim()))) return false;
      if (Array.isArray(first) || (typeof first === "object" && first !== null)) return true;
      return u.features.length === 1 && payload.length > 1;
    }

    node.on("input", (msg: NodeMessageInFlow & { forecast?: unknown }, send: Send, done: Done) => {
      try {
        if (msg.topic === "reset") {
          reset();
          node.status({ fill: "grey", shape: "ring", text: t("status.idle") });
          done();
          return;
        }
        if (msg.payload === undefined) throw new Error(t("errors.noPayload"));
        let u: Usable | null;
        try {
          u = currentModel();
        } catch (e) {
          const message = errorMessage(e);
          if (message === unavailableReported) {
            done();
            return;
          }
          unavailableReported = message;
          throw e;
        }
        unavailableReported = null;
        if (!u) {
          status.set({ fill: "yellow", shape: "ring", text: t("status.noModel") });
          done();
          return;
        }
        if (config.steps > 1 && !u.direct && !canRecurse(u.model)) throw new Error(t("errors.recursive"));
        const key = `${u.features.join(",")}|${u.history}`;
        if (key !== windowKey) {
          // A model with other inputs: the kept readings no longer fit.
          reset();
          windowKey = key;
        }
        /** One reading as a row; `index` is its place in a window sent whole. */
        const readRow = (v: unknown, index: number | null) => {
          try {
            return toRow(v, u.features);
          } catch (e) {
            // The core's message starts "reading: " itself; the catalogue's text says which one.
            const message = errorMessage(e).replace(/^reading: /, "");
            throw new Error(t("errors.badPayload", { message: index === null ? t("errors.readingValue", { message }) : t("errors.windowValue", { index, message }) }));
          }
        };

        if (isWindow(msg.payload, u)) {
          if (msg.payload.length < u.history) {
            const sizes = { history: u.history, length: u.length, more: u.history - u.length, got: msg.payload.length };
            throw new Error(t("errors.badPayload", { message: t(u.history > u.length ? "errors.windowTooShortLookBack" : "errors.windowTooShort", sizes) }));
          }
          const recent = msg.payload.slice(-u.history);
          let times: number[] | null = null;
          let readingsOnly: unknown[] = recent;
          try {
            const split = splitTimes(recent, "auto");
            times = split.times;
            readingsOnly = split.values;
          } catch (e) {
            throw new Error(t("errors.badPayload", { message: errorMessage(e) }));
          }
          if (u.needsTime && !times) throw new Error(t("errors.badPayload", { message: t("errors.windowTimes") }));
          const rows = readingsOnly.map((v, i) => readRow(v, i));
          const result = predict(u, rows, times);
          const values = result.values;
          msg.payload = asPayload(u, values);
          msg.forecast = { steps: stepsOf(u), values, lower: result.lower, upper: result.upper, level: result.level, times: result.times, targets: u.targets, horizon: u.horizon, window: u.length, model: config.source };
          status.set({ fill: "green", shape: "dot", text: t("status.forecast", { value: fmt(values[0][0]) }) });
          send(msg);
          done();
          return;
        }

        let stamped: { time: number; value: unknown; explicit: boolean };
        try {
          stamped = stampOf(msg.payload, msg as { timestamp?: unknown });
        } catch (e) {
          throw new Error(t("errors.badPayload", { message: errorMessage(e) }));
        }
        const row = readRow(stamped.value, null);
        const st = streamOf(typeof msg.topic === "string" ? msg.topic : "");
        // Readings that carry their time are checked like a training series: in order, and no
        // window (nor difference) spans a gap — after one the stream warms up again.
        let gap = false;
        const step = u.model.transform?.step ?? null;
        if (stamped.explicit && st.times.length > 0) {
          const dt = stamped.time - st.times[st.times.length - 1];
          if (!(dt > 0)) {
            const order = { time: new Date(stamped.time).toISOString(), previous: new Date(st.times[st.times.length - 1]).toISOString() };
            throw new Error(t("errors.badPayload", { message: t("errors.readingOrder", order) }));
          }
          if (step !== null && dt > 1.5 * step) {
            gap = true;
            st.window = [];
            st.times = [];
            st.pending = [];
          }
        }
        st.readings++;
        // The real value of an earlier forecast has arrived: how far off was it?
        let previous: Record<string, unknown> | undefined;
        const due = st.pending.find((p) => p.due === st.readings);
        st.pending = st.pending.filter((p) => p.due > st.readings);
        if (due) {
          const actual = u.targets.map((name) => row[u.features.indexOf(name)]);
          if (actual.every((v) => Number.isFinite(v))) {
            const err = actual[0] - due.values[0];
            const rms = st.errors.length ? Math.sqrt(st.errors.reduce((s, e) => s + e * e, 0) / st.errors.length) : null;
            // The interval rule needs the model's intervals; a model without them falls back to the error rule.
            const intervals = u.model.intervals;
            const rule = config.anomaly === "interval" && intervals ? "interval" : config.anomaly === "off" ? "off" : "error";
            let anomaly = false;
            let anomalyBounds: { lower: number[]; upper: number[]; level: number } | null = null;
            if (rule === "interval" && intervals) {
              // The forecast was for the model's horizon: the first calibrated step.
              const hw = halfWidthAt(intervals, config.anomalyLevel, 0);
              anomalyBounds = { lower: due.values.map((v, o) => v - hw.width[o]), upper: due.values.map((v, o) => v + hw.width[o]), level: hw.level };
              anomaly = actual.some((v, o) => v < anomalyBounds!.lower[o] || v > anomalyBounds!.upper[o]);
            }
            else if (rule === "error") anomaly = config.anomalyFactor > 0 && rms !== null && st.errors.length >= MIN_ERRORS_FOR_FLAG && Math.abs(err) > config.anomalyFactor * rms;
            st.flagsInARow = anomaly ? st.flagsInARow + 1 : 0;
            const one = (v: number[] | null) => (v === null ? null : v.length === 1 ? v[0] : v);
            previous = { predicted: one(due.values), actual: one(actual), error: err, rms, lower: one(due.lower), upper: one(due.upper), rule, ...(anomalyBounds ? { anomalyLower: one(anomalyBounds.lower), anomalyUpper: one(anomalyBounds.upper), anomalyLevel: anomalyBounds.level } : {}), anomaly };
            // The yardstick is the error of normal readings: a flagged one would raise the threshold
            // and hide the next anomaly; one too large to square would make the RMS Infinity. A run of
            // flags is a change of level, not a string of anomalies: it becomes the yardstick.
            if ((!anomaly || st.flagsInARow >= SHIFT_AFTER_FLAGS) && Number.isFinite(err * err)) st.errors.push(err);
            if (st.errors.length > ERROR_HISTORY) st.errors.shift();
          }
        }
        st.window.push(row);
        st.times.push(stamped.time);
        if (st.window.length > u.history) {
          st.window.splice(0, st.window.length - u.history);
          st.times.splice(0, st.times.length - u.history);
        }
        if (st.window.length < u.history) {
          // Not "count": i18next takes that for a plural and looks the key up several times, per reading.
          status.set({ fill: gap ? "yellow" : "grey", shape: "dot", text: t(gap ? "status.gap" : "status.warming", { readings: st.window.length, length: u.history }) });
          done();
          return;
        }
        const result = predict(u, st.window, st.times);
        const values = result.values;
        // Only the targets that are also features can be checked against later st.readings.
        // A direct model's first value is one step ahead; otherwise the horizon is.
        if (u.targets.every((n) => u.features.includes(n))) st.pending.push({ due: st.readings + (u.direct ? 1 : u.horizon), values: values[0], lower: result.lower ? result.lower[0] : null, upper: result.upper ? result.upper[0] : null });
        if (st.pending.length > u.horizon + 1) st.pending.splice(0, st.pending.length - (u.horizon + 1));
        msg.payload = asPayload(u, values);
        msg.forecast = { steps: stepsOf(u), values, lower: result.lower, upper: result.upper, level: result.level, times: u.needsTime ? result.times : null, targets: u.targets, horizon: u.horizon, window: u.length, model: config.source, ...(previous ? { previous } : {}) };
        feed.reading({ stream: typeof msg.topic === "string" ? msg.topic : "", time: stamped.time, actual: row[u.features.indexOf(u.targets[0])], previous, forecast: result, ahead: u.direct ? 1 : u.horizon });
        status.set({ fill: previous?.anomaly ? "yellow" : "green", shape: "dot", text: t("status.forecast", { value: fmt(values[0][0]) }) });
        send(msg);
        done();
      } catch (e) {
        fail(status, done, msg, e);
      }
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      watch?.close();
      status.cancel();
      reset();
      done();
    });
  }

  RED.nodes.registerType("rnn-predictor", RnnPredictorNode);
};
