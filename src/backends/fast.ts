import { composeBackend } from "./compose";

/** The default backend: each cell's fused Float64Array kernel (src/cells/<cell>/fast.ts). */
export const fastBackend = composeBackend("fast");
