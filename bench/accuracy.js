'use strict';
/**
 * Does the DEFAULT chain beat the naive rules? For each series of bench/series.js this loads a
 * flow into a real Node-RED (node-red-node-test-helper, as the node tests do):
 *
 *   rnn sequence → rnn layer → rnn loss → rnn trainer,   rnn predictor (steps 1), rnn predictor (steps k)
 *
 * with every setting at the default of its editor definition (`defaults` in nodes/*.html, read from
 * those files at start-up and printed), except: the sequence's feature / target fields where a
 * series has several columns, the sequence's time field if its default is not "auto" (for series
 * that carry times), the predictors' trainer (and `steps: k` for the second one), and the layer's
 * `projection` if it were off by default (a single layer without a projection outputs its 32
 * hidden units, which the loss node refuses against one target). Each change made is printed.
 *
 * Each series is split into a training part, sent to the sequence node as one `topic: "train"`
 * message, and a TEST part at its end that training never sees (the last 15 %, at least three
 * periods of the series' main season). After the trainer's "done" both predictors receive the last
 * training readings (a window plus up to a year, PRIME below; the predictor keeps the last window)
 * and then every test reading, one message at a time. The errors are computed here, in plain JS and
 * real units, from the forecasts and the test values, against persistence (the last value) and
 * seasonal naive (the value one season earlier), on exactly the same targets.
 *
 *   node bench/accuracy.js                      all six series (about half a minute on 2 cores)
 *   node bench/accuracy.js --series hourly      one series
 *   node bench/accuracy.js --set rnn-sequence.difference=none
 *                                               one setting changed on every series (repeatable)
 *   node bench/accuracy.js --seeds 1-5          the one-step ratio per rnn layer seed, per series
 *   node bench/accuracy.js --quick              shorter series, a smoke run
 *   node bench/accuracy.js --json out.json      also write the figures as JSON
 *   node bench/accuracy.js --timeout 300        seconds to wait for one training (default 300)
 *
 * Lengths: seattle 1,461 days (quick: the last 800), hourly 120 days (quick: 40), monthly 30 years
 * (quick: 15), randomwalk 3,000 steps (quick: 800): the full set was not cut, it fits the
 * 10-minute budget. Needs `npm run build` (it runs dist/). Everything is seeded: the figures are
 * the same on every run; only the wall-clock times (printed apart) change.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { SERIES } = require('./series');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist', 'nodes');
const TYPES = ['rnn-sequence', 'rnn-layer', 'rnn-loss', 'rnn-trainer', 'rnn-predictor'];
/** Share of each series held out for the test, and the least number of main seasons in it. */
const TEST_SHARE = 0.15;
const TEST_SEASONS = 3;
/** Training readings sent to the predictors before the test part: one window plus this many. */
const PRIME_EXTRA = 366;
/** Steps shown in the multi-step table (those ≤ k). */
const SHOW_STEPS = [1, 2, 3, 6, 12, 24];
const SEEDS = { hourly: 11, monthly: 12, randomwalk: 13, sensor: 14 };

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const args = { series: null, quick: false, json: null, timeout: 300, direct: true, set: {}, seeds: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--series') args.series = argv[++i];
    else if (a === '--quick') args.quick = true;
    else if (a === '--json') args.json = argv[++i];
    else if (a === '--timeout') args.timeout = Number(argv[++i]);
    else if (a === '--no-direct') args.direct = false;
    else if (a === '--seeds') {
      // --seeds 1-5 or 1,2,3: the recursive chain once per rnn layer seed, one line per series.
      const v = argv[++i] || '';
      const range = /^(\d+)-(\d+)$/.exec(v);
      args.seeds = range ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, k) => Number(range[1]) + k) : v.split(',').map(Number);
      if (!args.seeds.length || !args.seeds.every((x) => Number.isInteger(x))) throw new Error('--seeds needs whole numbers, e.g. 1-5 or 1,3,7');
    }
    else if (a === '--set') {
      // --set rnn-sequence.difference=none: one setting changed on every series, to compare it.
      const m = /^(rnn-(?:sequence|layer|loss|trainer))\.(\w+)=(.*)$/.exec(argv[++i] || '');
      if (!m) throw new Error('--set needs <node type>.<setting>=<value>, e.g. rnn-sequence.difference=none');
      (args.set[m[1]] = args.set[m[1]] || {})[m[2]] = parseLiteral(m[3]);
    }
    else if (a === '--help' || a === '-h') {
      console.log(`usage: node bench/accuracy.js [--series ${Object.keys(SERIES).join('|')}] [--quick] [--no-direct] [--set type.setting=value ...] [--seeds 1-5] [--json file] [--timeout seconds]`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (args.series && !SERIES[args.series]) throw new Error(`unknown series ${args.series}; one of ${Object.keys(SERIES).join(', ')}`);
  if (!(args.timeout > 0)) throw new Error('--timeout needs a number of seconds');
  return args;
}

// ---------------------------------------------------------------------------------------------
// The nodes' editor defaults

/** The `defaults: { key: { value: … } }` of a node's editor definition, as plain values. */
function editorDefaults(type) {
  const html = fs.readFileSync(path.join(ROOT, 'nodes', `${type}.html`), 'utf8');
  const start = html.indexOf('defaults:');
  if (start < 0) throw new Error(`nodes/${type}.html: no defaults`);
  const open = html.indexOf('{', start);
  let depth = 0;
  let end = open;
  for (; end < html.length; end++) {
    if (html[end] === '{') depth++;
    else if (html[end] === '}' && --depth === 0) break;
  }
  const block = html.slice(open + 1, end);
  // Top-level keys only: `key: {` at brace depth 0 of the block, then its `value:`.
  const out = {};
  depth = 0;
  const keyAt = /([A-Za-z_$][\w$]*)\s*:\s*\{/y;
  for (let i = 0; i < block.length; i++) {
    const c = block[i];
    if (depth === 0 && /[A-Za-z_$]/.test(c) && (i === 0 || /[\s,{]/.test(block[i - 1]))) {
      keyAt.lastIndex = i;
      const m = keyAt.exec(block);
      if (m) {
        const inner = block.slice(keyAt.lastIndex);
        const v = /^\s*value\s*:\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|-?[\d.eE+-]+|true|false|null|\[[^\]]*\])/.exec(inner);
        out[m[1]] = v ? parseLiteral(v[1]) : undefined;
        i = keyAt.lastIndex - 2;
        continue;
      }
    }
    if (c === '{') depth++;
    else if (c === '}') depth--;
  }
  return out;
}

function parseLiteral(s) {
  if (s.startsWith("'")) return s.slice(1, -1);
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** The sequence node's time-field setting, if its editor has one (e.g. timeField, timestamp). */
function timeSetting(seqDefaults) {
  return Object.keys(seqDefaults).find((k) => /^(time|timestamp|date)(field|property|prop|key)?$/i.test(k) || /^(time|timestamp)\w*(field|property|prop)$/i.test(k)) || null;
}

// ---------------------------------------------------------------------------------------------
// Node-RED (node-red-node-test-helper), loaded with the package's own message catalogues

const helper = require('node-red-node-test-helper');
helper.init(process.env.NODE_RED_PATH || require.resolve('node-red'));

function loadNodes() {
  const catalogue = {};
  for (const t of TYPES) Object.assign(catalogue, JSON.parse(fs.readFileSync(path.join(DIST, 'locales', 'en-US', `${t}.json`), 'utf8')));
  const translate = (key, subs) => {
    let v = catalogue;
    for (const part of String(key).split('.')) v = v && typeof v === 'object' ? v[part] : undefined;
    if (typeof v !== 'string') return key;
    return v.replace(/__([A-Za-z0-9_]+)__/g, (m, name) => (subs && name in subs ? String(subs[name]) : m));
  };
  return TYPES.map((t) => {
    const register = require(path.join(DIST, `${t}.js`));
    return function load(RED) {
      RED._ = translate;
      return register(RED);
    };
  });
}

const startServer = () => new Promise((r) => helper.startServer(r));
const stopServer = () => new Promise((r) => helper.stopServer(r));
const loadFlow = (nodes, flow) => new Promise((resolve, reject) => helper.load(nodes, flow, (e) => (e ? reject(e) : resolve())));

/** The flow for one series: only the settings listed in the header differ from the defaults. */
function buildFlow(s, defaults, k, direct = false, set = {}) {
  const z = 'acc-tab';
  const seq = { ...set['rnn-sequence'] };
  // The direct variant: every step 1…k as one output of the layer (the one setting beside these).
  if (direct) Object.assign(seq, { multiStep: 'direct', horizon: k });
  if (s.features) seq.features = s.features.join(', ');
  if (s.targets) seq.targets = s.targets.join(', ');
  const timeKey = timeSetting(defaults['rnn-sequence']);
  // With "auto" the node finds the time field itself ("date", "time"): nothing to change.
  if (timeKey && s.timeField && defaults['rnn-sequence'][timeKey] !== 'auto') seq[timeKey] = s.timeField;
  const layer = { ...set['rnn-layer'], ...(direct ? { outputSize: k } : {}) };
  if (defaults['rnn-layer'].projection !== true) layer.projection = true;
  const loss = { ...set['rnn-loss'] };
  const trainer = { ...set['rnn-trainer'] };
  const nodes = [
    { id: z, type: 'tab', label: `accuracy ${s.name}` },
    { id: 'acc-seq', z, type: 'rnn-sequence', ...seq, wires: [['acc-layer']] },
    { id: 'acc-layer', z, type: 'rnn-layer', ...layer, wires: [['acc-loss']] },
    { id: 'acc-loss', z, type: 'rnn-loss', ...loss, wires: [['acc-trainer']] },
    { id: 'acc-trainer', z, type: 'rnn-trainer', ...trainer, wires: [['acc-epochs'], ['acc-done'], []] },
    { id: 'acc-pred1', z, type: 'rnn-predictor', trainer: 'acc-trainer', wires: [['acc-out1']] },
    { id: 'acc-predk', z, type: 'rnn-predictor', trainer: 'acc-trainer', steps: k, wires: [['acc-outk']] },
    { id: 'acc-catch', z, type: 'catch', scope: null, uncaught: false, wires: [['acc-errors']] },
  ];
  for (const id of ['acc-epochs', 'acc-done', 'acc-out1', 'acc-outk', 'acc-errors']) nodes.push({ id, z, type: 'helper', wires: [] });
  // A node without x and y is a config node to Node-RED, which the catch node would not see.
  nodes.forEach((n, i) => n.type !== 'tab' && Object.assign(n, { x: 100 + 10 * i, y: 100 }));
  const changed = { 'rnn-sequence': seq, 'rnn-layer': layer, ...(Object.keys(loss).length ? { 'rnn-loss': loss } : {}), ...(Object.keys(trainer).length ? { 'rnn-trainer': trainer } : {}), 'rnn-predictor (1)': { trainer: 'acc-trainer' }, 'rnn-predictor (k)': { trainer: 'acc-trainer', steps: k } };
  return { nodes, changed, timeKey };
}

/** Resolves with the first of: a message on `node`, a caught error; or 'timeout' after ms. */
function waitForMessage(node, errors, ms, match = () => true) {
  return new Promise((resolve) => {
    const onMsg = (msg) => match(msg) && finish({ msg });
    const onErr = (msg) => finish({ error: msg.error ? msg.error.message : String(msg.error) });
    const timer = setTimeout(() => finish({ timeout: true }), ms);
    function finish(v) {
      clearTimeout(timer);
      node.removeListener('input', onMsg);
      errors.removeListener('input', onErr);
      resolve(v);
    }
    node.on('input', onMsg);
    errors.on('input', onErr);
  });
}

// ---------------------------------------------------------------------------------------------
// Figures

function errorsOf(pairs) {
  let se = 0;
  let ae = 0;
  for (const [f, a] of pairs) {
    se += (f - a) ** 2;
    ae += Math.abs(f - a);
  }
  const n = pairs.length;
  return n ? { rmse: Math.sqrt(se / n), mae: ae / n, n } : { rmse: null, mae: null, n: 0 };
}

/** The latest row index ≤ hi whose time is ≤ t (binary search), or −1. */
function rowAtOrBefore(times, t, hi) {
  let lo = 0;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

/**
 * Seasonal naive for the value at row `target` as known at row `origin`: the value a whole number
 * of seasons before the target, the fewest that lie at or before the origin. A season in rows
 * counts rows; one in milliseconds counts time (the latest reading at or before that instant, so a
 * gap in the readings takes the value just before it).
 */
function seasonalNaive(s, season, origin, target) {
  if (season.rows) {
    const m = Math.max(1, Math.ceil((target - origin) / season.rows));
    const i = target - m * season.rows;
    return i >= 0 ? s.values[i] : null;
  }
  const m = Math.max(1, Math.ceil((s.times[target] - s.times[origin]) / season.ms));
  const i = rowAtOrBefore(s.times, s.times[target] - m * season.ms, origin);
  return i >= 0 ? s.values[i] : null;
}

/** The main season (in rows) that the test part must hold several of. */
function mainSeasonRows(s) {
  const x = s.seasons[0];
  if (!x) return 0;
  if (x.rows) return x.rows;
  return Math.round(x.ms / ((s.times[s.times.length - 1] - s.times[0]) / (s.times.length - 1)));
}

function interval(out, step) {
  const f = out.forecast;
  if (!f || !Array.isArray(f.lower) || !Array.isArray(f.upper)) return null;
  const lo = f.lower[step] && f.lower[step][0];
  const hi = f.upper[step] && f.upper[step][0];
  return Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : null;
}

function evaluate(s, nTrain, out1, outk, k) {
  const N = s.values.length;
  const v = s.values;
  const result = { oneStep: {}, multiStep: { steps: [], origins: 0 }, missing: { oneStep: 0, multiStep: 0 }, checks: {} };

  // One step ahead: every test reading, forecast from the reading before it.
  const targets = [];
  for (let j = nTrain; j < N; j++) {
    const o = out1.get(j - 1);
    if (!o) {
      result.missing.oneStep++;
      continue;
    }
    targets.push({ j, f: o.forecast.values[0][0], iv: interval(o, 0) });
  }
  const pairs = (fn) => targets.map((t) => [fn(t), v[t.j]]);
  result.oneStep.model = errorsOf(pairs((t) => t.f));
  const naive = { persistence: errorsOf(pairs((t) => v[t.j - 1])) };
  for (const season of s.seasons) {
    const fs_ = targets.map((t) => seasonalNaive(s, season, t.j - 1, t.j));
    if (fs_.some((x) => x === null)) naive[`seasonal ${season.label}`] = { rmse: null, mae: null, n: 0, note: 'not enough data before the test part' };
    else naive[`seasonal ${season.label}`] = errorsOf(fs_.map((f, i) => [f, v[targets[i].j]]));
  }
  result.oneStep.naive = naive;
  const ranked = Object.entries(naive).filter(([, e]) => e.rmse !== null).sort((a, b) => a[1].rmse - b[1].rmse);
  const [bestName, best] = ranked[0];
  result.oneStep.best = bestName;
  result.oneStep.ratioRmse = result.oneStep.model.rmse / best.rmse;
  result.oneStep.ratioMae = result.oneStep.model.mae / Math.min(...ranked.map(([, e]) => e.mae));
  const withIv = targets.filter((t) => t.iv);
  if (withIv.length) {
    result.oneStep.interval = {
      n: withIv.length,
      coverage: withIv.filter((t) => t.iv[0] <= v[t.j] && v[t.j] <= t.iv[1]).length / withIv.length,
      meanWidth: withIv.reduce((a, t) => a + (t.iv[1] - t.iv[0]), 0) / withIv.length,
    };
  }

  // The predictor's own account (forecast.previous), as a cross-check of the figures above.
  const prev = [];
  for (let j = nTrain; j < N; j++) {
    const o = out1.get(j);
    if (o && o.forecast.previous && Number.isFinite(o.forecast.previous.error)) prev.push(o.forecast.previous.error);
  }
  if (prev.length) {
    const rmse = Math.sqrt(prev.reduce((a, e) => a + e * e, 0) / prev.length);
    result.checks.predictorPrevious = { n: prev.length, rmse, agrees: prev.length === targets.length && Math.abs(rmse - result.oneStep.model.rmse) <= 1e-9 * Math.max(1, rmse) };
  }

  // k steps ahead, from every origin whose k targets all lie in the test part (the same origins
  // for every step and every rule).
  const origins = [];
  for (let o = nTrain - 1; o + k <= N - 1; o++) {
    const got = outk.get(o);
    if (!got) result.missing.multiStep++;
    else origins.push({ o, values: got.forecast.values, out: got });
  }
  result.multiStep.origins = origins.length;
  let firstStepDiff = 0;
  for (const x of origins) {
    const one = out1.get(x.o);
    if (one) firstStepDiff = Math.max(firstStepDiff, Math.abs(one.forecast.values[0][0] - x.values[0][0]));
  }
  result.checks.firstStepMatchesOneStep = { maxAbsDiff: firstStepDiff, agrees: firstStepDiff <= 1e-9 };
  for (let step = 1; step <= k; step++) {
    const row = { step, model: errorsOf(origins.map((x) => [x.values[step - 1][0], v[x.o + step]])), persistence: errorsOf(origins.map((x) => [v[x.o], v[x.o + step]])) };
    for (const season of s.seasons) {
      const fs_ = origins.map((x) => seasonalNaive(s, season, x.o, x.o + step));
      row[`seasonal ${season.label}`] = fs_.some((f) => f === null) ? { rmse: null, mae: null, n: 0 } : errorsOf(fs_.map((f, i) => [f, v[origins[i].o + step]]));
    }
    const ivs = origins.map((x) => [interval(x.out, step - 1), v[x.o + step]]).filter(([iv]) => iv);
    if (ivs.length) row.intervalCoverage = ivs.filter(([iv, a]) => iv[0] <= a && a <= iv[1]).length / ivs.length;
    result.multiStep.steps.push(row);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// One series

async function runSeries(s, nodes, defaults, args, direct = false) {
  const N = s.values.length;
  const nTest = Math.max(Math.round(TEST_SHARE * N), TEST_SEASONS * mainSeasonRows(s));
  const nTrain = N - nTest;
  const k = s.steps;
  const window = Number(defaults['rnn-sequence'].windowLength) || 24;
  const { nodes: flow, changed, timeKey } = buildFlow(s, defaults, k, direct, args.set);
  const report = { name: direct ? `${s.name} direct` : s.name, notes: s.notes, rows: N, train: nTrain, test: nTest, k, changed, timeSetting: timeKey, seasons: s.seasons.map((x) => x.label) };

  await startServer();
  try {
    await loadFlow(nodes, flow);
    const get = (id) => helper.getNode(id);
    const errorsNode = get('acc-errors');
    const caught = [];
    errorsNode.on('input', (m) => caught.push(m.error ? m.error.message : String(m.error)));
    let epochs = 0;
    get('acc-epochs').on('input', () => epochs++);

    const t0 = Date.now();
    const finished = waitForMessage(get('acc-done'), errorsNode, args.timeout * 1000);
    get('acc-seq').receive({ topic: 'train', payload: s.rows.slice(0, nTrain) });
    const got = await finished;
    report.trainMs = Date.now() - t0;
    report.epochMessages = epochs;
    if (got.timeout) {
      report.status = `timed out after ${args.timeout} s (${epochs} epochs)`;
      return report;
    }
    if (got.error) {
      report.status = `failed: ${got.error}`;
      return report;
    }
    report.done = got.msg.payload;

    // The predictors: the last training readings (a window and up to a year more), then the test.
    const out1 = new Map();
    const outk = new Map();
    get('acc-out1').on('input', (m) => out1.set(m.idx, m));
    get('acc-outk').on('input', (m) => outk.set(m.idx, m));
    const last = N - 1;
    // Node-RED delivers a node's messages in order: once both predictors have answered the last
    // reading (a forecast, or an error caught by the catch node), every earlier one is in.
    const seen = { 'acc-pred1': false, 'acc-predk': false };
    const fed = new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 120000);
      const mark = (id) => {
        seen[id] = true;
        if (seen['acc-pred1'] && seen['acc-predk']) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      get('acc-out1').on('input', (m) => m.idx === last && mark('acc-pred1'));
      get('acc-outk').on('input', (m) => m.idx === last && mark('acc-predk'));
      errorsNode.on('input', (m) => m.idx === last && m.error && m.error.source && seen[m.error.source.id] !== undefined && mark(m.error.source.id));
    });
    const t1 = Date.now();
    const from = Math.max(0, nTrain - window - PRIME_EXTRA);
    const copy = (row) => (row !== null && typeof row === 'object' ? { ...row } : row);
    for (let i = from; i < N; i++) {
      get('acc-pred1').receive({ payload: copy(s.rows[i]), idx: i });
      get('acc-predk').receive({ payload: copy(s.rows[i]), idx: i });
    }
    const complete = await fed;
    report.feedMs = Date.now() - t1;
    report.primed = nTrain - from;
    if (!complete) report.feedNote = 'the predictors did not answer the last reading within 120 s';
    if (caught.length) report.predictorErrors = { count: caught.length, first: caught[0] };
    report.forecastKeys = out1.size ? Object.keys(out1.values().next().value.forecast) : [];
    report.figures = evaluate(s, nTrain, out1, outk, k);
    report.status = 'ok';
    return report;
  } catch (e) {
    report.status = `failed: ${e && e.stack ? e.stack : e}`;
    return report;
  } finally {
    await helper.unload();
    await stopServer();
  }
}

// ---------------------------------------------------------------------------------------------
// Printing

const fmt = (x, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));

function table(rows, align) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) => (align[c] === 'l' ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join('  ');
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n')
    .replace(/ +$/gm, '');
}

const STANDARD_DONE = new Set(['reason', 'epochs', 'bestEpoch', 'bestValLoss', 'loss', 'valLoss', 'path']);

function printReport(reports, meta) {
  const lines = [];
  const p = (s = '') => lines.push(s);
  p(`bench/accuracy.js — the default rnn chain against naive forecasts, on held-out test parts${meta.quick ? ' (--quick: shorter series)' : ''}`);
  p(`machine: ${meta.machine.cpu} ×${meta.machine.cores}, ${meta.machine.memGB} GB, ${meta.machine.platform}; Node ${meta.node}, Node-RED ${meta.nodeRed}`);
  p(`seeds: series generators ${JSON.stringify(meta.seeds)}; nodes at their defaults (rnn-sequence seed ${meta.defaults['rnn-sequence'].seed}, rnn-layer seed ${meta.defaults['rnn-layer'].seed})`);
  p(`defaults read from nodes/*.html:`);
  for (const [type, d] of Object.entries(meta.defaults)) p(`  ${type}: ${Object.entries(d).filter(([key]) => key !== 'name').map(([key, val]) => `${key}=${JSON.stringify(val)}`).join(' ')}`);
  const layerChange = meta.defaults['rnn-layer'].projection !== true ? 'rnn-layer projection=true (the one layer needs an output per target); ' : '';
  p(`changed from them: ${layerChange}rnn-sequence fields per series where a series has several columns; predictors trainer=<the trainer>, steps=k;`);
  if (Object.keys(meta.set).length) p(`  and on every series (--set): ${Object.entries(meta.set).map(([t, o]) => `${t} ${Object.entries(o).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`).join('; ')}`);
  p(`  rows "<series> direct" also: rnn-sequence multiStep=direct, horizon=k; rnn-layer outputSize=k (every step 1…k trained as one output)`);
  p();
  p('One step ahead, test part (RMSE / MAE in the series\' units; ratio = model ÷ best naive rule, < 1: the model wins)');
  const head = ['series', 'train', 'test', 'model RMSE', 'MAE', 'persist RMSE', 'MAE', 'seasonal (s) RMSE', 'MAE', 'best naive', 'ratio RMSE', 'ratio MAE', 'interval cov.', 'training'];
  const rows = [head];
  for (const r of reports) {
    if (r.status !== 'ok') {
      rows.push([r.name, r.train, r.test, r.status.split('\n')[0].slice(0, 60), '', '', '', '', '', '', '', '', '', '']);
      continue;
    }
    const f = r.figures.oneStep;
    const seasonal = Object.entries(f.naive).filter(([n, e]) => n.startsWith('seasonal') && e.rmse !== null).sort((a, b) => a[1].rmse - b[1].rmse)[0];
    const d = r.done || {};
    rows.push([
      r.name,
      r.train,
      r.test,
      fmt(f.model.rmse),
      fmt(f.model.mae),
      fmt(f.naive.persistence.rmse),
      fmt(f.naive.persistence.mae),
      seasonal ? `(${seasonal[0].slice(9)}) ${fmt(seasonal[1].rmse)}` : '—',
      seasonal ? fmt(seasonal[1].mae) : '—',
      f.best,
      fmt(f.ratioRmse, 2),
      fmt(f.ratioMae, 2),
      f.interval ? `${(100 * f.interval.coverage).toFixed(1)} %` : '—',
      `${d.reason} ${d.bestEpoch}/${d.epochs}`,
    ]);
  }
  p(table(rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'r', 'r', 'r', 'l']));
  p();
  p('k steps ahead (recursive forecast, rnn predictor steps: k), RMSE by step; the same origins for every step and rule');
  const mrows = [['series', 'rule', 'origins', ...SHOW_STEPS.map((x) => `step ${x}`), 'step k', 'mean 1..k']];
  for (const r of reports) {
    if (r.status !== 'ok') continue;
    const steps = r.figures.multiStep.steps;
    const names = Object.keys(steps[0]).filter((n) => n !== 'step' && n !== 'intervalCoverage');
    names.forEach((n, i) => {
      const at = (x) => (x <= r.k ? fmt(steps[x - 1][n].rmse) : '');
      const mean = steps.every((x) => x[n].rmse !== null) ? steps.reduce((a, x) => a + x[n].rmse, 0) / steps.length : null;
      mrows.push([i === 0 ? `${r.name} (k=${r.k})` : '', n, i === 0 ? r.figures.multiStep.origins : '', ...SHOW_STEPS.map(at), fmt(steps[r.k - 1][n].rmse), fmt(mean)]);
    });
    if (steps[0].intervalCoverage !== undefined) {
      mrows.push(['', 'interval cov.', '', ...SHOW_STEPS.map((x) => (x <= r.k && steps[x - 1].intervalCoverage !== undefined ? `${(100 * steps[x - 1].intervalCoverage).toFixed(0)}%` : '')), `${(100 * steps[r.k - 1].intervalCoverage).toFixed(0)}%`, '']);
    }
  }
  p(table(mrows, ['l', 'l', 'r', ...SHOW_STEPS.map(() => 'r'), 'r', 'r']));
  p();
  p('Details');
  for (const r of reports) {
    p(`  ${r.name}: ${r.notes}`);
    p(`    split: ${r.train} training rows (the sequence node keeps its last 20 % for validation), ${r.test} test rows; naive seasons: ${r.seasons.length ? r.seasons.join(', ') : 'none'}; multi-step k = ${r.k}`);
    p(`    settings changed: ${JSON.stringify(r.changed)}${r.timeSetting ? '' : ' (the sequence node has no time-field setting yet)'}`);
    if (r.done) {
      const d = r.done;
      const extra = Object.fromEntries(Object.entries(d).filter(([key]) => !STANDARD_DONE.has(key)));
      p(`    trainer done: reason ${d.reason}, epochs ${d.epochs}, best epoch ${d.bestEpoch}, best val loss ${fmt(d.bestValLoss, 5)}${Object.keys(extra).length ? `, more: ${JSON.stringify(extra)}` : ''}`);
    }
    if (r.status !== 'ok') {
      p(`    ${r.status}`);
      continue;
    }
    const f = r.figures;
    p(`    one step: ${Object.entries(f.oneStep.naive).map(([n, e]) => `${n} ${fmt(e.rmse)}/${fmt(e.mae)}${e.note ? ` (${e.note})` : ''}`).join(', ')} (RMSE/MAE); model ${fmt(f.oneStep.model.rmse)}/${fmt(f.oneStep.model.mae)} on ${f.oneStep.model.n} targets`);
    if (f.oneStep.interval) p(`    interval: ${f.oneStep.interval.n} one-step intervals, coverage ${(100 * f.oneStep.interval.coverage).toFixed(1)} %, mean width ${fmt(f.oneStep.interval.meanWidth)}`);
    else p(`    interval: the forecasts carry no lower/upper (forecast fields: ${r.forecastKeys.join(', ')})`);
    const c = f.checks;
    p(`    checks: predictor's own forecast.previous RMSE ${c.predictorPrevious ? `${fmt(c.predictorPrevious.rmse)} on ${c.predictorPrevious.n} (${c.predictorPrevious.agrees ? 'agrees' : 'DIFFERS'})` : 'not reported'}; step 1 of the k-step predictor = the 1-step forecast: ${c.firstStepMatchesOneStep.agrees ? 'yes' : `NO (max diff ${c.firstStepMatchesOneStep.maxAbsDiff})`}; missing forecasts: ${f.missing.oneStep} one-step, ${f.missing.multiStep} k-step`);
    if (r.predictorErrors) p(`    predictor errors: ${r.predictorErrors.count}, first: ${r.predictorErrors.first}`);
    if (r.feedNote) p(`    ${r.feedNote}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

/**
 * --seeds: the recursive chain on each series once per rnn layer seed (on top of any --set), and
 * one line per series with the one-step ratio for each seed, their mean, and the range. Where
 * early stopping lands moves with the seed; this shows by how much. True when a run failed.
 */
async function seedSweep(args, names, nodes, defaults, meta, started) {
  const rows = [['series', ...args.seeds.map((x) => `seed ${x}`), 'mean', 'min', 'max']];
  const json = [];
  let failed = false;
  for (const name of names) {
    const s = SERIES[name]({ quick: args.quick, seed: SEEDS[name] });
    const ratios = [];
    for (const seed of args.seeds) {
      const set = { ...args.set, 'rnn-layer': { ...args.set['rnn-layer'], seed } };
      const r = await runSeries(s, nodes, defaults, { ...args, set });
      process.stderr.write(`${name} seed ${seed}: ${r.status.split('\n')[0]}\n`);
      failed = failed || r.status !== 'ok';
      ratios.push(r.status === 'ok' ? r.figures.oneStep.ratioRmse : NaN);
    }
    const ok = ratios.filter(Number.isFinite);
    json.push({ name, seeds: args.seeds, ratios });
    rows.push([name, ...ratios.map((x) => fmt(x)), fmt(ok.reduce((a, b) => a + b, 0) / ok.length), fmt(Math.min(...ok)), fmt(Math.max(...ok))]);
  }
  console.log(`bench/accuracy.js --seeds: one-step RMSE ratio (model ÷ best naive rule) of the recursive default chain per rnn layer seed${Object.keys(args.set).length ? `; --set ${JSON.stringify(args.set)}` : ''}${args.quick ? ' (--quick)' : ''}`);
  console.log(`machine: ${meta.machine.cpu} ×${meta.machine.cores}; Node ${meta.node}, Node-RED ${meta.nodeRed}`);
  console.log(table(rows, ['l', ...args.seeds.map(() => 'r'), 'r', 'r', 'r']));
  console.log(`total ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (args.json) fs.writeFileSync(args.json, JSON.stringify({ meta, seeds: json }, null, 2));
  return failed;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(DIST, 'rnn-sequence.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const defaults = Object.fromEntries(TYPES.map((t) => [t, editorDefaults(t)]));
  const nodes = loadNodes();
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-accuracy-'));
  helper.settings({ userDir });
  const names = args.series ? [args.series] : Object.keys(SERIES);
  const meta = {
    quick: args.quick,
    node: process.version,
    nodeRed: require(path.join(path.dirname(require.resolve('node-red/package.json')), 'package.json')).version,
    machine: { cpu: os.cpus()[0] ? os.cpus()[0].model.trim() : 'unknown', cores: os.cpus().length, memGB: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}` },
    seeds: SEEDS,
    defaults,
    set: args.set,
  };
  const started = Date.now();
  if (args.seeds) {
    const failed = await seedSweep(args, names, nodes, defaults, meta, started);
    fs.rmSync(userDir, { recursive: true, force: true });
    process.exit(failed ? 1 : 0);
  }
  const reports = [];
  for (const name of names) {
    const s = SERIES[name]({ quick: args.quick, seed: SEEDS[name] });
    process.stderr.write(`${name}: ${s.values.length} rows, training…\n`);
    const r = await runSeries(s, nodes, defaults, args);
    process.stderr.write(`${name}: ${r.status.split('\n')[0]} (training ${(r.trainMs / 1000).toFixed(1)} s)\n`);
    reports.push(r);
    if (args.direct) {
      // The same series with multi-step "direct": all k steps trained as one output.
      const d = await runSeries(s, nodes, defaults, args, true);
      process.stderr.write(`${name} direct: ${d.status.split('\n')[0]} (training ${(d.trainMs / 1000).toFixed(1)} s)\n`);
      reports.push(d);
    }
  }
  const totalMs = Date.now() - started;
  console.log(printReport(reports, meta));
  console.log();
  console.log(`wall clock (changes from run to run): ${reports.map((r) => `${r.name} training ${fmt((r.trainMs || 0) / 1000, 1)} s, forecasts ${fmt((r.feedMs || 0) / 1000, 1)} s`).join('; ')}; total ${(totalMs / 1000).toFixed(1)} s`);
  if (args.json) {
    fs.writeFileSync(args.json, JSON.stringify({ meta, totalMs, series: reports }, null, 2));
    console.log(`figures written to ${args.json}`);
  }
  fs.rmSync(userDir, { recursive: true, force: true });
  // The test helper leaves Node-RED's timers behind; the figures are out, so end here.
  process.exit(reports.every((r) => r.status === 'ok') ? 0 : 1);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(2);
});
