"use strict";
// A forward pass in blocks, packing and unpacking a range at a time, and timed slices: what the
// rnn layer and rnn loss nodes do with a huge message must give what one pass gives, bit for bit.
const assert = require("assert");
const core = require("../dist/src");
const { RnnLayer, ForwardInBlocks, BLOCK_WORK, packInputs, allocateInputs, packInputSteps, packTargets, allocateTargets, packTargetSteps, unpackOutputs, allocateOutputs, unpackOutputSteps, inTimedSlices } = core;
const { mulberry32 } = require("./helpers/random");

function flat(n, rnd) {
  return Float64Array.from({ length: n }, () => 2 * rnd() - 1);
}

/** Runs every block of `pass`, in ranges of random sizes. */
function runInRanges(pass, rnd) {
  for (let k = 0; k < pass.count; ) {
    const to = Math.min(pass.count, k + 1 + Math.floor(rnd() * 5));
    pass.run(k, to);
    k = to;
  }
}

describe("forward pass in blocks", function () {
  const shapes = [
    { name: "one long sequence (blocks of a few steps)", B: 1, T: 3000, I: 1, H: 64, O: 1 },
    { name: "many short sequences (blocks of whole rows)", B: 203, T: 40, I: 3, H: 16, O: 2 },
    { name: "rows and steps both cut, no projection", B: 11, T: 400, I: 2, H: 128, O: null },
    { name: "an LSTM layer (state h and c), rows and steps cut", B: 9, T: 300, I: 2, H: 24, O: 1, cell: "lstm" },
    { name: "a GRU layer, rows and steps cut", B: 9, T: 300, I: 2, H: 24, O: 1, cell: "gru" },
  ];
  for (const s of shapes) {
    it(`gives one pass's outputs and final state bit for bit: ${s.name}`, function () {
      const rnd = mulberry32(s.B * 1000 + s.T);
      const spec = { ...(s.cell ? { cell: s.cell } : {}), inputSize: s.I, hiddenSize: s.H, activation: "tanh", ...(s.O ? { outputSize: s.O, outputActivation: "linear" } : {}) };
      const layer = RnnLayer.create(spec, { seed: 5 });
      const x = flat(s.B * s.T * s.I, rnd);
      const h0 = flat(s.B * layer.stateSize, rnd);
      const whole = core.getBackend().forward(layer, x, s.B, s.T, h0);
      const pass = new ForwardInBlocks(layer, x, s.B, s.T, h0);
      assert.ok(pass.count > 1, `${pass.count} block(s): the shape must be cut to test anything`);
      runInRanges(pass, rnd);
      assert.ok(pass.finite);
      assert.deepStrictEqual(Array.from(pass.y), Array.from(whole.y), "outputs");
      assert.deepStrictEqual(Array.from(pass.state), Array.from(whole.state), "final state");
    });
  }

  it("keeps each block to about BLOCK_WORK multiply-adds", function () {
    const layer = RnnLayer.create({ inputSize: 1, hiddenSize: 64, activation: "tanh", outputSize: 1, outputActivation: "linear" }, { seed: 1 });
    const T = 10000;
    const pass = new ForwardInBlocks(layer, new Float64Array(T), 1, T, null);
    const perStep = 64 * (1 + 64) + 64;
    const stepsPerBlock = Math.ceil(T / pass.count);
    assert.ok(stepsPerBlock * perStep <= BLOCK_WORK, `${stepsPerBlock} steps of ${perStep} multiply-adds in a block`);
    assert.ok(stepsPerBlock * perStep > BLOCK_WORK / 2, "and not much less");
  });

  it("runs on the weights it started with, even if they change in place between blocks", function () {
    const layer = RnnLayer.create({ inputSize: 1, hiddenSize: 32, activation: "tanh", outputSize: 1, outputActivation: "linear" }, { seed: 2 });
    const x = flat(5000, mulberry32(3));
    const want = core.getBackend().forward(layer, x, 1, 5000, null);
    const pass = new ForwardInBlocks(layer, x, 1, 5000, null);
    pass.run(0, 1);
    for (const p of layer.list()) p.fill(0.5);
    pass.run(1, pass.count);
    assert.deepStrictEqual(Array.from(pass.y), Array.from(want.y));
  });

  it("says when an output or state overflowed", function () {
    const layer = RnnLayer.create({ inputSize: 1, hiddenSize: 4, activation: "relu", outputSize: 1, outputActivation: "linear" }, { seed: 2 });
    // All weights 1: every unit doubles (and more) at every step, until it is Infinity.
    for (const p of layer.list()) p.fill(1);
    const x = new Float64Array(20000).fill(1);
    const pass = new ForwardInBlocks(layer, x, 1, 20000, null);
    pass.run(0, pass.count);
    assert.strictEqual(pass.finite, false);
  });
});

