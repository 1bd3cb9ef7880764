"use strict";
// The editor in a real browser: `npm start`'s Node-RED on a free port with a fresh user directory,
// driven through headless Chromium the way a person uses it (palette, help, Import → Examples,
// Deploy, the debug sidebar, edit dialogs). Run with `npm run test:e2e` after a build.
//
// Every wait is on a condition the page can show (an element, a status, a debug message); none is
// a fixed sleep. The bounds are generous: they catch a flow that does not run, not a slow machine.
const assert = require("assert");
const fs = require("fs");
const net = require("net");
const os = require("os");
const path = require("path");
const { spawn } = require("child_process");
const { chromium } = require("playwright-core");

const root = path.join(__dirname, "..", "..");
const pkg = require(path.join(root, "package.json"));
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SCREENSHOT = path.join(root, "docs", "screenshots", "editor-training.png");
const VIEWPORT = { width: 1800, height: 1000 };
const TYPES = ["rnn-sequence", "rnn-layer", "rnn-loss", "rnn-trainer", "rnn-predictor"];
const EXAMPLES = fs.readdirSync(path.join(root, "examples")).filter((f) => f.endsWith(".json")).sort().map((f) => f.replace(/\.json$/, ""));
const SINE = EXAMPLES.find((n) => n.startsWith("01 "));
// The sine example's trainer at the end of a run: the network against the naive rule, or, when a
// saved model from an earlier run on the same seeded series scores as well, that it was kept.
const SINE_FINAL_STATUS = /^(val rmse [\d.]+ · naive [\d.]+|kept saved model · val rmse [\d.]+ \(run [\d.]+\))$/;

/** The example's nodes, to find them on the canvas by id (an import from Examples keeps the ids). */
function exampleNodes(name) {
  return JSON.parse(fs.readFileSync(path.join(root, "examples", `${name}.json`), "utf8"));
}

