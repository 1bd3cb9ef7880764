/**
 * rnn trainer: the end of a training chain. It wires Node-RED to the training loop: from the run
 * message it builds one model (the chain the message described, with the weights of the last run,
 * of the model file or fresh), takes the prepared series from the rnn sequence node and trains it
 * off the main thread. Per epoch it reports progress, compares with the naive rules, keeps the
 * layer nodes' weights current and saves the model file atomically; at the end it calibrates the
 * prediction intervals.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { CalibrationJob, calibrateOffThread, defaultBackendName, EpochInfo, FitResult, IntervalsJSON, intervalsUnavailable, Model, loadWorkerTrainer, nextTurn, TrainingSession } from "../src";
import { findApi, LayerNodeApi, TrainerNodeApi } from "./shared/apis";
import { changedLayer, compileChain, CompiledLayer } from "./shared/compile";
import { TrainerFeed } from "./shared/editorFeed";
import { ModelFileKeeper, tfjsFolderOf } from "./shared/modelFileKeeper";
import { chartPoints, Comparison, compare, epochPayload, finiteOrNull } from "./shared/runReport";
import { BestEpoch, donePayload, finalStatus, FinishedRun, noBetterWarning, trainingSection, unfinishedPayload } from "./shared/runEnd";
import { decide, findRival, Rival, SaveDecision, ScorePair } from "./shared/saveDecision";
import { findByMessage, findTicket, hasEnded, isRunRecord, RunEnd, RunRecord, RunTicket } from "./shared/runs";
import { announcePackageDir, Done, endWithError, errorMessage, fmt, modelFilePath, Send, setupNode, short, userDir } from "./shared/runtime";
import { readConfig, sessionOptions } from "./shared/trainerConfig";

/** A value from a message, quoted in an error: bounded, whatever the message held. */
function quote(v: string): string {
  return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
}
/** Where a session trains, as the epoch and done messages report it: "main" or the number of workers. */
function threadsOf(session: TrainingSession): number | "main" {
  return session.where === "main" ? "main" : session.workers;
}

/** How long a redeploy waits for a run to stop after its current minibatch before terminating it. */
const CLOSE_GRACE_MS = 2000;

/** The run in progress: the ticket of its prepared series and the session training its model. */
interface TrainRun {
  ticket: RunTicket;
  /** The message that started it: errors of the run are reported with it, so Catch nodes see them. */
  msg: NodeMessageInFlow;
  layers: CompiledLayer[];
  session: TrainingSession;
  epochs: number;
  epoch: number;
  best: BestEpoch | null;
  last: Record<string, unknown> | null;
  /** The saved model this run must beat before it may be written over it (see saveDecision.ts). */
  rival: Promise<Rival>;
  /** Set when the run is ended from here (stop, reset, close, a layer redeployed): why; `reset` sends no done message. */
  ending: { reason: RunEnd; why?: string; reset?: boolean } | null;
  /** Settles once `finishRun` has run for it. */
  ended: Promise<void>;
  markEnded: () => void;
}

