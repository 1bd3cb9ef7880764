"use strict";
const assert = require("assert");
const {
  toTable,
  toRow,
  makeWindows,
  Scaler,
  splitRows,
  batchIndices,
  gather,
  prepareDataset,
} = require("../dist/src/data");
const { packInputs, packTargets, unpackOutputs } = require("../dist/src/tensors");
const { Random } = require("../dist/src/random");

/** Rows [i, 100 + i]: every value tells which row it came from. */
function indexedRows(n) {
  return Array.from({ length: n }, (_, i) => [i, 100 + i]);
}

function close(actual, expected, tol, what) {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tol ${tol})`);
}

describe("data: toTable / toRow", function () {
  it("reads a series of numbers as one column named value", function () {
    assert.deepStrictEqual(toTable([1, 2.5, -3]), { columns: ["value"], rows: [[1], [2.5], [-3]] });
  });

  it("reads arrays as numbered columns, or names them with fields", function () {
    assert.deepStrictEqual(toTable([[1, 2], [3, 4]]).columns, ["0", "1"]);
    assert.deepStrictEqual(toTable([[1, 2], [3, 4]], ["a", "b"]), { columns: ["a", "b"], rows: [[1, 2], [3, 4]] });
  });

  it("reads CSV-like objects with numeric strings, skipping non-numeric fields by default", function () {
    const csv = [
      { date: "2024-01-01", temp: "12.5", hum: "80" },
      { date: "2024-01-02", temp: " -3.25 ", hum: 79 },
      { date: "2024-01-03", temp: "1e2", hum: ".5" },
    ];
    assert.deepStrictEqual(toTable(csv), { columns: ["temp", "hum"], rows: [[12.5, 80], [-3.25, 79], [100, 0.5]] });
    assert.deepStrictEqual(toTable(csv, ["hum"]).rows, [[80], [79], [0.5]]);
  });

  it("names the row and field of a value that is not a finite number", function () {
    const series = Array.from({ length: 20 }, () => ({ temp_max: "20.1", temp_min: 10 }));
    const cases = [
      ["abc", /row 17, field "temp_max": "abc" is not a finite number/],
      [NaN, /row 17, field "temp_max": NaN is not a finite number/],
      [Infinity, /row 17, field "temp_max": Infinity is not a finite number/],
      [null, /row 17, field "temp_max": null is not a finite number/],
      [true, /row 17, field "temp_max": true is not a finite number/],
      [{ v: 1 }, /row 17, field "temp_max": an object is not a finite number/],
      ["", /row 17, field "temp_max": "" is not a finite number/],
      ["0x1f", /row 17, field "temp_max": "0x1f" is not a finite number/],
      ["Infinity", /row 17, field "temp_max": "Infinity" is not a finite number/],
    ];
    for (const [bad, message] of cases) {
      const copy = series.map((r) => ({ ...r }));
      copy[17].temp_max = bad;
      assert.throws(() => toTable(copy), message, `value ${String(bad)}`);
    }
  });

  it("names the row of a missing field, a ragged array row, a wrong kind of row, or a bad number", function () {
    assert.throws(() => toTable([{ a: 1 }, { b: 2 }]), /row 1, field "a": missing/);
    assert.throws(() => toTable([[1, 2], [3]]), /row 1: expected 2 values, got 1/);
    assert.throws(() => toTable([[1, 2], [3, "x"]]), /row 1, field "1": "x" is not a finite number/);
    assert.throws(() => toTable([1, [2]]), /row 1: expected a number like row 0/);
    assert.throws(() => toTable([1, 2, NaN]), /row 2: NaN is not a finite number/);
    assert.throws(() => toTable([true]), /row 0: expected a number, an array or an object/);
    assert.throws(() => toTable("1,2,3"), /series must be an array/);
    assert.throws(() => toTable([]), /series is empty/);
    assert.throws(() => toTable([{ date: "x" }]), /row 0: no field holds a number/);
  });

  it("rejects field names that reach the object prototype", function () {
    for (const name of ["__proto__", "constructor", "prototype"]) {
      assert.throws(() => toTable([{ a: 1 }], [name]), /is not allowed as a field name/, name);
      assert.throws(() => toRow({ a: 1 }, [name]), /is not allowed as a field name/, name);
    }
    // An own "__proto__" key, as JSON.parse creates it, is refused too rather than read.
    assert.throws(() => toTable([JSON.parse('{"__proto__": 5, "a": 1}')]), /"__proto__" is not allowed/);
    // Inherited properties are never read as fields.
    assert.throws(() => toTable([{ a: 1 }], ["toString"]), /row 0, field "toString": missing/);
  });

  it("bounds rows and columns before copying anything", function () {
    const tooLong = new Array(1_000_001); // sparse: would fail on its holes if it were copied
    assert.throws(() => toTable(tooLong), /1000001 rows, at most 1000000/);
    const wide = [new Array(1001).fill(1)];
    assert.throws(() => toTable(wide), /1001 values, at most 1000 columns/);
    assert.doesNotThrow(() => toTable([new Array(1000).fill(1)]));
  });

  it("reads one reading from a number, an array or an object", function () {
    assert.deepStrictEqual(toRow(4.5), [4.5]);
    assert.deepStrictEqual(toRow("4.5"), [4.5]);
    assert.deepStrictEqual(toRow([1, "2"]), [1, 2]);
    assert.deepStrictEqual(toRow({ hum: "80", temp: 12, label: "x" }, ["temp", "hum"]), [12, 80]);
    assert.deepStrictEqual(toRow({ temp: 12, label: "x", hum: 3 }), [12, 3]);
    assert.throws(() => toRow({ temp: "warm" }, ["temp"]), /field "temp": "warm" is not a finite number/);
    assert.throws(() => toRow({ temp: 1 }, ["temp", "hum"]), /field "hum" is missing/);
    assert.throws(() => toRow([1, 2], ["a"]), /expected 1 values \(a\), got 2/);
    assert.throws(() => toRow(null), /expected a number, an array or an object, got null/);
  });
});

describe("data: makeWindows", function () {
  const rows = indexedRows(10);
  const base = { featureCols: [0], targetCols: [1] };

  it('"last", horizon 1: N = rows − length, target is row n+length on the last step only', function () {
    const w = makeWindows(rows, { ...base, length: 3, horizon: 1 });
    assert.strictEqual(w.inputs.length, 7);
    assert.deepStrictEqual(w.inputs[0], [[0], [1], [2]]);
    assert.deepStrictEqual(w.targets[0], [null, null, [103]]);
    assert.deepStrictEqual(w.inputs[6], [[6], [7], [8]]);
    assert.deepStrictEqual(w.targets[6], [null, null, [109]]);
  });

  it('"last", horizon 3: N = rows − length − 2, target is row n+length+2', function () {
    const w = makeWindows(rows, { ...base, length: 3, horizon: 3 });
    assert.strictEqual(w.inputs.length, 5);
    assert.deepStrictEqual(w.inputs[4], [[4], [5], [6]]);
    assert.deepStrictEqual(w.targets[4], [null, null, [109]]);
    for (let n = 0; n < 5; n++) assert.deepStrictEqual(w.targets[n][2], [100 + n + 5]);
  });

  it('"every", horizon 1 and 3: step t of window n targets row n+t+horizon', function () {
    const w1 = makeWindows(rows, { ...base, length: 3, horizon: 1, targetMode: "every" });
    assert.strictEqual(w1.targets.length, 7);
    assert.deepStrictEqual(w1.targets[0], [[101], [102], [103]]);
    const w3 = makeWindows(rows, { ...base, length: 3, horizon: 3, targetMode: "every" });
    assert.strictEqual(w3.targets.length, 5);
    assert.deepStrictEqual(w3.targets[0], [[103], [104], [105]]);
    assert.deepStrictEqual(w3.targets[4], [[107], [108], [109]]);
  });

  it("takes several feature and target columns in the order given", function () {
    const w = makeWindows(rows, { featureCols: [1, 0], targetCols: [0, 1], length: 2, horizon: 1 });
    assert.deepStrictEqual(w.inputs[0], [[100, 0], [101, 1]]);
    assert.deepStrictEqual(w.targets[0], [null, [2, 102]]);
  });

  it("gives every window its own arrays", function () {
    const w = makeWindows(rows, { ...base, length: 3, horizon: 1 });
    w.inputs[0][1][0] = -1; // row 1 is also step 0 of window 1
    assert.deepStrictEqual(w.inputs[1][0], [1]);
  });

  it("says how many rows are needed when the series is too short, and checks its options", function () {
    assert.throws(() => makeWindows(indexedRows(5), { ...base, length: 4, horizon: 2 }), /needs at least 6 rows, got 5/);
    assert.doesNotThrow(() => makeWindows(indexedRows(6), { ...base, length: 4, horizon: 2 }));
    assert.throws(() => makeWindows(rows, { ...base, length: 2.5, horizon: 1 }), /length must be an integer ≥ 1/);
    assert.throws(() => makeWindows(rows, { ...base, length: 2, horizon: 0 }), /horizon must be an integer ≥ 1/);
    assert.throws(() => makeWindows(rows, { ...base, featureCols: [2], length: 2, horizon: 1 }), /featureCols\[0\]: 2 is not a column/);
    assert.throws(() => makeWindows(rows, { ...base, length: 2, horizon: 1, targetMode: "all" }), /targetMode/);
  });
});

describe("data: Scaler", function () {
  const rng = new Random(7);
  const rows = Array.from({ length: 200 }, () => [rng.uniform(-50, 300), rng.normal() * 1e-3 + 5, 42]);

  it("inverts its own transform to 1e-12 (relative) for every kind", function () {
    for (const kind of ["none", "minmax", "zscore"]) {
      const s = Scaler.fit(rows, [0, 1, 2], [1, 0], kind);
      for (const row of rows) {
        const back = s.inverseFeatures(s.transformFeatures(row));
        row.forEach((x, i) => close(back[i], x, 1e-12 * Math.max(1, Math.abs(x)), `${kind} feature ${i}`));
        const t = [row[1], row[0]];
        const tb = s.inverseTargets(s.transformTargets(t));
        t.forEach((x, i) => close(tb[i], x, 1e-12 * Math.max(1, Math.abs(x)), `${kind} target ${i}`));
      }
    }
  });

  it("minmax maps the training minimum to 0 and maximum to 1", function () {
    const s = Scaler.fit(rows, [0], [0], "minmax");
    const col = rows.map((r) => r[0]);
    const lo = Math.min(...col);
    const hi = Math.max(...col);
    assert.strictEqual(s.transformFeatures([lo])[0], 0);
    assert.strictEqual(s.transformFeatures([hi])[0], 1);
    assert.strictEqual(s.transformTargets([hi])[0], 1);
  });

  it("zscore gives the training rows mean 0 and population standard deviation 1", function () {
    const s = Scaler.fit(rows, [0, 1], [0], "zscore");
    for (const c of [0, 1]) {
      const raw = rows.map((r) => r[c]);
      const rawMean = raw.reduce((a, b) => a + b, 0) / raw.length;
      const rawStd = Math.sqrt(raw.reduce((a, b) => a + (b - rawMean) ** 2, 0) / raw.length);
      // x − mean cancels digits when the mean is large next to the spread (column 1: 5 ± 0.001),
      // so the attainable accuracy is about 1e-12 × |mean| / std.
      const tol = 1e-12 * (1 + Math.abs(rawMean) / rawStd);
      const z = rows.map((r) => s.transformFeatures([r[0], r[1]])[c]);
      const mean = z.reduce((a, b) => a + b, 0) / z.length;
      const std = Math.sqrt(z.reduce((a, b) => a + (b - mean) ** 2, 0) / z.length);
      close(mean, 0, tol, `mean of column ${c}`);
      close(std, 1, tol, `std of column ${c}`);
    }
  });

  it("gives a constant column scale 1 instead of dividing by zero", function () {
    for (const kind of ["minmax", "zscore"]) {
      const s = Scaler.fit(rows, [2], [2], kind);
      assert.strictEqual(s.toJSON().features.scale[0], 1, kind);
      assert.strictEqual(s.transformFeatures([42])[0], 0, kind);
    }
  });

  it("round-trips through JSON and rejects a malformed saved scaler, naming the field", function () {
    const s = Scaler.fit(rows, [0, 1], [0], "zscore");
    const copy = Scaler.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
    assert.deepStrictEqual(copy.toJSON(), s.toJSON());
    assert.deepStrictEqual(copy.transformFeatures([3, 4]), s.transformFeatures([3, 4]));
    const bad = (edit) => {
      const j = JSON.parse(JSON.stringify(s.toJSON()));
      edit(j);
      return () => Scaler.fromJSON(j);
    };
    assert.throws(bad((j) => (j.kind = "log")), /scaler\.kind/);
    assert.throws(bad((j) => (j.features.scale[1] = 0)), /scaler\.features\.scale\[1\] must not be 0/);
    assert.throws(bad((j) => (j.targets.offset[0] = "1")), /scaler\.targets\.offset\[0\] must be a finite number/);
    assert.throws(bad((j) => j.features.offset.push(1)), /scaler\.features: offset has 3 entries but scale has 2/);
    assert.throws(bad((j) => (j.extra = 1)), /scaler: unexpected field "extra"/);
    assert.throws(() => s.transformFeatures([1]), /expected 2 features, got 1/);
  });
});

describe("data: splitRows and leakage", function () {
  it("puts the last floor(n × fraction) rows in validation and returns exact ranges", function () {
    const s = splitRows(100, 0.2, 5);
    assert.deepStrictEqual(s, {
      boundary: 80,
      train: { start: 0, end: 80 },
      validation: { start: 76, end: 100 },
      trainWindows: 76,
      validationWindows: 20,
    });
    assert.strictEqual(splitRows(10, 0, 3).validation, null);
    assert.strictEqual(splitRows(10, 0.01, 3).validationWindows, 1);
  });

  it("checks the fraction and says how many rows are needed", function () {
    assert.throws(() => splitRows(100, 0.95, 5), /0 to 0\.9/);
    assert.throws(() => splitRows(100, -0.1, 5), /0 to 0\.9/);
    assert.throws(() => splitRows(100, NaN, 5), /0 to 0\.9/);
    const err = (() => {
      try {
        splitRows(6, 0.5, 5);
      } catch (e) {
        return e.message;
      }
      return "";
    })();
    const needed = Number(/at least (\d+) rows/.exec(err)[1]);
    assert.doesNotThrow(() => splitRows(needed, 0.5, 5));
    assert.throws(() => splitRows(needed - 1, 0.5, 5), /at least/);
  });

  // With scaling "none" and value = row index, every target value IS its row index.
  for (const targetMode of ["last", "every"]) {
    for (const horizon of [1, 3]) {
      it(`no leakage (${targetMode}, horizon ${horizon}): training sees rows < boundary, validation targets are ≥ boundary`, function () {
        const series = Array.from({ length: 60 }, (_, i) => i);
        const d = prepareDataset(series, { length: 5, horizon, targetMode, scaling: "none", validationSplit: 0.25 });
        const b = d.split.boundary;
        assert.strictEqual(b, 45);
        assert.ok(d.train.inputs.length > 0 && d.validation.inputs.length > 0);
        for (const w of d.train.inputs) for (const step of w) assert.ok(step[0] < b, `training input row ${step[0]}`);
        for (const w of d.train.targets) {
          for (const step of w) if (step !== null) assert.ok(step[0] < b, `training target row ${step[0]} ≥ ${b}`);
        }
        let validationTargets = 0;
        d.validation.targets.forEach((w) => {
          assert.notStrictEqual(w[w.length - 1], null, "every validation window keeps its last target");
          for (const step of w) {
            if (step === null) continue;
            assert.ok(step[0] >= b, `validation target row ${step[0]} < ${b}`);
            validationTargets++;
          }
        });
        // Every validation row is forecast at least once.
        const seen = new Set(d.validation.targets.flatMap((w) => w.filter((s) => s !== null).map((s) => s[0])));
        for (let r = b; r < 60; r++) assert.ok(seen.has(r), `validation row ${r} is never a target`);
        assert.ok(validationTargets >= 60 - b);
        assert.strictEqual(d.validation.inputs.length, 60 - b);
      });
    }
  }

  it("a validation-only extreme value does not change the fitted scaler", function () {
    const rng = new Random(3);
    const series = Array.from({ length: 100 }, (_, i) => ({ temp: 20 + 5 * Math.sin(i / 5) + rng.normal() }));
    const spiked = series.map((r) => ({ ...r }));
    spiked[95].temp = 1e6;
    for (const scaling of ["minmax", "zscore"]) {
      const opts = { length: 8, horizon: 1, scaling, validationSplit: 0.2 };
      const clean = prepareDataset(series, opts);
      const withSpike = prepareDataset(spiked, opts);
      assert.deepStrictEqual(withSpike.scaler.toJSON(), clean.scaler.toJSON(), scaling);
      // The scaler is exactly the one fitted on the training rows alone.
      const direct = Scaler.fit(series.slice(0, 80).map((r) => [r.temp]), [0], [0], scaling);
      assert.deepStrictEqual(clean.scaler.toJSON(), direct.toJSON(), scaling);
      // And the spike did reach the validation windows (so the test looked at the right rows).
      const maxTarget = Math.max(...withSpike.validation.targets.map((w) => w[w.length - 1][0]));
      close(withSpike.scaler.inverseTargets([maxTarget])[0], 1e6, 1e-12 * 1e6, `${scaling} spike`);
    }
  });
});

describe("data: prepareDataset", function () {
  const series = Array.from({ length: 30 }, (_, i) => ({ day: `d${i}`, temp: String(10 + i), hum: 50 - i }));

  it("defaults features to every numeric column and targets to the features", function () {
    const d = prepareDataset(series, { length: 4, horizon: 2, scaling: "minmax", validationSplit: 0.2 });
    assert.deepStrictEqual(d.columns, ["temp", "hum"]);
    assert.deepStrictEqual(d.window, { length: 4, horizon: 2, features: ["temp", "hum"], targets: ["temp", "hum"] });
    assert.strictEqual(d.train.inputs.length, 24 - 6 + 1);
    assert.strictEqual(d.validation.inputs.length, 6);
    assert.strictEqual(d.train.inputs[0][0].length, 2);
    assert.strictEqual(d.train.targets[0][3].length, 2);
  });

  it("scales windows with the training fit and the inverse gives back real units", function () {
    const d = prepareDataset(series, {
      features: ["hum", "temp"],
      targets: ["temp"],
      length: 3,
      horizon: 1,
      scaling: "minmax",
      validationSplit: 0.1,
    });
    // Training rows 0..26: temp 10..36, hum 50..24.
    assert.deepStrictEqual(d.train.inputs[0][0], [1, 0]);
    const t = d.validation.targets[d.validation.targets.length - 1][2];
    close(d.scaler.inverseTargets(t)[0], 39, 1e-12, "last temperature");
  });

  it("rejects unknown columns, bad scaling and too short series with a clear message", function () {
    const base = { length: 3, horizon: 1, scaling: "zscore", validationSplit: 0 };
    assert.throws(() => prepareDataset(series, { ...base, features: ["rain"] }), /features: unknown column "rain" \(columns: temp, hum\)/);
    assert.throws(() => prepareDataset(series, { ...base, scaling: "log" }), /scaling must be/);
    assert.throws(() => prepareDataset(series.slice(0, 3), base), /at least 4 rows are needed/);
    assert.throws(() => prepareDataset([1, 2, "x", 4, 5], base), /row 2: "x" is not a finite number/);
  });
});

describe("data: batches", function () {
  it("covers every index exactly once, in order without an rng", function () {
    const b = batchIndices(10, 4, null);
    assert.deepStrictEqual(b, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });

  it("shuffles reproducibly: same seed same batches, different seed different order", function () {
    const a = batchIndices(100, 16, new Random(5));
    const again = batchIndices(100, 16, new Random(5));
    const other = batchIndices(100, 16, new Random(6));
    assert.deepStrictEqual(a, again);
    assert.notDeepStrictEqual(a.flat(), other.flat());
    for (const order of [a.flat(), other.flat()]) {
      assert.deepStrictEqual(order.slice().sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
    }
    assert.deepStrictEqual(a.map((x) => x.length), [16, 16, 16, 16, 16, 16, 4]);
    assert.notDeepStrictEqual(a.flat(), Array.from({ length: 100 }, (_, i) => i));
  });

  it("gathers items by index and refuses an index out of range", function () {
    assert.deepStrictEqual(gather(["a", "b", "c"], [2, 0]), ["c", "a"]);
    assert.throws(() => gather(["a"], [1]), /index 1 is out of range/);
  });

  it("packs with layout (b*T+t)*F+f and unpacks back", function () {
    const rng = new Random(1);
    const nested = Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => [rng.normal(), rng.normal()]));
    const flat = packInputs(nested, 2);
    assert.deepStrictEqual([flat.B, flat.T, flat.F], [3, 4, 2]);
    assert.ok(flat.data instanceof Float64Array);
    assert.strictEqual(flat.data[(2 * 4 + 3) * 2 + 1], nested[2][3][1]);
    assert.deepStrictEqual(unpackOutputs(flat.data, flat, 2), nested);
  });

  it("pads shorter sequences at the end and unpacks each to its own length", function () {
    const packed = packInputs([[[1], [2], [3]], [[4]]], 1);
    assert.deepStrictEqual([packed.B, packed.T, packed.lengths], [2, 3, [3, 1]]);
    assert.deepStrictEqual(Array.from(packed.data), [1, 2, 3, 4, 0, 0]);
    assert.deepStrictEqual(unpackOutputs(packed.data, packed, 1), [[[1], [2], [3]], [[4]]]);
  });

  it("names the position of a ragged or non-finite input", function () {
    const nested = Array.from({ length: 5 }, () => Array.from({ length: 10 }, () => [0, 0]));
    nested[3][7] = [1];
    assert.throws(() => packInputs(nested, 2), /^Error: inputs\[3\]\[7\]: expected 2 features, got 1$/);
    nested[3][7] = [1, 2];
    nested[4][9] = [1, NaN];
    assert.throws(() => packInputs(nested, 2), /inputs\[4\]\[9\]\[1\]: not a finite number/);
    nested[4][9] = null;
    assert.throws(() => packInputs(nested, 2), /inputs\[4\]\[9\]: expected 2 features, got object/);
    assert.throws(() => packInputs([], 1), /inputs: expected a non-empty array/);
    assert.throws(() => packInputs([[]], 1), /inputs\[0\]: expected a non-empty array of time steps/);
  });

  it("turns null steps and entries of targets into NaN, but refuses a NaN that was sent", function () {
    const inputs = packInputs([[[0], [0]], [[0], [0]]], 1);
    const t = packTargets([[null, [1, null]], [[2, 3], null]], inputs, 2);
    assert.deepStrictEqual(Array.from(t), [NaN, NaN, 1, NaN, 2, 3, NaN, NaN]);
    assert.throws(() => packTargets([[null, [NaN, 1]], [null, null]], inputs, 2), /targets\[0\]\[1\]\[0\]: not a finite number/);
    assert.throws(() => packTargets([[null, [Infinity, 1]], [null, null]], inputs, 2), /targets\[0\]\[1\]\[0\]: not a finite number/);
    assert.throws(() => packTargets([[null, null]], inputs, 2), /targets: expected 2 sequences/);
    assert.throws(() => packTargets([[null], [null, null]], inputs, 2), /targets\[0\]: expected 2 time steps/);
  });

  it("refuses a tensor above 50,000,000 numbers before allocating it", function () {
    const step = new Array(1000).fill(0);
    const seq = new Array(1000).fill(step);
    const huge = new Array(51).fill(seq); // 51 million numbers, shared so the test itself is small
    const started = Date.now();
    assert.throws(() => packInputs(huge, 1000), /51×1000×1000 values exceed the limit of 50000000/);
    assert.ok(Date.now() - started < 1000, "the bound is checked before any work");
  });
});
