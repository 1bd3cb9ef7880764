"use strict";
// The message catalogues against the code that reads them: every key the runtime or the editor
// asks for exists, every key a catalogue carries is asked for, and no status text is an English
// literal. The sources are read as text (nodes/*.ts, nodes/shared/*.ts, nodes/*.html,
// resources/*.js), so a string moved back into the code, or a key renamed on one side only, fails here.
const assert = require("assert");
const fs = require("fs");
const path = require("path");

const ROOT = path.join(__dirname, "..", "..");
const NODES = path.join(ROOT, "nodes");
const TYPES = ["rnn-sequence", "rnn-layer", "rnn-loss", "rnn-trainer", "rnn-predictor"];
const NAMESPACES = [...TYPES, "rnn-sidebar"];
const KEY_HEADS = "(?:status|errors|warnings|log|saveReasons|label|options|placeholder)";

/**
 * Keys built at run time from a prefix and a value: the scan cannot see them, so each such site is
 * listed here with every key it can build. A dynamic site the scan finds that is not listed fails
 * the test, so this list cannot fall behind the code.
 */
const DYNAMIC = [
  // nodes/rnn-layer.ts: the cell's name in the status (only for the gated cells).
  { file: "nodes/rnn-layer.ts", prefix: "rnn-layer.options.cell.", keys: ["lstm", "gru"] },
  // nodes/rnn-layer.html: the cell's name in the node's label (only for the gated cells).
  { file: "nodes/rnn-layer.html", prefix: "rnn-layer.options.cell.", keys: ["lstm", "gru"] },
  // nodes/rnn-layer.html: the node's label, with or without the cell's name and the projection.
  { file: "nodes/rnn-layer.html", prefix: "rnn-layer.label.", keys: ["summary", "summaryProjection", "summaryCell", "summaryCellProjection"] },
  // nodes/rnn-trainer.html: the output port labels.
  { file: "nodes/rnn-trainer.html", prefix: "rnn-trainer.label.", keys: ["outputEpoch", "outputDone", "outputChart"] },
  // nodes/rnn-trainer.html and rnn-predictor.html: the problem resources/rnn-editor.js finds in a model path.
  { file: "nodes/rnn-trainer.html", prefix: "rnn-trainer.errors.", keys: ["modelPath", "modelPathOutside"] },
  { file: "nodes/rnn-predictor.html", prefix: "rnn-predictor.errors.", keys: ["modelPath", "modelPathOutside"] },
  // nodes/shared/saveDecision.ts: why a run saves without comparing (its none(key) names the reason).
  { file: "nodes/shared/saveDecision.ts", prefix: "rnn-trainer.saveReasons.", keys: ["always", "noValidation", "noSaved", "mismatch", "unreadable"] },
  // nodes/shared/messageBudget.ts: the note put in place of an oversized payload, for the nodes with a limit.
  { file: "nodes/shared/messageBudget.ts", prefix: "*.errors.removed", keys: ["rnn-layer", "rnn-loss"].map((t) => `${t}.errors.removed`) },
  // resources/rnn-editor.js: every node's palette label.
  { file: "resources/rnn-editor.js", prefix: "*.paletteLabel", keys: TYPES.map((t) => `${t}.paletteLabel`) },
  // resources/rnn-sidebar.js: a finished run's state (docs/nodes.md lists the reasons a run ends with).
  { file: "resources/rnn-sidebar.js", prefix: "rnn-sidebar.state.", keys: ["running", "completed", "early-stopped", "stopped", "diverged", "failed"] },
];

function flatten(obj, prefix, out) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === "string") out.push(key);
    else if (v && typeof v === "object") flatten(v, key, out);
  }
  return out;
}

function catalogueKeys() {
  const keys = new Set();
  for (const ns of NAMESPACES) {
    const file = path.join(NODES, "locales", "en-US", `${ns}.json`);
    for (const k of flatten(JSON.parse(fs.readFileSync(file, "utf8")), "", [])) keys.add(k);
  }
  return keys;
}

function read(rel) {
  return fs.readFileSync(path.join(ROOT, rel), "utf8");
}

function filesIn(dir, ext) {
  return fs.readdirSync(path.join(ROOT, dir)).filter((f) => f.endsWith(ext)).map((f) => `${dir}/${f}`).sort();
}

function matches(text, re) {
  return Array.from(text.matchAll(re), (m) => m);
}

/** Node types whose runtime file imports a shared module, so its relative keys belong to their catalogues. */
function importersOf(sharedFile) {
  const name = path.basename(sharedFile, ".ts");
  return TYPES.filter((t) => new RegExp(`from "\\./shared/${name}"`).test(read(`nodes/${t}.ts`)));
}