export = function register(RED: NodeAPI): void {
  announcePackageDir();
  function RnnTrainerNode(this: Node, def: NodeDef): void {
    const node = this;
    const setup = setupNode(RED, node, def, "rnn-trainer", (raw: Record<string, unknown>) => {
      const c = readConfig(raw);
      return { c, filePath: c.modelPath ? modelFilePath(RED, c.modelPath, (where) => RED._("rnn-trainer.errors.modelPathOutsideAt", { message: RED._("rnn-trainer.errors.modelPathOutside"), ...where })) : null };
    });
    if (!setup) return;
    const { t, status } = setup;
    const config = setup.config.c;
    const filePath = setup.config.filePath;

    let closed = false;
    let run: TrainRun | null = null;
    /** The model this node owns: the last one trained (or read from the file), with its extras. */
    let model: Model | null = null;
    /** Layer node ids of the chain `model` was trained for, in order. */
    let layerIds: string[] = [];
    /** Read from the file at deploy and not yet used by a run: the first run continues from it. */
    let resumePending = false;
    let version = 0;
    let cachedModel: { model: Model; version: number } | null = null;
    let loading: Promise<void> = Promise.resolve();
    /** The interval calibration of the last run, while it runs: cancelled by a new run, a reset or a close. */
    let calibration: CalibrationJob | null = null;
    const cancelCalibration = (): void => {
      calibration?.cancel();
      calibration = null;
    };
    const file = new ModelFileKeeper(filePath, {
      // Saves on every better epoch would flood the log at info level; the final one is worth a line.
      saved: (path, reason, final) => !closed && (final ? node.log : node.debug).call(node, t("log.saved", { path, reason })),
      saveFailed: (message) => {
        if (closed) return;
        node.error(t("errors.saveFailed", { message }));
        node.status({ fill: "red", shape: "ring", text: t("status.saveFailed") });
      },
      warn: (message) => !closed && node.warn(message),
    }, t, filePath && config.exportTfjs ? tfjsFolderOf(filePath) : null);
    const save = (reason: string, final = true) => file.save(model, reason, final);
    // The curves of the editor's rnn sidebar.
    const feed = new TrainerFeed(RED, node);

    function loadFromFile(): void {
      if (!filePath || !config.resume) return;
      loading = file.load().then(
        (fromFile) => {
          // Nothing saved yet, or training already started before the file was read: the live weights win.
          if (closed || !fromFile || run !== null || model !== null) return;
          model = fromFile;
          resumePending = true;
          version++;
          node.status({ fill: "green", shape: "ring", text: t("status.loaded") });
        },
        (e: unknown) => {
          if (closed) return;
          node.error(t("errors.loadFailed", { message: errorMessage(e) }));
          node.status({ fill: "red", shape: "ring", text: t("status.fileUnreadable") });
        },
      );
    }

    const api: TrainerNodeApi = {
      kind: "rnn-trainer",
      getModel() {
        if (!model) return null;
        if (cachedModel && cachedModel.version === version) return cachedModel;
        cachedModel = { model: model.clone(), version };
        return cachedModel;
      },
    };
    (node as unknown as { rnnApi: TrainerNodeApi }).rnnApi = api;
    node.status({ fill: "grey", shape: "ring", text: t("status.idle") });
    // Loaded now rather than when the first run starts (a run must not wait for module loading).
    if (config.threads !== "main") loadWorkerTrainer();
    loadFromFile();

    /** Copies the model's weights into the layer nodes, whose forward passes and status then show them. */
    function pushWeights(): void {
      if (!model) return;
      layerIds.forEach((id, k) => findApi<LayerNodeApi>(RED, id, "rnn-layer")?.setWeights(model!.layers[k]));
    }

    /** A run whose chain the flow no longer shows (a layer node redeployed or removed) ends, saying which node. */
    function checkLayers(deployed: boolean): void {
      const r = run;
      if (!r || r.ending) return;
      const why = changedLayer(RED, r.layers, deployed, t);
      if (why) endRun(r, "stopped", why);
    }
    // A deploy of only the changed nodes leaves this one running: look at the chain at once.
    const onFlowsStarted = () => checkLayers(true);
    RED.events.on("flows:started", onFlowsStarted);

    /** Ends the run from here: the session stops after its current minibatch (or at once when closing). */
    function endRun(r: TrainRun, reason: RunEnd, why?: string, now = false): void {
      if (r.ending) {
        // A run already stopping (a stop, then a reset before it ended): end it at once now.
        if (now && !r.ending.reset) {
          r.ending.reset = true;
          void r.session.close();
        }
        return;
      }
      r.ending = { reason, why, reset: now };
      if (why) node.warn(why);
      if (now) void r.session.close();
      else r.session.stop();
    }

    function startRun(record: RunRecord, msg: NodeMessageInFlow): void {
      const ticket = findTicket(record.run);
      if (!ticket) throw new Error(t("errors.unknownRun", { run: quote(record.run) }));
      if (ticket.source !== record.source) throw new Error(t("errors.sourceMismatch"));
      if (ticket.trainer !== null) throw new Error(t("errors.otherTrainer", { trainer: ticket.trainer }));
      if (run) {
        const why = t("errors.busy", { source: run.ticket.source });
        ticket.onEnd("failed", why);
        throw new Error(why);
      }
      let built: ReturnType<typeof compileChain>;
      try {
        built = compileChain(RED, record, ticket.data, { file: resumePending ? model : null, last: model, lastIds: layerIds }, t);
      } catch (e) {
        // The sequence must not wait for its watchdog: the run cannot start, and it says why.
        ticket.onEnd("failed", errorMessage(e));
        throw e;
      }
      resumePending = false;
      if (built.from === "file") node.log(t("log.resumed"));
      if (built.fileMismatch) node.warn(t(built.from === "fresh" ? "warnings.fileMismatchFresh" : "warnings.fileMismatchCurrent"));
      const data = ticket.data;
      const train = data.train;
      const validation = data.validation.B > 0 ? data.validation : null;
      const targets = data.scaler.targets;
      const loss = record.loss as NonNullable<RunRecord["loss"]>;
      // One offset and scale per output column (a direct model's scaler already has one per step ahead).
      const realUnits = { offset: targets.offset, scale: targets.scale, mape: !data.transform || data.transform.difference === "none" };
      const session = new TrainingSession(built.model, train, validation, sessionOptions(config, ticket.settings, loss, realUnits, built.draws));
      cancelCalibration();
      model = built.model;
      layerIds = built.layers.map((l) => l.id);
      version++;
      let markEnded!: () => void;
      const ended = new Promise<void>((resolve) => (markEnded = resolve));
      const rival = filePath ? findRival(file, config.saveWhen, data, built.model.layers, { loss: loss.loss, delta: loss.delta, realUnits, batchSize: ticket.settings.batchSize }, t) : Promise.resolve({ model: null, score: null, why: null });
      const r: TrainRun = { ticket, msg, layers: built.layers, session, epochs: ticket.settings.epochs, epoch: 0, best: null, last: null, rival, ending: null, ended, markEnded };
      run = r;
      ticket.trainer = node.id;
      ticket.stop = () => endRun(r, "stopped");
      ticket.onClaim(node.id);
      feed.start(r.epochs);
      // A dashboard chart on output 3 starts afresh instead of joining this run's curve to the last one's.
      node.send([null, null, { topic: "clear", payload: [] }]);
      status.set({ fill: "blue", shape: "dot", text: t("status.epoch", { epoch: 1, epochs: r.epochs, loss: "…" }) }, true);
      session.run((info) => onEpoch(r, info)).then(
        (result) => finishRun(r, result.reason, result),
        (e: unknown) => {
          // Closed from here (reset, redeploy): not a failure, nothing to report.
          if (r.ending && (r.ending.reason !== "failed")) return finishRun(r, r.ending.reason, null);
          if (!closed) node.error(t("errors.trainingFailed", { message: errorMessage(e) }), r.msg);
          finishRun(r, "failed", null, errorMessage(e));
        },
      );
    }

    function onEpoch(r: TrainRun, info: EpochInfo): void {
      // An epoch the workers finished just before a reset closed them: the reset has the last word.
      if (closed || run !== r || r.ending?.reset) return;
      // Workers that fail to start are known only once the run has begun: said with its first epoch.
      if (r.epoch === 0 && r.session.fallbackReason) node.warn(t("warnings.mainThread", { reason: r.session.fallbackReason }));
      r.epoch = info.epoch;
      version++;
      const baselines = r.ticket.data.baselines ?? null;
      const comparison = compare(info.metrics, baselines);
      const payload = { ...epochPayload(info, r.epochs, threadsOf(r.session), baselines, comparison), backend: defaultBackendName() };
      r.last = payload;
      feed.epoch(payload);
      if (model) model.training = { epochs: info.epoch, loss: finiteOrNull(info.loss), valLoss: finiteOrNull(info.valLoss) };
      node.send([{ topic: "epoch", payload }, null, chartPoints(info)]);
      r.ticket.onEpoch(info.epoch, r.epochs);
      status.set({ fill: "blue", shape: "dot", text: comparison && comparison.baselineRmse !== null ? t("status.epochCompare", { epoch: info.epoch, epochs: r.epochs, rmse: fmt(comparison.rmse), naive: fmt(comparison.baselineRmse) }) : t("status.epoch", { epoch: info.epoch, epochs: r.epochs, loss: fmt(info.valLoss ?? info.loss, 3) }) });
      // Once per epoch: the epoch message counts them (`skipped`), the log need not repeat each.
      if (info.skipped > 0) node.warn(t("warnings.stepsRefused", { skipped: info.skipped, epoch: info.epoch, rate: fmt(info.learningRate) }));
      if (info.best) r.best = { epoch: info.epoch, score: (info.valLoss ?? info.loss) as number, comparison };
      pushWeights();
      if (filePath) {
        // Written only once the epoch beats the saved model (decided when its score is known).
        const beats = () => r.rival.then((rival) => decide(rival, { valLoss: finiteOrNull(info.valLoss), rmse: info.metrics ? info.metrics.rmse : null }, t).save);
        if (config.saveMode === "best" && info.best) file.saveIf(model, t("log.savedBest", { epoch: info.epoch }), false, beats());
        // An epoch without one accepted step (all refused: the weights never moved) is not worth a file.
        else if (config.saveMode === "every" && info.epoch % config.saveEvery === 0 && Number.isFinite(info.loss)) file.saveIf(model, t("log.savedEvery", { epoch: info.epoch }), false, beats());
      }
      checkLayers(false);
    }

    /** The run's last word: weights to the layers, the file, the intervals, the done message. */
    function finishRun(r: TrainRun, reason: RunEnd, result: FitResult | null, failure?: string): void {
      if (run !== r) return;
      run = null;
      const why = r.ending?.why ?? failure;
      r.ticket.onEnd(reason, why);
      r.markEnded();
      feed.end(reason, r.best ? r.best.epoch : null);
      // A run closed at once (reset) has no final weights to speak of; otherwise the model holds
      // the best epoch's weights (restored by the loop).
      // A reset forgot the model: nothing of the run is to be kept or reported.
      if (r.ending?.reset || (closed && !result) || model === null) return;
      if (reason === "failed" || !result) {
        // A flow that waits for the end of training hears of it, closed or failed alike.
        node.send([null, { topic: "done", payload: unfinishedPayload(reason, r.epoch, failure ?? null, t) }, null]);
        if (reason === "failed") status.set({ fill: "red", shape: "ring", text: t("status.failed") }, true);
        else {
          status.cancel();
          node.status({ fill: "grey", shape: "ring", text: t("status.stopped") });
        }
        return;
      }
      version++;
      pushWeights();
      const info = r.last ?? {};
      const comparison = r.best ? r.best.comparison : ((info.comparison as Comparison | undefined) ?? null);
      const baselines = r.ticket.data.baselines ?? null;
      const history = r.ticket.data.history;
      const trained = model as Model;
      const ran = { reason, epochs: result.history.length, best: r.best, last: info, comparison, baselines };
      trained.training = trainingSection(ran);
      // The intervals of an earlier run belong to other weights.
      trained.intervals = null;
      // After a divergence the saved weights are the best epoch's (restored) or none at all.
      const shouldSave = filePath !== null && (reason !== "diverged" || r.best !== null);
      // The restored weights are the best epoch's: its scores are the run's.
      const runScore: ScorePair = { valLoss: r.best ? finiteOrNull(r.best.score) : null, rmse: comparison ? comparison.rmse : null };
      const decision: Promise<SaveDecision | null> = shouldSave ? r.rival.then((rival) => decide(rival, runScore, t)) : Promise.resolve(null);
      const finalize = (saved: boolean, stale: boolean, d: SaveDecision | null) => {
        if (closed) return;
        // Stale: the weights changed since, and so did the intervals that went with them.
        const intervals = stale ? null : d !== null && !d.save ? d.keep?.intervals ?? null : trained.intervals;
        const ended: FinishedRun = { ...ran, intervals, series: r.ticket.data.report, threads: threadsOf(r.session), filePath, saved, decision: d };
        if (d) node.log(d.reason);
        node.send([null, { topic: "done", payload: donePayload(ended, t) }, null]);
        const noBetter = noBetterWarning(comparison, t);
        if (noBetter) node.warn(noBetter);
        if (stale) return;
        status.cancel(); // a throttled epoch status must not land after the final word
        node.status(finalStatus(ended, t));
      };
      // The run's weights are saved at once, as they stand: a redeploy or a new run during the
      // interval calibration below must not cost the run its file.
      // Without a final save, the done message still waits for the epochs' saves queued before it:
      // a flow that reads the file on "done" must find what the run wrote.
      const saved: Promise<boolean> = shouldSave
        ? file.saveIf(model, t("log.savedEnd", { reason }), true, decision.then((d) => d !== null && d.save)).catch(() => false)
        : file.settled.then(() => false, () => false);
      // Closing (a redeploy) waited for the run to end so that it keeps its file: nothing more to do.
      if (closed) return;
      const unavailable = reason === "diverged" ? "training diverged" : intervalsUnavailable(trained, history);
      const calibrating = version;
      // Another run, a reset or a reload changed the weights since: the widths would be for weights that are gone.
      const isStale = () => version !== calibrating || run !== null || model !== trained;
      // Intervals from the restored weights' validation errors, in a worker thread of its own:
      // hundreds of forecasts would otherwise hold Node-RED's thread. Started on the next turn:
      // copying the history out and starting the worker is several milliseconds when cold, and
      // this turn already pushed the weights to the layers and took the model file's copy.
      const startCalibration = (): Promise<IntervalsJSON | null> => {
        // A close, a reset or another run in between: the widths would be for weights that are gone.
        if (closed || isStale()) return Promise.resolve(null);
        const job = calibrateOffThread(trained, history);
        calibration = job;
        // Weights that are not kept need no intervals.
        void decision.then((d) => d && !d.save && job.cancel());
        return job.promise.catch((e: unknown) => {
          if (!closed) node.warn(t("warnings.noIntervals", { message: errorMessage(e) }));
          return null;
        });
      };
      const intervals: Promise<IntervalsJSON | null> = unavailable !== null ? Promise.resolve(null) : nextTurn().then(startCalibration);
      Promise.all([saved, intervals, decision]).then(([wasSaved, found, d]) => {
        if (closed) return;
        const stale = isStale();
        if (d && !d.save) {
          // The saved model is the better one: it stays the trainer's model (and the layers').
          if (!stale && d.keep) {
            model = d.keep;
            version++;
            pushWeights();
          }
          finalize(false, stale, d);
          return;
        }
        if (found && !stale) {
          trained.intervals = found;
          version++;
          // The file gets the intervals too (a second atomic save, of the same weights).
          if (wasSaved) save(t("log.savedIntervals"), false);
        }
        finalize(wasSaved, stale, d);
      }, () => finalize(false, isStale(), null));
    }

    node.on("input", (msg: NodeMessageInFlow & { rnn?: unknown }, _send: Send, done: Done) => {
      try {
        const topic = typeof msg.topic === "string" ? msg.topic : "";
        if (msg.rnn === undefined) {
          if (topic === "stop") {
            if (run) endRun(run, "stopped");
            done();
            return;
          }
          if (topic === "save") {
            if (!filePath) throw new Error(t("errors.noModelFile"));
            if (file.refusal !== null) throw new Error(t("errors.saveFailed", { message: file.refusal }));
            if (!model) throw new Error(t("errors.noModel"));
            save(t("log.savedCommand")).then((ok) => (ok ? done() : done(new Error(t("errors.notSaved")))));
            return;
          }
          if (topic === "reset") {
            if (run) endRun(run, "stopped", undefined, true);
            cancelCalibration();
            for (const id of layerIds) findApi<LayerNodeApi>(RED, id, "rnn-layer")?.resetWeights();
            model = null;
            layerIds = [];
            resumePending = false;
            version++;
            status.cancel(); // a throttled epoch status must not land after the reset
            node.status({ fill: "grey", shape: "ring", text: t("status.idle") });
            done();
            return;
          }
          // A node on the way (a function node returning a new message) dropped msg.rnn: its run
          // would wait for a trainer forever; end it now and say what happened.
          const lost = findByMessage(msg._msgid);
          if (lost) {
            const why = t("errors.lostRecord");
            lost.onEnd("failed", why);
            throw new Error(why);
          }
          throw new Error(t("errors.badPayload", { message: t("errors.payloadKind") }));
        }
        if (!isRunRecord(msg.rnn)) throw new Error(t("errors.notRunRecord"));
        const record = msg.rnn;
        // A copy of the message of a run this node trains or trained (a fan-out into it twice),
        // or of a run stopped while its message was on its way: nothing to do.
        if ((run && run.ticket.id === record.run) || (findTicket(record.run)?.trainer === node.id) || hasEnded(record.run)) {
          done();
          return;
        }
        startRun(record, msg);
        done();
      } catch (e) {
        status.set({ fill: "red", shape: "ring", text: short(errorMessage(e)) }, true);
        endWithError(done, msg, e);
      }
    });

    function stopThenClose(r: TrainRun): Promise<void> {
      endRun(r, "stopped");
      const grace = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
      return Promise.race([r.ended, grace]).then(() => r.session.close());
    }

    node.on("close", (_removed: boolean, done: () => void) => {
      closed = true;
      cancelCalibration();
      status.cancel();
      RED.events.removeListener("flows:started", onFlowsStarted);
      // A run stops after its current minibatch and is saved as a stop would save it; one that does
      // not stop in time is ended by terminating its workers.
      const r = run;
      const closing = r ? stopThenClose(r) : Promise.resolve();
      // Let a save in progress finish (it is atomic either way), but never hang the redeploy.
      const guard = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
      Promise.race([Promise.all([loading, closing]).then(() => file.settled), guard]).then(() => done(), () => done());
    });
  }

  // The user directory, for the edit dialogs: they check a model path as the runtime will.
  RED.nodes.registerType("rnn-trainer", RnnTrainerNode, { settings: { rnnTrainerUserDir: { value: userDir(RED), exportable: true } } });
};
