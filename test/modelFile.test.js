'use strict';
const assert = require('assert');
const {
  validateModelJSON,
  parseModelText,
  formatModelText,
  ModelFileError,
  LIMITS,
} = require('../dist/src/modelFile');
const { makeModel } = require('./fixtures/models');

const clone = (x) => JSON.parse(JSON.stringify(x));

/** Asserts that `fn` throws a ModelFileError for `field` whose message starts with that field. */
function rejects(fn, field, pattern) {
  let error;
  try {
    fn();
  } catch (err) {
    error = err;
  }
  assert.ok(error, `expected a ModelFileError for ${field}, but nothing was thrown`);
  assert.ok(error instanceof ModelFileError, `expected a ModelFileError, got ${error && error.stack}`);
  assert.strictEqual(error.field, field, `wrong field in: ${error.message}`);
  if (field) assert.ok(error.message.startsWith(`${field}: `), `message does not start with the field: ${error.message}`);
  if (pattern) assert.match(error.message, pattern);
  return error;
}

/** Validates a model after `edit` changed a copy of the fixture. */
function withEdit(edit, opts) {
  const m = clone(makeModel(opts));
  edit(m);
  return () => validateModelJSON(m);
}

/**
 * An array that fails the test if any of its entries (or its length) is read: proves that the
 * size checks reject a file before its weight arrays are walked.
 */
function untouchable(label) {
  return new Proxy([], {
    get(target, prop) {
      if (prop === 'length' || (typeof prop === 'string' && /^\d+$/.test(prop))) {
        throw new Error(`${label} was read before the size checks rejected the file`);
      }
      return Reflect.get(target, prop);
    },
  });
}