function nodeId(name, type, nodeName) {
  const n = exampleNodes(name).find((m) => m.type === type && (nodeName === undefined || m.name === nodeName));
  assert.ok(n, `example "${name}" has a ${type} node${nodeName ? ` named "${nodeName}"` : ""}`);
  return n.id;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** `npm start`'s Node-RED on a free port with user directory `userDir`; resolves once its flows have started. */
async function startNodeRed(userDir, onOutput) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/`;
  const server = spawn(process.execPath, [path.join(root, "scripts", "start.js")], {
    cwd: root,
    env: { ...process.env, PORT: String(port), RNN_USER_DIR: userDir },
    stdio: ["ignore", "pipe", "pipe"],
    // A process group of its own, so that nothing outlives the test even if start.js is killed hard.
    detached: true,
  });
  let output = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Node-RED did not start within 60 s:\n${output}`)), 60000);
    const onData = (chunk) => {
      output += chunk;
      onOutput(chunk);
      if (output.includes("Started flows")) {
        clearTimeout(timer);
        resolve();
      }
    };
    server.stdout.on("data", onData);
    server.stderr.on("data", onData);
    server.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Node-RED exited (${code}) before starting:\n${output}`));
    });
  });
  return { server, base };
}

/** Ends whatever is left of the server's process group (nothing, when Ctrl-C worked). */
function killNodeRed(server) {
  try {
    process.kill(-server.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Text of the first paragraph of a node's help file, as the help sidebar shows it. */
function helpIntro(type) {
  const html = fs.readFileSync(path.join(root, "nodes", "locales", "en-US", `${type}.html`), "utf8");
  const p = /<p>([\s\S]*?)<\/p>/.exec(html);
  assert.ok(p, `${type}.html has a first paragraph`);
  return p[1].replace(/<[^>]+>/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&").replace(/\s+/g, " ").trim();
}

const squash = (s) => s.replace(/\s+/g, " ").trim();

describe("the editor in a real browser (Chromium)", function () {
  this.timeout(600000);
  let userDir;
  let server;
  let output = "";
  let browser;
  let page;
  let base;
  const pageErrors = [];
  const external = new Set();

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), "rnn-e2e-"));
    ({ server, base } = await startNodeRed(userDir, (chunk) => (output += chunk)));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: BROWSER_ARGS,
    });
    page = await browser.newPage({ viewport: VIEWPORT });
    page.setDefaultTimeout(30000);
    page.on("pageerror", (e) => pageErrors.push(e.message));
    // The test runs offline: anything not served by this Node-RED (the palette catalogue) is refused.
    await page.route((url) => !url.href.startsWith(base), (route) => {
      external.add(route.request().url().split("?")[0]);
      return route.abort();
    });
    await page.goto(base);
    await page.waitForSelector("#red-ui-palette-container-rnn .red-ui-palette-node");
    await page.click("#red-ui-tab-debug-link-button");
  });

  after(async function () {
    if (browser) await browser.close();
    if (server) killNodeRed(server);
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest.state === "failed" && page) {
      const dir = path.join(root, "test-output");
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `e2e-failure-${this.currentTest.title.replace(/[^a-z0-9]+/gi, "-").slice(0, 60)}.png`);
      return page.screenshot({ path: file }).then(() => console.log(`    screenshot of the failure: ${file}\n    last lines of Node-RED's output:\n${output.trim().split("\n").slice(-8).join("\n")}`));
    }
  });

  // ---- helpers: each does what a person does, then waits for the editor to show the result ----

  async function clearDebug() {
    await page.click("#red-ui-tab-debug-link-button");
    await page.click("#red-ui-sidebar-debug-clear");
    await page.waitForFunction(() => document.querySelectorAll("#red-ui-sidebar-content .red-ui-debug-msg").length === 0);
  }

  /** Waits until the debug node `debugId` has shown `count` messages whose text matches `pattern`. */
  async function debugMessages(debugId, pattern, count, timeout) {
    const selector = `.red-ui-debug-msg-node-${debugId}`;
    await page.waitForFunction(
      ({ selector, source, count }) => {
        const re = new RegExp(source);
        return Array.from(document.querySelectorAll(selector)).filter((e) => re.test(e.innerText)).length >= count;
      },
      { selector, source: pattern.source, count },
      { timeout },
    );
    return page.$$eval(selector, (els) => els.map((e) => e.innerText.replace(/\s+/g, " ")));
  }

  function statusOf(id) {
    return page.$eval(`[id="${id}"] .red-ui-flow-node-status-label`, (e) => e.textContent).catch(() => "");
  }

  async function waitForStatus(id, pattern, timeout) {
    await page.waitForFunction(
      ({ id, source }) => {
        const label = document.querySelector(`[id="${id}"] .red-ui-flow-node-status-label`);
        return !!label && new RegExp(source).test(label.textContent);
      },
      { id, source: pattern.source },
      { timeout },
    );
    return statusOf(id);
  }

  /** Records every status the runtime sends for node `id` (a fast run changes it between two looks). */
  async function recordStatuses(id) {
    await page.evaluate((id) => {
      window.__rnnStatuses = window.__rnnStatuses || {};
      window.__rnnStatuses[id] = [];
      RED.comms.subscribe(`status/${id}`, (topic, status) => window.__rnnStatuses[id].push(status.text || ""));
    }, id);
    return () => page.evaluate((id) => window.__rnnStatuses[id].slice(), id);
  }

  async function deploy() {
    await page.waitForSelector("#red-ui-header-button-deploy:not(.disabled)");
    await page.click("#red-ui-header-button-deploy");
    await page.waitForSelector("#red-ui-header-button-deploy.disabled");
  }

  /** Main menu → Import → Examples → this package → `name`, into a new flow tab, placed with a click. */
  async function importExample(name) {
    await page.click("#red-ui-header-button-sidemenu");
    await page.click("#menu-item-import");
    await page.click("#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples");
    const tree = page.locator("#red-ui-clipboard-dialog-import-tab-examples");
    const entry = tree.locator(".red-ui-treeList-label-text", { hasText: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) });
    if (!(await entry.isVisible())) await tree.locator(".red-ui-treeList-label-text", { hasText: new RegExp(`^${pkg.name}$`) }).click();
    await entry.click();
    await page.click("#red-ui-clipboard-dialog-import-opt-new");
    await page.click("#red-ui-clipboard-dialog-ok");
    // Imported nodes follow the mouse until a click puts them down.
    const box = await page.locator("#red-ui-workspace-chart").boundingBox();
    await page.mouse.move(box.x + 60, box.y + 60, { steps: 4 });
    await page.mouse.click(box.x + 60, box.y + 60);
    const nodes = exampleNodes(name);
    await page.waitForFunction((ids) => ids.every((id) => document.querySelector(`[id="${id}"]`)), nodes.filter((n) => n.type !== "comment").map((n) => n.id));
    // On a busy machine the click can land before the nodes follow the mouse, and they stay
    // unplaced (nothing to deploy): click again until the deploy button lights up.
    for (let tries = 0; tries < 10 && (await page.locator("#red-ui-header-button-deploy.disabled").count()) > 0; tries++) {
      await page.waitForTimeout(300);
      await page.mouse.click(box.x + 60, box.y + 60);
    }
  }

  /** Double-clicks the active flow tab and deletes it, as a person clears the way. */
  async function deleteActiveFlow() {
    const tab = page.locator("#red-ui-workspace-tabs .red-ui-tab.active");
    const id = await tab.getAttribute("id");
    await tab.dblclick();
    await page.click("#node-dialog-delete");
    await page.waitForSelector(`[id="${id}"]`, { state: "detached" });
    await deploy();
  }

  /** Selects everything on the active flow (ctrl-a on the canvas), deletes it, and deploys. */
  async function clearActiveFlow() {
    const box = await page.locator("#red-ui-workspace-chart").boundingBox();
    await page.mouse.click(box.x + box.width - 80, box.y + box.height - 120);
    await page.keyboard.press("Control+a");
    await page.keyboard.press("Delete");
    await page.waitForFunction(() => document.querySelectorAll("#red-ui-workspace-chart .red-ui-flow-node-group").length === 0);
    await deploy();
  }

  async function noNodeErrors() {
    const errors = await page.$$eval(".red-ui-debug-msg-level-20", (els) => els.map((e) => e.innerText.replace(/\s+/g, " ")));
    assert.deepStrictEqual(errors, [], "no node reported an error in the debug sidebar");
  }

  // ---- the checks ----

  it("shows the five nodes under 'rnn' in the palette, with their labels and icons", async function () {
    for (const type of TYPES) {
      const entry = page.locator(`#red-ui-palette-container-rnn .red-ui-palette-node[data-palette-type="${type}"]`);
      assert.strictEqual(await entry.count(), 1, `${type} in the rnn category`);
      assert.strictEqual(squash(await entry.locator(".red-ui-palette-label").innerText()), type.replace("-", " "));
      const icon = await entry.locator(".red-ui-palette-icon").evaluate((e) => getComputedStyle(e).backgroundImage);
      assert.ok(icon.includes(`/${type}.svg`), `${type} shows its own icon (${icon})`);
      const url = /url\("?([^")]+)"?\)/.exec(icon)[1];
      const served = await page.evaluate((u) => fetch(u).then(async (r) => ({ status: r.status, type: r.headers.get("content-type"), body: await r.text() })), url);
      assert.strictEqual(served.status, 200, `${type} icon is served`);
      assert.match(served.body, /<svg[\s>]/, `${type} icon is an SVG`);
    }
  });

  it("shows each node's help in the help sidebar", async function () {
    for (const type of TYPES) {
      await page.click(`#red-ui-palette-container-rnn .red-ui-palette-node[data-palette-type="${type}"]`);
      // The palette's popover for this node type (an earlier one may still be fading out).
      await page.locator(".red-ui-popover", { hasText: `${pkg.name} : ${type}` }).locator("button:has(i.fa-book)").click();
      await page.waitForSelector("#red-ui-tab-help.active");
      const intro = helpIntro(type);
      await page.waitForFunction(
        ({ title, intro }) => Array.from(document.querySelectorAll(".red-ui-help")).some((e) => {
          const text = e.innerText.replace(/\s+/g, " ");
          return text.startsWith(title) && text.includes(intro) && /Inputs/.test(text) && /Outputs/.test(text);
        }),
        { title: type.replace("-", " "), intro },
      );
    }
    await page.click("#red-ui-tab-debug-link-button");
  });

  it("after `npm start` the sine example is deployed and forecasting, with nothing imported", async function () {
    const trainer = nodeId(SINE, "rnn-trainer");
    const forecasts = nodeId(SINE, "debug", "forecast vs truth");
    // Training began when Node-RED started; the trainer's status tells how far it got.
    const progress = /^(epoch \d+\/\d+|\d+\/\d+ · rmse|val rmse)/;
    assert.match(await waitForStatus(trainer, progress, 60000), progress);
    await debugMessages(forecasts, /forecast: -?\d/, 2, 60000);
    await waitForStatus(nodeId(SINE, "rnn-predictor"), /^→ /, 10000);
    await noNodeErrors();
  });

  it("the 'train' button trains the started example again: every epoch in the debug sidebar, then forecasts", async function () {
    await clearDebug();
    const trainer = nodeId(SINE, "rnn-trainer");
    const statuses = await recordStatuses(trainer);
    await page.click(`[id="${nodeId(SINE, "inject", "train")}"] .red-ui-flow-node-button`);
    const epochs = await debugMessages(nodeId(SINE, "debug", "loss per epoch"), /epoch: \d+/, 5, 60000);
    assert.ok(epochs.length >= 5);
    // The final word compares the network with the best naive rule on the validation part. The
    // example resets and retrains on the same seeded series, so this run scores exactly what the
    // saved model scores: a tie keeps the saved model, and the status says so.
    await waitForStatus(trainer, SINE_FINAL_STATUS, 60000);
    assert.ok((await statuses()).some((s) => /^(epoch \d+\/30|\d+\/30 · rmse)/.test(s)), "the trainer's status counted the epochs");
    await debugMessages(nodeId(SINE, "debug", "forecast vs truth"), /forecast: -?\d/, 3, 60000);
    await noNodeErrors();

    // The picture for the README: what `npm start` shows once the example has trained.
    await page.waitForSelector(".red-ui-notification", { state: "detached" });
    await page.setViewportSize({ width: 1800, height: 760 });
    await page.click("#red-ui-view-zoom-out");
    await page.locator("#red-ui-palette-container-rnn").scrollIntoViewIfNeeded();
    await page.locator("#red-ui-sidebar-content .red-ui-debug-msg").last().scrollIntoViewIfNeeded();
    await page.mouse.move(1, 1);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    await page.click("#red-ui-view-zoom-zero");
    await page.setViewportSize(VIEWPORT);

    // Out of the way of the imports below (the only flow tab cannot be deleted, so it is emptied).
    await clearActiveFlow();
  });

  for (const name of EXAMPLES.filter((n) => n !== SINE)) {
    it(`imports "${name}" from Import → Examples, deploys it, and it shows results`, async function () {
      await clearDebug();
      await importExample(name);
      await deploy();
      if (name.startsWith("02 ")) {
        const report = nodeId(name, "debug", "forecast and its error");
        await debugMessages(nodeId(name, "debug", "loss per epoch"), /epoch: 1\b/, 1, 60000);
        const shown = await debugMessages(report, /2016-01-01/, 1, 240000);
        assert.ok(shown.some((t) => /7-day MAE: network \d+(\.\d+)? °C, persistence \d+(\.\d+)? °C/.test(t)), `error against persistence reported: ${shown.join(" | ")}`);
        await waitForStatus(nodeId(name, "rnn-trainer"), /^val rmse [\d.]+ · naive [\d.]+$/, 10000);
      } else if (name.startsWith("03 ")) {
        await debugMessages(nodeId(name, "debug", "training"), /epoch: \d+/, 1, 60000);
        await waitForStatus(nodeId(name, "rnn-predictor"), /^→ /, 60000);
        // The simulated sensor is seeded: its first spike comes at t = 39 s.
        const flagged = await debugMessages(nodeId(name, "debug", "anomalies"), /a simulated spike/, 1, 120000);
        assert.ok(flagged.every((t) => /, a simulated spike/.test(t)), `only spikes are flagged: ${flagged.join(" | ")}`);
      } else if (name.startsWith("04 ")) {
        const steps = await debugMessages(nodeId(name, "debug", "forecast vs truth"), /step: \d+/, 12, 30000);
        assert.strictEqual(steps.length, 12);
        await waitForStatus(nodeId(name, "rnn-predictor"), /^→ /, 10000);
      } else if (name.startsWith("05 ")) {
        const bars = await debugMessages(nodeId(name, "debug", "gradient per time step"), /epoch 10/, 4, 180000);
        assert.ok(bars.some((t) => /window 50 · tanh · epoch 10/.test(t)) && bars.some((t) => /window 10 · tanh · epoch 10/.test(t)));
      } else if (name.startsWith("06 ")) {
        // A rising series: the differenced model's next 24 hours lie above every training reading.
        const shown = await debugMessages(nodeId(name, "debug", "24-hour forecast"), /the training range: [\d.]+ vs [\d.]+/, 1, 180000);
        assert.ok(shown.some((t) => /above the training range: [\d.]+ vs [\d.]+/.test(t)), `forecast above the training range: ${shown.join(" | ")}`);
      } else {
        throw new Error(`no check written for the example "${name}"`);
      }
      await noNodeErrors();
      await deleteActiveFlow();
    });
  }

  it(`imports "${SINE}": epoch messages, a forecast and the trainer's progress appear`, async function () {
    await clearDebug();
    await importExample(SINE);
    const trainer = nodeId(SINE, "rnn-trainer");
    await deploy();
    const statuses = await recordStatuses(trainer);
    await debugMessages(nodeId(SINE, "debug", "loss per epoch"), /epoch: \d+/, 3, 60000);
    // The model file of the earlier runs is still there: this run ties with it (same seeded series).
    await waitForStatus(trainer, SINE_FINAL_STATUS, 60000);
    await debugMessages(nodeId(SINE, "debug", "forecast vs truth"), /forecast: -?\d/, 3, 60000);
    const seen = await statuses();
    assert.ok(seen.some((s) => /^(epoch \d+\/30|\d+\/30 · rmse|val rmse)/.test(s)), `the trainer's status showed progress: ${seen.join(" | ")}`);
    await noNodeErrors();
  });

  it("marks an invalid value in each node's edit dialog", async function () {
    const cases = [
      { type: "rnn-sequence", field: "windowLength", bad: "0" },
      { type: "rnn-layer", field: "hiddenSize", bad: "0" },
      { type: "rnn-loss", field: "delta", bad: "-1", before: { field: "loss", select: "huber" } },
      { type: "rnn-trainer", field: "learningRate", bad: "0" },
      { type: "rnn-predictor", field: "steps", bad: "0" },
    ];
    for (const c of cases) {
      const id = nodeId(SINE, c.type);
      await page.dblclick(`[id="${id}"] .red-ui-flow-node`);
      await page.waitForSelector(`#node-input-${c.field}`, { state: "attached" });
      if (c.before) await page.selectOption(`#node-input-${c.before.field}`, c.before.select);
      const input = page.locator(`#node-input-${c.field}`);
      await input.fill(c.bad);
      await input.press("Tab");
      await page.waitForSelector(`#node-input-${c.field}.input-error`);
      // Done with the bad value: the node itself carries the warning mark on the canvas.
      await page.click("#node-dialog-ok");
      await page.waitForSelector(`[id="${id}"] .red-ui-flow-node-error:not(.hide)`);
      // Put things back as they were, with the editor's own undo.
      await page.keyboard.press("Control+z");
      await page.waitForSelector(`[id="${id}"] .red-ui-flow-node-error.hide`, { state: "attached" });
    }
  });

  it("raised no error in the editor's pages and fetched nothing from the internet but the palette catalogue", async function () {
    assert.deepStrictEqual(pageErrors, []);
    assert.deepStrictEqual(Array.from(external).filter((u) => !u.startsWith("https://catalogue.nodered.org/")), []);
  });

  it("stops cleanly on Ctrl-C (SIGINT)", async function () {
    const exited = new Promise((resolve) => server.once("exit", (code, signal) => resolve({ code, signal })));
    server.kill("SIGINT");
    const { code, signal } = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve({ code: "timeout" }), 20000))]);
    assert.strictEqual(code, 0, `exit code (signal ${signal}); output:\n${output.split("\n").slice(-10).join("\n")}`);
    assert.match(output, /Stopped flows/);
  });
});

