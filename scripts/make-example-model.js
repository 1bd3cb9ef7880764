"use strict";
// Trains the model file that the "Saved model" example loads, with the core library and fixed
// seeds, so the committed file can be made again: `npm run build && node scripts/make-example-model.js`.
// It learns the same noisy sine as the first example (period 50 readings, window 24).
const fs = require("fs");
const path = require("path");
const { Model, prepareDataset, formatModelText, validateModelJSON } = require("../dist/src");

const OUT = path.join(__dirname, "..", "models", "sine-rnn.json");
const WINDOW = 24;
const PERIOD = 50;

/** sin(2πt/50) + uniform noise of ±0.05, from the same generator as the example's function node. */
function noisySine(n, seed) {
  let s = seed;
  const noise = () => {
    s = (s * 1664525 + 1013904223) % 4294967296;
    return s / 4294967296 - 0.5;
  };
  return Array.from({ length: n }, (_, t) => Math.sin((2 * Math.PI * t) / PERIOD) + 0.1 * noise());
}

const data = prepareDataset(noisySine(1000, 42), { length: WINDOW, horizon: 1, scaling: "zscore", validationSplit: 0.2 });
const model = Model.create({ inputSize: 1, layers: [{ hiddenSize: 16, activation: "tanh", outputSize: 1, outputActivation: "linear" }], seed: 1 });
const result = model.fit(data.train, {
  epochs: 60,
  batchSize: 32,
  optimizer: "adam",
  learningRate: 0.01,
  clipNorm: 1,
  patience: 10,
  seed: 1,
  validation: data.validation,
});
const last = result.history[result.history.length - 1];

model.scaler = data.scaler.toJSON();
model.window = data.window;
model.training = {
  epochs: result.history.length,
  loss: last.loss,
  valLoss: result.bestValLoss,
  bestEpoch: result.bestEpoch,
  stoppedBecause: result.reason,
  data: `noisy sine, period ${PERIOD} readings, 1000 readings, last 20 % for validation`,
  madeBy: "scripts/make-example-model.js",
};

// Check before writing: the file must load, and forecast a clean stretch of the sine well.
const json = validateModelJSON(model.toJSON());
const reloaded = Model.fromJSON(json);
const sc = json.scaler;
let worst = 0;
for (let start = 0; start < PERIOD; start += 7) {
  const window = [];
  for (let t = start; t < start + WINDOW; t++) window.push([(Math.sin((2 * Math.PI * t) / PERIOD) - sc.features.offset[0]) / sc.features.scale[0]]);
  const y = reloaded.predict([window]);
  const forecast = y[0][WINDOW - 1][0] * sc.targets.scale[0] + sc.targets.offset[0];
  worst = Math.max(worst, Math.abs(forecast - Math.sin((2 * Math.PI * (start + WINDOW)) / PERIOD)));
}
if (worst > 0.15) {
  console.error(`the trained model forecasts the sine with an error up to ${worst.toFixed(3)}; not writing it`);
  process.exit(1);
}

fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, formatModelText(json));
console.log(`${path.relative(process.cwd(), OUT)}: ${result.history.length} epochs (${result.reason}), best validation loss ${result.bestValLoss.toExponential(3)} at epoch ${result.bestEpoch}, largest one-step error on a clean sine ${worst.toFixed(3)}`);
