import { composeBackend } from "./compose";

/**
 * The reference backend: each cell and the projection written with mathjs matrices like their
 * equations (src/cells/<cell>/reference.ts, src/projection/reference.ts), the yardstick the fast
 * kernels are tested against.
 */
export const referenceBackend = composeBackend("reference");