describe("packing and unpacking a range at a time", function () {
  const rnd = mulberry32(9);
  // Ragged: padding steps must stay zero (inputs), NaN (targets) and absent (outputs).
  const lengths = [7, 1, 12, 12, 3];
  const F = 2;
  const inputs = lengths.map((T) => Array.from({ length: T }, () => [rnd(), rnd()]));
  const targets = lengths.map((T) => Array.from({ length: T }, (_, t) => (t % 3 === 0 ? null : [rnd(), t % 2 ? null : rnd()])));

  function ranges(total, fill) {
    for (let k = 0; k < total; ) {
      const to = Math.min(total, k + 1 + Math.floor(rnd() * 9));
      fill(k, to);
      k = to;
    }
  }

  it("inputs: the same Float64Array as packInputs", function () {
    const want = packInputs(inputs, F);
    const got = allocateInputs(inputs, F);
    ranges(got.B * got.T, (a, b) => packInputSteps(inputs, got, a, b));
    assert.deepStrictEqual(Array.from(got.data), Array.from(want.data));
    assert.deepStrictEqual(got.lengths, want.lengths);
  });

  it("targets: the same as packTargets, NaN where there is none", function () {
    const packed = packInputs(inputs, F);
    const want = packTargets(targets, packed, F);
    const got = allocateTargets(targets, packed, F);
    ranges(packed.B * packed.T, (a, b) => packTargetSteps(targets, packed, F, got, a, b));
    assert.deepStrictEqual(Array.from(got), Array.from(want));
  });

  it("outputs: the same nested arrays as unpackOutputs, or bare numbers for one output", function () {
    const packed = packInputs(inputs, F);
    const y = flat(packed.B * packed.T * F, rnd);
    const out = allocateOutputs(packed);
    ranges(packed.B * packed.T, (a, b) => unpackOutputSteps(y, packed, F, out, a, b));
    assert.deepStrictEqual(out, unpackOutputs(y, packed, F));
    const y1 = flat(packed.B * packed.T, rnd);
    const bare = allocateOutputs(packed);
    ranges(packed.B * packed.T, (a, b) => unpackOutputSteps(y1, packed, 1, bare, a, b, true));
    assert.deepStrictEqual(bare, unpackOutputs(y1, packed, 1).map((seq) => seq.map((step) => step[0])));
  });

  it("a bad value is reported where it is, whichever range it falls in", function () {
    const bad = inputs.map((seq) => seq.map((step) => step.slice()));
    bad[2][9][1] = "x";
    const got = allocateInputs(bad, F, "msg.payload");
    assert.throws(() => ranges(got.B * got.T, (a, b) => packInputSteps(bad, got, a, b, "msg.payload")), /msg\.payload\[2\]\[9\]\[1\]: not a finite number/);
  });
});

describe("inTimedSlices", function () {
  it("covers every item once, in order, and gives the event loop turns between slices", async function () {
    const seen = [];
    let turns = 0;
    let counting = true;
    const count = () => {
      if (!counting) return;
      turns++;
      setImmediate(count);
    };
    setImmediate(count);
    const busy = (ms) => {
      const t0 = Date.now();
      while (Date.now() - t0 < ms);
    };
    await inTimedSlices(40, 3, (from, to) => {
      for (let i = from; i < to; i++) seen.push(i);
      busy(1);
    }, 2);
    counting = false;
    assert.deepStrictEqual(seen, Array.from({ length: 40 }, (_, i) => i));
    // 14 chunks of ≥ 1 ms in slices of 2 ms: several slices, with other callbacks run between them.
    assert.ok(turns >= 3, `${turns} turns of the event loop during the work`);
  });

  it("stops between chunks once told to", async function () {
    const seen = [];
    let alive = true;
    await inTimedSlices(1000, 10, (from, to) => {
      for (let i = from; i < to; i++) seen.push(i);
      if (to >= 50) alive = false;
    }, 0, () => alive);
    assert.deepStrictEqual(seen.length, 50);
  });
});
