/**
 * rnn trainer: the end of a training chain. For each batch it runs BPTT back through the layers
 * the message passed, clips, guards against non-finite steps and applies the optimizer, then
 * acknowledges the batch to its rnn sequence node. Per epoch it reports progress; it stops early
 * on a stalled validation loss, keeps the best weights and saves the model file atomically.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import {
  Baselines,
  calibrateInSlices,
  computeMetrics,
  IntervalsJSON,
  intervalsUnavailable,
  loadModelFile,
  Model,
  ModelJSON,
  OPTIMIZERS,
  OptimizerName,
  ParameterUpdater,
  resolveModelPath,
  RnnLayer,
  saveModelFile,
  ScalerJSON,
  SeriesHistory,
  SeriesReport,
  TransformJSON,
  WindowJSON,
} from "../src";
import { findApi, LayerNodeApi, LossNodeApi, SequenceNodeApi, TrainerNodeApi } from "./shared/apis";
import {
  announcePackageDir,
  batchToken,
  boolField,
  BoundedMap,
  Done,
  endWithError,
  enumField,
  errorMessage,
  fmt,
  inputWidth,
  intField,
  isRunInfo,
  numField,
  RunInfo,
  Send,
  setupNode,
  short,
  userDir,
} from "./shared/runtime";

/**
 * How much lower than the best naive rule's the validation RMSE must be for the network to count
 * as helping. Validation errors are noisy: on a random walk (where persistence is optimal) the
 * network lands within a fraction of a percent of it, on either side, and "beats it by 0.3 %" would
 * tell the user the wrong thing.
 */
const HELPS_MARGIN = 0.025;

/** Refused steps in a row after which a run is declared diverged and stopped. */
const MAX_REFUSED_IN_A_ROW = 20;

interface TrainerConfig {
  optimizer: OptimizerName;
  learningRate: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  clipNorm: number;
  clipValue: number;
  truncate: number;
  patience: number;
  modelPath: string;
  saveMode: "end" | "best" | "every";
  saveEvery: number;
  resume: boolean;
  gradientReport: boolean;
}

function readConfig(raw: Record<string, unknown>): TrainerConfig {
  const modelPath = typeof raw.modelPath === "string" ? raw.modelPath.trim() : "";
  return {
    optimizer: enumField(raw, "optimizer", "adam", OPTIMIZERS),
    learningRate: numField(raw, "learningRate", 0.01, 0, 10, { exclusiveMin: true }),
    // Fields that only matter for one choice are checked only then, so a stale value in a flow
    // that does not use it cannot stop a deploy.
    momentum: raw.optimizer === "momentum" ? numField(raw, "momentum", 0.9, 0, 0.999999) : 0.9,
    nesterov: boolField(raw, "nesterov", false),
    weightDecay: numField(raw, "weightDecay", 0, 0, 1),
    clipNorm: numField(raw, "clipNorm", 1, 0, 1e6),
    clipValue: numField(raw, "clipValue", 0, 0, 1e6),
    truncate: intField(raw, "truncate", 0, 0, 100000),
    patience: intField(raw, "patience", 10, 0, 100000),
    modelPath,
    saveMode: enumField(raw, "saveMode", "best", ["end", "best", "every"] as const),
    saveEvery: raw.saveMode === "every" ? intField(raw, "saveEvery", 10, 1, 100000) : 10,
    resume: boolField(raw, "resume", true),
    gradientReport: boolField(raw, "gradientReport", false),
  };
}

interface EpochStats {
  started: number;
  lossSum: number;
  count: number;
  gradNormSum: number;
  steps: number;
  skipped: number;
  valLossSum: number;
  valCount: number;
  /** Validation predictions/targets are not kept; metrics are averaged per batch, weighted by count. */
  metricSums: { mse: number; mae: number; mape: number; mapeCount: number; count: number };
  dhNormSq: Float64Array[] | null;
}

/** The model's validation errors in real units, beside the naive rules'. */
interface Comparison {
  rmse: number;
  mae: number;
  /** The best naive rule by RMSE, its RMSE, and model RMSE / that RMSE (< 1: the network helps). */
  baseline: "persistence" | "seasonal" | null;
  baselineRmse: number | null;
  ratio: number | null;
}

