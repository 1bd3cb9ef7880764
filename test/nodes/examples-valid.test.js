"use strict";
// Every shipped example, as the editor loads it, has no node marked invalid: a setting added after
// the examples (or a user's flows) were saved is missing from them, and the editor runs each
// validator on the saved value, undefined included. An invalid node puts a red triangle on the
// canvas and turns every Deploy into a "not properly configured" question.
const assert = require("assert");
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const root = path.join(__dirname, "..", "..");
const TYPES = ["rnn-sequence", "rnn-layer", "rnn-loss", "rnn-trainer", "rnn-predictor"];

/** The node definitions as the editor registers them; `workspace.flow` is the flow being checked. */
function nodeDefinitions(workspace) {
  const defs = {};
  const RED = {
    settings: {},
    nodes: {
      registerType: (type, def) => (defs[type] = def),
      node: (id) => workspace.flow.find((n) => n.id === id) || null,
      eachNode: (cb) => workspace.flow.forEach(cb),
    },
    utils: { getNodeLabel: (n, d) => d },
  };
  // No dialog is open: the validators read the saved properties, as they do on import and deploy.
  const $ = () => ({ length: 0 });
  const sandbox = { window: { RED }, RED, $ };
  vm.createContext(sandbox);
  vm.runInContext(fs.readFileSync(path.join(root, "resources", "rnn-editor.js"), "utf8"), sandbox);
  for (const type of TYPES) {
    const html = fs.readFileSync(path.join(root, "nodes", `${type}.html`), "utf8");
    vm.runInContext(html.match(/<script type="text\/javascript">([\s\S]*?)<\/script>/)[1], sandbox);
  }
  return defs;
}

/** The properties the editor would flag, as its validateNode does for a node's defaults. */
function problems(def, node) {
  const out = [];
  for (const [prop, d] of Object.entries(def.defaults)) {
    const v = node[prop];
    if (d.required && (v === undefined || v === null || String(v).trim() === "")) out.push(`${prop} (required)`);
    else if (typeof d.validate === "function") {
      const ok = d.validate.call(node, v, {});
      if (ok !== true) out.push(`${prop} = ${JSON.stringify(v)} (${ok === false ? "invalid" : ok})`);
    }
  }
  return out;
}

describe("shipped examples in the editor", function () {
  const workspace = { flow: [] };
  const defs = nodeDefinitions(workspace);
  const dir = path.join(root, "examples");
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    it(`${file}: no rnn node is marked invalid`, function () {
      const flow = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
      workspace.flow = flow;
      const found = [];
      for (const node of flow.filter((n) => TYPES.includes(n.type))) {
        const p = problems(defs[node.type], { ...node, _: (k) => k });
        if (p.length) found.push(`${node.type} "${node.name || node.id}": ${p.join(", ")}`);
      }
      assert.deepStrictEqual(found, []);
    });
  }
});
