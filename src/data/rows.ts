/**
 * Turning what users send (numbers, arrays, CSV-like objects) into a numeric table.
 * Everything arriving here may come from a message, so nothing is trusted: every value is
 * checked and every error names the row and field a user has to look at.
 */

export const MAX_ROWS = 1_000_000;

/** Refuses a series longer than MAX_ROWS, before any of it is read (or moved to a worker). */
export function checkRowCount(n: number): void {
  if (n > MAX_ROWS) throw new Error(`series has ${n} rows, at most ${MAX_ROWS} allowed`);
}
export const MAX_COLUMNS = 1_000;

/** A numeric table: `rows[r][c]` is the value of column `columns[c]` in row r. */
export interface Table {
  columns: string[];
  rows: number[][];
}

// These names would reach Object.prototype instead of a reading's own fields.
export const FORBIDDEN_FIELDS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

// Decimal notation only: Number() would also accept "", "0x1f" and "Infinity".
export const NUMERIC_STRING = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Short, readable rendering of an offending value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") {
    const shown = value.length > 40 ? value.slice(0, 40) + "…" : value;
    return JSON.stringify(shown);
  }
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  // A function's String() is its whole source text: not something to paste into an error.
  if (typeof value === "function") return "a function";
  if (typeof value === "bigint") return `${value}n (a BigInt)`;
  return String(value);
}

function parseNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string") {
    const s = value.trim();
    if (!NUMERIC_STRING.test(s)) return undefined;
    const x = Number(s);
    return Number.isFinite(x) ? x : undefined;
  }
  return undefined;
}

function where(row: number | null, field: string | null): string {
  const parts: string[] = [];
  if (row !== null) parts.push(`row ${row}`);
  if (field !== null) parts.push(`field ${JSON.stringify(field)}`);
  return parts.join(", ");
}

