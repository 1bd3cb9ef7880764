/**
 * Time stamps of readings: reading them, checking the time axis for disorder and gaps, filling
 * or splitting at gaps, and the times of future rows. (What a time means as calendar features is
 * calendar.ts.)
 *
 * Times are numbers of milliseconds since 1970-01-01T00:00:00Z. Every calendar rule here is
 * in UTC, never the machine's time zone, so a file trains the same model on every machine.
 * Times come from messages, so nothing is trusted and every error names the row and field.
 */

import { checkRowCount, describe as describeValue, FORBIDDEN_FIELDS, MAX_ROWS, NUMERIC_STRING } from "./rows";



export type GapPolicy = "linear" | "previous" | "split";
export const GAP_POLICIES: readonly GapPolicy[] = Object.freeze(["linear", "previous", "split"]);

/**
 * Most rows fillGaps may add. Hourly data whose times were sent in seconds, or a single stray
 * year-2100 stamp, would otherwise make it allocate millions of made-up rows.
 */
export const MAX_GAP_FILL = 100_000;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

// Anything outside is far more likely a wrong unit (µs, ns) or a typo than a real reading; the
// bound also keeps clear of Date.UTC, which maps the years 0..99 to 1900..1999.
const EARLIEST = Date.UTC(1900, 0, 1);
const LATEST = Date.UTC(2201, 0, 1); // exclusive: the whole of 2200 is allowed

// Our own pattern instead of Date.parse: Date.parse reads a date-time without an offset in the
// machine's zone, and accepts engine-specific forms ("Jan 2 2012", "2012/1/2") that would make
// a flow behave differently on another Node version.
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:\s?([Zz]|[+-]\d{2}(?::?\d{2})?))?)?$/;

const ACCEPTED =
  'a time is milliseconds since 1970, a Date, or an ISO 8601 date such as "2012-01-01", ' +
  '"2012-01-01T10:00" or "2012-01-01 10:00:00+02:00"';

/** Fields tried, in this order, when the time field is "auto" and rows are objects. */
const AUTO_FIELDS = ["time", "timestamp", "date", "datetime"];

/**
 * A Date from any realm. `instanceof Date` is false for a Date made in a Node-RED function
 * node (its own vm context); getTime, by contrast, works on every real Date and throws on
 * anything else, including objects that only pretend with Symbol.toStringTag.
 */
function isDate(value: unknown): value is Date {
  if (typeof value !== "object" || value === null) return false;
  try {
    Date.prototype.getTime.call(value);
    return true;
  } catch {
    return false;
  }
}

function iso(time: number): string {
  return Number.isFinite(time) && Math.abs(time) <= 8.64e15 ? new Date(time).toISOString() : String(time);
}

/** An offending value for error messages, as rows.ts renders it, and a Date as its time. */
export function describe(value: unknown): string {
  if (isDate(value)) {
    const t = Date.prototype.getTime.call(value);
    return Number.isNaN(t) ? "an invalid Date" : `the Date ${iso(t)}`;
  }
  return describeValue(value);
}

/** "3 h", "15 min", "1.5 s": step sizes in messages, where raw milliseconds mean little. */
function duration(ms: number): string {
  const units: [number, string][] = [[DAY, "d"], [HOUR, "h"], [MINUTE, "min"], [SECOND, "s"]];
  for (const [size, name] of units) {
    if (Math.abs(ms) >= size) return `${Number((ms / size).toPrecision(4))} ${name}`;
  }
  return `${ms} ms`;
}

function prefix(where: string): string {
  return where ? where + ": " : "";
}

function at(row: number, field: string | null): string {
  return field === null ? `row ${row}` : `row ${row}, field ${JSON.stringify(field)}`;
}

function inRange(time: number): boolean {
  return time >= EARLIEST && time < LATEST;
}

function fromMilliseconds(ms: number, shown: unknown, where: string): number {
  if (!Number.isFinite(ms)) throw new Error(`${prefix(where)}${describe(shown)} is not a time (${ACCEPTED})`);
  if (!inRange(ms)) {
    throw new Error(
      `${prefix(where)}${describe(shown)} is not a time in the years 1900..2200: a number time is read as ` +
        `milliseconds since 1970 (divide microseconds by 1000, nanoseconds by 1000000)`,
    );
  }
  return ms;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : MONTH_DAYS[month - 1];
}