describe("the rnn sidebar in a real browser (Chromium)", function () {
  this.timeout(600000);
  const SIDEBAR_SHOT = path.join(root, "docs", "screenshots", "sidebar.png");
  const trainer = nodeId(SINE, "rnn-trainer");
  const predictor = nodeId(SINE, "rnn-predictor");
  let userDir;
  let server;
  let output = "";
  let browser;
  let page;
  const pageErrors = [];

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), "rnn-e2e-sidebar-"));
    let base;
    ({ server, base } = await startNodeRed(userDir, (chunk) => (output += chunk)));
    // The editor opens only once the example's first run has ended (its final save is logged):
    // what the sidebar shows of that run then comes from the retained picture alone.
    const deadline = Date.now() + 120000;
    while (!/model saved to .*\(training [a-z-]+\)/.test(output)) {
      if (Date.now() > deadline) throw new Error(`the example's first run did not end within 120 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: BROWSER_ARGS });
    page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    page.setDefaultTimeout(30000);
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.route((url) => !url.href.startsWith(base), (route) => route.abort());
    await page.goto(base);
    await page.waitForSelector(`[id="${trainer}"]`);
  });

  after(async function () {
    if (browser) await browser.close();
    if (server) killNodeRed(server);
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  /** What the sidebar draws now: the selected node and, per chart, its series and data. */
  const shown = () => page.evaluate(() => window.RnnSidebar.shown());
  const chart = (view, key) => view.charts.find((c) => c.key === key);

  it("has an rnn tab listing the sine example's trainer and predictor by their labels", async function () {
    await page.waitForSelector("#red-ui-tab-rnn", { state: "attached" });
    await page.evaluate(() => RED.sidebar.show("rnn"));
    await page.waitForSelector(".rnn-sidebar-item[data-kind=predictor]");
    const items = await page.$$eval(".rnn-sidebar-item", (els) => els.map((e) => ({ id: e.dataset.nodeId, label: e.querySelector(".rnn-sidebar-item-label").textContent })));
    assert.deepStrictEqual(items, [{ id: trainer, label: "rnn trainer adam 0.01" }, { id: predictor, label: "rnn predictor" }]);
  });

  it("shows the run that ended before the editor opened", async function () {
    await page.click(`.rnn-sidebar-item[data-node-id="${trainer}"]`);
    await page.waitForSelector('.rnn-sidebar-chart[data-chart="loss"]');
    const view = await shown();
    assert.strictEqual(view.id, trainer);
    const [epochs, loss, valLoss] = chart(view, "loss").data;
    assert.ok(epochs.length >= 1 && epochs.every((e, i) => e === i + 1), `epochs 1…n: ${epochs}`);
    assert.ok(loss.every(Number.isFinite) && valLoss.every(Number.isFinite));
    assert.match(await page.textContent(".rnn-sidebar-head"), new RegExp(`(completed|stopped early) after ${epochs.length} epochs`));
    // The naive rules' lines sit beside the network's validation RMSE.
    assert.deepStrictEqual(chart(view, "rmse").series.slice(1), ["network", "persistence", "seasonal naive (50)"]);
  });

  it("follows the trainer selected on the canvas, and draws exactly the epochs of a new run", async function () {
    // Every debug message of "loss per epoch" is an epoch payload: the page keeps them as the editor receives them.
    // The states of the trainer's pictures tell when the new run has ended (the old run's end is already shown).
    await page.evaluate(({ debugId, trainerId }) => {
      window.__rnnEpochs = [];
      window.__rnnStates = [];
      RED.comms.subscribe("debug", (topic, m) => {
        if (m.id === debugId) window.__rnnEpochs.push(JSON.parse(m.msg));
      });
      RED.comms.subscribe(`rnn/trainer/${trainerId}`, (topic, picture) => window.__rnnStates.push(picture.state));
    }, { debugId: nodeId(SINE, "debug", "loss per epoch"), trainerId: trainer });
    await page.click(`.rnn-sidebar-item[data-node-id="${predictor}"]`);
    await page.click(`[id="${nodeId(SINE, "inject", "train")}"] .red-ui-flow-node-button`);
    await page.click(`[id="${trainer}"] .red-ui-flow-node`);
    await page.waitForFunction((id) => window.RnnSidebar.shown().id === id, trainer);
    await page.waitForFunction(() => {
      const run = window.__rnnStates.slice(window.__rnnStates.indexOf("running"));
      return run[0] === "running" && run.some((s) => s !== "running");
    }, null, { timeout: 120000 });
    // Drawn once per frame: wait for the frame that draws the last picture.
    await page.waitForFunction(() => {
      const c = window.RnnSidebar.shown().charts.find((x) => x.key === "loss");
      return c && JSON.stringify(c.data[0]) === JSON.stringify(window.__rnnEpochs.map((p) => p.epoch));
    });
    assert.match(await page.textContent(".rnn-sidebar-head"), /^(completed|stopped early)/);
    const sent = await page.evaluate(() => window.__rnnEpochs);
    assert.ok(sent.length >= 2, `${sent.length} epoch messages`);
    const view = await shown();
    const [epochs, loss, valLoss] = chart(view, "loss").data;
    assert.deepStrictEqual({ epochs, loss, valLoss }, { epochs: sent.map((p) => p.epoch), loss: sent.map((p) => p.loss), valLoss: sent.map((p) => p.valLoss) });
    assert.deepStrictEqual(chart(view, "rmse").data[1], sent.map((p) => p.metrics.rmse));
    assert.deepStrictEqual(chart(view, "rmse").data[2], sent.map((p) => p.baselines.persistence.rmse));
    assert.deepStrictEqual(chart(view, "lr").data[1], sent.map((p) => p.lr));

    // The picture for the README.
    await page.waitForSelector(".red-ui-notification", { state: "detached" });
    await page.mouse.move(1, 1);
    fs.mkdirSync(path.dirname(SIDEBAR_SHOT), { recursive: true });
    await page.screenshot({ path: SIDEBAR_SHOT });
  });

  it("shows the predictor's readings against its forecasts, with the prediction interval as a band", async function () {
    await page.click(`[id="${predictor}"] .red-ui-flow-node`);
    await page.waitForFunction((id) => {
      const v = window.RnnSidebar.shown();
      const c = v.id === id && v.charts.find((x) => x.key === "forecast");
      // A few readings after the new run's intervals: forecasts with bounds.
      return c && c.data[3].filter((x) => x !== null).length >= 3;
    }, predictor, { timeout: 60000 });
    const c = chart(await shown(), "forecast");
    assert.strictEqual(c.bands, 1, "the interval is drawn as a band");
    assert.deepStrictEqual(c.series.slice(1), ["reading", "forecast", "lower (90 %)", "upper (90 %)", "anomaly"]);
    const [, actual, predicted, lower, upper] = c.data;
    assert.ok(actual.filter(Number.isFinite).length >= 3);
    const bounded = lower.map((l, i) => [l, predicted[i], upper[i]]).filter(([l]) => l !== null);
    assert.ok(bounded.every(([l, p, u]) => l < p && p < u), `forecasts inside their bounds: ${JSON.stringify(bounded.slice(0, 3))}`);
    assert.deepStrictEqual(pageErrors, []);
  });
});
