"use strict";
// Build step after tsc: compiles the WebAssembly kernels (AssemblyScript: src/wasm/assembly/index.ts and what it exports)
// into one .wasm beside its compiled loader (src/wasm/module.ts) in dist/, which ships in the package. Nothing is compiled
// on a user's machine: npm install of the package does not run this, the .wasm is already there.
const { execFileSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
/** 1 GiB in 64 KiB pages: the most any kernel's memory may grow to (WASM_MEMORY_CEILING in src/wasm/arena.ts). */
const MAXIMUM_PAGES = 16384;

const KERNELS = [{ source: "src/wasm/assembly/index.ts", output: "dist/src/wasm/kernels.wasm" }];

const asc = require.resolve("assemblyscript/bin/asc.js");
for (const k of KERNELS) {
  const out = path.join(root, k.output);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  execFileSync(
    process.execPath,
    [asc, path.join(root, k.source), "--outFile", out, "--enable", "simd", "--runtime", "stub", "-O3", "--noAssert",
      "--initialMemory", "1", "--maximumMemory", String(MAXIMUM_PAGES)],
    { stdio: "inherit", cwd: root },
  );
}
