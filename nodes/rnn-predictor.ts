/**
 * rnn predictor: forecasts in the sensor's own units from a live trainer's model or a saved model
 * file. It keeps the last window of readings itself; when the real value of an earlier forecast
 * arrives it reports the error, and flags it when it is far beyond the recent typical error.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { Forecaster, loadModelFile, Model, resolveModelPath, toRow } from "../src";
import { findApi, TrainerNodeApi } from "./shared/apis";
import {
  announcePackageDir,
  ConfigError,
  Done,
  enumField,
  errorMessage,
  fail,
  fmt,
  intField,
  numField,
  Send,
  setupNode,
  userDir,
} from "./shared/runtime";

/** Errors kept for the running RMS that the anomaly flag compares against. */
const ERROR_HISTORY = 100;
/** Errors needed before anything is flagged (the RMS of fewer is not a useful yardstick). */
const MIN_ERRORS_FOR_FLAG = 10;

interface PredictorConfig {
  source: "trainer" | "file";
  trainer: string;
  modelPath: string;
  steps: number;
  anomalyFactor: number;
}

function readConfig(raw: Record<string, unknown>): PredictorConfig {
  const c: PredictorConfig = {
    source: enumField(raw, "source", "trainer", ["trainer", "file"] as const),
    trainer: typeof raw.trainer === "string" ? raw.trainer : "",
    modelPath: typeof raw.modelPath === "string" ? raw.modelPath.trim() : "",
    steps: intField(raw, "steps", 1, 1, 1000),
    anomalyFactor: numField(raw, "anomalyFactor", 3, 0, 1e6),
  };
  if (c.source === "trainer" && !c.trainer) throw new ConfigError("choose the rnn trainer whose model to use");
  if (c.source === "file" && !c.modelPath) throw new ConfigError("a model file is needed when the model comes from a file");
  return c;
}

interface Usable {
  model: Model;
  features: string[];
  targets: string[];
  length: number;
  horizon: number;
  version: number;
}

/** Forecast of one reading, kept until the reading it forecast arrives. */
interface Pending {
  due: number;
  values: number[];
}

