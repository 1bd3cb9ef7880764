import { composeBackend } from "./compose";

/**
 * The WebAssembly SIMD backend: the cells' wasm kernels (src/cells/elman/wasm.ts; a cell without
 * one runs its fast kernel), the JavaScript projection.
 */
export const wasmBackend = composeBackend("wasm");
