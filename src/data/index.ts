/** Series handling: readings → table → windows → scaled batches. */
export { MAX_ROWS, MAX_COLUMNS, NUMERIC_STRING, Table, toTable, toRow } from "./rows";
export { TargetMode, TARGET_MODES, WindowOptions, Windows, makeWindows, cutWindow, rowsNeeded, windowCount } from "./windows";
export { Affine, Scaler, ScalerKind, SCALER_KINDS } from "./scaler";
export { RowRange, RowSplit, splitRows, TooFewRowsError } from "./split";
export { MAX_TENSOR_ELEMENTS, batchIndices, gather } from "./batches";
export { packWindows } from "./pack";
export { MAX_PACKED_VALUES, PreparedRun, prepareRun, prepareRunOffThread } from "./prepareRun";
export { PrepareOptions, PreparedDataset, prepareDataset, PreparedSeries, LazyWindows, prepareSeries, Baseline, Baselines, SeriesReport, SeriesHistory } from "./prepare";
export { DIFFERENCINGS, MAX_SEASON, chooseDifferencing, DifferencingChoice, naiveBase, tableLead, transformLead, transformRows } from "./transform";
export { detectSeason, SeasonResult, SeasonOptions } from "./season";
export { GAP_POLICIES, GapPolicy, Gap, MAX_GAP_FILL, checkTimes, fillGaps, futureTimes, parseTime, segments, splitTimes } from "./time";
export { CALENDAR_FEATURES, autoCalendar, calendarValues } from "./calendar";
