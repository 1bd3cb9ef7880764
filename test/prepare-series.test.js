"use strict";
// prepareSeries cuts the same windows as prepareDataset, only on demand.
const assert = require("assert");
const { prepareDataset, prepareSeries } = require("../dist/src");

function table(n) {
  return Array.from({ length: n }, (_, i) => ({ a: Math.sin(i / 4) * 10 + i / 50, b: (i * 7) % 13 }));
}

describe("data: prepareSeries (windows on demand)", function () {
  for (const targetMode of ["last", "every"]) {
    for (const horizon of [1, 3]) {
      it(`gives exactly prepareDataset's windows, scaler and split (${targetMode}, horizon ${horizon})`, function () {
        const opts = { features: ["a", "b"], targets: ["a"], length: 7, horizon, targetMode, scaling: "zscore", validationSplit: 0.25 };
        const eager = prepareDataset(table(120), opts);
        const lazy = prepareSeries(table(120), opts);
        assert.deepStrictEqual(lazy.scaler.toJSON(), eager.scaler.toJSON());
        assert.deepStrictEqual(lazy.window, eager.window);
        assert.deepStrictEqual(lazy.split, eager.split);
        for (const part of ["train", "validation"]) {
          assert.strictEqual(lazy[part].count, eager[part].inputs.length, `${part} count`);
          for (let n = 0; n < lazy[part].count; n++) {
            const w = lazy[part].at(n);
            assert.deepStrictEqual(w.input, eager[part].inputs[n], `${part} input ${n}`);
            assert.deepStrictEqual(w.target, eager[part].targets[n], `${part} target ${n}`);
          }
        }
      });
    }
  }

  it("refuses a window index out of range, and has no validation windows without a split", function () {
    const lazy = prepareSeries(table(40), { length: 5, horizon: 1, scaling: "minmax", validationSplit: 0 });
    assert.strictEqual(lazy.validation.count, 0);
    assert.throws(() => lazy.train.at(lazy.train.count), /out of range/);
    assert.throws(() => lazy.validation.at(0), /no validation windows/);
  });
});
