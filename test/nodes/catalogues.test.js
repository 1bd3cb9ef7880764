"use strict";
// The message catalogues against the code that reads them: every key the runtime or the editor
// asks for exists, every key a catalogue carries is asked for, and no text a user reads is an
// English literal in the runtime code. The sources are read as text (nodes/*.ts, nodes/shared/*.ts,
// nodes/*.html, resources/*.js), and the runtime's TypeScript is parsed, so a string moved back into
// the code, or a key renamed on one side only, fails here.
const assert = require("assert");
const fs = require("fs");
const path = require("path");
const ts = require("typescript");

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
  // nodes/rnn-loss.ts: the loss's name in the idle status.
  { file: "nodes/rnn-loss.ts", prefix: "rnn-loss.options.loss.", keys: ["mse", "mae", "huber", "crossentropy"] },
  // nodes/shared/runtime.ts: the note that stands for a property nested too deep, in the catalogue of the first node started.
  { file: "nodes/shared/runtime.ts", prefix: "*.errors.nested", keys: TYPES.map((t) => `${t}.errors.nested`) },
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

/** The runtime's TypeScript files, parsed. */
function runtimeSources() {
  return [...filesIn("nodes", ".ts"), ...filesIn("nodes/shared", ".ts")].map((file) => ({ file, source: ts.createSourceFile(file, read(file), ts.ScriptTarget.Latest, true) }));
}

/** The text of a string or template literal outside its ${…} (each one stands as "•"); null for any other expression. */
function literalText(n) {
  if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) return n.text;
  if (ts.isTemplateExpression(n)) return [n.head.text, ...n.templateSpans.map((s) => s.literal.text)].join("•");
  return null;
}

/** The literals an expression can be: itself, or a branch of `c ? a : b`, `a ?? b`, `a || b`, `a + b`. */
function literalsOf(n, out = []) {
  if (ts.isParenthesizedExpression(n) || ts.isAsExpression(n)) return literalsOf(n.expression, out);
  if (ts.isConditionalExpression(n)) return literalsOf(n.whenFalse, literalsOf(n.whenTrue, out));
  const K = ts.SyntaxKind;
  if (ts.isBinaryExpression(n) && [K.PlusToken, K.QuestionQuestionToken, K.BarBarToken].includes(n.operatorToken.kind)) return literalsOf(n.right, literalsOf(n.left, out));
  if (literalText(n) !== null) out.push(n);
  return out;
}

const LOG_METHODS = new Set(["error", "warn", "log", "debug", "trace"]);
const ERROR_CLASSES = new Set(["Error", "TypeError", "RangeError", "ConfigError"]);
/** The catalogue lookups: t(key, subs), RED._(key, subs), this.t / a.t (a node's t handed on). */
const TRANSLATORS = /^(?:t|RED\._|(?:this|\w+)\.t)$/;

/**
 * Every place the runtime hands text to a user: a status's `text`, node.error/warn/log/debug/trace
 * (also through `.call`), done(…), new Error(…), and the values put into a catalogue text (those
 * may be code names, camelCase like "anomalyLevel", but no words). Returns how many were looked at
 * and the literals with letters among them.
 */
function scanLiterals() {
  let sinks = 0;
  const literals = [];
  for (const { file, source } of runtimeSources()) {
    const where = (n) => `${file}:${source.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
    const text = (arg) => {
      if (!arg) return;
      sinks++;
      for (const l of literalsOf(arg)) if (/[A-Za-z]/.test(literalText(l))) literals.push(`${where(l)}: ${l.getText()}`);
    };
    const subs = (arg) => {
      if (!arg || !ts.isObjectLiteralExpression(arg)) return;
      for (const p of arg.properties) {
        if (!ts.isPropertyAssignment(p)) continue;
        sinks++;
        for (const l of literalsOf(p.initializer)) {
          const v = literalText(l);
          if (/[A-Za-z]/.test(v) && !/^[a-z][A-Za-z0-9]*$/.test(v)) literals.push(`${where(l)}: ${p.getText()}`);
        }
      }
    };
    const visit = (n) => {
      if (ts.isCallExpression(n)) {
        const callee = n.expression;
        const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : null;
        if (ts.isPropertyAccessExpression(callee) && LOG_METHODS.has(name)) text(n.arguments[0]);
        // (final ? node.log : node.debug).call(node, text)
        if (name === "call" && /\.(?:error|warn|log|debug|trace)\b/.test(callee.expression.getText())) text(n.arguments[1]);
        if (name === "done") text(n.arguments[0]);
        if (TRANSLATORS.test(callee.getText())) subs(n.arguments[1]);
      }
      if (ts.isNewExpression(n) && ts.isIdentifier(n.expression)) {
        if (ERROR_CLASSES.has(n.expression.text)) text(n.arguments && n.arguments[0]);
        if (n.expression.text === "SettingError") subs(n.arguments && n.arguments[1]);
      }
      if (ts.isPropertyAssignment(n) && n.name.getText() === "text") text(n.initializer);
      ts.forEachChild(n, visit);
    };
    visit(source);
  }
  return { sinks, literals };
}

/**
 * Strings in the runtime code that are not for people to read, though they look like words: each
 * is compared or tested, never shown. The prose scan below lets exactly these through.
 */
const NOT_SHOWN = [
  // nodes/rnn-trainer.ts: only whether the intervals can be calibrated is read from it.
  { file: "nodes/rnn-trainer.ts", text: "training diverged" },
  // nodes/shared/runtime.ts: recognises the core's own (English) message for a path outside the user directory.
  { file: "nodes/shared/runtime.ts", text: "outside the user directory" },
];

/** Every string or template literal in the runtime with two words side by side: prose, which belongs in a catalogue. */
function scanProse() {
  const found = [];
  for (const { file, source } of runtimeSources()) {
    const visit = (n) => {
      const v = literalText(n);
      if (v !== null && /[A-Za-z]{2,}\s+\S|\S\s+[A-Za-z]{2,}/.test(v)) found.push({ file, line: source.getLineAndCharacterOfPosition(n.getStart()).line + 1, text: v });
      ts.forEachChild(n, visit);
    };
    visit(source);
  }
  return found;
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

  it("passes no English literal as the text of a status, a log line, an error or a translation's value", function () {
    const { sinks, literals } = scanLiterals();
    // A parse that found no sinks would pass: the runtime sets statuses and logs in every node.
    assert.ok(sinks > 150, `only ${sinks} texts inspected`);
    assert.deepStrictEqual(literals, []);
  });

  it("holds no English prose in the runtime code, but for the few strings no user reads", function () {
    const found = scanProse();
    const allowed = new Set(NOT_SHOWN.map((a) => `${a.file} ${a.text}`));
    assert.deepStrictEqual(found.filter((f) => !allowed.has(`${f.file} ${f.text}`)).map((f) => `${f.file}:${f.line}: ${f.text}`), []);
    // An entry whose string is gone would let prose back in unnoticed.
    const seen = new Set(found.map((f) => `${f.file} ${f.text}`));
    assert.deepStrictEqual(NOT_SHOWN.filter((a) => !seen.has(`${a.file} ${a.text}`)), []);
  });
});
