#!/usr/bin/env node
"use strict";
/**
 * Draws docs/screenshots/bench.png: the training-epoch time of every implementation the
 * benchmarks measure, from real runs. By default it runs the three benchmarks itself
 * (bench/core.js, bench/peers.js, bench/parallel.js, each with --json); with --from it draws
 * results saved earlier:
 *
 *   npm run build && node scripts/plot-bench.js
 *   node scripts/plot-bench.js --from core.json peers.json parallel.json [--out file.png] [--svg file.svg]
 *
 * The chart is an SVG built here and rendered to PNG by headless Chromium through playwright-core
 * (`npm install --no-save playwright-core`; Chromium from the system, or CHROMIUM_PATH).
 *
 * Bars are grouped by the run they come from and each group keeps its own bar for our fast
 * backend: figures from different processes are not mixed, every comparison is within one run.
 */
const fs = require("fs");
const os = require("os");
const path = require("path");
const { spawnSync } = require("child_process");

const ROOT = path.join(__dirname, "..");
const DEFAULT_OUT = path.join(ROOT, "docs", "screenshots", "bench.png");

function args() {
  const argv = process.argv.slice(2);
  const out = { from: null, out: DEFAULT_OUT, svg: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--from") {
      out.from = [];
      while (argv[i + 1] && !argv[i + 1].startsWith("--")) out.from.push(argv[++i]);
    } else if (argv[i] === "--out") out.out = argv[++i];
    else if (argv[i] === "--svg") out.svg = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return out;
}

/** Runs one benchmark with --json into a temporary file and returns what it wrote. */
function runBench(script) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rnn-plot-"));
  const file = path.join(dir, "result.json");
  process.stderr.write(`running ${script}…\n`);
  try {
    const r = spawnSync(process.execPath, [path.join(ROOT, "bench", script), "--json", file], { stdio: ["ignore", "ignore", "inherit"] });
    if (r.status !== 0) throw new Error(`${script} failed (exit ${r.status})`);
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The groups of bars: [{ title, bars: [{ label, median, min, max, ours }] }]. */
function groups(results) {
  const byBench = {};
  for (const r of results) byBench[r.bench] = r;
  const out = [];
  // Our bars stand out, the default path (the wasm backend on the calling thread) the most.
  const bar = (label, s, main = false) => ({ label, median: s.median, min: s.min, max: s.max, ours: label.startsWith("node-red-rnn"), main });
  if (byBench.core) {
    const rename = {
      "ours, fast backend": "node-red-rnn, fast backend",
      "ours, wasm backend": "node-red-rnn, wasm backend (the default)",
      "ours, reference backend": "node-red-rnn, mathjs reference backend",
    };
    out.push({
      title: "bench/core.js — against a hand-written Float64Array loop",
      bars: byBench.core.training.map((t) => bar(rename[t.name] || t.name, t, t.name === "ours, wasm backend")),
    });
  }
  if (byBench.peers) {
    out.push({
      title: "bench/peers.js — against brain.js and TensorFlow.js (cpu)",
      bars: byBench.peers.training.map((t) => {
        const ours = t.name.startsWith("ours");
        const label = ours ? "node-red-rnn, fast backend" : t.name.startsWith("brain.js") ? `${t.name} (relu, batch 1)` : t.name;
        return bar(label, t, ours);
      }),
    });
  }
  if (byBench.parallel) {
    const b32 = byBench.parallel.batches.find((b) => b.batchSize === 32) || byBench.parallel.batches[0];
    out.push({
      title: `bench/parallel.js — worker threads, batch ${b32.batchSize}`,
      bars: b32.rows.map((r) => bar(r.workers ? `node-red-rnn, ${r.name.replace("ParallelTrainer, ", "")}` : "node-red-rnn, model.fit (calling thread)", r, !r.workers)),
    });
  }
  if (!out.length) throw new Error("no benchmark results to draw");
  return out;
}

function escapeXml(s) {
  return String(s).replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]);
}

function formatMs(v) {
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
  if (v >= 100) return `${v.toFixed(0)} ms`;
  return `${v.toFixed(1)} ms`;
}

