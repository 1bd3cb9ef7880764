"use strict";
// Seeded random numbers for test series, independent of the package's own Random, so a defect
// there cannot hide in the data the tests are built on.

/** mulberry32: a tiny seeded PRNG giving uniform numbers in [0, 1). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws by Box-Muller, seeded. */
function gaussian(seed) {
  const uniform = mulberry32(seed);
  return function () {
    let u = 0;
    while (u === 0) u = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

module.exports = { mulberry32, gaussian };