function toFinite(value: unknown, row: number | null, field: string | null): number {
  const x = parseNumber(value);
  if (x === undefined) {
    const at = where(row, field);
    throw new Error(`${at ? at + ": " : ""}${describe(value)} is not a finite number`);
  }
  return x;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

function checkFieldName(name: unknown, what: string): string {
  if (typeof name !== "string" || name.length === 0) {
    throw new Error(`${what}: field names must be non-empty strings, got ${describe(name)}`);
  }
  if (FORBIDDEN_FIELDS.has(name)) throw new Error(`${what}: ${JSON.stringify(name)} is not allowed as a field name`);
  return name;
}

function checkFields(fields: unknown, what: string): string[] | undefined {
  if (fields === undefined || fields === null) return undefined;
  if (!Array.isArray(fields)) throw new Error(`${what}: fields must be an array of names`);
  if (fields.length === 0) return undefined;
  if (fields.length > MAX_COLUMNS) throw new Error(`${what}: ${fields.length} fields, at most ${MAX_COLUMNS} allowed`);
  const seen = new Set<string>();
  for (const f of fields) {
    const name = checkFieldName(f, what);
    if (seen.has(name)) throw new Error(`${what}: field ${JSON.stringify(name)} is listed twice`);
    seen.add(name);
  }
  return fields as string[];
}

/** Keys of an object whose values read as numbers: the default columns of CSV-like rows. */
function numericKeys(obj: Record<string, unknown>, at: string): string[] {
  const keys = Object.keys(obj);
  if (keys.length > MAX_COLUMNS * 10) {
    throw new Error(`${at}: ${keys.length} fields, too many to scan for numeric columns`);
  }
  const names: string[] = [];
  for (const k of keys) {
    if (parseNumber(obj[k]) === undefined) continue;
    checkFieldName(k, at);
    names.push(k);
  }
  if (names.length === 0) throw new Error(`${at}: no field holds a number, so there is nothing to learn from`);
  if (names.length > MAX_COLUMNS) throw new Error(`${at}: ${names.length} numeric fields, at most ${MAX_COLUMNS} allowed`);
  return names;
}

type Kind = "scalar" | "array" | "object";

function kindOf(value: unknown): Kind | null {
  if (typeof value === "number" || typeof value === "string") return "scalar";
  if (Array.isArray(value)) return "array";
  if (isPlainObject(value)) return "object";
  return null;
}

/**
 * Read a whole series into a table.
 *
 * * numbers (or numeric strings): one column, named `fields[0]` or "value";
 * * arrays of numbers: one column per position, named by `fields` or "0", "1", …;
 * * objects (e.g. CSV rows): the columns are `fields`, or by default every key of the first
 *   row whose value reads as a number (so a "date" column is skipped, not an error).
 *
 * Every value must be a finite number or a decimal numeric string.
 */
export function toTable(series: unknown, fields?: string[]): Table {
  if (!Array.isArray(series)) throw new Error(`series must be an array, got ${describe(series)}`);
  const n = series.length;
  if (n === 0) throw new Error("series is empty");
  checkRowCount(n);
  const names = checkFields(fields, "series");

  const first: unknown = series[0];
  const kind = kindOf(first);
  if (kind === null) throw new Error(`row 0: expected a number, an array or an object, got ${describe(first)}`);
  const sameKind = (r: number): void => {
    const k = kindOf(series[r]);
    if (k !== kind) {
      const expected = kind === "scalar" ? "a number" : kind === "array" ? "an array" : "an object";
      throw new Error(`row ${r}: expected ${expected} like row 0, got ${describe(series[r])}`);
    }
  };

  if (kind === "scalar") {
    if (names && names.length !== 1) {
      throw new Error(`series: a series of single numbers has one column, but ${names.length} fields were given`);
    }
    const rows: number[][] = new Array(n);
    for (let r = 0; r < n; r++) {
      sameKind(r);
      rows[r] = [toFinite(series[r], r, null)];
    }
    return { columns: [names ? names[0] : "value"], rows };
  }

  if (kind === "array") {
    const width = (first as unknown[]).length;
    if (width === 0) throw new Error("row 0: empty array, expected at least one value");
    if (width > MAX_COLUMNS) throw new Error(`row 0: ${width} values, at most ${MAX_COLUMNS} columns allowed`);
    if (names && names.length !== width) {
      throw new Error(`series: rows have ${width} values but ${names.length} field names were given`);
    }
    const columns = names ? names.slice() : Array.from({ length: width }, (_, c) => String(c));
    const rows: number[][] = new Array(n);
    for (let r = 0; r < n; r++) {
      sameKind(r);
      const src = series[r] as unknown[];
      if (src.length !== width) throw new Error(`row ${r}: expected ${width} values, got ${src.length}`);
      const row = new Array<number>(width);
      for (let c = 0; c < width; c++) row[c] = toFinite(src[c], r, columns[c]);
      rows[r] = row;
    }
    return { columns, rows };
  }

  const columns = names ? names.slice() : numericKeys(first as Record<string, unknown>, "row 0");
  const width = columns.length;
  const rows: number[][] = new Array(n);
  for (let r = 0; r < n; r++) {
    sameKind(r);
    const src = series[r] as Record<string, unknown>;
    const row = new Array<number>(width);
    for (let c = 0; c < width; c++) {
      const f = columns[c];
      if (!hasOwn(src, f)) throw new Error(`${where(r, f)}: missing`);
      row[c] = toFinite(src[f], r, f);
    }
    rows[r] = row;
  }
  return { columns, rows };
}

/**
 * Read one live reading into a row: a number (one column), an array of numbers, or an object
 * whose `fields` are taken in order (default: its keys holding numbers).
 */
export function toRow(reading: unknown, fields?: string[]): number[] {
  const names = checkFields(fields, "reading");
  const kind = kindOf(reading);
  if (kind === "scalar") {
    if (names && names.length !== 1) {
      throw new Error(`reading: a single number was sent but ${names.length} fields are expected`);
    }
    return [toFinite(reading, null, names ? names[0] : null)];
  }
  if (kind === "array") {
    const src = reading as unknown[];
    if (src.length === 0) throw new Error("reading: empty array");
    if (src.length > MAX_COLUMNS) throw new Error(`reading: ${src.length} values, at most ${MAX_COLUMNS} allowed`);
    if (names && names.length !== src.length) {
      throw new Error(`reading: expected ${names.length} values (${names.join(", ")}), got ${src.length}`);
    }
    // A loop, not map: map skips the holes of a sparse array and would let them through as gaps.
    const row = new Array<number>(src.length);
    for (let c = 0; c < src.length; c++) row[c] = toFinite(src[c], null, names ? names[c] : String(c));
    return row;
  }
  if (kind === "object") {
    const src = reading as Record<string, unknown>;
    const columns = names ?? numericKeys(src, "reading");
    return columns.map((f) => {
      if (!hasOwn(src, f)) throw new Error(`reading: field ${JSON.stringify(f)} is missing`);
      return toFinite(src[f], null, f);
    });
  }
  throw new Error(`reading: expected a number, an array or an object, got ${describe(reading)}`);
}
