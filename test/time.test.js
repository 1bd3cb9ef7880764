"use strict";
const assert = require("assert");
const vm = require("vm");
const {
  GAP_POLICIES,
  MAX_GAP_FILL,
  parseTime,
  splitTimes,
  checkTimes,
  fillGaps,
  segments,
  futureTimes,
} = require("../dist/src/data/time");
const { CALENDAR_FEATURES, calendarValues, autoCalendar } = require("../dist/src/data/calendar");

const MIN = 60e3;
const HOUR = 3600e3;
const DAY = 24 * HOUR;

function close(actual, expected, what) {
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${what}: ${actual} vs ${expected}`);
}

describe("time: parseTime", function () {
  it("lists the calendar features and gap policies in their documented order", function () {
    assert.deepStrictEqual(CALENDAR_FEATURES, ["hourOfDay", "dayOfWeek", "dayOfYear"]);
    assert.deepStrictEqual(GAP_POLICIES, ["linear", "previous", "split"]);
  });

  it("reads a number as milliseconds since 1970", function () {
    const now = Date.UTC(2024, 4, 6, 7, 8, 9, 10);
    assert.strictEqual(parseTime(now, "t"), now);
    assert.strictEqual(parseTime(0, "t"), 0);
    assert.strictEqual(parseTime(Date.UTC(1900, 0, 1), "t"), Date.UTC(1900, 0, 1));
    assert.strictEqual(parseTime(Date.UTC(2200, 11, 31), "t"), Date.UTC(2200, 11, 31));
  });

  it("refuses numbers outside 1900..2200, saying numbers are milliseconds", function () {
    for (const bad of [Date.UTC(2012, 0, 1) * 1000, Date.UTC(2201, 0, 1), Date.UTC(1899, 11, 31)]) {
      assert.throws(() => parseTime(bad, "row 3"), /^Error: row 3: .*a number time is read as milliseconds since 1970/);
    }
    for (const bad of [NaN, Infinity, -Infinity]) assert.throws(() => parseTime(bad, "row 3"), /row 3: .* is not a time/);
  });

  it("reads a Date, also one made in another vm context (a Node-RED function node)", function () {
    const t = Date.UTC(2012, 5, 7, 8, 9);
    assert.strictEqual(parseTime(new Date(t), "t"), t);
    const foreign = vm.runInNewContext(`new Date(${t})`);
    assert.ok(!(foreign instanceof Date));
    assert.strictEqual(parseTime(foreign, "t"), t);
    assert.throws(() => parseTime(new Date(NaN), "row 2"), /row 2: an invalid Date is not a time/);
    const fake = { [Symbol.toStringTag]: "Date", getTime: () => t };
    assert.throws(() => parseTime(fake, "row 2"), /row 2: an object is not a time/);
  });

  it("reads a decimal string as milliseconds, but not hex or empty strings", function () {
    assert.strictEqual(parseTime("1325376000000", "t"), Date.UTC(2012, 0, 1));
    assert.strictEqual(parseTime(" 1325376000000 ", "t"), Date.UTC(2012, 0, 1));
    assert.throws(() => parseTime("1325376000000000", "t"), /milliseconds since 1970/);
    assert.throws(() => parseTime("0x1f", "t"), /is not a time/);
    assert.throws(() => parseTime("", "t"), /is not a time/);
  });

  it("reads ISO dates and date-times without an offset as UTC, whatever the machine's zone", function () {
    assert.strictEqual(parseTime("2012-01-01", "t"), Date.UTC(2012, 0, 1));
    assert.strictEqual(parseTime("2012-01-01T10:00", "t"), Date.UTC(2012, 0, 1, 10));
    assert.strictEqual(parseTime("2012-01-01 10:00:00", "t"), Date.UTC(2012, 0, 1, 10));
    assert.strictEqual(parseTime("2012-01-01T10:20:30.456", "t"), Date.UTC(2012, 0, 1, 10, 20, 30, 456));
    assert.strictEqual(parseTime("2012-01-01T10:20:30.4", "t"), Date.UTC(2012, 0, 1, 10, 20, 30, 400));
    assert.strictEqual(parseTime("2012-02-29", "t"), Date.UTC(2012, 1, 29));
  });

  it("applies Z and ±hh:mm offsets", function () {
    assert.strictEqual(parseTime("2012-01-01T10:00:00Z", "t"), Date.UTC(2012, 0, 1, 10));
    assert.strictEqual(parseTime("2012-01-01T10:00:00.000Z", "t"), Date.UTC(2012, 0, 1, 10));
    assert.strictEqual(parseTime("2012-01-01 10:00:00+02:00", "t"), Date.UTC(2012, 0, 1, 8));
    assert.strictEqual(parseTime("2012-01-01T10:00-05:30", "t"), Date.UTC(2012, 0, 1, 15, 30));
    assert.strictEqual(parseTime("2012-01-01T10:00+0100", "t"), Date.UTC(2012, 0, 1, 9));
    // Same as JavaScript's own reading of an explicit offset.
    assert.strictEqual(parseTime("2012-06-30T23:59:59+02:00", "t"), Date.parse("2012-06-30T23:59:59+02:00"));
  });

  it("refuses impossible calendar dates and other forms, naming where the value came from", function () {
    const where = 'row 17, field "date"';
    const cases = [
      ["2012-13-45", /month 13/],
      ["2011-02-29", /no day 29/],
      ["2012-04-31", /no day 31/],
      ["2012-01-01T24:00", /hour 24/],
      ["2012-01-01T10:60", /minute 60/],
      ["01/02/2012", /a time is milliseconds since 1970, a Date, or an ISO 8601 date/],
      ["Jan 2 2012", /ISO 8601/],
      ["2012-01-01T10", /ISO 8601/],
      ["1899-12-31", /1900\.\.2200/],
    ];
    for (const [value, reason] of cases) {
      assert.throws(() => parseTime(value, where), (e) => {
        assert.ok(e.message.startsWith(`${where}: ${JSON.stringify(value)} is not a time`), e.message);
        assert.match(e.message, reason);
        return true;
      });
    }
    for (const value of [null, undefined, true, {}, [2012, 1, 1], 10n]) {
      assert.throws(() => parseTime(value, where), (e) => e.message.startsWith(`${where}: `) && /is not a time \(/.test(e.message));
    }
  });
});

describe("time: splitTimes", function () {
  it('"none" returns the series as it is and no times', function () {
    const series = [{ date: "2012-01-01", v: 1 }];
    const out = splitTimes(series, "none");
    assert.deepStrictEqual(out, { times: null, values: series, field: null });
    assert.strictEqual(out.values, series);
  });

  it("takes a named field out of object rows and leaves the input untouched", function () {
    const series = [
      { date: "2012-01-01", temp: 1, hum: 80 },
      { date: "2012-01-02", temp: 2, hum: 81 },
    ];
    const copy = JSON.parse(JSON.stringify(series));
    const out = splitTimes(series, "date");
    assert.deepStrictEqual(out.times, [Date.UTC(2012, 0, 1), Date.UTC(2012, 0, 2)]);
    assert.deepStrictEqual(out.values, [{ temp: 1, hum: 80 }, { temp: 2, hum: 81 }]);
    assert.strictEqual(out.field, "date");
    assert.deepStrictEqual(series, copy);
    assert.notStrictEqual(out.values[0], series[0]);
  });

  it("removes a numeric time so it can never become a feature column", function () {
    const t = Date.UTC(2020, 0, 1);
    const out = splitTimes([{ timestamp: t, v: 3 }, { timestamp: t + HOUR, v: 4 }], "timestamp");
    assert.deepStrictEqual(out.values, [{ v: 3 }, { v: 4 }]);
    assert.deepStrictEqual(out.times, [t, t + HOUR]);
  });

  it("keeps a __proto__ key from JSON as a plain field of the copy", function () {
    const row = JSON.parse('{"date":"2012-01-01","__proto__":{"polluted":1},"v":2}');
    const out = splitTimes([row], "date");
    assert.strictEqual(Object.getPrototypeOf(out.values[0]), Object.prototype);
    assert.deepStrictEqual(Object.keys(out.values[0]), ["__proto__", "v"]);
  });

  it('reads array rows [time, v…] with "0": the rest are values, one value becomes a number', function () {
    const one = splitTimes([["2012-01-01", 5], ["2012-01-02", 6]], "0");
    assert.deepStrictEqual(one, { times: [Date.UTC(2012, 0, 1), Date.UTC(2012, 0, 2)], values: [5, 6], field: "0" });
    const t = Date.UTC(2012, 0, 1);
    const two = splitTimes([[t, 1, 2], [t + DAY, 3, 4]], "0");
    assert.deepStrictEqual(two.values, [[1, 2], [3, 4]]);
    assert.deepStrictEqual(two.times, [t, t + DAY]);
  });

  it("auto: finds time, timestamp, date or datetime in object rows, in that order", function () {
    const t = Date.UTC(2012, 0, 1);
    assert.strictEqual(splitTimes([{ date: "2012-01-01", time: t, v: 1 }], "auto").field, "time");
    assert.strictEqual(splitTimes([{ date: "2012-01-01", timestamp: t, v: 1 }], "auto").field, "timestamp");
    assert.strictEqual(splitTimes([{ datetime: "2012-01-01 10:00", date: "2012-01-01", v: 1 }], "auto").field, "date");
    const out = splitTimes([{ datetime: "2012-01-01 10:00", v: 1 }], "auto");
    assert.deepStrictEqual(out, { times: [Date.UTC(2012, 0, 1, 10)], values: [{ v: 1 }], field: "datetime" });
  });

  it("auto: accepts a capitalised header and skips a candidate that is not a time", function () {
    assert.strictEqual(splitTimes([{ Date: "2012-01-01", v: 1 }], "auto").field, "Date");
    const out = splitTimes([{ time: "morning", date: "2012-01-01", v: 1 }], "auto");
    assert.strictEqual(out.field, "date");
    assert.deepStrictEqual(out.values, [{ time: "morning", v: 1 }]);
  });

  it("auto: takes an ISO string or Date in position 0 of array rows", function () {
    const out = splitTimes([["2012-01-01T00:00Z", 1, 2], ["2012-01-01T01:00Z", 3, 4]], "auto");
    assert.deepStrictEqual(out, { times: [Date.UTC(2012, 0, 1, 0), Date.UTC(2012, 0, 1, 1)], values: [[1, 2], [3, 4]], field: "0" });
    const d = splitTimes([[new Date(Date.UTC(2012, 0, 1)), 7]], "auto");
    assert.deepStrictEqual(d.values, [7]);
  });

  it("auto: does not take a number or numeric string in position 0 as a time", function () {
    const t = Date.UTC(2012, 0, 1);
    for (const series of [[[t, 1], [t + HOUR, 2]], [["1325376000000", "1"], ["1325379600000", "2"]], [[20, 21]]]) {
      const out = splitTimes(series, "auto");
      assert.deepStrictEqual(out, { times: null, values: series, field: null });
    }
  });

  it("auto: no times for numbers, for objects without a time field, and for an empty series", function () {
    assert.strictEqual(splitTimes([1, 2, 3], "auto").times, null);
    assert.strictEqual(splitTimes([{ temp: 1 }], "auto").times, null);
    assert.strictEqual(splitTimes([{ date: "soon", temp: 1 }], "auto").times, null);
    assert.strictEqual(splitTimes([["x", 1]], "auto").times, null);
    assert.strictEqual(splitTimes([], "auto").times, null);
  });

  it("names the row and field of a bad or missing time", function () {
    const series = [{ date: "2012-01-01", v: 1 }, { date: "2012-01-02", v: 2 }, { date: "2012-13-45", v: 3 }];
    assert.throws(() => splitTimes(series, "date"), /^Error: row 2, field "date": "2012-13-45" is not a time \(/);
    assert.throws(() => splitTimes(series, "auto"), /^Error: row 2, field "date": "2012-13-45" is not a time \(/);
    assert.throws(() => splitTimes([{ date: "2012-01-01" }, { v: 1 }], "date"), /^Error: row 1, field "date": missing/);
    assert.throws(() => splitTimes([["2012-01-01", 1], ["tomorrow", 2]], "0"), /^Error: row 1, field "0": "tomorrow" is not a time/);
  });

  it("refuses rows that do not fit the time field", function () {
    assert.throws(() => splitTimes([["2012-01-01", 1, 2], ["2012-01-02", 3]], "0"), /^Error: row 1: expected 3 elements/);
    assert.throws(() => splitTimes([["2012-01-01"]], "0"), /^Error: row 0: expected \[time, value, …\]/);
    assert.throws(() => splitTimes([["2012-01-01", 1], { v: 1 }], "0"), /^Error: row 1: expected an array/);
    assert.throws(() => splitTimes([["2012-01-01", 1]], "date"), /rows are arrays, so the time can only be in position "0"/);
    assert.throws(() => splitTimes([1, 2], "date"), /^Error: row 0: 1 has no time field "date"/);
    assert.throws(() => splitTimes([{ date: "2012-01-01" }, 5], "date"), /^Error: row 1: expected an object/);
    assert.throws(() => splitTimes([{ v: 1 }], "__proto__"), /not allowed as a field name/);
    assert.throws(() => splitTimes("2012-01-01", "auto"), /series must be an array/);
  });
});

describe("time: checkTimes", function () {
  it("takes the step as the median difference, unmoved by gaps", function () {
    // Hourly, with a 3 h hole and a 13 h hole: the mean difference would be about 3 h.
    const times = [0, 1, 2, 5, 6, 7, 20].map((h) => Date.UTC(2012, 0, 1) + h * HOUR);
    const { step, gaps } = checkTimes(times);
    assert.strictEqual(step, HOUR);
    assert.deepStrictEqual(gaps, [{ row: 3, missing: 2 }, { row: 6, missing: 12 }]);
  });

  it("takes the lower middle difference for an even count, so the step really occurs", function () {
    assert.strictEqual(checkTimes([0, HOUR, 3 * HOUR]).step, HOUR);
  });

  it("counts only differences over 1.5 steps as gaps, and at least one row missing", function () {
    const m = 10 * MIN;
    // 1.4 steps is jitter; 1.6 steps rounds to 2, i.e. one missing row.
    const times = [0, m, 2 * m, 3.4 * m, 4.4 * m, 5.4 * m, 7 * m, 8 * m];
    assert.deepStrictEqual(checkTimes(times).gaps, [{ row: 6, missing: 1 }]);
    assert.deepStrictEqual(checkTimes([0, 1, 2, 3, 4]).gaps, []);
  });

  it("refuses rows out of order, naming both rows and their times", function () {
    const times = [Date.UTC(2012, 0, 1), Date.UTC(2012, 0, 3), Date.UTC(2012, 0, 2)];
    assert.throws(
      () => checkTimes(times),
      /^Error: rows 1 and 2 are out of order: row 2 \(2012-01-02T00:00:00\.000Z\) is before row 1 \(2012-01-03T00:00:00\.000Z\)/,
    );
  });

  it("refuses a duplicate time, naming the rows", function () {
    const times = [Date.UTC(2012, 0, 1), Date.UTC(2012, 0, 2), Date.UTC(2012, 0, 2)];
    assert.throws(() => checkTimes(times), /^Error: rows 1 and 2 have the same time 2012-01-02T00:00:00\.000Z/);
  });

  it("needs two finite times", function () {
    assert.throws(() => checkTimes([5]), /at least 2/);
    assert.throws(() => checkTimes([0, NaN]), /^Error: row 1: time NaN is not a finite number/);
  });
});

describe("time: fillGaps / segments", function () {
  const t0 = Date.UTC(2012, 0, 1);
  const times = [0, 1, 4, 5].map((h) => t0 + h * HOUR);
  const rows = [[0, 10], [1, 20], [4, 50], [5, 60]];
  const gaps = [{ row: 2, missing: 2 }];

  it("linear: interpolates each column exactly and adds the times prev + k·step", function () {
    const inTimes = times.slice();
    const inRows = JSON.parse(JSON.stringify(rows));
    const out = fillGaps(times, rows, HOUR, gaps, "linear");
    assert.deepStrictEqual(out.rows, [[0, 10], [1, 20], [2, 30], [3, 40], [4, 50], [5, 60]]);
    assert.deepStrictEqual(out.times, [0, 1, 2, 3, 4, 5].map((h) => t0 + h * HOUR));
    assert.strictEqual(out.filled, 2);
    assert.deepStrictEqual(times, inTimes);
    assert.deepStrictEqual(rows, inRows);
    assert.notStrictEqual(out.rows[0], rows[0]);
  });

  it("linear: interpolates by time when a gap is not a whole number of steps", function () {
    // 2.8 h between readings: rounds to 2 missing rows at +1 h and +2 h.
    const out = fillGaps([0, 2.8 * HOUR], [[0], [28]], HOUR, [{ row: 1, missing: 2 }], "linear");
    assert.deepStrictEqual(out.times, [0, HOUR, 2 * HOUR, 2.8 * HOUR]);
    assert.deepStrictEqual(out.rows, [[0], [10], [20], [28]]);
  });

  it("previous: repeats the row before the gap, as separate arrays", function () {
    const out = fillGaps(times, rows, HOUR, gaps, "previous");
    assert.deepStrictEqual(out.rows, [[0, 10], [1, 20], [1, 20], [1, 20], [4, 50], [5, 60]]);
    assert.strictEqual(out.filled, 2);
    out.rows[2][0] = 99;
    assert.deepStrictEqual(out.rows[3], [1, 20]);
    assert.deepStrictEqual(rows[1], [1, 20]);
  });

  it("fills several gaps and leaves a series without gaps as it is", function () {
    const ts = [0, 1, 3, 4, 7].map((h) => h * HOUR);
    const found = checkTimes(ts);
    const out = fillGaps(ts, [[0], [1], [3], [4], [7]], found.step, found.gaps, "linear");
    assert.deepStrictEqual(out.rows, [[0], [1], [2], [3], [4], [5], [6], [7]]);
    assert.strictEqual(out.filled, 3);
    assert.deepStrictEqual(fillGaps([0, HOUR], [[1], [2]], HOUR, [], "linear"), { times: [0, HOUR], rows: [[1], [2]], filled: 0 });
  });

  it("refuses to add more than MAX_GAP_FILL rows, naming the gap and the limit", function () {
    const far = [0, HOUR, HOUR + (MAX_GAP_FILL + 1) * HOUR];
    const found = checkTimes(far);
    assert.deepStrictEqual(found.gaps, [{ row: 2, missing: MAX_GAP_FILL }]);
    // Exactly the limit is allowed...
    assert.strictEqual(fillGaps(far, [[0], [1], [2]], HOUR, found.gaps, "previous").filled, MAX_GAP_FILL);
    // ...one more is not.
    const further = [0, HOUR, HOUR + (MAX_GAP_FILL + 2) * HOUR];
    const more = checkTimes(further);
    assert.throws(
      () => fillGaps(further, [[0], [1], [2]], HOUR, more.gaps, "linear"),
      (e) =>
        e.message.includes(`add ${MAX_GAP_FILL + 1} rows`) &&
        e.message.includes(`the ${MAX_GAP_FILL} allowed`) &&
        e.message.includes("before row 2 (1970-01-01T01:00:00.000Z"),
    );
  });

  it("refuses gaps that do not match the rows or times", function () {
    assert.throws(() => fillGaps(times, rows, HOUR, [{ row: 2, missing: 3 }], "linear"), /do not fit/);
    assert.throws(() => fillGaps(times, rows, HOUR, [{ row: 0, missing: 1 }], "linear"), /gap 0: row 0/);
    assert.throws(() => fillGaps(times, rows, HOUR, gaps, "split"), /"linear" or "previous"/);
    assert.throws(() => fillGaps(times, rows.slice(1), HOUR, gaps, "linear"), /4 times but 3 rows/);
  });

  it("segments: the runs between gaps as [start, end) covering every row", function () {
    assert.deepStrictEqual(segments(7, [{ row: 3, missing: 2 }, { row: 6, missing: 12 }]), [
      { start: 0, end: 3 },
      { start: 3, end: 6 },
      { start: 6, end: 7 },
    ]);
    assert.deepStrictEqual(segments(4, []), [{ start: 0, end: 4 }]);
    assert.deepStrictEqual(segments(0, []), []);
    assert.throws(() => segments(4, [{ row: 3, missing: 1 }, { row: 2, missing: 1 }]), /gap 1/);
  });
});

describe("time: calendar features", function () {
  it("hourOfDay: midnight UTC is sin 0 cos 1, 06:00 sin 1, 18:30 by fractional hours", function () {
    assert.deepStrictEqual(calendarValues(Date.UTC(2012, 4, 17), ["hourOfDay"]), [0, 1]);
    const six = calendarValues(Date.UTC(2012, 4, 17, 6), ["hourOfDay"]);
    close(six[0], 1, "sin 06:00");
    close(six[1], 0, "cos 06:00");
    const late = calendarValues(Date.UTC(2012, 4, 17, 18, 30), ["hourOfDay"]);
    close(late[0], Math.sin((2 * Math.PI * 18.5) / 24), "sin 18:30");
    close(late[1], Math.cos((2 * Math.PI * 18.5) / 24), "cos 18:30");
  });

  it("dayOfWeek: Monday 00:00 UTC is sin 0 cos 1, fractional through the day", function () {
    // 2024-01-01 was a Monday.
    assert.deepStrictEqual(calendarValues(Date.UTC(2024, 0, 1), ["dayOfWeek"]), [0, 1]);
    const thuNoon = calendarValues(Date.UTC(2024, 0, 4, 12), ["dayOfWeek"]);
    close(thuNoon[0], Math.sin((2 * Math.PI * 3.5) / 7), "sin Thursday noon");
    close(thuNoon[1], Math.cos((2 * Math.PI * 3.5) / 7), "cos Thursday noon");
    const before = calendarValues(Date.UTC(1969, 11, 29), ["dayOfWeek"]); // a Monday before 1970
    close(before[0], 0, "sin Monday 1969");
    close(before[1], 1, "cos Monday 1969");
  });

  it("dayOfYear: 1 January is sin 0 cos 1; 1 March of a leap year is day 60 of 365.2425", function () {
    assert.deepStrictEqual(calendarValues(Date.UTC(2013, 0, 1), ["dayOfYear"]), [0, 1]);
    const march = calendarValues(Date.UTC(2012, 2, 1), ["dayOfYear"]);
    close(march[0], Math.sin((2 * Math.PI * 60) / 365.2425), "sin 1 March");
    close(march[1], Math.cos((2 * Math.PI * 60) / 365.2425), "cos 1 March");
  });

  it("returns [sin, cos] pairs in the order asked for", function () {
    const t = Date.UTC(2024, 0, 1, 6); // Monday 06:00, 1 January
    const v = calendarValues(t, ["dayOfYear", "hourOfDay"]);
    assert.strictEqual(v.length, 4);
    close(v[0], Math.sin((2 * Math.PI * 0.25) / 365.2425), "dayOfYear sin");
    close(v[2], 1, "hourOfDay sin");
    assert.deepStrictEqual(calendarValues(t, []), []);
    assert.throws(() => calendarValues(t, ["month"]), /"month" is not a calendar feature/);
  });

  it("autoCalendar: hourly data gets hour and weekday, and day of year after two years", function () {
    assert.deepStrictEqual(autoCalendar(HOUR, 47 * HOUR), ["hourOfDay"]);
    assert.deepStrictEqual(autoCalendar(HOUR, 30 * HOUR), []);
    assert.deepStrictEqual(autoCalendar(HOUR, 21 * DAY - HOUR), ["hourOfDay", "dayOfWeek"]);
    assert.deepStrictEqual(autoCalendar(HOUR, 800 * DAY), ["hourOfDay", "dayOfWeek", "dayOfYear"]);
  });

  it("autoCalendar: daily data gets weekday, and day of year for 2013..2014", function () {
    assert.deepStrictEqual(autoCalendar(DAY, 20 * DAY), ["dayOfWeek"]);
    assert.deepStrictEqual(autoCalendar(DAY, 19 * DAY), []);
    const span = Date.UTC(2014, 11, 31) - Date.UTC(2013, 0, 1);
    assert.deepStrictEqual(autoCalendar(DAY, span), ["dayOfWeek", "dayOfYear"]);
    assert.deepStrictEqual(autoCalendar(7 * DAY, 5 * 365 * DAY), ["dayOfYear"]);
  });

  it("autoCalendar: monthly data gets day of year with 24 months, none with 12", function () {
    const monthly = Array.from({ length: 24 }, (_, i) => Date.UTC(2012, i, 1));
    const { step } = checkTimes(monthly);
    assert.strictEqual(step, 31 * DAY);
    assert.deepStrictEqual(autoCalendar(step, monthly[23] - monthly[0]), ["dayOfYear"]);
    assert.deepStrictEqual(autoCalendar(step, monthly[11] - monthly[0]), []);
    assert.deepStrictEqual(autoCalendar(90 * DAY, 10 * 365 * DAY), []);
  });

  it("futureTimes: the next steps after the last time", function () {
    const last = Date.UTC(2012, 0, 1);
    assert.deepStrictEqual(futureTimes(last, HOUR, 3), [last + HOUR, last + 2 * HOUR, last + 3 * HOUR]);
    assert.deepStrictEqual(futureTimes(last, HOUR, 0), []);
    assert.throws(() => futureTimes(last, 0, 3), /step must be a positive/);
    assert.throws(() => futureTimes(last, HOUR, 1.5), /steps must be an integer/);
  });
});
