/**
 * Whether a trainer's run may replace the model already in its file. A run keeps the best of its
 * own epochs, but a model saved by an earlier run (an earlier deploy) may be better still: it is
 * scored on this run's validation windows with this run's loss, and the run's weights are written
 * only when they score lower, unless the trainer is set to save always.
 */
import { Model, notComparable, PreparedRun, scoreInSlices, ScoreOptions, ValidationScore } from "../../src";
import type { ModelFileKeeper } from "./modelFileKeeper";
import { errorMessage, fmt, Translate } from "./runtime";

export const SAVE_WHEN = ["better", "always"] as const;
export type SaveWhen = (typeof SAVE_WHEN)[number];

/** The saved model a run must beat, scored, or why there is nothing to beat. */
export interface Rival {
  model: Model | null;
  score: ValidationScore | null;
  /** Without a score: why the run is saved anyway (already translated). */
  why: string | null;
}

/** A score as the done message reports it. */
export interface ScorePair {
  valLoss: number | null;
  rmse: number | null;
}

export interface SaveDecision {
  save: boolean;
  /** Why, for the done message and the log. */
  reason: string;
  /** The two scores on this run's validation windows, when they were compared. */
  compared: { run: ScorePair; saved: ScorePair } | null;
  /** Not saved: the saved model, which stays the trainer's model. */
  keep: Model | null;
}

/**
 * Reads and scores the model in the file for a run that is about to train `layers` on `data`.
 * Never rejects: a file that cannot be read or compared is a reason to save, said as such.
 */
export function findRival(file: ModelFileKeeper, when: SaveWhen, data: PreparedRun, layers: ReadonlyArray<{ spec: object }>, options: ScoreOptions, t: Translate): Promise<Rival> {
  const none = (key: string, subs?: Record<string, string>): Rival => ({ model: null, score: null, why: t(`saveReasons.${key}`, subs) });
  if (when === "always") return Promise.resolve(none("always"));
  if (data.validation.B === 0) return Promise.resolve(none("noValidation"));
  return file.peek().then(
    (saved) => {
      if (!saved) return none("noSaved");
      const prep = { inputSize: data.inputSize, scaler: data.scaler, window: data.window, transform: data.transform };
      const why = notComparable(saved, prep, layers);
      if (why) return none("mismatch", { why });
      return scoreInSlices(saved, data.validation, prep, options).then(
        (score): Rival => (score.valLoss === null ? none("noValidation") : { model: saved, score, why: null }),
        (e: unknown) => none("unreadable", { message: errorMessage(e) }),
      );
    },
    (e: unknown) => none("unreadable", { message: errorMessage(e) }),
  );
}

/** Saves when nothing is to be beaten, or when the run's validation loss is strictly lower. */
export function decide(rival: Rival, run: ScorePair, t: Translate): SaveDecision {
  if (!rival.score || rival.score.valLoss === null || !rival.model) return { save: true, reason: rival.why ?? t("saveReasons.noSaved"), compared: null, keep: null };
  const savedLoss = rival.score.valLoss;
  const saved: ScorePair = { valLoss: savedLoss, rmse: rival.score.metrics ? rival.score.metrics.rmse : null };
  const compared = { run, saved };
  // Both scores say the same thing; RMSE (real units) is what a user reads, the loss decides.
  const inRmse = run.rmse !== null && saved.rmse !== null;
  const subs = { run: fmt(inRmse ? run.rmse : run.valLoss), saved: fmt(inRmse ? saved.rmse : saved.valLoss), metric: t(inRmse ? "saveReasons.metricRmse" : "saveReasons.metricLoss") };
  if (run.valLoss !== null && run.valLoss < savedLoss) return { save: true, reason: t("saveReasons.better", subs), compared, keep: null };
  return { save: false, reason: t("saveReasons.notBetter", subs), compared, keep: rival.model };
}