/** An ISO 8601 string as ms, or a reason it is not a valid one (undefined: not ISO-shaped at all). */
function parseIso(text: string): number | string | undefined {
  const m = ISO_TIME.exec(text);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  // Truncated to whole milliseconds, as Date does.
  const ms = m[7] === undefined ? 0 : Number((m[7] + "00").slice(0, 3));
  if (month < 1 || month > 12) return `there is no month ${m[2]}`;
  if (day < 1 || day > daysInMonth(year, month)) return `${m[1]}-${m[2]} has no day ${m[3]}`;
  if (hour > 23) return `there is no hour ${m[4]}`;
  if (minute > 59) return `there is no minute ${m[5]}`;
  if (second > 59) return `there is no second ${m[6]}`;
  let offset = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== "Z" && zone !== "z") {
    const digits = zone.slice(1).replace(":", "");
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (oh > 23 || om > 59) return `${zone} is not a time zone offset`;
    offset = (zone[0] === "-" ? -1 : 1) * (oh * HOUR + om * MINUTE);
  }
  // No offset means UTC, not the machine's zone: the same file must give the same times, and
  // so the same gaps and calendar features, on a laptop in Berlin and a server in Virginia.
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset;
}

/**
 * A time as milliseconds since the Unix epoch.
 *
 * Accepted: a finite number of milliseconds (as msg.timestamp or Date.now()); a Date; a
 * decimal string of milliseconds; or an ISO 8601 date or date-time: "2012-01-01",
 * "2012-01-01T10:00", "2012-01-01 10:00:00.250", optionally followed by Z or an offset
 * (+02:00, +0200, +02). A date or date-time without an offset is read as UTC, so the same file
 * gives the same model on every machine whatever its time zone.
 *
 * Times must lie within the years 1900..2200: a number outside is most likely in the wrong
 * unit. Seconds since 1970 cannot be caught this way (they read as January 1970).
 */
export function parseTime(value: unknown, where: string): number {
  if (typeof value === "number") return fromMilliseconds(value, value, where);
  if (isDate(value)) {
    const t = Date.prototype.getTime.call(value);
    if (Number.isNaN(t)) throw new Error(`${prefix(where)}an invalid Date is not a time`);
    if (!inRange(t)) throw new Error(`${prefix(where)}${describe(value)} is not a time in the years 1900..2200`);
    return t;
  }
  if (typeof value === "string") {
    const s = value.trim();
    if (NUMERIC_STRING.test(s)) return fromMilliseconds(Number(s), value, where);
    const parsed = parseIso(s);
    if (typeof parsed === "string") throw new Error(`${prefix(where)}${describe(value)} is not a time (${parsed})`);
    if (typeof parsed === "number") {
      if (!inRange(parsed)) throw new Error(`${prefix(where)}${describe(value)} is not a time in the years 1900..2200`);
      return parsed;
    }
  }
  throw new Error(`${prefix(where)}${describe(value)} is not a time (${ACCEPTED})`);
}

function tryParseTime(value: unknown): boolean {
  try {
    parseTime(value, "");
    return true;
  } catch {
    return false;
  }
}

function isObjectRow(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isDate(value);
}

function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** The auto time field of object rows: a candidate name present in row 0 whose value is a time. */
function autoObjectField(row: Record<string, unknown>): string | null {
  const keys = Object.keys(row);
  for (const name of AUTO_FIELDS) {
    // Headers of spreadsheet exports are often capitalised ("Date", "Timestamp").
    const key = keys.find((k) => k.toLowerCase() === name);
    if (key !== undefined && tryParseTime(row[key])) return key;
  }
  return null;
}

/**
 * Whether position 0 of an array row is a time in auto mode. Only ISO strings and Dates count:
 * a number, or a numeric string as a CSV parser produces, is just as likely the first reading
 * of a plain vector, and taking it as a time would silently drop a column.
 */
function autoArrayTime(row: unknown[]): boolean {
  if (row.length < 2) return false;
  const first = row[0];
  if (isDate(first)) return tryParseTime(first);
  return typeof first === "string" && !NUMERIC_STRING.test(first.trim()) && tryParseTime(first);
}

