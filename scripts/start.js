"use strict";
// `npm start`: Node-RED from this checkout, with the package installed in a user directory of its
// own and the first example deployed, so a newcomer sees a network train without importing
// anything. `npm start` builds first; this script only prepares the user directory and runs the
// Node-RED that is a devDependency. Nothing is downloaded.
//
// Environment: PORT (default 1880); RNN_USER_DIR (default <project>/.node-red-user), which the
// browser test points at a fresh temporary directory.
const fs = require("fs");
const path = require("path");
const { spawn } = require("child_process");

const root = path.join(__dirname, "..");
const pkg = require(path.join(root, "package.json"));
const userDir = path.resolve(process.env.RNN_USER_DIR || path.join(root, ".node-red-user"));
const FIRST_EXAMPLE = "01 - Sine wave - first RNN.json";
const TAB_ID = "a1b2c3d4e5f60718";

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

function writeIfMissing(file, text) {
  if (fs.existsSync(file)) return false;
  fs.writeFileSync(file, text);
  return true;
}

/**
 * Node-RED finds a node package, and its Import → Examples entries, only as a module in
 * <userDir>/node_modules. A link to this checkout makes it the installed package, so a rebuild
 * is picked up by the next start without copying anything.
 */
function linkPackage() {
  const scopeDir = path.join(userDir, "node_modules", path.dirname(pkg.name));
  const link = path.join(userDir, "node_modules", pkg.name);
  fs.mkdirSync(scopeDir, { recursive: true });
  let stat = null;
  try {
    stat = fs.lstatSync(link);
  } catch (e) {
    if (e.code !== "ENOENT") throw e;
  }
  if (stat && !stat.isSymbolicLink()) {
    console.warn(`npm start: ${link} is a real directory, not a link to this checkout; it is used as it is.`);
    return;
  }
  if (stat) {
    if (fs.realpathSync(link) === fs.realpathSync(root)) return;
    fs.unlinkSync(link);
  }
  // Windows allows directory junctions without extra rights; they need an absolute target.
  if (process.platform === "win32") fs.symlinkSync(root, link, "junction");
  else fs.symlinkSync(path.relative(scopeDir, root), link, "dir");
}

/** The user directory's package.json lists the package, as the palette manager would write it. */
function userPackageJson() {
  const rel = path.relative(userDir, root).split(path.sep).join("/");
  return JSON.stringify(
    {
      name: "node-red-rnn-sandbox",
      description: "Node-RED user directory made by `npm start` of @rnnflow/node-red-rnn",
      version: "0.0.1",
      private: true,
      dependencies: { [pkg.name]: `file:${rel || "."}` },
    },
    null,
    2,
  ) + "\n";
}

const SETTINGS = `// Made by \`npm start\` of ${pkg.name}. Delete this file to get the default back.
// Node-RED's full list of settings: https://nodered.org/docs/user-guide/runtime/settings-file
module.exports = {
    uiHost: "127.0.0.1",
    uiPort: Number(process.env.PORT) || 1880,
    flowFile: "flows.json",
    flowFilePretty: true,
    // No telemetry and no update check from this sandbox.
    telemetry: { enabled: false, updateNotification: false },
    editorTheme: { tours: false, projects: { enabled: false } },
    logging: { console: { level: "info", metrics: false, audit: false } },
};
`;

/** The first example on a tab of its own: the flow Node-RED deploys when it starts. */
function firstFlow() {
  const example = JSON.parse(fs.readFileSync(path.join(root, "examples", FIRST_EXAMPLE), "utf8"));
  const tab = { id: TAB_ID, type: "tab", label: "Sine wave (rnn)", disabled: false, info: "" };
  return JSON.stringify([tab, ...example.map((n) => ({ ...n, z: TAB_ID }))], null, 4) + "\n";
}

function prepare() {
  if (!fs.existsSync(path.join(root, "dist", "nodes", "rnn-sequence.js"))) fail("dist/ is missing: run `npm run build` (or use `npm start`, which builds first).");
  let redJs;
  try {
    redJs = require.resolve("node-red/red.js", { paths: [root] });
  } catch {
    fail("node-red is not installed: run `npm install` in the project first.");
  }
  fs.mkdirSync(userDir, { recursive: true });
  linkPackage();
  writeIfMissing(path.join(userDir, "package.json"), userPackageJson());
  writeIfMissing(path.join(userDir, "settings.js"), SETTINGS);
  const fresh = writeIfMissing(path.join(userDir, "flows.json"), firstFlow());
  return { redJs, fresh };
}

function run() {
  const { redJs, fresh } = prepare();
  const port = Number(process.env.PORT) || 1880;
  console.log(`${pkg.name}: Node-RED on http://127.0.0.1:${port}/ with user directory ${userDir}`);
  if (fresh) console.log("The sine wave example is deployed and starts training: watch the debug sidebar.");
  console.log("Ctrl-C stops it.");

  const child = spawn(process.execPath, [redJs, "--userDir", userDir, "--settings", path.join(userDir, "settings.js")], {
    cwd: userDir,
    stdio: "inherit",
  });
  // Ctrl-C in a terminal reaches both processes; a signal sent to this one alone (a test, a
  // process manager) is passed on. Node-RED stops its flows on either, once, and exits.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  child.on("error", (e) => fail(`could not start Node-RED: ${e.message}`));
  child.on("exit", (code, signal) => {
    if (signal) process.exit(signal === "SIGINT" || signal === "SIGTERM" ? 0 : 1);
    process.exit(code ?? 0);
  });
}

run();
