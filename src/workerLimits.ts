import type { ResourceLimits } from "worker_threads";

/**
 * The V8 heap limits of every worker thread this package starts (training, series preparation,
 * interval calibration). A young generation of 16 MB keeps the training loop's minibatch
 * allocations in cheap scavenges: capped at 4 MB, one training worker's epoch was 1.17× slower
 * than Model.fit on the main thread, at 16 MB 0.93× (bench/node-training.js). The memory a worker
 * leaves resident after it has ended barely depends on this limit (docs/performance.md).
 */
export const WORKER_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 16 };
