"use strict";
// The edit dialogs' checks, run as the editor runs them (the shared editor script and a node's
// editor script, in a sandbox standing in for the browser): a model path the dialog accepts is one
// the runtime accepts, and the predictor lists trainers by the labels the canvas shows.
const assert = require("assert");
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const { resolveModelPath } = require("../../dist/src");

const root = path.join(__dirname, "..", "..");

/** A chainable stand-in for jQuery that records the <option>s appended and their text. */
function fakeJQuery(options) {
  const make = (tag) => {
    const el = { tag, value: undefined, label: undefined };
    const proxy = new Proxy(el, {
      get(target, key) {
        if (key in target) return target[key];
        return (...args) => {
          if (key === "val" && args.length) target.value = args[0];
          if (key === "text" && args.length) target.label = args[0];
          if (key === "appendTo" && tag === "<option>") options.push(target);
          if (key === "val" && !args.length) return "";
          return proxy;
        };
      },
    });
    return proxy;
  };
  return (tag) => make(tag);
}

function editorSandbox({ userDir, nodes = [] }) {
  const defs = {};
  const options = [];
  const RED = {
    settings: { rnnTrainerUserDir: userDir },
    nodes: {
      registerType: (type, def) => (defs[type] = def),
      node: (id) => nodes.find((n) => n.id === id) || null,
      eachNode: (cb) => nodes.forEach(cb),
      workspace: (id) => (id === "tab1" ? { id, label: "Flow 1" } : null),
      subflow: () => null,
    },
    // As the editor's: the node's label function, else the default.
    utils: { getNodeLabel: (n, d) => (typeof n._def.label === "function" ? n._def.label.call(n) : n._def.label) || d },
  };
  const sandbox = { window: {}, RED, $: fakeJQuery(options) };
  sandbox.window.RED = RED;
  vm.createContext(sandbox);
  vm.runInContext(fs.readFileSync(path.join(root, "resources", "rnn-editor.js"), "utf8"), sandbox);
  const load = (type) => {
    const html = fs.readFileSync(path.join(root, "nodes", `${type}.html`), "utf8");
    const script = html.match(/<script type="text\/javascript">([\s\S]*?)<\/script>/)[1];
    vm.runInContext(script, sandbox);
    return defs[type];
  };
  return { R: sandbox.window.RnnEditor, load, options };
}

describe("edit dialogs", function () {
  it("a model path: the dialog refuses exactly what the runtime refuses as outside the user directory", function () {
    const userDir = "/home/ann/.node-red";
    const { R } = editorSandbox({ userDir });
    const cases = ["models/m.json", "m.json", "./models/../m.json", "../m.json", "models/../../m.json", "/etc/m.json", "/home/ann/.node-red/models/m.json", "/home/ann/.node-red/../m.json", "/home/ann/.node-red2/m.json", "/home/ann/.node-red/./m.json"];
    for (const p of cases) {
      let runtime = null;
      try {
        resolveModelPath(userDir, p);
      } catch (e) {
        runtime = e.message;
      }
      const editor = R.modelPathProblem(p);
      assert.strictEqual(editor === "modelPathOutside", /outside the user directory/.test(runtime || ""), `${p}: editor ${editor}, runtime ${runtime}`);
      assert.strictEqual(editor === null, runtime === null, `${p}: editor ${editor}, runtime ${runtime}`);
    }
    assert.strictEqual(R.modelPathProblem("/home/ann/.node-red"), "modelPath", "the directory itself is not a file");
  });

  it("the predictor lists unnamed trainers by their canvas label, with the id only to tell twins apart", function () {
    const trainerDef = editorSandbox({ userDir: "/u" }).load("rnn-trainer");
    const i18n = { "rnn-trainer.label.summary": (s) => `rnn trainer ${s.optimizer} ${s.rate}`, "rnn-predictor.label.chooseTrainer": () => "choose" };
    const trainer = (id, extra) => ({ id, type: "rnn-trainer", z: "tab1", name: "", optimizer: "adam", learningRate: 0.01, _def: trainerDef, _: (k, s) => (i18n[k] ? i18n[k](s) : k), ...extra });
    const nodes = [trainer("a1"), trainer("b2", { learningRate: 0.1 }), trainer("c3"), trainer("d4", { name: "kitchen" })];
    const { load: load2, options: listed } = editorSandbox({ userDir: "/u", nodes });
    load2("rnn-trainer");
    const def = load2("rnn-predictor");
    const predictor = { id: "p", type: "rnn-predictor", trainer: "", _: (k, s) => (i18n[k] ? i18n[k](s) : k) };
    def.oneditprepare.call(predictor);
    assert.deepStrictEqual(listed.map((o) => o.label), ["choose", "kitchen (Flow 1)", "rnn trainer adam 0.01 (Flow 1) · a1", "rnn trainer adam 0.01 (Flow 1) · c3", "rnn trainer adam 0.1 (Flow 1)"]);
  });
});