function splitObjects(series: unknown[], field: string): { times: number[]; values: unknown[]; field: string } {
  const n = series.length;
  const times = new Array<number>(n);
  const values = new Array<unknown>(n);
  for (let r = 0; r < n; r++) {
    const row = series[r];
    if (!isObjectRow(row)) {
      throw new Error(`row ${r}: expected an object with a field ${JSON.stringify(field)} like row 0, got ${describe(row)}`);
    }
    if (!hasOwn(row, field)) throw new Error(`${at(r, field)}: missing (it holds the time of each row)`);
    times[r] = parseTime(row[field], at(r, field));
    // Rest properties define own data properties, so a "__proto__" key parsed from JSON stays a
    // plain field of the copy instead of replacing its prototype.
    const { [field]: _time, ...rest } = row;
    values[r] = rest;
  }
  return { times, values, field };
}

function splitArrays(series: unknown[]): { times: number[]; values: unknown[]; field: string } {
  const n = series.length;
  const first = series[0] as unknown[];
  const width = first.length;
  if (width < 2) throw new Error(`row 0: expected [time, value, …] with at least one value after the time, got ${width} element(s)`);
  const times = new Array<number>(n);
  const values = new Array<unknown>(n);
  for (let r = 0; r < n; r++) {
    const row = series[r];
    if (!Array.isArray(row)) throw new Error(`row ${r}: expected an array [time, value, …] like row 0, got ${describe(row)}`);
    // Checked here: a shorter row would otherwise turn into a lone number further on, and the
    // error would then be about its kind rather than its length.
    if (row.length !== width) throw new Error(`row ${r}: expected ${width} elements (time and ${width - 1} value(s)) like row 0, got ${row.length}`);
    times[r] = parseTime(row[0], at(r, "0"));
    values[r] = width === 2 ? row[1] : row.slice(1);
  }
  return { times, values, field: "0" };
}

/**
 * Take the time out of each row of a series.
 *
 * `timeField`:
 * * "none": no times; the series is returned as it is.
 * * a field name of object rows (e.g. "date"): each row's field is parsed with parseTime, and
 *   values are copies of the rows without that field, so a numeric time in milliseconds never
 *   becomes a feature column.
 * * "0" for array rows [time, v1, v2, …]: position 0 is the time and the values are the rest; a
 *   single value becomes a plain number ([[t, 5], …] gives [5, …]).
 * * "auto": for object rows, the first of the fields "time", "timestamp", "date", "datetime"
 *   (any letter case) present in row 0 whose value is a time; for array rows of length ≥ 2,
 *   position 0 when it is a Date or a non-numeric string that is a time. A number (or numeric
 *   string) in position 0 is not taken: [20, 21] could as well be two readings. Otherwise no
 *   times.
 *
 * The input series and its rows are never modified.
 */
export function splitTimes(series: unknown[], timeField: string): { times: number[] | null; values: unknown[]; field: string | null } {
  if (!Array.isArray(series)) throw new Error(`series must be an array, got ${describe(series)}`);
  if (typeof timeField !== "string" || timeField.length === 0) {
    throw new Error(`time field must be "none", "auto" or a field name, got ${describe(timeField)}`);
  }
  checkRowCount(series.length);
  if (timeField === "none") return { times: null, values: series, field: null };

  const n = series.length;
  const first: unknown = series[0];
  if (timeField === "auto") {
    if (n === 0) return { times: null, values: series, field: null };
    if (Array.isArray(first)) return autoArrayTime(first) ? splitArrays(series) : { times: null, values: series, field: null };
    if (isObjectRow(first)) {
      const field = autoObjectField(first);
      return field === null ? { times: null, values: series, field: null } : splitObjects(series, field);
    }
    return { times: null, values: series, field: null };
  }

  if (FORBIDDEN_FIELDS.has(timeField)) throw new Error(`time field: ${JSON.stringify(timeField)} is not allowed as a field name`);
  if (n === 0) return { times: [], values: [], field: timeField };
  if (Array.isArray(first)) {
    if (timeField !== "0") {
      throw new Error(`row 0: rows are arrays, so the time can only be in position "0", not in a field ${JSON.stringify(timeField)}`);
    }
    return splitArrays(series);
  }
  if (isObjectRow(first)) return splitObjects(series, timeField);
  throw new Error(
    `row 0: ${describe(first)} has no time field ${JSON.stringify(timeField)}; ` +
      `send objects with that field or [time, value, …] arrays, or set the time field to "none"`,
  );
}

