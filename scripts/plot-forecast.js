"use strict";
// Draws docs/screenshots/forecast.png from a real run of the core library: the Seattle example's
// network (next-day maximum temperature) trained on 2012–2015 minus the last 9 weeks, then its
// loss curves and its next-day forecasts for those 9 weeks against what happened. The chart is an
// SVG built here and turned into a PNG by the same headless Chromium the browser test uses.
//
//   npm run build && node scripts/plot-forecast.js        (CHROMIUM_PATH overrides /usr/bin/chromium)
const fs = require("fs");
const path = require("path");
const { Model, prepareDataset } = require("../dist/src");

const root = path.join(__dirname, "..");
const OUT = path.join(root, "docs", "screenshots", "forecast.png");
const CSV = path.join(root, "data", "seattle-weather.csv");
const WINDOW = 30;
const HELD_OUT = 63;
const FEATURES = ["temp_max", "season_sin", "season_cos"];

/** The CSV's rows with the time of year added as a point on a circle, as the example does. */
function readRows() {
  const [header, ...lines] = fs.readFileSync(CSV, "utf8").trim().split(/\r?\n/);
  const cols = header.split(",");
  return lines.map((line) => {
    const cells = line.split(",");
    const date = cells[cols.indexOf("date")];
    const day = new Date(`${date}T00:00:00Z`);
    const angle = (2 * Math.PI * ((day - Date.UTC(day.getUTCFullYear(), 0, 1)) / 864e5)) / 365.25;
    return { date, temp_max: Number(cells[cols.indexOf("temp_max")]), season_sin: Math.sin(angle), season_cos: Math.cos(angle) };
  });
}

function train(rows) {
  const data = prepareDataset(rows.slice(0, rows.length - HELD_OUT), {
    fields: FEATURES,
    features: FEATURES,
    targets: ["temp_max"],
    length: WINDOW,
    horizon: 1,
    scaling: "zscore",
    validationSplit: 0.2,
  });
  const model = Model.create({ inputSize: FEATURES.length, layers: [{ hiddenSize: 32, activation: "tanh" }, { hiddenSize: 16, activation: "tanh", outputSize: 1 }], seed: 1 });
  const fit = model.fit(data.train, { epochs: 40, batchSize: 64, optimizer: "adam", learningRate: 0.002, clipNorm: 1, patience: 10, seed: 1, validation: data.validation });
  return { model, scaler: data.scaler.toJSON(), fit };
}

/** Next-day forecasts (°C) for each of the held-out days, each from the 30 real days before it. */
function forecastHeldOut(rows, model, scaler) {
  const { offset, scale } = scaler.features;
  const out = [];
  for (let i = rows.length - HELD_OUT; i < rows.length; i++) {
    const window = rows.slice(i - WINDOW, i).map((r) => FEATURES.map((f, k) => (r[f] - offset[k]) / scale[k]));
    const y = model.predict([window]);
    out.push(y[0][WINDOW - 1][0] * scaler.targets.scale[0] + scaler.targets.offset[0]);
  }
  return out;
}

// ---- a small SVG line chart ----

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;");

function niceTicks(lo, hi, count) {
  const step0 = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0);
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) ticks.push(Number(v.toPrecision(10)));
  return ticks;
}

/** One panel: axes, grid, and the given series; returns SVG text. */
function panel({ x, y, w, h, title, xLabel, yLabel, xTicks, series, xMin, xMax }) {
  const all = series.flatMap((s) => s.points.map((p) => p[1]));
  let yMin = Math.min(...all);
  let yMax = Math.max(...all);
  const pad = (yMax - yMin) * 0.08 || 1;
  yMin -= pad;
  yMax += pad;
  const px = (v) => x + ((v - xMin) / (xMax - xMin)) * w;
  const py = (v) => y + h - ((v - yMin) / (yMax - yMin)) * h;
  const parts = [`<text x="${x}" y="${y - 38}" class="title">${esc(title)}</text>`];
  for (const t of niceTicks(yMin, yMax, 5)) {
    parts.push(`<line x1="${x}" x2="${x + w}" y1="${py(t)}" y2="${py(t)}" class="grid"/>`);
    parts.push(`<text x="${x - 8}" y="${py(t) + 4}" class="tick" text-anchor="end">${t}</text>`);
  }
  for (const [v, label] of xTicks) {
    parts.push(`<line x1="${px(v)}" x2="${px(v)}" y1="${y + h}" y2="${y + h + 5}" class="axis"/>`);
    parts.push(`<text x="${px(v)}" y="${y + h + 20}" class="tick" text-anchor="middle">${esc(label)}</text>`);
  }
  parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" class="frame"/>`);
  parts.push(`<text x="${x + w / 2}" y="${y + h + 42}" class="label" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(${x - 48},${y + h / 2}) rotate(-90)" class="label" text-anchor="middle">${esc(yLabel)}</text>`);
  // The legend is one row between the title and the plot, so that it never hides a line.
  let lx = x;
  series.forEach((s) => {
    const d = s.points.map(([a, b], i) => `${i ? "L" : "M"}${px(a).toFixed(1)},${py(b).toFixed(1)}`).join(" ");
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width || 2}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`);
    const ly = y - 12;
    parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`);
    parts.push(`<text x="${lx + 30}" y="${ly}" class="legend">${esc(s.name)}</text>`);
    lx += 30 + s.name.length * 7.4 + 18;
  });
  return parts.join("\n");
}

