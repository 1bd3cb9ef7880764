/**
 * A series' real-unit history (`SeriesHistory`) as flat typed arrays, the form in which it crosses
 * between threads: nested rows cost the receiving thread ~2 ms to deserialise per 10,000, a
 * transferred Float64Array nothing. Each direction has a form at once (in a worker, where nobody
 * waits) and a form in slices (on the calling thread); both run the same row-range copy.
 */
import { inSlices } from "../offThread";
import type { SeriesHistory } from "./prepare";

export interface FlatHistory {
  /** count × width values, row after row. */
  rows: Float64Array;
  width: number;
  count: number;
  times: Float64Array | null;
  boundary: number;
  segmentStart: Int32Array | null;
}

/**
 * Rows [from, to) into `flat`. False at the first row that is not `width` numbers: a typed array
 * would store it as something else (null as 0, a string as NaN), not as it is.
 */
function rowsIn(rows: readonly (readonly unknown[])[], width: number, flat: Float64Array, from: number, to: number): boolean {
  for (let r = from; r < to; r++) {
    const row = rows[r];
    if (!Array.isArray(row) || row.length !== width) return false;
    for (let k = 0; k < width; k++) {
      const v = row[k];
      if (typeof v !== "number") return false;
      flat[r * width + k] = v;
    }
  }
  return true;
}

function rowsOut(flat: Float64Array, width: number, rows: number[][], from: number, to: number): void {
  for (let r = from; r < to; r++) {
    const row = new Array<number>(width);
    for (let k = 0; k < width; k++) row[k] = flat[r * width + k];
    rows[r] = row;
  }
}

/** Made numbers with Number(), as `forecast` reads them: a Date keeps its time. */
function timesIn(times: ArrayLike<unknown>, flat: Float64Array, from: number, to: number): void {
  for (let i = from; i < to; i++) flat[i] = Number(times[i]);
}

function timesOut(flat: Float64Array, times: number[], from: number, to: number): void {
  for (let i = from; i < to; i++) times[i] = flat[i];
}

/** The buffers to transfer with a flat history (its segment starts included). */
export function flatHistoryBuffers(h: FlatHistory): ArrayBuffer[] {
  const buffers = [h.rows.buffer, h.times?.buffer, h.segmentStart?.buffer];
  // A buffer may be listed once only.
  return Array.from(new Set(buffers.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer)));
}

/** At once, on a history the worker owns: its segment starts are handed over, not copied. */
export function flattenHistory(h: SeriesHistory, width: number): FlatHistory {
  const count = h.rows.length;
  const rows = new Float64Array(count * width);
  if (!rowsIn(h.rows, width, rows, 0, count)) throw new Error(`the history has a row that is not ${width} numbers`);
  let times: Float64Array | null = null;
  if (h.times) {
    times = new Float64Array(h.times.length);
    timesIn(h.times, times, 0, times.length);
  }
  return { rows, width, count, times, boundary: h.boundary, segmentStart: h.segmentStart };
}

/**
 * In slices, from a history on the calling thread, which must not change until this resolves (the
 * caller copies the outer arrays first if they may). Segment starts are copied. Resolves null when
 * a row is not `width` numbers, or when `alive()` turned false before the end.
 */
export async function flattenHistoryInSlices(h: SeriesHistory, width: number, alive: () => boolean): Promise<FlatHistory | null> {
  const count = h.rows.length;
  const rows = new Float64Array(count * width);
  let ok = true;
  await inSlices(count, (from, to) => (ok = rowsIn(h.rows, width, rows, from, to)), () => ok && alive());
  if (!ok || !alive()) return null;
  let times: Float64Array | null = null;
  if (h.times) {
    const list = h.times;
    const out = new Float64Array(list.length);
    await inSlices(out.length, (from, to) => timesIn(list, out, from, to), alive);
    if (!alive()) return null;
    times = out;
  }
  return { rows, width, count, times, boundary: h.boundary, segmentStart: h.segmentStart ? h.segmentStart.slice() : null };
}

/** At once, in a worker. */
export function unflattenHistory(f: FlatHistory): SeriesHistory {
  const rows: number[][] = new Array(f.count);
  rowsOut(f.rows, f.width, rows, 0, f.count);
  let times: number[] | null = null;
  if (f.times) {
    times = new Array<number>(f.times.length);
    timesOut(f.times, times, 0, f.times.length);
  }
  return { rows, times, boundary: f.boundary, segmentStart: f.segmentStart };
}

/** In slices, on the calling thread. */
export async function unflattenHistoryInSlices(f: FlatHistory): Promise<SeriesHistory> {
  const rows: number[][] = new Array(f.count);
  await inSlices(f.count, (from, to) => rowsOut(f.rows, f.width, rows, from, to));
  let times: number[] | null = null;
  if (f.times) {
    const out = new Array<number>(f.times.length);
    await inSlices(out.length, (from, to) => timesOut(f.times!, out, from, to));
    times = out;
  }
  return { rows, times, boundary: f.boundary, segmentStart: f.segmentStart };
}
