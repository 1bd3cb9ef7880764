"use strict";
// Model files for the node tests, placed where a node's modelPath ("models/<name>") finds them.
const fs = require("fs");
const path = require("path");
const { Model, saveModelFile } = require("../../dist/src");

/**
 * Writes models/<name> under a user directory and returns the path a node's modelPath takes.
 * `contents` is a model file object (written as JSON) or text/bytes as they are, for damaged files.
 */
function writeModelFile(userDir, name, contents) {
  fs.mkdirSync(path.join(userDir, "models"), { recursive: true });
  const bytes = typeof contents === "string" || Buffer.isBuffer(contents) ? contents : JSON.stringify(contents);
  fs.writeFileSync(path.join(userDir, "models", name), bytes);
  return `models/${name}`;
}

/**
 * Saves, through the package's own model store, a seeded one-layer model of one feature called
 * "value" with one output, a z-score scaler using the same offset and scale for input and target,
 * and a window of `length` steps forecasting one step ahead.
 */
async function saveOneFeatureModel(file, { hiddenSize, seed, offset, scale, length }) {
  const model = Model.create({ inputSize: 1, layers: [{ hiddenSize, outputSize: 1 }], seed });
  model.scaler = { kind: "zscore", features: { offset: [offset], scale: [scale] }, targets: { offset: [offset], scale: [scale] } };
  model.window = { length, horizon: 1, features: ["value"], targets: ["value"] };
  await saveModelFile(file, model.toJSON());
}

module.exports = { writeModelFile, saveOneFeatureModel };