/** What the scan finds: the keys used, with the file that uses each, and the dynamic sites. */
function scan() {
  const used = []; // { key, file }
  const dynamic = []; // { file, prefix }
  const full = new RegExp(`["'\`](${NAMESPACES.join("|")})\\.([\\w.-]*[\\w-])["'\`]`, "g");
  const relative = new RegExp(`["'\`](${KEY_HEADS}\\.[\\w.-]*[\\w-])["'\`]`, "g");

  const runtime = [...TYPES.map((t) => `nodes/${t}.ts`), ...filesIn("nodes/shared", ".ts")];
  for (const file of runtime) {
    const text = read(file);
    const owners = file.startsWith("nodes/shared/") ? importersOf(file) : [path.basename(file, ".ts")];
    for (const m of matches(text, full)) used.push({ key: `${m[1]}.${m[2]}`, file });
    for (const m of matches(text, relative)) for (const t of owners) used.push({ key: `${t}.${m[1]}`, file });
    // t(`options.cell.${…}`): a relative key with a value in it.
    for (const m of matches(text, new RegExp(`\`(${KEY_HEADS}\\.[\\w.]*)\\$\\{`, "g"))) for (const t of owners) dynamic.push({ file, prefix: `${t}.${m[1]}` });
    // RED._(`${type}.errors.removed`): a key of whichever node passes its type.
    for (const m of matches(text, /`\$\{type\}(\.[\w.]+)`/g)) dynamic.push({ file, prefix: `*${m[1]}` });
  }

  const editor = [...filesIn("nodes", ".html"), ...filesIn("resources", ".js")];
  for (const file of editor) {
    const text = read(file);
    // (an icon's file name, "rnn-layer.svg", is not a key)
    for (const m of matches(text, full)) if (!m[2].endsWith("svg")) used.push({ key: `${m[1]}.${m[2]}`, file });
    for (const m of matches(text, /data-i18n="([^"]*)"/g)) {
      for (const part of m[1].split(";")) used.push({ key: part.replace(/^\[[^\]]*\]/, ""), file });
    }
    // The sidebar's _("list.none") reads "rnn-sidebar.list.none".
    for (const m of matches(text, /\b_\(\s*"([\w.-]*[\w-])"/g)) if (!NAMESPACES.some((ns) => m[1].startsWith(`${ns}.`))) used.push({ key: `rnn-sidebar.${m[1]}`, file });
    // "rnn-trainer.label." + name, _("state." + state), type + ".paletteLabel"
    for (const m of matches(text, new RegExp(`"((?:${NAMESPACES.join("|")})\\.[\\w.]*\\.)"\\s*\\+`, "g"))) dynamic.push({ file, prefix: m[1] });
    for (const m of matches(text, /\b_\(\s*"([\w.]+\.)"\s*\+/g)) dynamic.push({ file, prefix: `rnn-sidebar.${m[1]}` });
    for (const m of matches(text, /\btype\s*\+\s*"(\.[\w.]+)"/g)) dynamic.push({ file, prefix: `*${m[1]}` });
  }
  return { used, dynamic };
}

function dynamicKeys() {
  return DYNAMIC.flatMap((d) => d.keys.map((k) => ({ key: d.prefix.startsWith("*") ? k : d.prefix + k, file: d.file })));
}

describe("message catalogues", function () {
  const keys = catalogueKeys();
  const { used, dynamic } = scan();

  it("finds the keys the code asks for (the scan itself works)", function () {
    // A scan that found nothing would pass every test below.
    assert.ok(used.length > 300, `only ${used.length} key uses found`);
    for (const ns of NAMESPACES) assert.ok(used.some((u) => u.key.startsWith(`${ns}.`)), `no key of ${ns} found`);
  });

  it("has every key the runtime and the editor ask for", function () {
    const missing = [...used, ...dynamicKeys()].filter((u) => !keys.has(u.key)).map((u) => `${u.key} (${u.file})`);
    assert.deepStrictEqual([...new Set(missing)], []);
  });

  it("lists every key built at run time, with the keys it can build", function () {
    const listed = new Set(DYNAMIC.map((d) => `${d.file} ${d.prefix}`));
    const unlisted = dynamic.filter((d) => !listed.has(`${d.file} ${d.prefix}`)).map((d) => `${d.prefix}… in ${d.file}`);
    assert.deepStrictEqual([...new Set(unlisted)], []);
    // An entry whose site is gone would keep its keys alive for nothing.
    const found = new Set(dynamic.map((d) => `${d.file} ${d.prefix}`));
    assert.deepStrictEqual(DYNAMIC.filter((d) => !found.has(`${d.file} ${d.prefix}`)).map((d) => `${d.prefix} in ${d.file}`), []);
  });

  it("carries no key that nothing uses", function () {
    const asked = new Set([...used, ...dynamicKeys()].map((u) => u.key));
    assert.deepStrictEqual([...keys].filter((k) => !asked.has(k)), []);
  });

  it("has no two placeholders side by side (i18next would not fill them)", function () {
    const glued = [];
    for (const ns of NAMESPACES) {
      const catalogue = JSON.parse(read(`nodes/locales/en-US/${ns}.json`));
      for (const key of flatten(catalogue, "", [])) {
        const text = key.split(".").reduce((v, part) => v[part], catalogue);
        if (/__\w+?__(?=__\w)/.test(text)) glued.push(key);
      }
    }
    assert.deepStrictEqual(glued, []);
  });

  it("sets no status text as an English literal in the runtime code", function () {
    const literals = [];
    for (const file of [...filesIn("nodes", ".ts"), ...filesIn("nodes/shared", ".ts")]) {
      read(file).split("\n").forEach((line, i) => {
        for (const m of line.matchAll(/\btext:\s*(["'`])((?:\\.|(?!\1).)*)\1/g)) {
          if (/[A-Za-z]/.test(m[2])) literals.push(`${file}:${i + 1}: ${m[0]}`);
        }
      });
    }
    assert.deepStrictEqual(literals, []);
  });
});
