/**
 * The readings an rnn sequence node keeps for streams: the most recent `size` of them, each with
 * its time when it had one. Every reading is checked when it arrives, so one bad reading is
 * refused alone instead of spoiling a later training run, and all of them make one table.
 */
import { toRow, toTable } from "../../src";
import { errorMessage, readingTime, Translate } from "./runtime";

export class ReadingBuffer {
  private readings: unknown[] = [];
  private times: (number | null)[] = [];
  /** What every buffered reading looks like (kind and columns). */
  private shape = "";

  constructor(private readonly size: number, private readonly timeField: string, private readonly fields: string[] | undefined, private readonly t: Translate) {}

  get length(): number {
    return Math.min(this.readings.length, this.size);
  }

  get full(): boolean {
    return this.readings.length >= this.size;
  }

  /**
   * Checks and keeps one reading. Throws a message (without the "msg.payload cannot be used"
   * prefix) when it is not a reading or does not match the buffered ones.
   */
  push(payload: unknown, timestamp: unknown): void {
    let reading = payload;
    let time: number | null = null;
    try {
      // A time inside the reading ([time, value] or a time field) comes out before the numbers are read.
      if (this.timeField !== "none") {
        const stamped = readingTime(reading, timestamp, this.timeField);
        time = stamped.time;
        reading = stamped.value;
      }
    } catch (e) {
      throw new Error(errorMessage(e));
    }
    if (!(typeof reading === "number" || Array.isArray(reading) || (typeof reading === "object" && reading !== null))) {
      throw new Error(this.t("errors.readingKind"));
    }
    const row = toRow(reading, this.fields);
    const columns = toTable([reading], this.fields).columns;
    // Same width is not enough: a training table needs the same kind and the same field names.
    const shape = typeof reading === "number" ? this.t("errors.shapeNumber") : Array.isArray(reading) ? this.t("errors.shapeArray", { count: row.length }) : this.t("errors.shapeFields", { fields: columns.join(", ") });
    if (this.readings.length > 0 && shape !== this.shape) {
      throw new Error(this.t("errors.readingShape", { shape, buffered: this.shape }));
    }
    this.shape = shape;
    // Only the numbers are kept: whatever else a reading carried is not held for `size` readings.
    this.readings.push(typeof reading === "number" ? row[0] : Array.isArray(reading) ? row : Object.fromEntries(columns.map((c, i) => [c, row[i]])));
    this.times.push(time);
    // The oldest go an eighth of the buffer at a time: dropping one per reading would move the
    // whole array on every message.
    if (this.readings.length > this.size + Math.max(1, this.size >> 3)) this.trim();
  }

  /** The buffered readings, oldest first (a copy). */
  series(): unknown[] {
    this.trim();
    return this.readings.slice();
  }

  /** Their times when every one of them has a time; otherwise none are used. */
  seriesTimes(): number[] | null {
    this.trim();
    return this.times.length > 0 && this.times.every((v) => v !== null) ? (this.times.slice() as number[]) : null;
  }

  clear(): void {
    this.readings = [];
    this.times = [];
  }

  private trim(): void {
    const extra = this.readings.length - this.size;
    if (extra <= 0) return;
    this.readings.splice(0, extra);
    this.times.splice(0, extra);
  }
}