/** A run of missing readings. */
export interface Gap {
  /** index of the first row after the gap */
  row: number;
  /** steps missing */
  missing: number;
}

/**
 * Check a time axis and find its step and gaps.
 *
 * Times must be strictly increasing: rows out of order or sharing a time are errors naming
 * both rows. The step is the median of the differences between neighbours (the lower one of
 * the two middle values for an even count, so it is always a step that really occurs), which a
 * few gaps do not move. A difference over 1.5 steps is a gap of round(difference / step) − 1
 * missing rows, at least 1.
 */
export function checkTimes(times: number[]): { step: number; gaps: Gap[] } {
  if (!Array.isArray(times)) throw new Error(`times must be an array, got ${describe(times)}`);
  const n = times.length;
  if (n < 2) throw new Error(`${n} time stamp(s): at least 2 are needed to find the time step`);
  for (let r = 0; r < n; r++) {
    const t = times[r];
    if (typeof t !== "number" || !Number.isFinite(t)) throw new Error(`row ${r}: time ${describe(t)} is not a finite number`);
  }
  const diffs = new Float64Array(n - 1);
  for (let r = 1; r < n; r++) {
    const d = times[r] - times[r - 1];
    if (d < 0) {
      throw new Error(
        `rows ${r - 1} and ${r} are out of order: row ${r} (${iso(times[r])}) is before row ${r - 1} ` +
          `(${iso(times[r - 1])}); sort the series by time`,
      );
    }
    if (d === 0) {
      throw new Error(
        `rows ${r - 1} and ${r} have the same time ${iso(times[r])}; each reading needs its own time ` +
          `(local clock times repeat an hour when daylight saving ends: send them with an offset or in UTC)`,
      );
    }
    diffs[r - 1] = d;
  }
  const sorted = diffs.slice().sort();
  const step = sorted[(sorted.length - 1) >> 1];
  const gaps: Gap[] = [];
  for (let r = 1; r < n; r++) {
    const d = diffs[r - 1];
    if (d > 1.5 * step) gaps.push({ row: r, missing: Math.max(1, Math.round(d / step) - 1) });
  }
  return { step, gaps };
}

/** Gaps as checkTimes makes them: ascending rows inside (0, rowCount), whole missing counts. */
function checkGaps(gaps: Gap[], rowCount: number): void {
  if (!Array.isArray(gaps)) throw new Error(`gaps must be an array, got ${describe(gaps)}`);
  let previous = 0;
  for (let i = 0; i < gaps.length; i++) {
    const g = gaps[i];
    if (typeof g !== "object" || g === null) throw new Error(`gap ${i}: expected { row, missing }, got ${describe(g)}`);
    if (!Number.isInteger(g.row) || g.row <= previous || g.row >= rowCount) {
      throw new Error(`gap ${i}: row ${describe(g.row)} must be a row index after ${previous} and before ${rowCount}`);
    }
    if (!Number.isInteger(g.missing) || g.missing < 1) throw new Error(`gap ${i}: missing must be an integer ≥ 1, got ${describe(g.missing)}`);
    previous = g.row;
  }
}

/**
 * Fill the gaps found by checkTimes with made-up rows at prev + k·step, k = 1..missing.
 *
 * "linear" interpolates each column between the rows on either side of the gap, by time (so a
 * gap that is not a whole number of steps still gets values on the straight line); "previous"
 * repeats the row before the gap. Returns new arrays, rows included; the inputs are untouched.
 * `filled` is the number of rows added. More than MAX_GAP_FILL added rows is refused.
 */