interface TrainRun {
  id: string;
  source: string;
  epochs: number;
  epoch: number;
  scaler: ScalerJSON;
  window: WindowJSON;
  transform: TransformJSON | null;
  baselines: Baselines | null;
  series: SeriesReport | null;
  /** The series in real units, for the intervals; taken from the sequence when the run starts. */
  history: SeriesHistory | null;
  stats: EpochStats;
  best: { score: number; epoch: number; weights: Float64Array[]; comparison: Comparison | null } | null;
  refusedInARow: number;
  stopRequested: boolean;
  lastEpochInfo: Record<string, unknown> | null;
  /** Batches already used: a fanned-out copy arriving twice is ignored. */
  seen: BoundedMap<string, true>;
  /** rnn loss nodes the run's batches came through, whose records are released with the run's. */
  lossIds: Set<string>;
}

function newStats(): EpochStats {
  return { started: Date.now(), lossSum: 0, count: 0, gradNormSum: 0, steps: 0, skipped: 0, valLossSum: 0, valCount: 0, metricSums: { mse: 0, mae: 0, mape: 0, mapeCount: 0, count: 0 }, dhNormSq: null };
}

export = function register(RED: NodeAPI): void {
  announcePackageDir();
  function RnnTrainerNode(this: Node, def: NodeDef): void {
    const node = this;
    const setup = setupNode(RED, node, def, "rnn-trainer", (raw: Record<string, unknown>) => {
      const c = readConfig(raw);
      return { c, filePath: c.modelPath ? resolveModelPath(userDir(RED), c.modelPath) : null };
    });
    if (!setup) return;
    const { t, status } = setup;
    const config = setup.config.c;
    const filePath = setup.config.filePath;

    let closed = false;
    let run: TrainRun | null = null;
    /** Layer node ids of the chain last trained, in order. */
    let layerIds: string[] = [];
    let updater: ParameterUpdater | null = null;
    let updaterShape = "";
    /** Model read from the file at start; its weights go into the layers on the first batch. */
    let fileModel: Model | null = null;
    let resumePending = false;
    let version = 0;
    let cachedModel: { model: Model; version: number } | null = null;
    let lastScaler: ScalerJSON | null = null;
    let lastWindow: WindowJSON | null = null;
    let lastTransform: TransformJSON | null = null;
    let lastIntervals: IntervalsJSON | null = null;
    let lastTraining: ModelJSON["training"] = null;
    let saving: Promise<void> = Promise.resolve();
    let loading: Promise<void> = Promise.resolve();
    /** Tokens of the last batches used, across runs: a fanned-out copy of a run's last batch is still known. */
    const recentTokens = new BoundedMap<string, true>(64);
    /** Runs that ended here (stop, timeout, redeploy of the sequence): their late batches are dropped quietly. */
    const endedRuns = new BoundedMap<string, true>(16);
    /** Why the model file could not be read at deploy; while set, the file is never written over. */
    let unreadable: string | null = null;
    let unreadableReported = false;

    function makeUpdater(): ParameterUpdater {
      return new ParameterUpdater({
        optimizer: config.optimizer,
        learningRate: config.learningRate,
        momentum: config.momentum,
        nesterov: config.nesterov,
        weightDecay: config.weightDecay,
        clipNorm: config.clipNorm,
        clipValue: config.clipValue,
      });
    }

    function layerApis(ids: string[]): LayerNodeApi[] {
      return ids.map((id) => {
        const api = findApi<LayerNodeApi>(RED, id, "rnn-layer");
        if (!api) throw new Error(`the rnn layer ${id} that this batch passed is no longer deployed`);
        return api;
      });
    }

    function currentLayers(): RnnLayer[] | null {
      if (layerIds.length === 0) return null;
      const layers: RnnLayer[] = [];
      for (const id of layerIds) {
        const l = findApi<LayerNodeApi>(RED, id, "rnn-layer")?.getLayer();
        if (!l) return null;
        layers.push(l);
      }
      return layers;
    }

    /** The model as it stands: the live layers (copied), or what was loaded from the file. */
    function snapshot(): Model | null {
      const layers = currentLayers();
      if (!layers || resumePending) return fileModel;
      try {
        return new Model(layers[0].inputSize, layers.map((l) => l.clone()), { scaler: lastScaler, window: lastWindow, transform: lastTransform, intervals: lastIntervals, training: lastTraining });
      } catch {
        return null;
      }
    }

    /** Queues an atomic save; resolves true once written, false if there was nothing to save or it failed. */
    /** Why an existing file that could not be read is kept as it is (a newer format, a hand edit gone wrong…). */
    function keptFileMessage(): string {
      return `not saving over ${filePath}: it could not be read when the flow started (${unreadable}); move it away or choose another model file, then deploy again`;
    }

    function save(reason: string, final = true): Promise<boolean> {
      if (!filePath) return Promise.resolve(false);
      if (unreadable !== null) {
        if (!closed && !unreadableReported) node.error(t("errors.saveFailed", { message: keptFileMessage() }));
        unreadableReported = true;
        return Promise.resolve(false);
      }
      const model = snapshot();
      if (!model || !model.scaler) return Promise.resolve(false);
      const json = model.toJSON();
      json.training = { ...(json.training ?? {}), savedAt: new Date().toISOString(), savedBecause: reason };
      const path = filePath;
      const result = saving.then(() => saveModelFile(path, json)).then(
        () => {
          // Saves on every better epoch would flood the log at info level; the final one is worth a line.
          if (!closed) (final ? node.log : node.debug).call(node, `model saved to ${path} (${reason})`);
          return true;
        },
        (e: unknown) => {
          if (!closed) {
            node.error(t("errors.saveFailed", { message: errorMessage(e) }));
            node.status({ fill: "red", shape: "ring", text: t("status.saveFailed") });
          }
          return false;
        },
      );
      saving = result.then(() => undefined);
      return result;
    }

    function loadFromFile(): void {
      if (!filePath || !config.resume) return;
      const path = filePath;
      loading = loadModelFile(path).then(
        (loaded) => {
          if (closed) return;
          const model = Model.fromJSON(loaded.model);
          // Training already started before the file was read: the live weights win.
          if (run !== null || layerIds.length > 0) return;
          fileModel = model;
          lastScaler = fileModel.scaler;
          lastWindow = fileModel.window;
          lastTransform = fileModel.transform;
          lastIntervals = fileModel.intervals;
          lastTraining = fileModel.training;
          resumePending = true;
          version++;
          if (loaded.warning) node.warn(loaded.warning);
          node.status({ fill: "green", shape: "ring", text: t("status.loaded") });
        },
        (e: NodeJS.ErrnoException) => {
          if (closed) return;
          if (e && e.code === "ENOENT") return; // nothing saved yet: a fresh start
          const message = errorMessage(e);
          unreadable = message.includes(path) ? message : `${path}: ${message}`;
          node.error(t("errors.loadFailed", { message: unreadable }));
          node.status({ fill: "red", shape: "ring", text: t("status.fileUnreadable") });
        },
      );
    }

    const api: TrainerNodeApi = {
      kind: "rnn-trainer",
      getModel() {
        if (cachedModel && cachedModel.version === version) return cachedModel;
        const model = snapshot();
        if (!model) return null;
        cachedModel = { model, version };
        return cachedModel;
      },
      runEnded(runId, reason) {
        if (run && run.id === runId) finishRun(reason === "completed" ? "completed" : "stopped", null);
      },
    };
    (node as unknown as { rnnApi: TrainerNodeApi }).rnnApi = api;
    node.status({ fill: "grey", shape: "ring", text: t("status.idle") });
    loadFromFile();

    function release(r: TrainRun, ids: string[]): void {
      for (const id of ids) findApi<LayerNodeApi>(RED, id, "rnn-layer")?.releaseRun(r.id);
      // A batch lost between the loss node and this one leaves its gradient there: drop it too.
      for (const id of r.lossIds) findApi<LossNodeApi>(RED, id, "rnn-loss")?.releaseRun(r.id);
    }

    function finishRun(reason: "completed" | "early-stopped" | "stopped" | "diverged", send: Send | null): void {
      if (!run) return;
      const r = run;
      run = null;
      endedRuns.set(r.id, true);
      const layers = currentLayers();
      // Put back the weights of the best epoch (the run may have wandered off after it).
      if (r.best && layers) {
        const params = layers.flatMap((l) => l.list());
        // Only onto the same shapes: a layer redeployed with another size keeps its own weights.
        const best = r.best.weights;
        if (params.length === best.length && params.every((p, i) => p.length === best[i].length)) params.forEach((p, i) => p.set(best[i]));
        version++;
      }
      release(r, layerIds);
      const info = r.lastEpochInfo ?? {};
      const comparison = r.best ? r.best.comparison : ((info.comparison as Comparison | undefined) ?? null);
      lastTraining = {
        epochs: r.epoch,
        loss: finiteOrNull(info.loss),
        valLoss: finiteOrNull(info.valLoss),
        bestEpoch: r.best ? r.best.epoch : null,
        stoppedBecause: reason,
        ...trainingFigures(comparison, r.baselines),
      };
      // The intervals of an earlier run belong to other weights.
      lastIntervals = null;
      // After a divergence the saved weights are the best epoch's (restored above) or none at all.
      const shouldSave = filePath !== null && (reason !== "diverged" || r.best !== null);
      /** The run's last word. `stale`: another run (or a reset) has begun since: its status stays. */
      const finalize = (saved: boolean, stale: boolean) => {
        if (closed) return;
        const helps = comparison && comparison.ratio !== null ? comparison.ratio <= 1 - HELPS_MARGIN : null;
        const doneMsg = {
          topic: "done",
          payload: {
            reason,
            epochs: r.epoch,
            bestEpoch: r.best ? r.best.epoch : null,
            bestValLoss: r.best ? r.best.score : null,
            loss: finiteOrNull(info.loss),
            valLoss: finiteOrNull(info.valLoss),
            metrics: comparison ? { rmse: comparison.rmse, mae: comparison.mae } : null,
            baselines: r.baselines,
            beatsBaseline: helps,
            intervals: !stale && lastIntervals ? { levels: lastIntervals.levels, coverage: lastIntervals.coverage, halfWidth: lastIntervals.halfWidth.map((l) => l[0]), steps: lastIntervals.halfWidth[0].length, origins: lastIntervals.origins } : null,
            series: r.series,
            path: saved ? filePath : null,
          },
        };
        (send ?? node.send.bind(node))([null, doneMsg, null]);
        if (helps === false && comparison) {
          // The honest answer for a series the network cannot improve on (a random walk, say).
          node.warn(t("warnings.noBetter", { rmse: fmt(comparison.rmse), baseline: comparison.baseline ?? "", naive: fmt(comparison.baselineRmse ?? NaN) }));
        }
        if (stale) return;
        status.cancel(); // a throttled epoch status must not land after the final word
        if (reason === "diverged") node.status({ fill: "red", shape: "dot", text: t("status.diverged") });
        else if (helps === false && comparison) node.status({ fill: "yellow", shape: "dot", text: t("status.compare", { rmse: fmt(comparison.rmse), naive: fmt(comparison.baselineRmse ?? NaN) }) });
        else if (comparison && comparison.baselineRmse !== null) node.status({ fill: "green", shape: "dot", text: t("status.compare", { rmse: fmt(comparison.rmse), naive: fmt(comparison.baselineRmse) }) });
        else node.status({ fill: "green", shape: "dot", text: t("status.best", { loss: fmt(r.best ? r.best.score : (info.loss as number)) }) });
      };
      // The run's weights are saved at once, as they stand: a redeploy or a new run during the
      // interval calibration below must not cost the run its file.
      const saved: Promise<boolean> = shouldSave ? save(`training ${reason}`).catch(() => false) : Promise.resolve(false);
      const model = reason === "diverged" ? null : snapshot();
      const unavailable = model ? intervalsUnavailable(model, r.history) : "training diverged";
      const calibrating = version;
      // Another run, a reset or a reload changed the weights since: the widths would be for weights that are gone.
      const isStale = () => version !== calibrating || run !== null;
      // Intervals from the restored weights' validation errors, in slices between other messages.
      const intervals: Promise<IntervalsJSON | null> = !model || unavailable !== null
        ? Promise.resolve(null)
        : calibrateInSlices(model, r.history!, () => closed || isStale()).catch((e: unknown) => {
            if (!closed) node.warn(`no prediction intervals: ${errorMessage(e)}`);
            return null;
          });
      Promise.all([saved, intervals]).then(([wasSaved, found]) => {
        if (closed) return;
        const stale = isStale();
        if (found && !stale) {
          lastIntervals = found;
          version++;
          // The file gets the intervals too (a second atomic save, of the same weights).
          if (wasSaved) save("prediction intervals calibrated", false);
        }
        finalize(wasSaved, stale);
      }, () => finalize(false, isStale()));
    }

    /** The model-vs-naive figures written into the model file's training section. */
    function trainingFigures(c: Comparison | null, b: Baselines | null): Record<string, number | string | null> {
      const out: Record<string, number | string | null> = {};
      if (c) {
        out.valRmse = c.rmse;
        out.valMae = c.mae;
      }
      if (b?.persistence) {
        out.persistenceRmse = b.persistence.rmse;
        out.persistenceMae = b.persistence.mae;
      }
      if (b?.seasonal) {
        out.seasonalRmse = b.seasonal.rmse;
        out.seasonalMae = b.seasonal.mae;
        out.season = b.seasonal.season;
      }
      if (c?.baseline) out.bestBaseline = c.baseline;
      return out;
    }

    function compare(metrics: { rmse: number; mae: number } | undefined, b: Baselines | null): Comparison | null {
      if (!metrics || !Number.isFinite(metrics.rmse)) return null;
      const baseline = b?.best ?? null;
      const baselineRmse = baseline === "seasonal" ? b!.seasonal!.rmse : baseline === "persistence" ? b!.persistence!.rmse : null;
      return { rmse: metrics.rmse, mae: metrics.mae, baseline, baselineRmse, ratio: baselineRmse ? metrics.rmse / baselineRmse : null };
    }

    function finiteOrNull(v: unknown): number | null {
      return typeof v === "number" && Number.isFinite(v) ? v : null;
    }

    function startRun(info: RunInfo): TrainRun {
      const r: TrainRun = {
        id: info.id,
        source: info.source,
        epochs: info.epochs,
        epoch: info.epoch,
        scaler: info.scaler,
        window: info.window,
        transform: info.transform ?? null,
        baselines: info.baselines ?? null,
        series: info.series ?? null,
        history: findApi<SequenceNodeApi>(RED, info.source, "rnn-sequence")?.history(info.id) ?? null,
        stats: newStats(),
        best: null,
        refusedInARow: 0,
        stopRequested: false,
        lastEpochInfo: null,
        seen: new BoundedMap(64),
        lossIds: new Set(),
      };
      lastScaler = info.scaler;
      lastWindow = info.window;
      lastTransform = info.transform ?? null;
      lastIntervals = null;
      return r;
    }

    /** Finishes an epoch: reports, early stopping, saving. Returns whether the run must stop, and why. */
    function endEpoch(r: TrainRun, send: Send, lr: number): "early-stopped" | "stopped" | "diverged" | "completed" | null {
      const s = r.stats;
      const loss = s.count ? s.lossSum / s.count : NaN;
      const valLoss = s.valCount ? s.valLossSum / s.valCount : null;
      const m = s.metricSums;
      const payload: Record<string, unknown> = {
        epoch: r.epoch,
        epochs: r.epochs,
        loss: finiteOrNull(loss),
        valLoss: finiteOrNull(valLoss),
        lr,
        gradNorm: s.steps ? s.gradNormSum / s.steps : null,
        ms: Date.now() - s.started,
        skipped: s.skipped,
      };
      if (m.count) payload.metrics = { mse: m.mse / m.count, rmse: Math.sqrt(m.mse / m.count), mae: m.mae / m.count, mape: m.mapeCount ? m.mape / m.mapeCount : null };
      const comparison = compare(payload.metrics as { rmse: number; mae: number } | undefined, r.baselines);
      if (r.baselines) payload.baselines = r.baselines;
      if (comparison) payload.comparison = comparison;
      if (s.dhNormSq) {
        const batches = Math.max(1, s.steps);
        const perLayer = s.dhNormSq.map((a) => Array.from(a, (v) => Math.sqrt(v / batches)));
        payload.dhNorm = perLayer[0];
        payload.dhNormLayers = perLayer;
      }
      r.lastEpochInfo = payload;
      lastTraining = { epochs: r.epoch, loss: finiteOrNull(loss), valLoss: finiteOrNull(valLoss) };
      const chart = [{ topic: "loss", payload: finiteOrNull(loss), epoch: r.epoch }];
      if (valLoss !== null) chart.push({ topic: "valLoss", payload: finiteOrNull(valLoss), epoch: r.epoch });
      send([{ topic: "epoch", payload }, null, chart]);
      status.set({ fill: "blue", shape: "dot", text: comparison && comparison.baselineRmse !== null ? t("status.epochCompare", { epoch: r.epoch, epochs: r.epochs, rmse: fmt(comparison.rmse), naive: fmt(comparison.baselineRmse) }) : t("status.epoch", { epoch: r.epoch, epochs: r.epochs, loss: fmt(valLoss ?? loss, 3) }) });

      const score = valLoss ?? loss;
      let improved = false;
      if (Number.isFinite(score) && (!r.best || score < r.best.score)) {
        const layers = currentLayers();
        if (layers) {
          r.best = { score, epoch: r.epoch, weights: layers.flatMap((l) => l.list()).map((p) => p.slice()), comparison };
          improved = true;
        }
      }
      if (filePath) {
        if (config.saveMode === "best" && improved) save(`best validation loss at epoch ${r.epoch}`, false);
        else if (config.saveMode === "every" && r.epoch % config.saveEvery === 0) save(`epoch ${r.epoch}`, false);
      }
      r.stats = newStats();
      if (r.refusedInARow >= MAX_REFUSED_IN_A_ROW) return "diverged";
      if (r.stopRequested) return "stopped";
      if (config.patience > 0 && r.best && r.epoch - r.best.epoch >= config.patience) return "early-stopped";
      if (r.epoch >= r.epochs) return "completed";
      return null;
    }

    function trainBatch(r: TrainRun, info: RunInfo, layers: LayerNodeApi[]): void {
      const lossApi = info.loss ? findApi<LossNodeApi>(RED, info.loss.id, "rnn-loss") : null;
      const record = lossApi && info.loss?.key ? lossApi.take(info.loss.key) : undefined;
      if (!record || !record.dY) throw new Error("this batch has no gradient from an rnn loss node: wire rnn layer(s) → rnn loss → rnn trainer");
      if (record.count === 0) return;
      // Optimizer state belongs to parameters of given shapes: a layer redeployed with other sizes
      // under the same id needs a fresh one.
      const shape = layers.map((l) => (l.getLayer() as RnnLayer).list().map((p) => p.length).join(",")).join(";");
      if (!updater || shape !== updaterShape) {
        updater = makeUpdater();
        updaterShape = shape;
      }
      const T = info.window.length;
      if (config.gradientReport && !r.stats.dhNormSq) r.stats.dhNormSq = layers.map(() => new Float64Array(T));
      // This batch's ‖∂L/∂h_t‖², added to the epoch's sums only if the step is accepted.
      const batchDh = r.stats.dhNormSq ? layers.map(() => new Float64Array(T)) : null;
      let d: Float64Array | null = record.dY;
      const grads: Float64Array[][] = new Array(layers.length);
      for (let k = layers.length - 1; k >= 0; k--) {
        const ref = info.layers[k];
        if (!ref.key) throw new Error("a layer of this batch kept no activations (was it a validation batch?)");
        const dhNormSq = batchDh ? batchDh[k] : undefined;
        const res = layers[k].backward(ref.key, d as Float64Array, { truncate: config.truncate, dYIsLogit: k === layers.length - 1 && record.dYIsLogit, needInputGrad: k > 0, dhNormSq });
        const layer = layers[k].getLayer() as RnnLayer;
        grads[k] = layer.names().map((n) => res.grads[n] as Float64Array);
        d = res.dX;
      }
      const params = layers.flatMap((l) => (l.getLayer() as RnnLayer).list());
      const report = updater.step(params, grads.flat(), record.loss);
      version++;
      if (report.accepted) {
        if (batchDh && r.stats.dhNormSq) batchDh.forEach((a, k) => a.forEach((v, i) => (r.stats.dhNormSq![k][i] += v)));
        r.refusedInARow = 0;
        r.stats.lossSum += record.loss * record.count;
        r.stats.count += record.count;
        r.stats.gradNormSum += report.gradNorm;
        r.stats.steps++;
      } else {
        r.refusedInARow++;
        r.stats.skipped++;
        // Once per epoch: the epoch message counts the rest (`skipped`), the log need not.
        if (r.stats.skipped === 1) node.warn(`step refused (${report.reason}): last good weights restored, learning rate lowered to ${fmt(report.learningRate)}`);
      }
    }

    function validateBatch(r: TrainRun, info: RunInfo, msg: { metrics?: unknown }): void {
      const lossApi = info.loss ? findApi<LossNodeApi>(RED, info.loss.id, "rnn-loss") : null;
      const record = lossApi && info.loss?.key ? lossApi.take(info.loss.key) : undefined;
      if (!record) throw new Error("this validation batch has no loss from an rnn loss node: wire rnn layer(s) → rnn loss → rnn trainer");
      if (record.count === 0) return;
      r.stats.valLossSum += record.loss * record.count;
      r.stats.valCount += record.count;
      const m = msg.metrics as ReturnType<typeof computeMetrics> | undefined;
      if (m && Number.isFinite(m.mse) && m.count > 0) {
        const s = r.stats.metricSums;
        s.mse += m.mse * m.count;
        s.mae += m.mae * m.count;
        if (m.mape !== null) {
          s.mape += m.mape * m.count;
          s.mapeCount += m.count;
        }
        s.count += m.count;
      }
    }

    /** Puts the weights read from the file into the layers; false when they do not fit the chain. */
    function applyResume(layers: LayerNodeApi[], info: RunInfo): boolean {
      resumePending = false;
      const model = fileModel;
      if (!model) return false;
      const inputSize = inputWidth(info);
      // Every layer is checked before any is loaded: a half-loaded chain would be neither the file's
      // model nor a fresh one.
      const saved = model.layers.map((l) => l.toJSON());
      if (model.layers.length === layers.length && model.inputSize === inputSize && layers.every((api, k) => api.fits(saved[k]))) {
        layers.forEach((api, k) => api.loadWeights(saved[k], model.layers[k].inputSize));
        updater = makeUpdater();
        node.log("training continues from the weights in the model file");
        return true;
      }
      node.warn("the model file does not match the layers of this chain (sizes or activations differ): training starts from a fresh initialisation");
      return false;
    }

    node.on("input", (msg: NodeMessageInFlow & { rnn?: unknown; metrics?: unknown }, send: Send, done: Done) => {
      /** Set once the batch is known to be the one in flight: only then may a failure end the run. */
      let accepted = false;
      try {
        const topic = typeof msg.topic === "string" ? msg.topic : "";
        if (!isRunInfo(msg.rnn)) {
          if (topic === "stop") {
            if (run) {
              run.stopRequested = true;
              findApi<SequenceNodeApi>(RED, run.source, "rnn-sequence")?.stopRun(run.id);
              finishRun("stopped", send);
            }
            done();
            return;
          }
          if (topic === "save") {
            if (!filePath) throw new Error("no model file is configured: set 'Model file' to save");
            if (unreadable !== null) throw new Error(t("errors.saveFailed", { message: keptFileMessage() }));
            if (!snapshot()) throw new Error(t("errors.noModel"));
            save("save command").then((ok) => (ok ? done() : done(new Error("the model could not be saved: see the error logged before this one"))));
            return;
          }
          if (topic === "reset") {
            if (run) {
              findApi<SequenceNodeApi>(RED, run.source, "rnn-sequence")?.stopRun(run.id);
              endedRuns.set(run.id, true);
              release(run, layerIds);
              run = null;
            }
            for (const api of layerApis(layerIds.filter((id) => findApi(RED, id, "rnn-layer")))) api.resetWeights();
            updater = null;
            fileModel = null;
            resumePending = false;
            version++;
            node.status({ fill: "grey", shape: "ring", text: t("status.idle") });
            done();
            return;
          }
          if (msg.rnn !== undefined) throw new Error("msg.rnn is not a complete training record from an rnn sequence node (it must pass the rnn nodes unchanged)");
          throw new Error(t("errors.badPayload", { message: 'expected a training batch from rnn loss (msg.rnn), or msg.topic "stop", "save" or "reset"' }));
        }
        const info = msg.rnn;
        const ids = info.layers.map((l) => l.id);
        if (ids.length === 0) throw new Error("this batch passed no rnn layer");
        const token = batchToken(info);
        // A copy of a batch already used (the chain fans out into this node twice): ignore it.
        if (recentTokens.get(token)) {
          done();
          return;
        }
        // A batch of a run that already ended (stopped, timed out, its sequence closed by a
        // redeploy) was in flight when it ended: nothing to do with it, and nothing to report.
        if (endedRuns.get(info.id)) {
          done();
          return;
        }
        // Only the batch its sequence node waits for may change anything here: a replayed, edited or
        // forged record is refused before it can end the current run or touch the weights.
        const source = findApi<SequenceNodeApi>(RED, info.source, "rnn-sequence");
        if (!source) throw new Error(`msg.rnn.source ${JSON.stringify(info.source)} is not a deployed rnn sequence node, so this batch cannot be acknowledged`);
        // The sequence ended this run (its own "stop" or "reset") while the batch was on its way.
        if (source.hasEnded(info.id)) {
          done();
          return;
        }
        if (!source.inFlight(info.id, token)) throw new Error("this batch is not the one its rnn sequence node is waiting for (replayed, duplicated after the run ended, or altered on its way): ignored");
        accepted = true;
        recentTokens.set(token, true);
        const layers = layerApis(ids);
        if (ids.join() !== layerIds.join()) {
          layerIds = ids;
          updater = null;
        }
        if (!run || run.id !== info.id) {
          if (run) finishRun("stopped", send);
          run = startRun(info);
          // A run starts from the configured learning rate and fresh optimizer state: a rate lowered
          // by an earlier run's refused steps must not carry over.
          updater = null;
        }
        const r = run;
        if (r.seen.get(token)) {
          // A copy of a batch already used (the chain fans out into this node twice): ignore it.
          done();
          return;
        }
        r.seen.set(token, true);
        if (info.loss) r.lossIds.add(info.loss.id);
        r.epoch = info.epoch;
        if (resumePending && info.phase === "train" && applyResume(layers, info)) {
          // This batch ran through the old weights; it only served to find the layers. Skip it.
          const lossApi = info.loss ? findApi<LossNodeApi>(RED, info.loss.id, "rnn-loss") : null;
          if (info.loss?.key) lossApi?.take(info.loss.key);
          release(r, ids);
          version++;
        } else if (info.phase === "train") {
          trainBatch(r, info, layers);
        } else {
          validateBatch(r, info, msg);
        }
        const lastOfEpoch = (info.phase === "validate" && info.batch === info.valBatches) || (info.phase === "train" && info.batch === info.batches && info.valBatches === 0);
        let ending: ReturnType<typeof endEpoch> = null;
        if (lastOfEpoch) ending = endEpoch(r, send, updater ? updater.learningRate : config.learningRate);
        else if (r.refusedInARow >= MAX_REFUSED_IN_A_ROW) ending = "diverged";
        else if (info.phase === "train" && info.batch === 1) {
          const c = r.lastEpochInfo?.comparison as Comparison | undefined;
          status.set({ fill: "blue", shape: "dot", text: c && c.baselineRmse !== null ? t("status.epochCompare", { epoch: info.epoch, epochs: info.epochs, rmse: fmt(c.rmse), naive: fmt(c.baselineRmse) }) : t("status.epoch", { epoch: info.epoch, epochs: info.epochs, loss: fmt(r.lastEpochInfo ? (r.lastEpochInfo.valLoss as number) ?? (r.lastEpochInfo.loss as number) : NaN, 3) }) });
        }
        const seq = findApi<SequenceNodeApi>(RED, info.source, "rnn-sequence");
        // "completed" is the sequence's own conclusion; anything else cuts the run short.
        seq?.ack(info.id, token, { stop: ending !== null && ending !== "completed", trainer: node.id, earlyStop: ending === "early-stopped" });
        if (ending) finishRun(ending, send);
        done();
      } catch (e) {
        status.set({ fill: "red", shape: "ring", text: short(errorMessage(e)) }, true);
        // The batch failed here: end the run cleanly rather than leave the sequence waiting for an ack.
        if (accepted && isRunInfo(msg.rnn) && run && run.id === msg.rnn.id) {
          findApi<SequenceNodeApi>(RED, msg.rnn.source, "rnn-sequence")?.ack(msg.rnn.id, batchToken(msg.rnn), { stop: true, trainer: node.id });
          finishRun("stopped", send);
        }
        endWithError(done, msg, e);
      }
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      closed = true;
      status.cancel();
      if (run) {
        // The sequence would otherwise wait for an acknowledgement that can no longer come.
        findApi<SequenceNodeApi>(RED, run.source, "rnn-sequence")?.stopRun(run.id);
        release(run, layerIds);
        run = null;
      }
      // Let a save in progress finish (it is atomic either way), but never hang the redeploy.
      const guard = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
      Promise.race([Promise.all([saving, loading]).then(() => undefined), guard]).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType("rnn-trainer", RnnTrainerNode);
};
