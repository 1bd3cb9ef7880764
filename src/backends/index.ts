import { BackendName } from "../types";
import { LayerBackend } from "./backend";
import { fastBackend } from "./fast";

export { fastBackend };
export type { LayerBackend, ForwardResult, BackwardOptions } from "./backend";

/**
 * The backend by name. The mathjs reference is loaded on first use only, so a runtime that
 * never asks for it never pays for mathjs's memory.
 */
export function getBackend(name: BackendName = "fast"): LayerBackend {
  if (name === "fast") return fastBackend;
  if (name === "reference") {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return (require("./reference") as { referenceBackend: LayerBackend }).referenceBackend;
  }
  throw new Error(`unknown backend "${String(name)}" (expected "fast" or "reference")`);
}