export function fillGaps(
  times: number[],
  rows: number[][],
  step: number,
  gaps: Gap[],
  policy: "linear" | "previous",
): { times: number[]; rows: number[][]; filled: number } {
  if (policy !== "linear" && policy !== "previous") {
    throw new Error(`gap filling must be "linear" or "previous", got ${describe(policy)}`);
  }
  if (!Array.isArray(times) || !Array.isArray(rows)) throw new Error("times and rows must be arrays");
  if (times.length !== rows.length) throw new Error(`${times.length} times but ${rows.length} rows`);
  if (typeof step !== "number" || !Number.isFinite(step) || step <= 0) throw new Error(`step must be a positive number of ms, got ${describe(step)}`);
  const n = rows.length;
  checkGaps(gaps, n);

  let total = 0;
  let largest: Gap | null = null;
  for (const g of gaps) {
    total += g.missing;
    if (largest === null || g.missing > largest.missing) largest = g;
  }
  if (largest !== null && total > MAX_GAP_FILL) {
    const r = largest.row;
    throw new Error(
      `filling the gaps would add ${total} rows, more than the ${MAX_GAP_FILL} allowed; the largest gap, ` +
        `before row ${r} (${iso(times[r - 1])} to ${iso(times[r])}), misses ${largest.missing} steps of ${duration(step)}. ` +
        `Check the unit of the times, or split the series at gaps instead`,
    );
  }

  const outTimes: number[] = [];
  const outRows: number[][] = [];
  let g = 0;
  for (let r = 0; r < n; r++) {
    const row = rows[r];
    if (!Array.isArray(row)) throw new Error(`row ${r}: expected an array of numbers, got ${describe(row)}`);
    if (g < gaps.length && gaps[g].row === r) {
      const { missing } = gaps[g];
      const before = rows[r - 1];
      const t0 = times[r - 1];
      const t1 = times[r];
      if (before.length !== row.length) throw new Error(`rows ${r - 1} and ${r}: ${before.length} and ${row.length} columns`);
      // A gap that does not match the times would put made-up rows at or after the next reading.
      if (!(t0 + missing * step < t1)) {
        throw new Error(`gap before row ${r}: ${missing} steps of ${duration(step)} do not fit between ${iso(t0)} and ${iso(t1)}`);
      }
      for (let k = 1; k <= missing; k++) {
        const t = t0 + k * step;
        outTimes.push(t);
        if (policy === "previous") {
          outRows.push(before.slice());
        } else {
          const made = new Array<number>(row.length);
          // Multiplying before dividing keeps values on a whole-step grid exact.
          for (let c = 0; c < row.length; c++) made[c] = before[c] + ((row[c] - before[c]) * (t - t0)) / (t1 - t0);
          outRows.push(made);
        }
      }
      g++;
    }
    outTimes.push(times[r]);
    outRows.push(row.slice());
  }
  return { times: outTimes, rows: outRows, filled: total };
}

/**
 * For the "split" policy: the runs of rows between gaps, as half-open ranges [start, end) that
 * cover all rows in order. No gaps gives one range; no rows gives none.
 */
export function segments(rowCount: number, gaps: Gap[]): { start: number; end: number }[] {
  if (!Number.isInteger(rowCount) || rowCount < 0) throw new Error(`rowCount must be an integer ≥ 0, got ${describe(rowCount)}`);
  if (rowCount === 0) return [];
  checkGaps(gaps, rowCount);
  const out: { start: number; end: number }[] = [];
  let start = 0;
  for (const g of gaps) {
    out.push({ start, end: g.row });
    start = g.row;
  }
  out.push({ start, end: rowCount });
  return out;
}

/** The times of the next `steps` rows after `last`, `step` apart. */
export function futureTimes(last: number, step: number, steps: number): number[] {
  if (typeof last !== "number" || !Number.isFinite(last)) throw new Error(`last time ${describe(last)} is not a finite number`);
  if (typeof step !== "number" || !Number.isFinite(step) || step <= 0) throw new Error(`step must be a positive number of ms, got ${describe(step)}`);
  if (!Number.isInteger(steps) || steps < 0 || steps > MAX_ROWS) throw new Error(`steps must be an integer from 0 to ${MAX_ROWS}, got ${describe(steps)}`);
  const out = new Array<number>(steps);
  // last + k·step rather than a running sum, which would accumulate rounding over a long horizon.
  for (let k = 1; k <= steps; k++) out[k - 1] = last + k * step;
  return out;
}
