"use strict";

// TensorFlow.js / Keras models in and out (src/tfjs), checked against TensorFlow.js itself (the
// pure-JS @tensorflow/tfjs, a devDependency): our export loads in tf.loadLayersModel and predicts
// what we predict; a model TensorFlow.js builds and saves imports and predicts what TensorFlow.js
// predicts; what cannot be represented, and hostile files, are refused with errors naming the cause.

const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { Model, Random, exportTfjs, importTfjs, saveTfjsModel, loadTfjsModel, loadForecastModelFile, saveModelFile, ModelFileError, LIMITS } = require("../dist/src");

let tf;

/** Float32 weights and float32 arithmetic on TensorFlow.js's side. */
const TOLERANCE = 2e-5;

function closeTo(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((v, i) => {
    if (Array.isArray(v)) return closeTo(v, expected[i], `${what}[${i}]`);
    assert.ok(Math.abs(v - expected[i]) <= TOLERANCE * (1 + Math.abs(expected[i])), `${what}[${i}]: ${v} vs ${expected[i]}`);
  });
}

/** B sequences of T steps of I inputs, spread enough to reach the activations' nonlinear parts. */
function inputs(rng, B, T, I) {
  return Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from({ length: I }, () => rng.uniform(-2, 2))));
}

/** A model of ours with every parameter drawn at random (biases too, so their mapping is seen). */
function randomModel(config, seed) {
  const model = Model.create({ ...config, seed });
  const rng = new Random(seed + 100);
  for (const w of model.parameters()) for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-0.8, 0.8);
  return model;
}

const lastSteps = (seqs) => seqs.map((s) => s[s.length - 1]);

function artifactsOf(exported) {
  const w = exported.weights;
  return {
    modelTopology: exported.modelJson.modelTopology,
    weightSpecs: exported.modelJson.weightsManifest.flatMap((g) => g.weights),
    weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength),
    userDefinedMetadata: exported.modelJson.userDefinedMetadata,
  };
}

function tfPredict(tfModel, xs) {
  const x = tf.tensor3d(xs);
  const y = tfModel.predict(x);
  const out = y.arraySync();
  tf.dispose([x, y]);
  return out;
}

/** What a TensorFlow.js model saves, as model.json (with weightsManifest) and the bytes of weights.bin. */
async function savedByTfjs(tfModel) {
  let artifacts;
  await tfModel.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  const modelJson = { format: artifacts.format, generatedBy: artifacts.generatedBy, convertedBy: artifacts.convertedBy, modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }] };
  return { modelJson, weights: new Uint8Array(artifacts.weightData) };
}

/** Sets every weight of a TensorFlow.js model at random (its own initialisers leave biases at zero). */
function randomizeTf(tfModel, seed) {
  const rng = new Random(seed);
  tfModel.setWeights(tfModel.getWeights().map((w) => tf.tensor(Array.from({ length: w.size }, () => rng.uniform(-0.8, 0.8)), w.shape)));
}

const clone = (v) => JSON.parse(JSON.stringify(v));