describe('model file: validateModelJSON', function () {
  it('accepts a valid model and returns an equal copy that shares nothing with the input', function () {
    const input = makeModel();
    const out = validateModelJSON(input);
    assert.deepStrictEqual(out, input);
    assert.notStrictEqual(out, input);
    out.layers[0].weights.W_hh[0][0] = 42;
    out.window.features[0] = 'changed';
    assert.notStrictEqual(input.layers[0].weights.W_hh[0][0], 42);
    assert.strictEqual(input.window.features[0], 'f0');
  });

  it('accepts a model without optional sections, and with them set to null', function () {
    const bare = makeModel({ sections: false });
    assert.deepStrictEqual(validateModelJSON(bare), bare);
    const nulls = { ...bare, scaler: null, window: null, training: null };
    assert.deepStrictEqual(validateModelJSON(nulls), nulls);
  });

  it('accepts a single layer without output projection (it emits h_t)', function () {
    const m = makeModel({ hidden: [5], outputSize: 0, sections: false });
    assert.strictEqual(validateModelJSON(m).layers[0].outputSize, undefined);
  });

  it('drops keys whose value is undefined (as JSON.stringify would) but never adds any', function () {
    const m = makeModel({ sections: false });
    m.layers[0].outputSize = undefined;
    m.scaler = undefined;
    const out = validateModelJSON(m);
    assert.ok(!('outputSize' in out.layers[0]));
    assert.ok(!('scaler' in out));
  });

  describe('top level', function () {
    it('rejects anything but an object', function () {
      for (const v of [null, [], 'model', 3, undefined]) rejects(() => validateModelJSON(v), '', /expected an object/);
    });

    it('rejects a wrong or missing format', function () {
      const e = rejects(withEdit((m) => (m.format = 'tfjs')), 'format');
      assert.strictEqual(e.message, 'format: expected "node-red-rnn/model" (got "tfjs")');
      rejects(withEdit((m) => delete m.format), 'format');
    });

    it('rejects version 3 with a message that says which versions are read', function () {
      const e = rejects(withEdit((m) => (m.version = 3)), 'version');
      assert.strictEqual(e.message, 'version: unsupported version 3 (this package reads versions 1 and 2)');
      rejects(withEdit((m) => (m.version = '1')), 'version');
      rejects(withEdit((m) => delete m.version), 'version');
    });

    it('reports the version before unknown keys (a newer file may carry new keys)', function () {
      rejects(withEdit((m) => { m.version = 3; m.extra = 1; }), 'version');
    });

    it('rejects an unexpected top-level key, naming it', function () {
      rejects(withEdit((m) => (m.optimizerState = {})), 'optimizerState', /unexpected key/);
    });

    it('rejects missing inputSize and layers', function () {
      rejects(withEdit((m) => delete m.inputSize), 'inputSize', /missing/);
      rejects(withEdit((m) => delete m.layers), 'layers', /missing/);
    });

    it('rejects an inputSize that is not a positive integer', function () {
      for (const v of [0, -1, 1.5, '2', null, NaN]) {
        rejects(withEdit((m) => (m.inputSize = v)), 'inputSize', /positive integer/);
      }
    });
  });

  describe('keys that reach the prototype', function () {
    it('rejects an own __proto__ key as JSON.parse creates it, and pollutes nothing', function () {
      const text = formatModelText(makeModel()).replace('{', '{"__proto__": {"polluted": true},');
      const parsed = JSON.parse(text);
      assert.ok(Object.prototype.hasOwnProperty.call(parsed, '__proto__'), 'JSON.parse should create an own key');
      rejects(() => validateModelJSON(parsed), '__proto__', /not allowed/);
      assert.strictEqual({}.polluted, undefined);
    });

    it('rejects __proto__, constructor and prototype in nested objects too', function () {
      const cases = [
        ['"type": "rnn"', '"__proto__": {}, "type": "rnn"', 'layers[0].__proto__'],
        ['"W_xh"', '"constructor": [], "W_xh"', 'layers[0].weights.constructor'],
        ['"kind"', '"prototype": 1, "kind"', 'scaler.prototype'],
        ['"offset"', '"__proto__": [], "offset"', 'scaler.features.__proto__'],
        ['"length"', '"__proto__": 1, "length"', 'window.__proto__'],
        ['"epochs"', '"__proto__": {"x": 1}, "epochs"', 'training.__proto__'],
        ['"epochs"', '"opt": {"constructor": 1}, "epochs"', 'training.opt.constructor'],
      ];
      for (const [find, replace, field] of cases) {
        const text = formatModelText(makeModel()).replace(find, replace);
        rejects(() => parseModelText(text), field, /not allowed/);
      }
    });

    it('rejects feature names that would read the prototype of a reading', function () {
      rejects(withEdit((m) => (m.window.features[1] = '__proto__')), 'window.features[1]', /not allowed/);
      rejects(withEdit((m) => (m.window.targets[0] = 'constructor')), 'window.targets[0]', /not allowed/);
    });

    it('does not take fields from an inherited prototype', function () {
      const m = makeModel({ sections: false });
      const sneaky = Object.create({ format: 'node-red-rnn/model' });
      Object.assign(sneaky, { version: 1, inputSize: m.inputSize, layers: m.layers });
      rejects(() => validateModelJSON(sneaky), 'format');
    });
  });

  describe('layers', function () {
    it('rejects an empty list and more layers than the limit', function () {
      rejects(withEdit((m) => (m.layers = [])), 'layers', /at least one/);
      const many = makeModel({ hidden: new Array(LIMITS.maxLayers + 1).fill(2), sections: false });
      rejects(() => validateModelJSON(many), 'layers', /17 layers exceed the limit 16/);
    });

    it('rejects an unknown type, activation or output activation', function () {
      rejects(withEdit((m) => (m.layers[0].type = 'conv1d')), 'layers[0].type');
      rejects(withEdit((m) => (m.layers[1].activation = 'gelu')), 'layers[1].activation', /"tanh", "relu", "sigmoid", "linear"/);
      rejects(withEdit((m) => (m.layers[1].outputActivation = 'tanh')), 'layers[1].outputActivation', /"linear", "sigmoid", "softmax"/);
    });

    it('accepts each documented activation', function () {
      for (const a of ['tanh', 'relu', 'sigmoid', 'linear']) validateModelJSON(withEdit((m) => (m.layers[0].activation = a))());
      for (const g of ['linear', 'sigmoid', 'softmax']) validateModelJSON(withEdit((m) => (m.layers[1].outputActivation = g))());
    });

    it('rejects outputActivation on a layer without outputSize', function () {
      rejects(withEdit((m) => (m.layers[0].outputActivation = 'linear')), 'layers[0].outputActivation', /only allowed together with outputSize/);
    });

    it('rejects an unexpected key in a layer', function () {
      rejects(withEdit((m) => (m.layers[0].dropout = 0.1)), 'layers[0].dropout', /unexpected key/);
    });

    it('rejects sizes beyond the limits with the documented message', function () {
      const e = rejects(withEdit((m) => (m.layers[0].hiddenSize = 1000000000)), 'layers[0].hiddenSize');
      assert.strictEqual(e.message, 'layers[0].hiddenSize: 1000000000 exceeds the limit 4096');
      rejects(withEdit((m) => (m.layers[1].outputSize = 5000)), 'layers[1].outputSize', /exceeds the limit 4096/);
      rejects(withEdit((m) => (m.inputSize = 4097)), 'inputSize', /exceeds the limit 4096/);
    });

    it('rejects a claim of 1e9 hidden units at the size check, without reading any weight array', function () {
      const m = makeModel({ sections: false });
      m.layers[0].hiddenSize = 1e9;
      for (const layer of m.layers) {
        for (const name of Object.keys(layer.weights)) layer.weights[name] = untouchable(name);
      }
      rejects(() => validateModelJSON(m), 'layers[0].hiddenSize', /exceeds the limit/);
    });

    it('rejects too many parameters in all before reading any weight array', function () {
      // Each layer is within the per-layer limits; together they are not (16 × 3 × 4096² ≫ 2e7).
      const layers = Array.from({ length: 16 }, () => ({
        type: 'rnn',
        hiddenSize: 4096,
        activation: 'tanh',
        weights: { W_xh: untouchable('W_xh'), W_hh: untouchable('W_hh'), b_h: untouchable('b_h') },
      }));
      const m = { format: 'node-red-rnn/model', version: 1, inputSize: 4096, layers };
      rejects(() => validateModelJSON(m), 'layers', /parameters in all exceed the limit 20000000/);
    });

    it('rejects a weight array far longer than declared without walking it', function () {
      const m = makeModel({ sections: false });
      const huge = new Array(10_000_000); // sparse: costs no memory, but walking it would take long
      m.layers[0].weights.W_hh = huge;
      const started = Date.now();
      rejects(() => validateModelJSON(m), 'layers[0].weights.W_hh', /expected 3 rows \(hiddenSize\), got 10000000/);
      assert.ok(Date.now() - started < 1000, 'the length check should come before any walk');
    });
  });

  describe('weights', function () {
    it('rejects a missing, extra or misplaced weight', function () {
      rejects(withEdit((m) => delete m.layers[0].weights.b_h), 'layers[0].weights.b_h', /missing/);
      rejects(withEdit((m) => (m.layers[0].weights.W_xy = [[1]])), 'layers[0].weights.W_xy', /unexpected key/);
      rejects(withEdit((m) => (m.layers[0].weights.W_hy = [[1]])), 'layers[0].weights.W_hy', /no outputSize/);
      rejects(withEdit((m) => delete m.layers[1].weights.W_hy), 'layers[1].weights.W_hy', /missing/);
      rejects(withEdit((m) => delete m.layers[1].weights.b_y), 'layers[1].weights.b_y', /missing/);
    });

    it('rejects shapes that do not chain from one layer to the next', function () {
      // Layer 0 emits 3 values per step; layer 1's W_xh is given 2 columns.
      const e = rejects(withEdit((m) => (m.layers[1].weights.W_xh = m.layers[1].weights.W_xh.map((r) => r.slice(0, 2)))), 'layers[1].weights.W_xh[0]');
      assert.match(e.message, /expected 3 entries \(what layer 0 emits\), got 2/);
      // Layer 0's W_xh must have the model's inputSize columns.
      rejects(withEdit((m) => (m.inputSize = 3), { sections: false }), 'layers[0].weights.W_xh[0]', /inputSize/);
      // A hidden size that disagrees with the matrices.
      rejects(withEdit((m) => (m.layers[0].hiddenSize = 4)), 'layers[0].weights.W_xh', /expected 4 rows/);
    });

    it('uses layer k-1 output projection width as layer k input width', function () {
      // Layer 0 with a projection to 2 outputs feeds layer 1 with 2 columns.
      const m = makeModel({ hidden: [3], outputSize: 2, sections: false });
      const second = makeModel({ inputSize: 2, hidden: [4], outputSize: 1, sections: false }).layers[0];
      m.layers.push(second);
      assert.strictEqual(validateModelJSON(m).layers.length, 2);
      m.layers[0].outputSize = 3; // now emits 3, but W_hy still has 2 rows
      rejects(() => validateModelJSON(m), 'layers[0].weights.W_hy', /expected 3 rows/);
    });

    it('rejects a ragged matrix, naming the short row', function () {
      rejects(withEdit((m) => m.layers[0].weights.W_hh[2].pop()), 'layers[0].weights.W_hh[2]', /expected 3 entries \(hiddenSize\), got 2/);
      rejects(withEdit((m) => (m.layers[1].weights.W_hy[1] = 5)), 'layers[1].weights.W_hy[1]', /expected an array/);
      rejects(withEdit((m) => (m.layers[0].weights.b_h = [[1, 2, 3]])), 'layers[0].weights.b_h', /expected 3 entries/);
    });

    it('rejects "NaN" and "Infinity" written as strings, with the documented message', function () {
      const text = formatModelText(makeModel());
      const m = JSON.parse(text);
      m.layers[1].weights.W_hh[3][2] = 'NaN';
      const e = rejects(() => validateModelJSON(m), 'layers[1].weights.W_hh[3][2]');
      assert.strictEqual(e.message, 'layers[1].weights.W_hh[3][2]: not a finite number (got "NaN")');
      m.layers[1].weights.W_hh[3][2] = 0;
      m.layers[0].weights.b_h[1] = 'Infinity';
      rejects(() => validateModelJSON(m), 'layers[0].weights.b_h[1]', /not a finite number \(got "Infinity"\)/);
    });

    it('rejects 1e999 and -1e999 in the text (JSON.parse makes them ±Infinity)', function () {
      const m = makeModel();
      m.layers[0].weights.W_xh[1][0] = 123456;
      const text = formatModelText(m);
      assert.ok(text.includes('123456'));
      rejects(() => parseModelText(text.replace('123456', '1e999')), 'layers[0].weights.W_xh[1][0]', /got Infinity/);
      rejects(() => parseModelText(text.replace('123456', '-1e999')), 'layers[0].weights.W_xh[1][0]', /got -Infinity/);
    });

    it('rejects NaN, null, booleans and numeric strings as weights', function () {
      for (const v of [NaN, null, true, '0.5', undefined]) {
        rejects(withEdit((m) => (m.layers[1].weights.b_y[0] = v)), 'layers[1].weights.b_y[0]', /not a finite number/);
      }
    });
  });

  describe('scaler', function () {
    it('rejects an unknown kind and missing parts', function () {
      rejects(withEdit((m) => (m.scaler.kind = 'robust')), 'scaler.kind');
      rejects(withEdit((m) => delete m.scaler.targets), 'scaler.targets', /missing/);
      rejects(withEdit((m) => (m.scaler.features.mean = [0, 0])), 'scaler.features.mean', /unexpected key/);
    });

    it('rejects a zero scale (values are divided by it)', function () {
      rejects(withEdit((m) => (m.scaler.features.scale[1] = 0)), 'scaler.features.scale[1]', /must not be zero/);
      rejects(withEdit((m) => (m.scaler.targets.scale[0] = -0)), 'scaler.targets.scale[0]', /must not be zero/);
    });

    it('rejects non-finite offsets and scales', function () {
      rejects(withEdit((m) => (m.scaler.features.offset[0] = 'NaN')), 'scaler.features.offset[0]', /not a finite number/);
      rejects(withEdit((m) => (m.scaler.targets.scale[0] = Infinity)), 'scaler.targets.scale[0]', /not a finite number/);
    });

    it('rejects offset and scale of different lengths', function () {
      rejects(withEdit((m) => m.scaler.features.scale.push(1)), 'scaler.features.scale', /expected 2 entries/);
    });

    it('rejects column counts that disagree with the window', function () {
      rejects(withEdit((m) => {
        m.scaler.targets.offset.push(0);
        m.scaler.targets.scale.push(1);
      }), 'scaler.targets', /3 columns but window.targets names 2/);
    });

    it('rejects more columns than the limit before reading them', function () {
      const m = makeModel({ sections: false });
      const n = LIMITS.maxFeatures + 1;
      m.scaler = { kind: 'zscore', features: { offset: new Array(n), scale: new Array(n) }, targets: { offset: [0], scale: [1] } };
      rejects(() => validateModelJSON(m), 'scaler.features.offset', /1001 columns exceed the limit 1000/);
    });
  });

  describe('window', function () {
    it('rejects a features count that differs from inputSize', function () {
      const e = rejects(withEdit((m) => m.window.features.push('f2')), 'window.features');
      assert.match(e.message, /3 features but the model's inputSize is 2/);
    });

    it('rejects a length or horizon that is not a bounded positive integer', function () {
      rejects(withEdit((m) => (m.window.length = 0)), 'window.length', /positive integer/);
      rejects(withEdit((m) => (m.window.horizon = 2.5)), 'window.horizon', /positive integer/);
      rejects(withEdit((m) => (m.window.length = 1e6)), 'window.length', /exceeds the limit 100000/);
    });

    it('rejects names that are not non-empty unique strings', function () {
      rejects(withEdit((m) => (m.window.features[0] = 5)), 'window.features[0]', /non-empty string/);
      rejects(withEdit((m) => (m.window.targets = [])), 'window.targets', /at least one/);
      rejects(withEdit((m) => (m.window.features[1] = 'f0')), 'window.features[1]', /listed twice/);
      rejects(withEdit((m) => (m.window.features[1] = 'x'.repeat(300))), 'window.features[1]', /longer than 256/);
    });

    it('rejects missing and unexpected window keys', function () {
      rejects(withEdit((m) => delete m.window.horizon), 'window.horizon', /missing/);
      rejects(withEdit((m) => (m.window.stride = 1)), 'window.stride', /unexpected key/);
    });
  });

  describe('version 2: transform and intervals', function () {
    const v2 = (edit) => withEdit((m) => {
      m.version = 2;
      m.transform = { difference: 'first', season: 24, calendar: [], step: 3600000 };
      m.intervals = { method: 'split-conformal', levels: [0.5, 0.9], halfWidth: [[[1, 2], [1.5, 2.5]], [[3, 4], [3.5, 4.5]]], coverage: [0.5, null], origins: 40 };
      if (edit) edit(m);
    });

    it('accepts both sections and returns them as they were', function () {
      const m = v2()();
      assert.strictEqual(m.version, 2);
      assert.deepStrictEqual(m.transform, { difference: 'first', season: 24, calendar: [], step: 3600000 });
      assert.deepStrictEqual(m.intervals.halfWidth, [[[1, 2], [1.5, 2.5]], [[3, 4], [3.5, 4.5]]]);
    });

    it('refuses them in a version 1 file, which never had them', function () {
      rejects(v2((m) => (m.version = 1)), 'transform', /unexpected key/);
    });

    it('checks every field of the transform', function () {
      rejects(v2((m) => (m.transform.difference = 'twice')), 'transform.difference');
      rejects(v2((m) => { m.transform.difference = 'seasonal'; m.transform.season = null; }), 'transform.season', /needs a season/);
      rejects(v2((m) => (m.transform.season = 1)), 'transform.season');
      rejects(v2((m) => (m.transform.calendar = ['hourOfDay', 'hourOfDay'])), 'transform.calendar', /twice/);
      rejects(v2((m) => (m.transform.calendar = ['minuteOfHour'])), 'transform.calendar[0]');
      rejects(v2((m) => { m.transform.step = null; m.transform.calendar = ['hourOfDay']; }), 'transform.step', /calendar/);
      rejects(v2((m) => delete m.transform.step), 'transform.step', /missing/);
    });

    it('refuses a differenced model whose target is not a feature (its naive rule has no history to read)', function () {
      // makeModel: features f0, f1; targets f0, f1. Rename the second target.
      rejects(v2((m) => (m.window.targets = ['f0', 'other'])), 'window.targets', /"other" is not among window.features/);
    });

    it('allows as many scaler target columns as a layer has outputs (direct: targets × horizon beyond the feature limit)', function () {
      const m = clone(makeModel({ inputSize: 1, hidden: [2], outputSize: 1200 }));
      m.version = 2;
      m.window = { length: 4, horizon: 1200, features: ['f0'], targets: ['f0'], direct: true };
      m.scaler = { kind: 'zscore', features: { offset: [0], scale: [1] }, targets: { offset: new Array(1200).fill(0), scale: new Array(1200).fill(1) } };
      assert.strictEqual(validateModelJSON(m).scaler.targets.offset.length, 1200);
    });

    it('counts two inputs per calendar feature against inputSize', function () {
      // The fixture has inputSize 2 and two features: one calendar feature needs inputSize 4.
      rejects(v2((m) => (m.transform.calendar = ['hourOfDay'])), 'window.features', /2 calendar inputs but the model's inputSize is 2/);
    });

    it('checks the intervals: levels ascending in (0, 1), one width per target and a step count shared by every level', function () {
      rejects(v2((m) => (m.intervals.levels = [0.9, 0.5])), 'intervals.levels[1]', /ascending/);
      rejects(v2((m) => (m.intervals.levels = [0.5, 1])), 'intervals.levels[1]');
      rejects(v2((m) => (m.intervals.halfWidth[1] = [[3, 4]])), 'intervals.halfWidth[1]', /steps/);
      rejects(v2((m) => (m.intervals.halfWidth[0][0] = [1])), 'intervals.halfWidth[0][0]', /one per target/);
      rejects(v2((m) => (m.intervals.halfWidth[0][1][0] = -1)), 'intervals.halfWidth[0][1][0]');
      rejects(v2((m) => (m.intervals.coverage = [0.5])), 'intervals.coverage');
      rejects(v2((m) => (m.intervals.method = 'bootstrap')), 'intervals.method');
    });
  });

  describe('targets against the output', function () {
    it('refuses a window whose targets are more or fewer than the values the last layer emits', function () {
      // outputSize 2 with one target name would fail every forecast; 1 with two names would return undefined.
      rejects(withEdit((m) => { m.window.targets = ['f0']; m.scaler.targets = { offset: [0], scale: [1] }; }), 'window.targets', /1 targets but the last layer emits 2 values/);
      rejects(withEdit((m) => { m.window.targets = ['f0', 'f1']; m.scaler.targets = { offset: [0, 0], scale: [1, 1] }; }, { outputSize: 1 }), 'window.targets', /2 targets but the last layer emits 1 values/);
    });
  });

  describe('training', function () {
    it('keeps numbers, strings, booleans, null, histories and one level of objects', function () {
      const training = { epochs: 3, loss: 0.5, valLoss: null, history: [0.9, 0.7, 0.5], optimizer: { name: 'adam', lr: 0.001, betas: [0.9, 0.999] }, stopped: true };
      const m = withEdit((x) => (x.training = training))();
      assert.deepStrictEqual(m.training, training);
    });

    it('rejects objects nested deeper than one level', function () {
      rejects(withEdit((m) => (m.training.optimizer = { state: { m: [1] } })), 'training.optimizer.state', /nested only one level/);
      rejects(withEdit((m) => (m.training.history = [[1, 2]])), 'training.history[0]', /expected a number, string, boolean or null/);
    });

    it('rejects non-finite numbers and wrongly typed known fields', function () {
      rejects(withEdit((m) => (m.training.loss = NaN)), 'training.loss', /not a finite number/);
      rejects(withEdit((m) => (m.training.epochs = -1)), 'training.epochs', /non-negative integer/);
      rejects(withEdit((m) => (m.training.valLoss = 'low')), 'training.valLoss', /number or null/);
      rejects(withEdit((m) => (m.training.savedAt = 5)), 'training.savedAt', /expected a string/);
    });

    it('bounds strings, arrays and key counts', function () {
      rejects(withEdit((m) => (m.training.note = 'x'.repeat(LIMITS.maxTrainingString + 1))), 'training.note', /longer than/);
      rejects(withEdit((m) => (m.training.history = new Array(LIMITS.maxTrainingArray + 1).fill(0))), 'training.history', /exceed the limit/);
      const keys = {};
      for (let i = 0; i <= LIMITS.maxTrainingKeys; i++) keys[`k${i}`] = i;
      rejects(withEdit((m) => (m.training = keys)), 'training', /keys exceed the limit/);
    });
  });
});

describe('model file: parseModelText and formatModelText', function () {
  it('round-trips a model exactly, including awkward doubles', function () {
    const m = makeModel();
    m.layers[0].weights.W_xh[0] = [0.1 + 0.2, -5e-324];
    m.layers[0].weights.b_h = [1e-300, -1.7976931348623157e308, 1 / 3];
    const back = parseModelText(formatModelText(m));
    assert.deepStrictEqual(back, m);
    assert.strictEqual(back.layers[0].weights.W_xh[0][0], 0.30000000000000004);
    assert.strictEqual(back.layers[0].weights.W_xh[0][1], -5e-324);
  });

  it('writes each vector and matrix row on one line', function () {
    const m = makeModel();
    const lines = formatModelText(m).split('\n').map((l) => l.trim());
    assert.ok(lines.includes(`"b_h": ${JSON.stringify(m.layers[0].weights.b_h)}`));
    assert.ok(lines.includes(`${JSON.stringify(m.layers[0].weights.W_hh[1])},`));
  });

  it('reports truncated or corrupted JSON clearly', function () {
    const text = formatModelText(makeModel());
    const e = rejects(() => parseModelText(text.slice(0, Math.floor(text.length / 2))), '');
    assert.match(e.message, /^model file is not valid JSON \(truncated or corrupted\): /);
    rejects(() => parseModelText(text.replace('"layers"', 'layers')), '', /^model file is not valid JSON/);
    rejects(() => parseModelText(''), '', /empty/);
    rejects(() => parseModelText('  \n'), '', /empty/);
  });

  it('accepts a leading byte-order mark', function () {
    const m = makeModel();
    assert.deepStrictEqual(parseModelText('\ufeff' + formatModelText(m)), m);
  });

  it('validates what it parses', function () {
    const text = formatModelText(makeModel()).replace('"version": 1', '"version": 3');
    rejects(() => parseModelText(text), 'version', /unsupported version 3/);
  });
});