function chart(rows, fit, forecasts) {
  const W = 1200;
  const H = 505;
  const history = fit.history;
  const epochTicks = niceTicks(1, history.length, 6).filter((v) => Number.isInteger(v)).map((v) => [v, String(v)]);
  const lossPanel = panel({
    x: 90, y: 120, w: 420, h: 320,
    title: "Training: loss per epoch (scaled units)",
    xLabel: `epoch (best ${fit.bestEpoch}, ${fit.reason})`,
    yLabel: "mean squared error",
    xMin: 1, xMax: history.length, xTicks: epochTicks,
    series: [
      { name: "training", color: "#6b4fbb", points: history.map((e) => [e.epoch, e.loss]) },
      { name: "validation (last 20 %)", color: "#e07b00", points: history.map((e) => [e.epoch, e.valLoss]) },
    ],
  });
  const held = rows.slice(rows.length - HELD_OUT);
  const actual = held.map((r) => r.temp_max);
  const persistence = rows.slice(rows.length - HELD_OUT - 1, rows.length - 1).map((r) => r.temp_max);
  const mae = (a) => a.reduce((s, v, i) => s + Math.abs(v - actual[i]), 0) / actual.length;
  const dayTicks = held.map((r, i) => [i, r.date]).filter(([i]) => i % 14 === 0).map(([i, d]) => [i, d.slice(5)]);
  const forecastPanel = panel({
    x: 640, y: 120, w: 520, h: 320,
    title: `Next-day forecasts, ${held[0].date} to ${held[held.length - 1].date} (held out)`,
    xLabel: `MAE: network ${mae(forecasts).toFixed(2)} °C, persistence ${mae(persistence).toFixed(2)} °C`,
    yLabel: "daily maximum temperature (°C)",
    xMin: 0, xMax: held.length - 1, xTicks: dayTicks,
    series: [
      { name: "what happened", color: "#333333", width: 2.5, points: actual.map((v, i) => [i, v]) },
      { name: "network's forecast", color: "#6b4fbb", points: forecasts.map((v, i) => [i, v]) },
      { name: "persistence (yesterday)", color: "#9a9a9a", dash: "5 4", width: 1.5, points: persistence.map((v, i) => [i, v]) },
    ],
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<style>
  text { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; fill: #222; }
  .title { font-size: 16px; font-weight: bold; }
  .heading { font-size: 20px; font-weight: bold; }
  .tick { font-size: 12px; fill: #555; }
  .label { font-size: 13px; }
  .legend { font-size: 13px; }
  .grid { stroke: #e6e6e6; }
  .axis { stroke: #888; }
  .frame { fill: none; stroke: #888; }
</style>
<rect width="${W}" height="${H}" fill="#ffffff"/>
<text x="90" y="40" class="heading">Seattle, daily maximum temperature: an Elman RNN from @rnnflow/node-red-rnn</text>
${lossPanel}
${forecastPanel}
</svg>`;
}

async function main() {
  const { chromium } = require("playwright-core");
  const rows = readRows();
  const { model, scaler, fit } = train(rows);
  const forecasts = forecastHeldOut(rows, model, scaler);
  const svg = chart(rows, fit, forecasts);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 505 }, deviceScaleFactor: 1 });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    await page.locator("svg").screenshot({ path: OUT });
  } finally {
    await browser.close();
  }
  console.log(`${path.relative(process.cwd(), OUT)}: ${fit.history.length} epochs (${fit.reason}), best validation loss ${fit.bestValLoss.toFixed(4)} at epoch ${fit.bestEpoch}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