/** A horizontal bar chart on a logarithmic time axis, so that ratios read as equal lengths. */
function svgChart(chartGroups, meta) {
  const W = 1000;
  // Room for the longest label at about 7 px per character of the 13 px font.
  const left = 30 + Math.max(...chartGroups.flatMap((g) => g.bars.map((b) => b.label.length))) * 7;
  const right = 110;
  const barH = 20;
  const gap = 8;
  const plotW = W - left - right;
  const all = chartGroups.flatMap((g) => g.bars);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...all.map((b) => b.min))) - 1e-9));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all.map((b) => b.max)))));
  const x = (v) => left + (plotW * (Math.log10(v) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));
  const parts = [];
  let y = 86;
  const top = y;
  for (const g of chartGroups) {
    parts.push(`<text x="16" y="${y + 14}" class="group">${escapeXml(g.title)}</text>`);
    y += 26;
    for (const b of g.bars) {
      const cls = b.main ? "bar main" : b.ours ? "bar ours" : "bar";
      parts.push(`<text x="${left - 10}" y="${y + 14}" class="label" text-anchor="end">${escapeXml(b.label)}</text>`);
      parts.push(`<rect x="${left}" y="${y}" width="${Math.max(1, x(b.median) - left).toFixed(1)}" height="${barH}" class="${cls}"/>`);
      const cy = y + barH / 2;
      parts.push(`<line x1="${x(b.min).toFixed(1)}" x2="${x(b.max).toFixed(1)}" y1="${cy}" y2="${cy}" class="whisker"/>`);
      parts.push(`<line x1="${x(b.min).toFixed(1)}" x2="${x(b.min).toFixed(1)}" y1="${cy - 5}" y2="${cy + 5}" class="whisker"/>`);
      parts.push(`<line x1="${x(b.max).toFixed(1)}" x2="${x(b.max).toFixed(1)}" y1="${cy - 5}" y2="${cy + 5}" class="whisker"/>`);
      parts.push(`<text x="${(Math.max(x(b.max), x(b.median)) + 8).toFixed(1)}" y="${y + 14}" class="value">${escapeXml(formatMs(b.median))}</text>`);
      y += barH + gap;
    }
    y += 14;
  }
  const bottom = y - 14;
  const grid = [];
  for (let decade = lo; decade <= hi; decade *= 10) {
    for (const m of [1, 2, 5]) {
      const v = decade * m;
      if (v < lo || v > hi) continue;
      const gx = x(v).toFixed(1);
      grid.push(`<line x1="${gx}" x2="${gx}" y1="${top - 6}" y2="${bottom}" class="${m === 1 ? "grid major" : "grid"}"/>`);
      grid.push(`<text x="${gx}" y="${bottom + 18}" class="tick" text-anchor="middle">${v >= 1000 ? `${v / 1000} s` : `${v} ms`}</text>`);
    }
  }
  const H = bottom + 64;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<style>
  text { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; fill: #222; }
  .title { font-size: 19px; font-weight: bold; }
  .subtitle { font-size: 12.5px; fill: #555; }
  .group { font-size: 14px; font-weight: bold; fill: #333; }
  .label { font-size: 13px; }
  .value { font-size: 12.5px; fill: #333; }
  .tick { font-size: 11.5px; fill: #666; }
  .bar { fill: #b8bcc6; }
  .bar.ours { fill: #b9abe4; }
  .bar.main { fill: #7b61c9; }
  .whisker { stroke: #333; stroke-width: 1.2; }
  .grid { stroke: #e6e6e6; stroke-width: 1; }
  .grid.major { stroke: #cfcfcf; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="16" y="30" class="title">Training one epoch of the reference task (lower is faster)</text>
<text x="16" y="52" class="subtitle">${escapeXml(meta.task)}</text>
<text x="16" y="70" class="subtitle">${escapeXml(`median of the timed epochs, whiskers min–max, logarithmic axis · ${meta.machine} · ${meta.date}`)}</text>
${grid.join("\n")}
${parts.join("\n")}
<text x="16" y="${bottom + 44}" class="subtitle">${escapeXml("Each group is one run of one benchmark script; compare bars within a group. brain.js: see the notes in docs/performance.md.")}</text>
</svg>`;
}

function findChromium() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const dir of (process.env.PATH || "").split(path.delimiter)) {
    for (const name of ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]) {
      const candidate = path.join(dir, name);
      if (fs.existsSync(candidate)) return candidate;
    }
  }
  return null;
}

async function renderPng(svg, outFile) {
  let chromium;
  try {
    ({ chromium } = require("playwright-core"));
  } catch {
    throw new Error("playwright-core is not installed: `npm install --no-save playwright-core` (or draw the SVG with --svg)");
  }
  const executablePath = findChromium();
  if (!executablePath) throw new Error("no Chromium found on the PATH: install it (e.g. apt-get install chromium) or set CHROMIUM_PATH");
  const browser = await chromium.launch({
    executablePath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage({ deviceScaleFactor: 2 });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    const chart = await page.$("svg");
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    await chart.screenshot({ path: outFile });
  } finally {
    await browser.close();
  }
}

async function main() {
  const opts = args();
  const results = opts.from ? opts.from.map((f) => JSON.parse(fs.readFileSync(f, "utf8"))) : ["core.js", "peers.js", "parallel.js"].map(runBench);
  const meta = {
    machine: results[0].machine,
    date: new Date().toISOString().slice(0, 10),
    task: "sine + noise, 2,000 points → 1,976 windows of 24 · Elman tanh H=32 · MSE on the last step · SGD lr 0.01, batch 32 · float64 (tfjs and brain.js float32)",
  };
  const svg = svgChart(groups(results), meta);
  if (opts.svg) fs.writeFileSync(opts.svg, svg);
  await renderPng(svg, opts.out);
  console.log(`wrote ${path.relative(process.cwd(), opts.out)}`);
}

main().catch((err) => {
  console.error(err.message || err);
  process.exitCode = 1;
});
