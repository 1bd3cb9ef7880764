import type { EpochInfo, FitResult } from "./model";
import type { StepReport } from "./training";

/** Consecutive refused steps after which a fit gives up and reports "diverged". */
export const MAX_REFUSED_IN_A_ROW = 20;

/**
 * The bookkeeping every training loop shares (`Model.fit`, the parallel leader): the epoch's
 * running sums, refused steps, the best epoch and its weights, early stopping, and the result.
 * Keeping it in one place keeps the loops' decisions identical, which the tests that compare a
 * parallel fit with a single-threaded one rely on.
 */
export class FitProgress {
  readonly history: EpochInfo[] = [];
  reason: FitResult["reason"] = "completed";
  private best = Infinity;
  private bestEpoch = 0;
  private bestWeights: Float64Array[] | null = null;
  private refusedInARow = 0;
  private started = 0;
  private lossSum = 0;
  private countSum = 0;
  private normSum = 0;
  private steps = 0;
  private skipped = 0;

  constructor(private readonly params: Float64Array[], private readonly patience: number) {}

  startEpoch(): void {
    this.started = Date.now();
    this.lossSum = this.countSum = this.normSum = this.steps = this.skipped = 0;
  }

  /** Records one update. Returns false when too many steps in a row were refused: stop the epoch. */
  record(report: StepReport, loss: number, count: number): boolean {
    if (report.accepted) {
      this.refusedInARow = 0;
      this.lossSum += loss * count;
      this.countSum += count;
      this.normSum += report.gradNorm;
      this.steps++;
      return true;
    }
    this.skipped++;
    return ++this.refusedInARow < MAX_REFUSED_IN_A_ROW;
  }

  /** Batches that reached an update this epoch, accepted or not (what dhNorm is averaged over). */
  get batches(): number {
    return this.steps + this.skipped;
  }

  /** Closes the epoch: its report, added to the history. */
  endEpoch(epoch: number, valLoss: number | null, learningRate: number): EpochInfo {
    const info: EpochInfo = {
      epoch,
      loss: this.countSum ? this.lossSum / this.countSum : NaN,
      valLoss,
      learningRate,
      gradNorm: this.steps ? this.normSum / this.steps : NaN,
      skipped: this.skipped,
      ms: Date.now() - this.started,
    };
    this.history.push(info);
    return info;
  }

  /**
   * After `endEpoch`: "diverged" when the epoch ended on refused steps; otherwise remembers the
   * weights if this is the best epoch so far (validation loss, or training loss without one).
   */
  judge(info: EpochInfo): "diverged" | null {
    if (this.refusedInARow >= MAX_REFUSED_IN_A_ROW) return (this.reason = "diverged");
    const score = info.valLoss ?? info.loss;
    if (score < this.best) {
      this.best = score;
      this.bestEpoch = info.epoch;
      this.bestWeights = this.params.map((p) => p.slice());
    }
    return null;
  }

  /** Early stopping: `patience` epochs without a better score. */
  patienceExhausted(epoch: number): boolean {
    if (this.patience > 0 && epoch - this.bestEpoch >= this.patience) {
      this.reason = "early-stopped";
      return true;
    }
    return false;
  }

  /** Puts back the best epoch's weights (unless told not to) and builds the result. */
  finish(restoreBest: boolean, hasValidation: boolean): FitResult {
    const best = this.bestWeights;
    if (best && restoreBest) this.params.forEach((p, i) => p.set(best[i]));
    return { history: this.history, bestEpoch: this.bestEpoch, bestValLoss: hasValidation && Number.isFinite(this.best) ? this.best : null, reason: this.reason };
  }
}
