/** The one WebAssembly module of the package's kernels: what the loader (src/wasm/module.ts) calls. */
export { heapBase, transpose, toTimeMajor } from "./linalg";
export { elmanForward, elmanBackward } from "../../cells/elman/assembly/kernel";
export { lstmForward, lstmBackward } from "../../cells/lstm/assembly/kernel";
export { gruForward, gruBackward } from "../../cells/gru/assembly/kernel";
export { projectionForward, projectionBackward } from "../../projection/assembly/kernel";
