"use strict";
// Build step after tsc: compiles each WebAssembly kernel (AssemblyScript, src/**/assembly/kernel.ts)
// into a .wasm beside its compiled loader in dist/, which ships in the package. Nothing is compiled
// on a user's machine: npm install of the package does not run this, the .wasm is already there.
const { execFileSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
/** 1 GiB in 64 KiB pages: the most any kernel's memory may grow to (WASM_MEMORY_CEILING in src/backends/wasmArena.ts). */
const MAXIMUM_PAGES = 16384;

const KERNELS = [{ source: "src/cells/elman/assembly/kernel.ts", output: "dist/src/cells/elman/elman.wasm" }];

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
