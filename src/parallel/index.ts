/**
 * Training in worker threads, data-parallel over the minibatch. Loaded on its own (it is not part
 * of the core's entry point) so that a runtime that never trains in parallel never loads it.
 */
export { ParallelTrainer, fitParallel } from "./trainer";
export type { ParallelTrainerOptions, ParallelFitOptions, ParallelFitData } from "./trainer";
export { partRange } from "./protocol";
