"use strict";
// Build step after tsc: puts each node's editor HTML (and the sidebar plugin's), the message catalogues and the icons next to
// the compiled runtime files in dist/nodes, which is what package.json's "node-red" section loads.
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const out = path.join(root, "dist", "nodes");

function copyDir(from, to, filter) {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyDir(src, dst, filter);
    else if (!filter || filter(entry.name)) fs.copyFileSync(src, dst);
  }
}

fs.mkdirSync(out, { recursive: true });
for (const name of fs.readdirSync(path.join(root, "nodes"))) {
  if (name.endsWith(".html")) fs.copyFileSync(path.join(root, "nodes", name), path.join(out, name));
}
copyDir(path.join(root, "nodes", "locales"), path.join(out, "locales"));
copyDir(path.join(root, "icons"), path.join(out, "icons"), (n) => n.endsWith(".svg") || n.endsWith(".png"));

// The charts of the editor's rnn sidebar use uPlot (MIT), a devDependency: its browser build and
// stylesheet are copied into resources/vendor/uplot, which Node-RED serves to the editor and which
// the published package carries, so nothing is fetched when the editor opens.
const uplotDir = path.dirname(require.resolve("uplot/package.json", { paths: [root] }));
const vendor = path.join(root, "resources", "vendor", "uplot");
fs.mkdirSync(vendor, { recursive: true });
for (const [from, to] of [["dist/uPlot.iife.min.js", "uPlot.iife.min.js"], ["dist/uPlot.min.css", "uPlot.min.css"], ["LICENSE", "LICENSE"]]) {
  fs.copyFileSync(path.join(uplotDir, from), path.join(vendor, to));
}
