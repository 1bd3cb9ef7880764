/**
 * What a trainer says when a run ends: the payload of its "done" message, the warning for a series
 * the network cannot improve on, and the final status. Pure, from what the run left, so that each
 * way a run can end (diverged, the saved model kept, no better than a naive rule) is read in one
 * place and can be checked without a Node-RED runtime.
 */
import type { NodeStatus } from "node-red";
import type { Baselines, IntervalsJSON, SeriesReport, TrainingJSON } from "../../src";
import { Comparison, finiteOrNull, helps, trainingFigures } from "./runReport";
import type { RunEnd } from "./runs";
import type { SaveDecision } from "./saveDecision";
import { fmt, Translate } from "./runtime";

/** The run's best epoch: its weights are the ones the loop restores at the end. */
export interface BestEpoch {
  epoch: number;
  /** Its validation loss, or its training loss without validation windows. */
  score: number;
  comparison: Comparison | null;
}

/** What a run that trained to its end left, as the done message and the final status tell it. */
export interface FinishedRun {
  reason: RunEnd;
  /** Epochs trained: the loop's history, which a stop or early stopping cuts short. */
  epochs: number;
  best: BestEpoch | null;
  /** The payload of the last epoch (empty when none was reported). */
  last: Record<string, unknown>;
  /** The best epoch's comparison with the naive rules, else the last epoch's. */
  comparison: Comparison | null;
  baselines: Baselines | null;
  /** The intervals of the model the trainer keeps, when they were calibrated for it. */
  intervals: IntervalsJSON | null;
  series: SeriesReport;
  threads: number | "main";
  /** The trainer's model file, or null when it has none. */
  filePath: string | null;
  saved: boolean;
  /** Whether the run was to replace the saved model; null when no save was considered. */
  decision: SaveDecision | null;
}

/** What the run leaves in the model file's training section, beside its weights (the best epoch's, restored). */
export function trainingSection(run: Pick<FinishedRun, "reason" | "epochs" | "best" | "last" | "comparison" | "baselines">): TrainingJSON {
  return {
    epochs: run.epochs,
    loss: finiteOrNull(run.last.loss),
    valLoss: finiteOrNull(run.last.valLoss),
    bestEpoch: run.best ? run.best.epoch : null,
    stoppedBecause: run.reason,
    ...trainingFigures(run.comparison, run.baselines),
  };
}

/**
 * The done payload of a run that ended without a result (it failed, or was closed before its end):
 * a flow that waits for the end of training hears of it all the same, with nothing saved.
 */
export function unfinishedPayload(reason: RunEnd, epochs: number, failure: string | null, t: Translate): Record<string, unknown> {
  return { reason, epochs, bestEpoch: null, bestValLoss: null, error: failure, path: null, saved: false, savedReason: t("saveReasons.nothingToSave"), compared: null };
}

/** The done payload of a run that trained to its end. */
export function donePayload(run: FinishedRun, t: Translate): Record<string, unknown> {
  const { comparison, intervals, decision } = run;
  return {
    reason: run.reason,
    epochs: run.epochs,
    bestEpoch: run.best ? run.best.epoch : null,
    bestValLoss: run.best ? run.best.score : null,
    loss: finiteOrNull(run.last.loss),
    valLoss: finiteOrNull(run.last.valLoss),
    metrics: comparison ? { rmse: comparison.rmse, mae: comparison.mae } : null,
    baselines: run.baselines,
    beatsBaseline: helps(comparison),
    // Per level, the widths one step ahead (one per target); the model file holds every step's.
    intervals: intervals ? { levels: intervals.levels, coverage: intervals.coverage, halfWidth: intervals.halfWidth.map((l) => l[0]), steps: intervals.halfWidth[0].length, origins: intervals.origins } : null,
    series: run.series,
    threads: run.threads,
    path: run.saved ? run.filePath : null,
    saved: run.saved,
    savedReason: decision ? decision.reason : run.filePath === null ? t("saveReasons.noFile") : t("saveReasons.nothingToSave"),
    compared: decision ? decision.compared : null,
  };
}

/** The honest answer for a series the network cannot improve on (a random walk, say); null when it helps or nothing was compared. */
export function noBetterWarning(comparison: Comparison | null, t: Translate): string | null {
  if (helps(comparison) !== false || !comparison) return null;
  return t("warnings.noBetter", { rmse: fmt(comparison.rmse), baseline: comparison.baseline ?? "", naive: fmt(comparison.baselineRmse ?? NaN) });
}

/**
 * The trainer's status once a run has trained to its end. The first that applies: a divergence; the
 * saved model kept over the run's (both scores shown, so the user sees why); a network no better
 * than the naive rule (yellow: it works, but a naive forecast does as well); the comparison; the loss.
 */
export function finalStatus(run: Pick<FinishedRun, "reason" | "best" | "last" | "comparison" | "decision">, t: Translate): NodeStatus {
  const { comparison, decision } = run;
  if (run.reason === "diverged") return { fill: "red", shape: "dot", text: t("status.diverged") };
  if (decision !== null && !decision.save && decision.compared) {
    const { run: ran, saved } = decision.compared;
    return { fill: "green", shape: "ring", text: t("status.keptSaved", { run: fmt(ran.rmse ?? ran.valLoss), saved: fmt(saved.rmse ?? saved.valLoss) }) };
  }
  if (helps(comparison) === false && comparison) return { fill: "yellow", shape: "dot", text: t("status.compare", { rmse: fmt(comparison.rmse), naive: fmt(comparison.baselineRmse ?? NaN) }) };
  if (comparison && comparison.baselineRmse !== null) return { fill: "green", shape: "dot", text: t("status.compare", { rmse: fmt(comparison.rmse), naive: fmt(comparison.baselineRmse) }) };
  return { fill: "green", shape: "dot", text: t("status.best", { loss: fmt(run.best ? run.best.score : (run.last.loss as number)) }) };
}
