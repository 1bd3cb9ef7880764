import { wasmAvailable, wasmExpected, wasmUnavailableReason } from "../wasm/module";
import { BackendName } from "../types";
import { LayerBackend } from "./backend";
import { fastBackend } from "./fast";
import { wasmBackend } from "./wasm";

export { fastBackend, wasmBackend };
export type { LayerBackend, ForwardResult, BackwardOptions } from "./backend";

const NAMES: readonly BackendName[] = ["fast", "wasm", "reference"];

/** The environment variable that overrides the default backend (`fast` or `wasm`), e.g. to compare them. */
export const BACKEND_VARIABLE = "NODE_RED_RNN_BACKEND";

/**
 * The backend used when none is asked for: "wasm" where this engine runs WebAssembly SIMD and the
 * build produced the module (it trains the bench's tasks several times faster, docs/performance.md),
 * "fast" otherwise; NODE_RED_RNN_BACKEND=fast|wasm overrides it (wasm still only where available).
 */
export function defaultBackendName(): BackendName {
  const asked = process.env[BACKEND_VARIABLE];
  if (asked === "fast") return "fast";
  return wasmExpected() ? "wasm" : "fast";
}

/**
 * The backend by name (the default when none). The mathjs reference is loaded on first use only,
 * so a runtime that never asks for it never pays for mathjs's memory.
 */
export function getBackend(name: BackendName = defaultBackendName()): LayerBackend {
  if (name === "fast") return fastBackend;
  if (name === "wasm") {
    if (!wasmAvailable()) {
      throw new Error(`the wasm backend is not available here: ${wasmUnavailableReason()} (use "fast")`);
    }
    return wasmBackend;
  }
  if (name === "reference") {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return (require("./reference") as { referenceBackend: LayerBackend }).referenceBackend;
  }
  throw new Error(`unknown backend "${String(name)}" (expected ${NAMES.map((n) => `"${n}"`).join(", ")})`);
}
