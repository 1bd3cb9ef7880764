/**
 * What a trainer says about a run: the network's validation errors beside the naive rules', the
 * per-epoch report and the figures the model file keeps.
 */
import type { Baselines, EpochInfo } from "../../src";

/**
 * How much lower than the best naive rule's the validation RMSE must be for the network to count
 * as helping. Validation errors are noisy: on a random walk (where persistence is optimal) the
 * network lands within a fraction of a percent of it, on either side, and "beats it by 0.3 %" would
 * tell the user the wrong thing.
 */
export const HELPS_MARGIN = 0.025;

/** The model's validation errors in real units, beside the naive rules'. */
export interface Comparison {
  rmse: number;
  mae: number;
  /** The best naive rule by RMSE, its RMSE, and model RMSE / that RMSE (< 1: the network helps). */
  baseline: "persistence" | "seasonal" | null;
  baselineRmse: number | null;
  ratio: number | null;
}

export function finiteOrNull(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function compare(metrics: { rmse: number; mae: number } | null | undefined, b: Baselines | null): Comparison | null {
  if (!metrics || !Number.isFinite(metrics.rmse)) return null;
  const baseline = b?.best ?? null;
  const baselineRmse = baseline === "seasonal" ? b!.seasonal!.rmse : baseline === "persistence" ? b!.persistence!.rmse : null;
  return { rmse: metrics.rmse, mae: metrics.mae, baseline, baselineRmse, ratio: baselineRmse ? metrics.rmse / baselineRmse : null };
}

/** Whether the network helps (true), does not (false), or there is nothing to compare (null). */
export function helps(c: Comparison | null): boolean | null {
  return c && c.ratio !== null ? c.ratio <= 1 - HELPS_MARGIN : null;
}

/** The payload of output 1 for one epoch. */
export function epochPayload(info: EpochInfo, epochs: number, threads: number | "main", baselines: Baselines | null, comparison: Comparison | null): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    epoch: info.epoch,
    epochs,
    loss: finiteOrNull(info.loss),
    valLoss: finiteOrNull(info.valLoss),
    lr: info.learningRate,
    gradNorm: finiteOrNull(info.gradNorm),
    ms: info.ms,
    skipped: info.skipped,
    threads,
  };
  if (info.metrics) payload.metrics = info.metrics;
  if (baselines) payload.baselines = baselines;
  if (comparison) payload.comparison = comparison;
  if (info.dhNormLayers) {
    payload.dhNorm = info.dhNormLayers[0];
    payload.dhNormLayers = info.dhNormLayers;
  }
  return payload;
}

/** The points of output 3 for one epoch, one per curve of a dashboard chart: no validation curve without validation windows. */
export function chartPoints(info: EpochInfo): Array<{ topic: string; payload: number | null; epoch: number }> {
  const points = [{ topic: "loss", payload: finiteOrNull(info.loss), epoch: info.epoch }];
  if (info.valLoss !== null) points.push({ topic: "valLoss", payload: finiteOrNull(info.valLoss), epoch: info.epoch });
  return points;
}

/** The model-vs-naive figures written into the model file's training section. */
export function trainingFigures(c: Comparison | null, b: Baselines | null): Record<string, number | string | null> {
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
