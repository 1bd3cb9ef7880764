/**
 * The rnn trainer's settings, read and checked once at deploy: a value out of range stops the
 * deploy with a message naming the field, instead of surfacing mid-run.
 */
import { OPTIMIZERS, OptimizerName, RealUnits, SessionOptions, TrainingThreads, WeightDraw } from "../../src";
import type { ChainLoss, RunSettings } from "./runs";
import { SAVE_WHEN, SaveWhen } from "./saveDecision";
import { boolField, enumField, intField, numField, SettingError } from "./runtime";

export const MAX_THREADS = 16;

export interface TrainerConfig {
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
  /** "better": a run replaces the saved model only when it scores lower on the run's validation windows. */
  saveWhen: SaveWhen;
  resume: boolean;
  /** Every save of the model file also writes it in the TensorFlow.js layers format, in a folder beside it. */
  exportTfjs: boolean;
  gradientReport: boolean;
  /** Where the training loop runs: worker threads ("auto": two when two cores are free) or this thread. */
  threads: TrainingThreads;
}

export function readConfig(raw: Record<string, unknown>): TrainerConfig {
  const modelPath = typeof raw.modelPath === "string" ? raw.modelPath.trim() : "";
  return {
    optimizer: enumField(raw, "optimizer", "adam", OPTIMIZERS),
    learningRate: numField(raw, "learningRate", 0.003, 0, 10, { exclusiveMin: true }),
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
    saveWhen: enumField(raw, "saveWhen", "better", SAVE_WHEN),
    resume: boolField(raw, "resume", true),
    exportTfjs: boolField(raw, "exportTfjs", false),
    gradientReport: boolField(raw, "gradientReport", false),
    threads: threadsField(raw),
  };
}

/** "auto", "main", or a number of worker threads from 1 to MAX_THREADS. */
export function threadsField(raw: Record<string, unknown>): TrainingThreads {
  const v = raw.threads;
  if (v === undefined || v === null || v === "" || v === "auto") return "auto";
  if (v === "main") return "main";
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw new SettingError("errors.threadsSetting", { max: MAX_THREADS, value: JSON.stringify(v) });
  return n;
}

/**
 * The training loop's options for one run: the sequence's settings and the chain's loss, with this
 * trainer's optimizer and stopping rules. The loop always restores the best epoch's weights: those
 * are the ones a trainer keeps, saves and reports.
 */
export function sessionOptions(c: TrainerConfig, settings: RunSettings, loss: ChainLoss, realUnits: RealUnits, draws: readonly WeightDraw[]): SessionOptions {
  return {
    epochs: settings.epochs,
    batchSize: settings.batchSize,
    shuffle: settings.shuffle,
    seed: settings.seed,
    loss: loss.loss,
    delta: loss.delta,
    optimizer: c.optimizer,
    learningRate: c.learningRate,
    momentum: c.momentum,
    nesterov: c.nesterov,
    weightDecay: c.weightDecay,
    clipNorm: c.clipNorm,
    clipValue: c.clipValue,
    truncate: c.truncate,
    patience: c.patience,
    gradientReport: c.gradientReport,
    restoreBest: true,
    realUnits,
    threads: c.threads,
    draws,
  };
}
