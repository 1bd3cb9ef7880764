/**
 * Training in worker threads, data-parallel over the minibatch: an entry point of its own, so that
 * a runtime that never trains in parallel never loads it.
 */
export { ParallelTrainer, fitParallel } from "./trainer";
export type { ParallelTrainerOptions, ParallelFitOptions, ParallelFitData } from "./trainer";
export { chunkRows, chunkRange } from "./protocol";