// Each case: our configuration, and the same model built with tf.layers.
const CASES = [
  { name: "SimpleRNN (tanh)", ours: { inputSize: 3, layers: [{ hiddenSize: 5, outputSize: 2 }] }, tf: (L) => [L.simpleRNN({ units: 5, inputShape: [null, 3] }), L.dense({ units: 2 })] },
  { name: "SimpleRNN (relu, no projection)", ours: { inputSize: 2, layers: [{ hiddenSize: 4, activation: "relu" }] }, tf: (L) => [L.simpleRNN({ units: 4, activation: "relu", inputShape: [null, 2] })] },
  { name: "LSTM (sigmoid gates)", ours: { inputSize: 3, layers: [{ cell: "lstm", hiddenSize: 4, outputSize: 1 }] }, tf: (L) => [L.lstm({ units: 4, recurrentActivation: "sigmoid", inputShape: [null, 3] }), L.dense({ units: 1 })] },
  { name: "LSTM (hardSigmoid gates)", ours: { inputSize: 2, layers: [{ cell: "lstm", hiddenSize: 3, recurrentActivation: "hardSigmoid", outputSize: 2, outputActivation: "sigmoid" }] }, tf: (L) => [L.lstm({ units: 3, recurrentActivation: "hardSigmoid", inputShape: [null, 2] }), L.dense({ units: 2, activation: "sigmoid" })] },
  { name: "GRU (reset before, sigmoid)", ours: { inputSize: 2, layers: [{ cell: "gru", hiddenSize: 4, outputSize: 1 }] }, tf: (L) => [L.gru({ units: 4, recurrentActivation: "sigmoid", inputShape: [null, 2] }), L.dense({ units: 1 })] },
  { name: "GRU (reset before, hardSigmoid)", ours: { inputSize: 2, layers: [{ cell: "gru", hiddenSize: 3, recurrentActivation: "hardSigmoid" }] }, tf: (L) => [L.gru({ units: 3, recurrentActivation: "hardSigmoid", inputShape: [null, 2] })] },
  {
    name: "stacked LSTM → Dense → GRU → SimpleRNN → Dense (softmax)",
    ours: { inputSize: 2, layers: [{ cell: "lstm", hiddenSize: 4, outputSize: 3, outputActivation: "linear" }, { cell: "gru", hiddenSize: 3 }, { hiddenSize: 3, outputSize: 3, outputActivation: "softmax" }] },
    tf: (L) => [
      L.lstm({ units: 4, recurrentActivation: "sigmoid", returnSequences: true, inputShape: [null, 2] }),
      L.dense({ units: 3 }),
      L.dropout({ rate: 0.3 }),
      L.gru({ units: 3, recurrentActivation: "sigmoid", returnSequences: true }),
      L.simpleRNN({ units: 3 }),
      L.dense({ units: 3, activation: "softmax" }),
    ],
  },
];

