"use strict";
// Node-RED with the heap of a Raspberry Pi class device (--max-old-space-size=512), all five
// nodes fed the fuzzers' hostile corpus and the large payloads that used to stall it for seconds
// or kill it (small-heap-soak.js, in a child process of its own): it survives, every message ends
// exactly once, and the longest event-loop stall is printed (the bound only catches seconds).
const assert = require("assert");
const path = require("path");
const { spawn } = require("child_process");

/** Stalls longer than this fail the test; the figure itself is printed, not asserted. */
const STALL_BOUND_MS = 2000;

function runSoak() {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--max-old-space-size=512", path.join(__dirname, "small-heap-soak.js")], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe("reliability: a 512 MB heap", function () {
  this.timeout(180000);

  it("survives the hostile corpus and the large payloads: every message ends exactly once, clearly, with no stall of seconds", async function () {
    const run = await runSoak();
    const line = run.stdout.split("\n").find((l) => l.startsWith("SOAK "));
    assert.ok(line, `the soak process ended (code ${run.code}, signal ${run.signal}) without its report:\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-3000)}`);
    assert.strictEqual(run.code, 0);
    const soak = JSON.parse(line.slice(5));
    console.log(`      heap limit ${soak.heapLimitMb} MB; ${soak.ms} ms; longest event-loop stall ${soak.longestStallMs} ms; peak RSS ${soak.peakRssMb} MB`);
    for (const [id, n] of Object.entries(soak.nodes)) {
      const large = Object.entries(n.large).map(([name, t]) => `${name.replace(/^large: /, "")} → ${t ? (t.ok ? "handled" : t.error ? "refused" : "never ended") : "not sent"}`).join("; ");
      console.log(`      ${id}: ${n.tried} messages, ${n.errors} refused, ${n.completed} handled, longest stall ${n.longestStallMs} ms (${n.ms} ms)${large ? `; ${large}` : ""}`);
    }
    assert.deepStrictEqual(soak.problems, [], "no uncaught exception or unhandled rejection");
    for (const [id, n] of Object.entries(soak.nodes)) {
      assert.deepStrictEqual(n.thrown.slice(0, 5), [], `${id}: receive() never throws`);
      assert.deepStrictEqual(n.missing.slice(0, 5), [], `${id}: every message ends`);
      assert.deepStrictEqual(n.both.slice(0, 5), [], `${id}: no message ends twice`);
      assert.deepStrictEqual(n.wrong.slice(0, 5), [], `${id}: a message that must be handled is handled`);
      assert.deepStrictEqual(n.unclear.slice(0, 5), [], `${id}: every error is a clear sentence`);
      for (const [name, t] of Object.entries(n.large)) assert.ok(t && t.ok + t.error === 1, `${id}: ${name} was sent and ended once`);
    }
    assert.strictEqual(soak.heapLimitMb < 1024, true, "the child ran with the small heap");
    assert.ok(soak.longestStallMs < STALL_BOUND_MS, `longest event-loop stall ${soak.longestStallMs} ms`);
  });
});
