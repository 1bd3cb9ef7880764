"use strict";
// Test series: a seeded noisy sine and the Seattle weather CSV shipped with the examples.
const fs = require("fs");
const path = require("path");
const { Random } = require("../../dist/src");

/** sin(2π i / period) + uniform noise in ±noise, seeded. */
function noisySine(n, { period = 50, noise = 0.05, seed = 1 } = {}) {
  const rng = new Random(seed);
  return Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * i) / period) + rng.uniform(-noise, noise));
}

/** The rows of data/seattle-weather.csv as objects with numeric fields. */
function seattleRows() {
  const text = fs.readFileSync(path.join(__dirname, "..", "..", "data", "seattle-weather.csv"), "utf8");
  const [header, ...lines] = text.trim().split(/\r?\n/);
  const cols = header.split(",");
  return lines.map((line) => {
    const cells = line.split(",");
    const row = {};
    cols.forEach((c, i) => {
      const v = Number(cells[i]);
      row[c] = cells[i] !== "" && Number.isFinite(v) ? v : cells[i];
    });
    return row;
  });
}

module.exports = { noisySine, seattleRows };