export = function register(RED: NodeAPI): void {
  announcePackageDir();
  function RnnPredictorNode(this: Node, def: NodeDef): void {
    const node = this;
    const setup = setupNode(RED, node, def, "rnn-predictor", readConfig);
    if (!setup) return;
    const { config, t, status } = setup;

    let closed = false;
    let fileModel: Usable | null = null;
    let fileError: string | null = null;
    /** Readings of the stream, in feature order and real units; at most one window long. */
    let window: number[][] = [];
    let windowKey = "";
    let readings = 0;
    let pending: Pending[] = [];
    let errors: number[] = [];
    let forecaster: Forecaster | null = null;

    function usable(model: Model, version: number): Usable {
      if (!model.window || !model.scaler) throw new Error("the model has no window or scaler information, so it cannot forecast from readings");
      return { model, features: model.window.features, targets: model.window.targets, length: model.window.length, horizon: model.window.horizon, version };
    }

    function currentModel(): Usable | null {
      if (config.source === "file") {
        if (fileError) throw new Error(t("errors.loadFailed", { message: fileError }));
        return fileModel;
      }
      const trainer = findApi<TrainerNodeApi>(RED, config.trainer, "rnn-trainer");
      if (!trainer) throw new Error(t("errors.noTrainer"));
      const got = trainer.getModel();
      return got ? usable(got.model, got.version) : null;
    }

    if (config.source === "file") {
      try {
        const path = resolveModelPath(userDir(RED), config.modelPath);
        loadModelFile(path).then(
          (loaded) => {
            if (closed) return;
            try {
              fileModel = usable(Model.fromJSON(loaded.model), 1);
              if (loaded.warning) node.warn(loaded.warning);
              node.status({ fill: "green", shape: "dot", text: t("status.ready") });
            } catch (e) {
              fileError = `${path}: ${errorMessage(e)}`;
              node.status({ fill: "red", shape: "ring", text: "bad model file" });
              node.error(t("errors.loadFailed", { message: fileError }));
            }
          },
          (e: NodeJS.ErrnoException) => {
            if (closed) return;
            const message = errorMessage(e);
            // Say which file: a flow may use several, and a parse error alone does not name it.
            fileError = message.includes(path) ? message : `${path}: ${message}`;
            node.status({ fill: "red", shape: "ring", text: e && e.code === "ENOENT" ? "no model file" : "bad model file" });
            node.error(t("errors.loadFailed", { message: fileError }));
          },
        );
      } catch (e) {
        fileError = errorMessage(e);
        node.status({ fill: "red", shape: "ring", text: "bad model path" });
        node.error(t("errors.loadFailed", { message: fileError }));
      }
    } else {
      node.status({ fill: "grey", shape: "ring", text: t("status.idle") });
    }

    function reset(): void {
      window = [];
      pending = [];
      errors = [];
      readings = 0;
    }

    /** Forecasts `steps` values ahead from a window of real-unit rows; returns [step][target]. */
    function forecast(u: Usable, rows: number[][]): number[][] {
      const scaler = u.model.scaler!;
      const fOff = scaler.features.offset, fScale = scaler.features.scale;
      const tOff = scaler.targets.offset, tScale = scaler.targets.scale;
      const F = u.features.length;
      const T = rows.length;
      if (!forecaster || forecaster.model !== u.model) forecaster = new Forecaster(u.model);
      const x = new Float64Array(T * F);
      rows.forEach((row, t) => row.forEach((v, f) => (x[t * F + f] = (v - fOff[f]) / fScale[f])));
      const targetAt = u.targets.map((name) => u.features.indexOf(name));
      const out: number[][] = [];
      for (let s = 0; s < config.steps; s++) {
        const last = forecaster.run(x, T);
        const real = Array.from(last, (v, o) => v * tScale[o] + tOff[o]);
        out.push(real);
        if (s + 1 < config.steps) {
          // Recursive forecasting: shift the window and feed the forecast back in; features that are
          // not forecast keep their last value.
          x.copyWithin(0, F);
          targetAt.forEach((f, o) => (x[(T - 1) * F + f] = (real[o] - fOff[f]) / fScale[f]));
        }
      }
      // Readings far outside the training range can overflow the network; a NaN forecast would
      // reach dashboards as null and, checked later, poison the error statistics.
      if (!out.every((step) => step.every((v) => Number.isFinite(v)))) {
        throw new Error(t("errors.badPayload", { message: "the forecast overflowed to a non-finite value: the readings in the window are far outside what the model was trained on" }));
      }
      return out;
    }

    function asPayload(u: Usable, values: number[][]): unknown {
      const one = (v: number[]) => (u.targets.length === 1 ? v[0] : Object.fromEntries(u.targets.map((n, o) => [n, v[o]])));
      return config.steps === 1 ? one(values[0]) : values.map(one);
    }

    /** Is the payload a whole window (rather than one reading)? */
    function isWindow(payload: unknown, u: Usable): payload is unknown[] {
      if (!Array.isArray(payload) || payload.length === 0) return false;
      const first = payload[0];
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
        const u = currentModel();
        if (!u) {
          status.set({ fill: "yellow", shape: "ring", text: t("status.noModel") });
          done();
          return;
        }
        if (config.steps > 1 && (u.horizon !== 1 || !u.targets.every((n) => u.features.includes(n)))) throw new Error(t("errors.recursive"));
        const key = `${u.features.join(",")}|${u.length}`;
        if (key !== windowKey) {
          // A model with other inputs: the kept readings no longer fit.
          reset();
          windowKey = key;
        }
        const readRow = (v: unknown, what: string) => {
          try {
            return toRow(v, u.features);
          } catch (e) {
            throw new Error(t("errors.badPayload", { message: `${what}: ${errorMessage(e).replace(/^reading: /, "")}` }));
          }
        };

        if (isWindow(msg.payload, u)) {
          if (msg.payload.length < u.length) throw new Error(t("errors.badPayload", { message: `a window needs at least ${u.length} readings, got ${msg.payload.length}` }));
          const rows = msg.payload.slice(-u.length).map((v, i) => readRow(v, `reading ${i}`));
          const values = forecast(u, rows);
          msg.payload = asPayload(u, values);
          msg.forecast = { steps: config.steps, values, targets: u.targets, horizon: u.horizon, window: u.length, model: config.source };
          status.set({ fill: "green", shape: "dot", text: t("status.forecast", { value: fmt(values[0][0]) }) });
          send(msg);
          done();
          return;
        }

        const row = readRow(msg.payload, "reading");
        readings++;
        // The real value of an earlier forecast has arrived: how far off was it?
        let previous: Record<string, unknown> | undefined;
        const due = pending.find((p) => p.due === readings);
        pending = pending.filter((p) => p.due > readings);
        if (due) {
          const actual = u.targets.map((name) => row[u.features.indexOf(name)]);
          if (actual.every((v) => Number.isFinite(v))) {
            const err = actual[0] - due.values[0];
            const rms = errors.length ? Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / errors.length) : null;
            const anomaly = config.anomalyFactor > 0 && rms !== null && errors.length >= MIN_ERRORS_FOR_FLAG && Math.abs(err) > config.anomalyFactor * rms;
            previous = { predicted: due.values.length === 1 ? due.values[0] : due.values, actual: actual.length === 1 ? actual[0] : actual, error: err, rms, anomaly };
            // The yardstick is the error of normal readings: a flagged one would raise the threshold
            // and hide the next anomaly; one too large to square would make the RMS Infinity.
            if (!anomaly && Number.isFinite(err * err)) errors.push(err);
            if (errors.length > ERROR_HISTORY) errors.shift();
          }
        }
        window.push(row);
        if (window.length > u.length) window.splice(0, window.length - u.length);
        if (window.length < u.length) {
          status.set({ fill: "grey", shape: "dot", text: t("status.warming", { count: window.length, length: u.length }) });
          done();
          return;
        }
        const values = forecast(u, window);
        // Only the targets that are also features can be checked against later readings.
        if (u.targets.every((n) => u.features.includes(n))) pending.push({ due: readings + u.horizon, values: values[0] });
        if (pending.length > u.horizon + 1) pending.splice(0, pending.length - (u.horizon + 1));
        msg.payload = asPayload(u, values);
        msg.forecast = { steps: config.steps, values, targets: u.targets, horizon: u.horizon, window: u.length, model: config.source, ...(previous ? { previous } : {}) };
        status.set({ fill: previous?.anomaly ? "yellow" : "green", shape: "dot", text: t("status.forecast", { value: fmt(values[0][0]) }) });
        send(msg);
        done();
      } catch (e) {
        fail(status, done, msg, e);
      }
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      closed = true;
      status.cancel();
      reset();
      done();
    });
  }

  RED.nodes.registerType("rnn-predictor", RnnPredictorNode);
};
