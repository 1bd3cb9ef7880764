import { Adam } from "./adam";
import { Momentum } from "./momentum";
import { Optimizer, OptimizerName, OptimizerOptions } from "./optimizer";
import { RmsProp } from "./rmsprop";
import { Sgd } from "./sgd";

export { Optimizer } from "./optimizer";
export type { OptimizerConfig, OptimizerName, OptimizerOptions, ParamState } from "./optimizer";
export { Sgd } from "./sgd";
export { Momentum } from "./momentum";
export { Adam } from "./adam";
export { RmsProp } from "./rmsprop";

export const OPTIMIZERS: readonly OptimizerName[] = ["sgd", "momentum", "adam", "rmsprop"];

/** Builds the named optimizer; options it does not use are ignored. */
export function createOptimizer(name: OptimizerName, options?: OptimizerOptions): Optimizer {
  const opts = options ?? {};
  switch (name) {
    case "sgd":
      return new Sgd(opts);
    case "momentum":
      return new Momentum(opts);
    case "adam":
      return new Adam(opts);
    case "rmsprop":
      return new RmsProp(opts);
    default:
      throw new Error(`unknown optimizer "${String(name)}" (expected one of ${OPTIMIZERS.join(", ")})`);
  }
}
