import type { LazyWindows } from "./prepare";

/**
 * Windows packed once into the flat batch-major arrays the training loop reads: x is B×T×I,
 * target B×T×O with NaN where a step (or one entry) has no target, as `packTargets` marks them.
 * A run copies its windows here once, so that a worker gets the whole dataset in one transfer
 * instead of one message per minibatch.
 */
export function packWindows(windows: LazyWindows, I: number, O: number): { x: Float64Array; target: Float64Array; B: number; T: number } {
  const B = windows.count;
  if (B === 0) return { x: new Float64Array(0), target: new Float64Array(0), B: 0, T: 0 };
  const T = windows.at(0).input.length;
  const x = new Float64Array(B * T * I);
  const target = new Float64Array(B * T * O).fill(NaN);
  for (let b = 0; b < B; b++) {
    const w = windows.at(b);
    if (w.input.length !== T) throw new Error(`window ${b} has ${w.input.length} steps, the first has ${T}: windows of one run have one length`);
    for (let s = 0; s < T; s++) {
      const row = w.input[s];
      if (row.length !== I) throw new Error(`window ${b}, step ${s}: ${row.length} inputs, the model takes ${I}`);
      x.set(row, (b * T + s) * I);
      const step = w.target[s];
      if (step === null) continue;
      if (step.length !== O) throw new Error(`window ${b}, step ${s}: ${step.length} targets, the model emits ${O}`);
      const o = (b * T + s) * O;
      for (let k = 0; k < O; k++) if (step[k] !== null) target[o + k] = step[k];
    }
  }
  return { x, target, B, T };
}
