"use strict";

const assert = require("assert");
const { globalNorm, clipByGlobalNorm, clipByValue, allFinite } = require("../dist/src/clipping");

const f64 = (values) => new Float64Array(values);
const plain = (arrays) => arrays.map((a) => Array.from(a));

/** Reference norm, computed independently: square root of the sum of squares of the flat list. */
function referenceNorm(arrays) {
  return Math.hypot(...arrays.flatMap((a) => Array.from(a)));
}

describe("clipping", function () {
  describe("globalNorm", function () {
    it("is the L2 norm of all arrays taken as one vector", function () {
      // 3-4-5 triangle spread over two arrays, plus an empty array that contributes nothing.
      assert.strictEqual(globalNorm([f64([3, 0]), f64([]), f64([-4])]), 5);
      const arrays = [f64([0.5, -1.25, 2]), f64([0.1]), f64([-3, 0.75])];
      const norm = globalNorm(arrays);
      assert.ok(Math.abs(norm - referenceNorm(arrays)) <= 1e-15 * norm, `${norm}`);
    });

    it("is 0 for an empty list and for zero gradients", function () {
      assert.strictEqual(globalNorm([]), 0);
      assert.strictEqual(globalNorm([f64([0, 0]), f64([0])]), 0);
    });

    it("does not overflow or underflow for huge or tiny finite gradients", function () {
      // Squares of 1e200 overflow and squares of 1e-200 underflow; the norm itself is representable.
      const big = globalNorm([f64([3e200]), f64([-4e200])]);
      assert.ok(Math.abs(big - 5e200) <= 1e-15 * 5e200, `${big}`);
      const tiny = globalNorm([f64([3e-200, 4e-200])]);
      assert.ok(Math.abs(tiny - 5e-200) <= 1e-15 * 5e-200, `${tiny}`);
    });

    it("is NaN with a NaN entry and Infinity with an infinite entry", function () {
      assert.ok(Number.isNaN(globalNorm([f64([1, NaN])])));
      assert.strictEqual(globalNorm([f64([1]), f64([-Infinity])]), Infinity);
      assert.ok(Number.isNaN(globalNorm([f64([Infinity, NaN])])));
    });
  });

  describe("clipByGlobalNorm", function () {
    it("scales all arrays to norm maxNorm, keeping the direction, and returns the old norm", function () {
      const grads = [f64([3, 0]), f64([-4])];
      const before = clipByGlobalNorm(grads, 1);
      assert.strictEqual(before, 5);
      // Every entry divided by 5.
      const expected = [[0.6, 0], [-0.8]];
      for (let a = 0; a < 2; a++) {
        for (let j = 0; j < expected[a].length; j++) {
          assert.ok(Math.abs(grads[a][j] - expected[a][j]) <= 1e-15, `grads[${a}][${j}] = ${grads[a][j]}`);
        }
      }
      assert.ok(Math.abs(referenceNorm(grads) - 1) <= 1e-15);
    });

    it("keeps the direction for an irregular gradient", function () {
      const original = [[0.5, -1.25, 2], [0.1], [-3, 0.75]];
      const grads = original.map(f64);
      const norm0 = referenceNorm(grads);
      const returned = clipByGlobalNorm(grads, 0.5);
      assert.ok(Math.abs(returned - norm0) <= 1e-15 * norm0);
      assert.ok(Math.abs(referenceNorm(grads) - 0.5) <= 1e-14);
      // Same direction: every entry is the original times one common positive factor.
      const factor = 0.5 / norm0;
      original.forEach((row, a) =>
        row.forEach((x, j) => assert.ok(Math.abs(grads[a][j] - x * factor) <= 1e-15, `grads[${a}][${j}]`)),
      );
    });

    it("leaves gradients whose norm is at most maxNorm unchanged", function () {
      const grads = [f64([3, 0]), f64([-4])];
      assert.strictEqual(clipByGlobalNorm(grads, 5), 5);
      assert.strictEqual(clipByGlobalNorm(grads, 10), 5);
      assert.deepStrictEqual(plain(grads), [[3, 0], [-4]]);
    });

    it("is off when maxNorm is 0, negative, NaN or Infinity, and still returns the norm", function () {
      for (const maxNorm of [0, -1, NaN, Infinity]) {
        const grads = [f64([3, 0]), f64([-4])];
        assert.strictEqual(clipByGlobalNorm(grads, maxNorm), 5, String(maxNorm));
        assert.deepStrictEqual(plain(grads), [[3, 0], [-4]], String(maxNorm));
      }
    });

    it("clips a finite gradient whose norm is too large for a double", function () {
      const grads = [f64([1.5e308, 1.5e308])];
      assert.strictEqual(clipByGlobalNorm(grads, 1), Infinity);
      const half = Math.SQRT1_2;
      assert.ok(Math.abs(grads[0][0] - half) <= 1e-15 && Math.abs(grads[0][1] - half) <= 1e-15, `${grads[0]}`);
    });

    it("leaves NaN or infinite gradients untouched for the finiteness guard", function () {
      const withNaN = [f64([100, NaN])];
      assert.ok(Number.isNaN(clipByGlobalNorm(withNaN, 1)));
      assert.strictEqual(withNaN[0][0], 100);
      const withInf = [f64([100]), f64([Infinity])];
      assert.strictEqual(clipByGlobalNorm(withInf, 1), Infinity);
      assert.deepStrictEqual(plain(withInf), [[100], [Infinity]]);
    });
  });

  describe("clipByValue", function () {
    it("clamps each entry to [−maxValue, maxValue] and counts the clamped entries", function () {
      const grads = [f64([-3, 0.5, 1]), f64([2, -0.1, -1])];
      assert.strictEqual(clipByValue(grads, 1), 2);
      // ±1 exactly is inside the range and is not counted.
      assert.deepStrictEqual(plain(grads), [[-1, 0.5, 1], [1, -0.1, -1]]);
    });

    it("clamps ±Infinity and leaves NaN for the finiteness guard", function () {
      const grads = [f64([Infinity, -Infinity, NaN])];
      assert.strictEqual(clipByValue(grads, 2), 2);
      assert.deepStrictEqual(Array.from(grads[0]).slice(0, 2), [2, -2]);
      assert.ok(Number.isNaN(grads[0][2]));
    });

    it("is off when maxValue is 0, negative, NaN or Infinity", function () {
      for (const maxValue of [0, -1, NaN, Infinity]) {
        const grads = [f64([-3, 0.5]), f64([2])];
        assert.strictEqual(clipByValue(grads, maxValue), 0, String(maxValue));
        assert.deepStrictEqual(plain(grads), [[-3, 0.5], [2]], String(maxValue));
      }
    });
  });

  describe("allFinite", function () {
    it("is true for ordinary arrays, empty arrays and an empty list", function () {
      assert.strictEqual(allFinite([f64([0, -1.5, 1e300]), f64([]), f64([-Number.MAX_VALUE, Number.MIN_VALUE])]), true);
      assert.strictEqual(allFinite([]), true);
    });

    it("is false when any entry is NaN, +Infinity or −Infinity, in any array and position", function () {
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (let a = 0; a < 2; a++) {
          for (let j = 0; j < 3; j++) {
            const arrays = [f64([1, 2, 3]), f64([4, 5, 6])];
            arrays[a][j] = bad;
            assert.strictEqual(allFinite(arrays), false, `${bad} at [${a}][${j}]`);
          }
        }
      }
    });

    it("is true for finite entries whose sum would overflow", function () {
      // A running-sum check would see MAX_VALUE + MAX_VALUE = Infinity here.
      assert.strictEqual(allFinite([f64([Number.MAX_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE])]), true);
    });
  });
});
