"use strict";
// ParameterUpdater: one guarded update — clipping, and the refusal of a non-finite step with the
// last good weights put back and the learning rate lowered.
const assert = require("assert");
const { ParameterUpdater } = require("../dist/src");

const f64 = (a) => Float64Array.from(a);

describe("ParameterUpdater (clipping and the non-finite guard)", function () {
  it("applies the optimizer and reports the gradient norm before clipping", function () {
    const u = new ParameterUpdater({ optimizer: "sgd", learningRate: 0.1 });
    const w = [f64([1, 2])];
    const r = u.step(w, [f64([3, 4])], 0.5);
    assert.strictEqual(r.accepted, true);
    assert.strictEqual(r.gradNorm, 5);
    assert.strictEqual(r.clipped, false);
    assert.deepStrictEqual(Array.from(w[0]), [1 - 0.3, 2 - 0.4]);
  });

  it("clips by global norm and by value before the update", function () {
    const byNorm = new ParameterUpdater({ optimizer: "sgd", learningRate: 1, clipNorm: 1 });
    const w = [f64([0, 0])];
    const r = byNorm.step(w, [f64([3, 4])], 1);
    assert.strictEqual(r.clipped, true);
    assert.strictEqual(r.gradNorm, 5);
    assert.ok(Math.abs(w[0][0] + 0.6) < 1e-15 && Math.abs(w[0][1] + 0.8) < 1e-15);
    const byValue = new ParameterUpdater({ optimizer: "sgd", learningRate: 1, clipValue: 0.5 });
    const v = [f64([0, 0])];
    byValue.step(v, [f64([3, -0.25])], 1);
    assert.deepStrictEqual(Array.from(v[0]), [-0.5, 0.25]);
  });

  it("a non-finite loss puts back the last weights that gave a finite loss and halves the learning rate", function () {
    const u = new ParameterUpdater({ optimizer: "sgd", learningRate: 0.1 });
    const w = [f64([1, 1])];
    u.step(w, [f64([1, 1])], 0.2); // from [1,1] (finite loss) to [0.9, 0.9]
    assert.deepStrictEqual(Array.from(w[0]), [0.9, 0.9]);
    const r = u.step(w, [f64([1, 1])], NaN); // [0.9, 0.9] gave NaN: back to [1, 1]
    assert.strictEqual(r.accepted, false);
    assert.strictEqual(r.reason, "non-finite loss");
    assert.deepStrictEqual(Array.from(w[0]), [1, 1]);
    assert.strictEqual(u.learningRate, 0.05);
    assert.strictEqual(u.refusedSteps, 1);
  });

  it("non-finite gradients are refused too, and a step that would make a weight infinite is undone", function () {
    const u = new ParameterUpdater({ optimizer: "sgd", learningRate: 1 });
    const w = [f64([1, 2])];
    let r = u.step(w, [f64([Infinity, 0])], 1);
    assert.strictEqual(r.reason, "non-finite gradients");
    assert.deepStrictEqual(Array.from(w[0]), [1, 2]);
    const v = new ParameterUpdater({ optimizer: "sgd", learningRate: 1 });
    const x = [f64([1, 2])];
    assert.strictEqual(v.step(x, [f64([-1.7e308, 0])], 1).accepted, true); // 1 + 1.7e308: still finite
    r = v.step(x, [f64([-1.7e308, 0])], 1); // twice that overflows
    assert.strictEqual(r.accepted, false);
    assert.strictEqual(r.reason, "non-finite weights");
    assert.deepStrictEqual(Array.from(x[0]), [1 + 1.7e308, 2]);
  });

  it("refuses nonsense options, naming them", function () {
    assert.throws(() => new ParameterUpdater({ clipNorm: -1 }), /clipNorm and clipValue must be ≥ 0/);
    assert.throws(() => new ParameterUpdater({ divergenceDecay: 2 }), /divergenceDecay must be in \(0, 1\]/);
  });
});
