/**
 * Chronological train/validation split for forecasting. Shuffling rows before splitting would
 * put tomorrow in the training set and yesterday in the validation set; the model would then
 * be validated on values it has, in effect, already seen.
 */

/** A half-open range of table rows, [start, end). */
export interface RowRange {
  start: number;
  end: number;
}

export interface RowSplit {
  /** First validation row. Every training target lies before it; every validation target at or after it. */
  boundary: number;
  /** Rows to cut training windows from (and the only rows the scaler may be fitted on). */
  train: RowRange;
  /** Rows to cut validation windows from, or null when there is no validation part. */
  validation: RowRange | null;
  trainWindows: number;
  validationWindows: number;
}

/** A series too short for one training window (and its validation part): more readings will cure it. */
export class TooFewRowsError extends Error {
  /** The smallest row count that would do. */
  readonly needed: number;
  constructor(message: string, needed: number) {
    super(message);
    this.name = "TooFewRowsError";
    this.needed = needed;
  }
}

/**
 * Split `rowCount` rows of a series into a training part and a later validation part.
 *
 * `windowSpan` is length + horizon: the rows a window touches, from its first input to its
 * furthest target. The rule:
 *
 * * V = 0 when `validationFraction` is 0, otherwise max(1, floor(rowCount × validationFraction))
 *   validation rows; boundary b = rowCount − V.
 * * Training windows are cut from rows [0, b) alone. A window's furthest row is its last
 *   target, so every training input and target index is < b: training never sees a row of
 *   the validation part, and the scaler is fitted on [0, b) for the same reason.
 * * Validation windows are cut from rows [b − (windowSpan − 1), rowCount). The first one reads
 *   its inputs from the last training rows, as a live forecast would, and its last-step target
 *   is row b; so there are exactly V validation windows and, with target mode "last", every
 *   validation target index is ≥ b.
 * * With target mode "every", the early steps of the first length − 1 validation windows have
 *   targets before b: the caller marks those steps `null` (no loss), as `prepareDataset` does,
 *   so validation loss is measured on validation rows only.
 *
 * Errors when the training part is shorter than one window.
 */
export function splitRows(rowCount: number, validationFraction: number, windowSpan: number): RowSplit {
  if (!Number.isInteger(rowCount) || rowCount < 0) throw new Error(`rowCount must be an integer ≥ 0, got ${rowCount}`);
  if (!Number.isInteger(windowSpan) || windowSpan < 1) throw new Error(`windowSpan must be an integer ≥ 1, got ${windowSpan}`);
  if (typeof validationFraction !== "number" || !(validationFraction >= 0 && validationFraction <= 0.9)) {
    throw new Error(`validation split must be a number from 0 to 0.9, got ${String(validationFraction)}`);
  }
  const validationRows = (n: number): number =>
    validationFraction === 0 ? 0 : Math.max(1, Math.floor(n * validationFraction));
  const V = validationRows(rowCount);
  const boundary = rowCount - V;
  if (boundary < windowSpan) {
    // Smallest series that leaves one whole window for training (V grows with the series).
    let needed = windowSpan;
    while (needed - validationRows(needed) < windowSpan) needed++;
    throw new TooFewRowsError(
      `${rowCount} rows are too few: a window spans ${windowSpan} rows` +
        (V > 0 ? ` and ${V} rows are kept for validation` : "") +
        `, so at least ${needed} rows are needed`,
      needed,
    );
  }
  return {
    boundary,
    train: { start: 0, end: boundary },
    validation: V > 0 ? { start: boundary - (windowSpan - 1), end: rowCount } : null,
    trainWindows: boundary - windowSpan + 1,
    validationWindows: V,
  };
}
