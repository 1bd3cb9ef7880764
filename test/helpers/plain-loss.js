"use strict";
// Plain loss definitions over nested outputs/targets (null step or null entry = no loss),
// written independently of the core, for finite-difference checks.

function plainLoss(name, outputs, targets, delta = 1) {
  let sum = 0;
  let count = 0;
  outputs.forEach((seq, b) => seq.forEach((y, t) => {
    const tgt = targets[b][t];
    if (tgt === null || tgt === undefined) return;
    if (name === "crossentropy-softmax") {
      let s = 0;
      for (let o = 0; o < y.length; o++) s -= tgt[o] * Math.log(y[o]);
      sum += s;
      count++;
      return;
    }
    for (let o = 0; o < y.length; o++) {
      if (tgt[o] === null) continue;
      const d = y[o] - tgt[o];
      if (name === "mse") sum += d * d;
      else if (name === "mae") sum += Math.abs(d);
      else if (name === "huber") sum += Math.abs(d) <= delta ? 0.5 * d * d : delta * (Math.abs(d) - 0.5 * delta);
      else if (name === "crossentropy-sigmoid") sum -= tgt[o] * Math.log(y[o]) + (1 - tgt[o]) * Math.log(1 - y[o]);
      else throw new Error("unknown loss " + name);
      count++;
    }
  }));
  return sum / count;
}

module.exports = { plainLoss };
