'use strict';
/**
 * The native limit: bench/native/elman.c, compiled with the machine's C compiler (`cc -O3
 * -march=native`) into a temporary folder and run on the same task, data and starting weights as
 * the rest of the bench. Returns null, with the reason, where no compiler exists or it fails.
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { WEIGHTS } = require('./task');

const SOURCE = path.join(__dirname, 'native', 'elman.c');
/** The compiler flags of the native limit; -ffast-math may also be asked for (it lets gcc reorder sums). */
const FLAGS = ['-O3', '-march=native'];

function compile(dir, flags) {
  const exe = path.join(dir, 'elman');
  try {
    execFileSync('cc', [...flags, '-o', exe, SOURCE, '-lm'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const why = err.code === 'ENOENT' ? 'no C compiler (`cc`) on this machine' : `cc failed: ${String(err.stderr || err.message).trim().split('\n')[0]}`;
    return { exe: null, why };
  }
  return { exe, why: null };
}

function compilerName() {
  try {
    return execFileSync('cc', ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
  } catch {
    return 'cc';
  }
}

/**
 * Runs the C version: the loss before training and after one epoch, the weights after it, then the
 * times of `runs` epochs (after `warmup`) and of `rounds` rounds of `reps` one-window forecasts.
 */
function runNative(data, w0, { warmup, runs, reps, rounds, extraFlags = [] }) {
  const flags = [...FLAGS, ...extraFlags];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-native-'));
  try {
    const { exe, why } = compile(dir, flags);
    if (!exe) return { ok: false, why };
    const t = data.task;
    const head = [data.N, t.window, t.inputSize, t.hiddenSize, t.outputSize, t.batchSize, t.learningRate, warmup, runs, reps, rounds];
    const parts = [Float64Array.from(head), data.x, data.y, ...WEIGHTS.map((k) => w0[k])];
    const taskFile = path.join(dir, 'task.bin');
    fs.writeFileSync(taskFile, Buffer.concat(parts.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
    const weightsFile = path.join(dir, 'weights.bin');
    const out = execFileSync(exe, [taskFile, weightsFile], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const line = (key) => {
      const l = out.split('\n').find((s) => s.startsWith(`${key} `));
      if (!l) throw new Error(`the C bench printed no "${key}" line:\n${out}`);
      return l.slice(key.length + 1).trim().split(/\s+/).map(Number);
    };
    const raw = fs.readFileSync(weightsFile);
    const all = new Float64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
    const weights = {};
    let at = 0;
    for (const k of WEIGHTS) {
      weights[k] = all.slice(at, at + w0[k].length);
      at += w0[k].length;
    }
    return {
      ok: true,
      compiler: compilerName(),
      flags: flags.join(' '),
      initial: line('initial')[0],
      loss: line('first')[0],
      weights,
      epochMs: line('epoch_ms'),
      forecastUs: line('forecast_us'),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { runNative };
