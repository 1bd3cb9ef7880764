/**
 * Calendar features: a time (ms since 1970, UTC) as sin/cos pairs of its hour of day, day of week
 * and day of year, and which of them a series' time step and span make worth adding. Every rule is
 * in UTC, never the machine's time zone, so a file trains the same model on every machine.
 */
import type { CalendarFeature } from "../types";
import { DAY, describe } from "./time";

const WEEK = 7 * DAY;

export type { CalendarFeature };
export const CALENDAR_FEATURES: readonly CalendarFeature[] = Object.freeze(["hourOfDay", "dayOfWeek", "dayOfYear"]);

/** Mean Gregorian year: the period of the dayOfYear feature, so leap years do not drift it. */
const YEAR_DAYS = 365.2425;

function mod(x: number, m: number): number {
  return ((x % m) + m) % m;
}

function checkFeatures(features: readonly CalendarFeature[]): void {
  if (!Array.isArray(features)) throw new Error(`calendar features must be an array, got ${describe(features)}`);
  for (const f of features) {
    if (!CALENDAR_FEATURES.includes(f)) {
      throw new Error(`${describe(f)} is not a calendar feature; use ${CALENDAR_FEATURES.map((c) => JSON.stringify(c)).join(", ")}`);
    }
  }
}

/**
 * The calendar features of one time, in UTC, each as a sin/cos pair so that 23:00 lies next to
 * 00:00 and December next to January. In the order of `features`:
 * * hourOfDay: period 24 h, by the fractional hour (10:30 is 10.5); midnight is sin 0, cos 1.
 * * dayOfWeek: period 7 days, fractional by the time of day; Monday 00:00 is sin 0, cos 1.
 * * dayOfYear: period 365.2425 days from 1 January 00:00 of the time's year (sin 0, cos 1).
 * Returns 2·features.length numbers: [sin, cos, sin, cos, …].
 */
export function calendarValues(time: number, features: readonly CalendarFeature[]): number[] {
  if (typeof time !== "number" || !Number.isFinite(time)) throw new Error(`time ${describe(time)} is not a finite number`);
  checkFeatures(features);
  const out = new Array<number>(2 * features.length);
  for (let i = 0; i < features.length; i++) {
    let fraction: number;
    switch (features[i]) {
      case "hourOfDay":
        fraction = mod(time, DAY) / DAY;
        break;
      case "dayOfWeek":
        // 1970-01-05, 4 days after the epoch, was a Monday: shifting by 3 days puts every
        // Monday 00:00 on a whole number of weeks.
        fraction = mod(time + 3 * DAY, WEEK) / WEEK;
        break;
      default: {
        const yearStart = Date.UTC(new Date(time).getUTCFullYear(), 0, 1);
        fraction = (time - yearStart) / DAY / YEAR_DAYS;
      }
    }
    const angle = 2 * Math.PI * fraction;
    out[2 * i] = Math.sin(angle);
    out[2 * i + 1] = Math.cos(angle);
  }
  return out;
}

/**
 * The calendar features worth adding when the user chose "auto", from the time step and the
 * span (last time − first time), both in ms. A feature is useful only when the readings are
 * finer than its period (else every reading has the same value of it) and cover at least two
 * of its cycles (else the model cannot tell a seasonal pattern from a trend). Coverage is
 * span + step: 48 hourly readings cover two days though their span is 47 h.
 * * hourOfDay: step < 1 day and coverage ≥ 2 days;
 * * dayOfWeek: step < 7 days and coverage ≥ 3 weeks;
 * * dayOfYear: step ≤ 31 days (monthly data qualifies) and coverage ≥ 2 × 365 days.
 * Returned in the order of CALENDAR_FEATURES.
 */
export function autoCalendar(step: number, span: number): CalendarFeature[] {
  if (typeof step !== "number" || !Number.isFinite(step) || step <= 0) throw new Error(`step must be a positive number of ms, got ${describe(step)}`);
  if (typeof span !== "number" || !Number.isFinite(span) || span < 0) throw new Error(`span must be a number of ms ≥ 0, got ${describe(span)}`);
  const covered = span + step;
  const out: CalendarFeature[] = [];
  if (step < DAY && covered >= 2 * DAY) out.push("hourOfDay");
  if (step < WEEK && covered >= 3 * WEEK) out.push("dayOfWeek");
  // Two calendar years, not 2 × 365.2425 days: daily readings for 2013 and 2014 span 729 days.
  if (step <= 31 * DAY && covered >= 2 * 365 * DAY) out.push("dayOfYear");
  return out;
}
