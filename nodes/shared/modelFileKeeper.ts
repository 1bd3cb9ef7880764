/**
 * A trainer's model file: read once at deploy, written atomically one save after the other, and
 * never written over when it could not be read (a newer format, a hand edit gone wrong…): the
 * user's file is kept until they move it away.
 */
import * as nodePath from "path";
import { exportTfjs, loadModelFile, Model, nextTurn, saveModelFile, writeTfjsFiles } from "../../src";
import { errorMessage, Translate } from "./runtime";

export interface KeeperReports {
  /** A line for the log (the final save) or the debug log (saves during a run). */
  saved(path: string, reason: string, final: boolean): void;
  /** A save failed, or was refused because the file could not be read. */
  saveFailed(message: string): void;
  warn(message: string): void;
}

/** The folder the TensorFlow.js copy of a model file goes to: models/temp.json → models/temp-tfjs/. */
export function tfjsFolderOf(path: string): string {
  const ext = nodePath.extname(path);
  return (ext.toLowerCase() === ".json" ? path.slice(0, -ext.length) : path) + "-tfjs";
}

export class ModelFileKeeper {
  /** Why the file could not be read at deploy; while set, it is never written over. */
  private unreadable: string | null = null;
  private unreadableReported = false;
  private saving: Promise<void> = Promise.resolve();

  /** `t`: the trainer's catalogue; `tfjsFolder`: where every save is also written in the TensorFlow.js layers format (null: not). */
  constructor(readonly path: string | null, private readonly reports: KeeperReports, private readonly t: Translate, readonly tfjsFolder: string | null = null) {}

  /** The saves queued so far, done (whatever their outcome). */
  get settled(): Promise<void> {
    return this.saving;
  }

  /** Why the file is kept as it is, or null when it may be written. */
  get refusal(): string | null {
    return this.unreadable === null ? null : this.t("errors.keptUnreadable", { path: this.path ?? "", message: this.unreadable });
  }

  /**
   * Reads the file. Resolves with the model, or null when there is none yet; rejects with a
   * message naming the file when it exists and cannot be used (and remembers it: see `refusal`).
   */
  load(): Promise<Model | null> {
    const path = this.path;
    if (!path) return Promise.resolve(null);
    return loadModelFile(path).then(
      (loaded) => {
        const model = Model.fromJSON(loaded.model);
        if (loaded.warning) this.reports.warn(loaded.warning);
        return model;
      },
      (e: NodeJS.ErrnoException) => {
        if (e && e.code === "ENOENT") return null; // nothing saved yet: a fresh start
        const message = errorMessage(e);
        this.unreadable = message.includes(path) ? message : `${path}: ${message}`;
        throw new Error(this.unreadable);
      },
    );
  }

  /**
   * Reads what the file holds now, for comparison, without the deploy-time bookkeeping: null when
   * there is none yet; rejects when it cannot be used.
   */
  peek(): Promise<Model | null> {
    const path = this.path;
    if (!path) return Promise.resolve(null);
    return loadModelFile(path).then(
      (loaded) => Model.fromJSON(loaded.model),
      (e: NodeJS.ErrnoException) => {
        if (e && e.code === "ENOENT") return null;
        throw e;
      },
    );
  }

  /** Queues an atomic save of `model` as it stands now; resolves true once written. */
  save(model: Model | null, reason: string, final = true): Promise<boolean> {
    return this.saveIf(model, reason, final, null);
  }

  /**
   * `save`, written only if `when` resolves true: the weights are taken now, in the queue's order,
   * and a close that waits for `settled` waits for the decision too. Resolves false when skipped.
   */
  saveIf(model: Model | null, reason: string, final: boolean, when: Promise<boolean> | null): Promise<boolean> {
    const path = this.path;
    if (!path) return Promise.resolve(false);
    const refusal = this.refusal;
    if (refusal !== null) {
      if (!this.unreadableReported) this.reports.saveFailed(refusal);
      this.unreadableReported = true;
      return Promise.resolve(false);
    }
    if (!model || !model.scaler) return Promise.resolve(false);
    // The weights as they are now: a save waiting for the one before it must not see later epochs.
    const json = model.toJSON();
    json.training = { ...(json.training ?? {}), savedAt: new Date().toISOString(), savedBecause: reason };
    // Exported now too, so the copy holds the same weights as the model file.
    let tfjs: ReturnType<typeof exportTfjs> | null = null;
    try {
      tfjs = this.tfjsFolder ? exportTfjs(model) : null;
    } catch (e) {
      this.reports.saveFailed(errorMessage(e));
    }
    const folder = this.tfjsFolder;
    // The file's validation and serialisation wait for a turn of their own: a save is queued from
    // an epoch's report, which already holds Node-RED's thread for the status, charts and weights.
    const write = (): Promise<boolean> => nextTurn().then(() => saveModelFile(path, json)).then(() => (folder && tfjs ? writeTfjsFiles(folder, tfjs) : null)).then(() => true);
    const result = this.saving.then(() => when ?? true).then((go) => (go ? write() : false)).then(
      (written) => {
        if (written) this.reports.saved(path, reason, final);
        return written;
      },
      (e: unknown) => {
        this.reports.saveFailed(errorMessage(e));
        return false;
      },
    );
    this.saving = result.then(() => undefined);
    return result;
  }
}