describe("TensorFlow.js layers format", function () {
  this.timeout(60000);

  before(async () => {
    // TensorFlow.js greets Node.js users on its first use; the test output is not the place.
    const { log, warn } = console;
    console.log = console.warn = () => {};
    try {
      tf = require("@tensorflow/tfjs");
      await tf.ready();
      tf.tidy(() => tf.zeros([1]).add(1));
    } finally {
      console.log = log;
      console.warn = warn;
    }
  });

  describe("our export loads in tf.loadLayersModel and predicts what we predict", () => {
    CASES.forEach((c, k) => {
      it(c.name, async () => {
        const model = randomModel(c.ours, 10 + k);
        const xs = inputs(new Random(50 + k), 3, 6, c.ours.inputSize);
        const tfModel = await tf.loadLayersModel(tf.io.fromMemory(artifactsOf(exportTfjs(model))));
        closeTo(tfPredict(tfModel, xs), lastSteps(model.predict(xs)), "TensorFlow.js vs ours");
        tfModel.dispose();
      });
    });

    it("with returnSequences, the last layer returns every step, as ours does", async () => {
      const model = randomModel({ inputSize: 2, layers: [{ cell: "lstm", hiddenSize: 3, outputSize: 2 }] }, 7);
      const xs = inputs(new Random(8), 2, 5, 2);
      const tfModel = await tf.loadLayersModel(tf.io.fromMemory(artifactsOf(exportTfjs(model, { returnSequences: true }))));
      closeTo(tfPredict(tfModel, xs), model.predict(xs), "every step");
      tfModel.dispose();
    });
  });

  describe("a model TensorFlow.js builds and saves imports and predicts what TensorFlow.js predicts", () => {
    CASES.forEach((c, k) => {
      it(c.name, async () => {
        const tfModel = tf.sequential({ layers: c.tf(tf.layers) });
        randomizeTf(tfModel, 30 + k);
        const xs = inputs(new Random(60 + k), 3, 6, c.ours.inputSize);
        const saved = await savedByTfjs(tfModel);
        const ours = importTfjs(saved.modelJson, saved.weights);
        closeTo(lastSteps(ours.predict(xs)), tfPredict(tfModel, xs), "ours vs TensorFlow.js");
        // The import is the model it claims to be: cells and settings as TensorFlow.js has them.
        assert.deepEqual(ours.layers.map((l) => l.cellName), c.ours.layers.map((l) => l.cell ?? "elman"));
        assert.deepEqual(ours.layers.map((l) => l.spec.recurrentActivation ?? "sigmoid"), c.ours.layers.map((l) => l.recurrentActivation ?? "sigmoid"));
        tfModel.dispose();
      });
    });
  });

  describe("GRU with the reset after the recurrent product (Keras 3's default; TensorFlow.js has no such layer)", () => {
    /** Keras's GRU (reset_after true) written with TensorFlow.js ops on the exported Keras weights. */
    function kerasResetAfterGru(xs, kernel, recurrentKernel, bias, H) {
      return tf.tidy(() => {
        const x = tf.tensor3d(xs);
        const [inBias, recBias] = tf.unstack(bias);
        let h = tf.zeros([xs.length, H]);
        for (let t = 0; t < xs[0].length; t++) {
          const xt = x.slice([0, t, 0], [-1, 1, -1]).squeeze([1]);
          const [xz, xr, xh] = tf.split(tf.add(tf.matMul(xt, kernel), inBias), 3, 1);
          const [rz, rr, rh] = tf.split(tf.add(tf.matMul(h, recurrentKernel), recBias), 3, 1);
          const z = tf.sigmoid(tf.add(xz, rz));
          const r = tf.sigmoid(tf.add(xr, rr));
          const hh = tf.tanh(tf.add(xh, tf.mul(r, rh)));
          h = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), hh));
        }
        return h.arraySync();
      });
    }

    it("is written as reset_after with Keras's 2 × 3H bias, computes Keras's equations and reads back", () => {
      const H = 3;
      const model = randomModel({ inputSize: 2, layers: [{ cell: "gru", hiddenSize: H, resetAfter: true }] }, 21);
      const exported = exportTfjs(model);
      const layer = exported.modelJson.modelTopology.config.layers[0];
      assert.equal(layer.config.reset_after, true);
      const specs = exported.modelJson.weightsManifest[0].weights;
      assert.deepEqual(specs.map((s) => s.shape), [[2, 3 * H], [H, 3 * H], [2, 3 * H]]);
      const w = tf.io.decodeWeights(artifactsOf(exported).weightData, specs);
      const xs = inputs(new Random(22), 2, 5, 2);
      closeTo(lastSteps(model.predict(xs)), kerasResetAfterGru(xs, w[specs[0].name], w[specs[1].name], w[specs[2].name], H), "ours vs Keras's equations");
      const back = importTfjs(exported.modelJson, exported.weights);
      assert.equal(back.layers[0].spec.resetAfter, true);
      closeTo(lastSteps(back.predict(xs)), lastSteps(model.predict(xs)), "read back");
      tf.dispose(Object.values(w));
    });
  });

  describe("what a forecast needs travels in userDefinedMetadata", () => {
    function forecastingModel() {
      const model = randomModel({ inputSize: 2, layers: [{ cell: "lstm", hiddenSize: 3, outputSize: 1 }] }, 5);
      model.scaler = { kind: "zscore", features: { offset: [1, 2], scale: [3, 4] }, targets: { offset: [1], scale: [3] } };
      model.window = { length: 6, horizon: 2, features: ["temp", "hum"], targets: ["temp"] };
      model.transform = { difference: "none", season: null, calendar: [], step: null };
      return model;
    }

    it("reaches TensorFlow.js and comes back with the import", async () => {
      const model = forecastingModel();
      const exported = exportTfjs(model);
      const tfModel = await tf.loadLayersModel(tf.io.fromMemory(artifactsOf(exported)));
      assert.deepEqual(tfModel.getUserDefinedMetadata()["node-red-rnn"].window, model.window);
      tfModel.dispose();
      const back = importTfjs(clone(exported.modelJson), exported.weights);
      assert.deepEqual(back.scaler, model.scaler);
      assert.deepEqual(back.window, model.window);
      assert.deepEqual(back.transform, model.transform);
    });

    it("is checked as our model file's sections are, and named where model.json has it", () => {
      const exported = exportTfjs(forecastingModel());
      const bad = clone(exported.modelJson);
      bad.userDefinedMetadata["node-red-rnn"].window.targets = ["temp", "hum"];
      assert.throws(() => importTfjs(bad, exported.weights), /userDefinedMetadata\.node-red-rnn\.window\.targets: 2 targets but the last layer emits 1/);
      const extra = clone(exported.modelJson);
      extra.userDefinedMetadata["node-red-rnn"].secret = 1;
      assert.throws(() => importTfjs(extra, exported.weights), /userDefinedMetadata\.node-red-rnn\.secret: unexpected key/);
    });

    it("can be given to a model converted from Keras, which has none", async () => {
      const tfModel = tf.sequential({ layers: [tf.layers.gru({ units: 2, recurrentActivation: "sigmoid", inputShape: [null, 1] }), tf.layers.dense({ units: 1 })] });
      const saved = await savedByTfjs(tfModel);
      tfModel.dispose();
      assert.equal(importTfjs(saved.modelJson, saved.weights).window, null);
      const window = { length: 4, horizon: 1, features: ["v"], targets: ["v"] };
      assert.deepEqual(importTfjs(saved.modelJson, saved.weights, { extras: { window } }).window, window);
    });
  });

  describe("what cannot be represented is refused, naming it", () => {
    /** A saved TensorFlow.js model of one LSTM and a Dense, to be edited into what is refused. */
    let base;
    before(async () => {
      const tfModel = tf.sequential({ layers: [tf.layers.lstm({ units: 2, recurrentActivation: "sigmoid", returnSequences: true, inputShape: [null, 1] }), tf.layers.dense({ units: 1 })] });
      base = await savedByTfjs(tfModel);
      tfModel.dispose();
    });
    const edited = (edit) => {
      const json = clone(base.modelJson);
      edit(json, json.modelTopology.config.layers);
      return () => importTfjs(json, base.weights);
    };

    it("the base model itself imports (so each refusal below is the edit's)", () => {
      assert.equal(importTfjs(clone(base.modelJson), base.weights).layers[0].cellName, "lstm");
    });
    const refusals = [
      ["a Bidirectional layer", (j, L) => { L[0] = { class_name: "Bidirectional", config: { name: "bi", layer: L[0] } }; }, /layers\[0\]\.class_name: a "Bidirectional" layer cannot be represented/],
      ["go_backwards", (j, L) => { L[0].config.go_backwards = true; }, /layers\[0\]\.config\.go_backwards: true cannot be represented \(the layer reads the sequence backwards\)/],
      ["a stateful layer", (j, L) => { L[0].config.stateful = true; }, /config\.stateful: true cannot be represented/],
      ["return_state", (j, L) => { L[0].config.return_state = true; }, /config\.return_state: true cannot be represented/],
      ["an unknown option", (j, L) => { L[0].config.peephole = true; }, /layers\[0\]\.config\.peephole: unexpected key/],
      ["an activation we do not have", (j, L) => { L[0].config.activation = "selu"; }, /config\.activation: the activation "selu" cannot be represented/],
      ["a Dense activation we do not have", (j, L) => { L[1].config.activation = "tanh"; }, /layers\[1\]\.config\.activation: the activation "tanh" cannot be represented/],
      ["Keras 3's hard_sigmoid (slope 1/6)", (j, L) => { j.generatedBy = "keras v3.4.1"; L[0].config.recurrent_activation = "hard_sigmoid"; }, /recurrent_activation: "hard_sigmoid" of Keras 3 \(slope 1\/6\) cannot be represented/],
      ["a recurrent activation left out (TensorFlow.js and Keras differ on its default)", (j, L) => { delete L[0].config.recurrent_activation; }, /config\.recurrent_activation: missing/],
      ["float16 layers", (j, L) => { L[0].config.dtype = "float16"; }, /config\.dtype: the dtype "float16" cannot be represented/],
      ["a functional model", (j) => { j.modelTopology.class_name = "Functional"; }, /modelTopology\.class_name: a "Functional" model cannot be imported/],
      ["a graph model", (j) => { j.format = "graph-model"; }, /format: a TensorFlow.js graph model cannot be imported/],
      ["quantized weights", (j) => { j.weightsManifest[0].weights[0].quantization = { dtype: "uint8", scale: 1, min: 0 }; }, /weights\[0\]\.quantization: quantized weights cannot be read/],
      ["two Dense layers after one recurrent layer", (j, L) => { L.push(clone(L[1])); }, /layers\[2\]: two Dense layers after one recurrent layer cannot be represented/],
      ["a Dense layer first", (j, L) => { L.unshift({ class_name: "Dense", config: { name: "d0", units: 1, batch_input_shape: [null, null, 1] } }); }, /layers\[0\]: a Dense layer before the first recurrent layer cannot be represented/],
      ["a recurrent layer fed only the last step", (j, L) => { L[0].config.return_sequences = false; L.push({ class_name: "SimpleRNN", config: { name: "s", units: 1 } }); }, /layers\[0\]\.config\.return_sequences: false, but another recurrent layer follows/],
      ["TimeDistributed of something else", (j, L) => { L[1] = { class_name: "TimeDistributed", config: { name: "td", layer: { class_name: "Conv1D", config: {} } } }; }, /layers\[1\]\.config\.layer\.class_name: a "Conv1D" layer cannot be represented/],
    ];
    for (const [what, edit, message] of refusals) {
      it(what, () => assert.throws(edited(edit), (e) => e instanceof ModelFileError && message.test(e.message)));
    }

    it("dropout is off at inference and use_bias false is zeros: both import and predict as TensorFlow.js does", async () => {
      const tfModel = tf.sequential({ layers: [tf.layers.simpleRNN({ units: 3, useBias: false, dropout: 0.5, recurrentDropout: 0.2, inputShape: [null, 2] }), tf.layers.dense({ units: 1, useBias: false })] });
      randomizeTf(tfModel, 4);
      const saved = await savedByTfjs(tfModel);
      const xs = inputs(new Random(3), 2, 4, 2);
      const ours = importTfjs(saved.modelJson, saved.weights);
      closeTo(lastSteps(ours.predict(xs)), tfPredict(tfModel, xs), "ours vs TensorFlow.js");
      assert.deepEqual(Array.from(ours.layers[0].params.b_h), [0, 0, 0]);
      tfModel.dispose();
    });

    it("TimeDistributed(Dense) is read as the projection", async () => {
      const tfModel = tf.sequential({ layers: [tf.layers.gru({ units: 3, recurrentActivation: "sigmoid", returnSequences: true, inputShape: [null, 2] }), tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2 }) }), tf.layers.simpleRNN({ units: 2 })] });
      randomizeTf(tfModel, 9);
      const saved = await savedByTfjs(tfModel);
      const xs = inputs(new Random(10), 2, 4, 2);
      closeTo(lastSteps(importTfjs(saved.modelJson, saved.weights).predict(xs)), tfPredict(tfModel, xs), "ours vs TensorFlow.js");
      tfModel.dispose();
    });
  });

  describe("hostile or damaged files are refused before anything is allocated", () => {
    let exported;
    before(() => {
      exported = exportTfjs(randomModel({ inputSize: 2, layers: [{ cell: "lstm", hiddenSize: 3, outputSize: 1 }] }, 3));
    });
    const attempt = (edit, weights) => {
      const json = clone(exported.modelJson);
      edit(json, json.modelTopology.config.layers);
      return () => importTfjs(json, weights ?? exported.weights);
    };

    it("a truncated weights.bin", () => {
      assert.throws(() => importTfjs(clone(exported.modelJson), exported.weights.subarray(0, exported.weights.length - 4)), /weightsManifest: the weight files hold \d+ bytes but the manifest describes \d+ \(truncated\?\)/);
    });
    it("a weights.bin of another save (the digest in model.json)", () => {
      const other = exported.weights.slice();
      other[0] ^= 1;
      assert.throws(() => importTfjs(clone(exported.modelJson), other), /weightsSha256: the weights are not the ones this model.json was written with/);
    });
    it("huge units, refused by the limit and not by a failed allocation", () => {
      assert.throws(attempt((j, L) => { L[0].config.units = 1e9; }), new RegExp(`layers\\[0\\]\\.config\\.units: 1000000000 exceeds the limit ${LIMITS.maxHiddenSize}`));
      // Within each limit but too many parameters together.
      assert.throws(attempt((j, L) => { L[0].config.units = 4000; L[0].config.batch_input_shape = [null, null, 4000]; }), /modelTopology: \d+ parameters in all exceed the limit 20000000/);
    });
    it("a manifest declaring a huge weight", () => {
      assert.throws(attempt((j) => { j.weightsManifest[0].weights[0].shape = [1e6, 1e6]; }), /weights\[0\]\.shape: more than 20000000 values/);
    });
    it("a weight of the wrong shape", () => {
      assert.throws(attempt((j) => { const w = j.weightsManifest[0].weights; [w[0].shape, w[1].shape] = [[3, 12], [2, 12]]; }), /weights\[0\]\.shape: "lstm_1\/kernel" is \[3, 12\] but lstm_1 needs \[2, 12\]/);
    });
    it("a missing weight, and a weight of no layer", () => {
      assert.throws(attempt((j) => { j.weightsManifest[0].weights[1].name = "lstm_1/other"; }), /no weight for lstm_1's recurrent_kernel/);
      const more = new Uint8Array(exported.weights.length + 4);
      more.set(exported.weights);
      const stray = attempt((j) => { delete j.userDefinedMetadata; j.weightsManifest[0].weights.push({ name: "extra/kernel", shape: [1], dtype: "float32" }); }, more);
      assert.throws(stray, /weights\[5\]: "extra\/kernel" belongs to none of the model's layers/);
    });
    it("__proto__ keys anywhere", () => {
      const withProto = (target) => { Object.defineProperty(target, "__proto__", { value: {}, enumerable: true, configurable: true, writable: true }); };
      assert.throws(attempt((j) => withProto(j)), /__proto__: the key "__proto__" is not allowed/);
      assert.throws(attempt((j, L) => withProto(L[0].config)), /layers\[0\]\.config\.__proto__: the key "__proto__" is not allowed/);
      assert.throws(attempt((j) => withProto(j.userDefinedMetadata)), /userDefinedMetadata\.__proto__: the key "__proto__" is not allowed/);
      // And as JSON.parse makes them.
      const text = JSON.stringify(exported.modelJson).replace('"units":3', '"units":3,"__proto__":{"polluted":true}');
      assert.throws(() => importTfjs(JSON.parse(text), exported.weights), /__proto__: the key "__proto__" is not allowed/);
      assert.equal({}.polluted, undefined);
    });
    it("non-finite weights", () => {
      const json = clone(exported.modelJson);
      delete json.userDefinedMetadata;
      const bad = exported.weights.slice();
      new DataView(bad.buffer).setFloat32(0, NaN, true);
      assert.throws(() => importTfjs(json, bad), /not a finite number/);
    });
    it("not an object, no manifest, weights that are not bytes", () => {
      assert.throws(() => importTfjs("model", exported.weights), /expected an object/);
      assert.throws(attempt((j) => { delete j.weightsManifest; }), /weightsManifest: missing/);
      assert.throws(() => importTfjs(clone(exported.modelJson), [1, 2, 3]), /the weights must be bytes/);
    });
  });

  describe("files: model.json and weights.bin in one folder", () => {
    let dir;
    beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "rnn-tfjs-")); });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("are written and read back; TensorFlow.js reads the same files", async () => {
      const model = randomModel({ inputSize: 2, layers: [{ cell: "gru", hiddenSize: 3, outputSize: 1 }] }, 2);
      const file = await saveTfjsModel(path.join(dir, "out"), model);
      assert.equal(file, path.join(dir, "out", "model.json"));
      const xs = inputs(new Random(1), 2, 4, 2);
      closeTo(lastSteps((await loadTfjsModel(file)).predict(xs)), lastSteps(model.predict(xs)), "read back");
      const json = JSON.parse(fs.readFileSync(file, "utf8"));
      const bin = fs.readFileSync(path.join(dir, "out", "weights.bin"));
      const tfModel = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length) }));
      closeTo(tfPredict(tfModel, xs), lastSteps(model.predict(xs)), "TensorFlow.js from the files");
      tfModel.dispose();
    });

    it("weight files are read from model.json's folder only, and sized before they are read", async () => {
      const model = randomModel({ inputSize: 1, layers: [{ hiddenSize: 2 }] }, 2);
      const file = await saveTfjsModel(dir, model);
      const json = JSON.parse(fs.readFileSync(file, "utf8"));
      const write = (paths) => fs.writeFileSync(file, JSON.stringify({ ...json, weightsManifest: [{ ...json.weightsManifest[0], paths }] }));
      write(["../secret.bin"]);
      await assert.rejects(loadTfjsModel(file), /the weight file "\.\.\/secret\.bin" is outside model.json's folder/);
      write(["/etc/passwd"]);
      await assert.rejects(loadTfjsModel(file), /the weight file "\/etc\/passwd" is not a path relative to model.json/);
      write(["gone.bin"]);
      await assert.rejects(loadTfjsModel(file), /the weight file .*gone\.bin that the manifest names is missing/);
      fs.writeFileSync(path.join(dir, "big.bin"), Buffer.alloc(1024));
      write(["big.bin"]);
      await assert.rejects(loadTfjsModel(file), /weight file .*big\.bin holds 1024 bytes, more than the \d+ expected/);
    });

    it("a model path named model.json is read as TensorFlow.js's format, or as ours when it is ours", async () => {
      const model = randomModel({ inputSize: 1, layers: [{ cell: "lstm", hiddenSize: 2, outputSize: 1 }] }, 6);
      model.scaler = { kind: "none", features: { offset: [0], scale: [1] }, targets: { offset: [0], scale: [1] } };
      model.window = { length: 3, horizon: 1, features: ["v"], targets: ["v"] };
      const tfjsFile = await saveTfjsModel(path.join(dir, "tfjs"), model);
      const fromTfjs = await loadForecastModelFile(tfjsFile);
      assert.deepEqual(fromTfjs.model.window, model.window);
      assert.equal(fromTfjs.model.layers[0].type, "lstm");
      const ours = path.join(dir, "ours", "model.json");
      await saveModelFile(ours, model.toJSON());
      assert.deepEqual((await loadForecastModelFile(ours)).model.layers[0].weights, model.toJSON().layers[0].weights);
      fs.writeFileSync(tfjsFile, "{ not json");
      await assert.rejects(loadForecastModelFile(tfjsFile), /model\.json is not valid JSON/);
    });
  });
});
