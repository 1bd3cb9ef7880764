import { prepareDataset } from "./data";
import { Model } from "./model";
import { OptimizerName } from "./optimizers";

const OPTIMIZER_ORDER: OptimizerName[] = ["adam", "sgd", "momentum", "rmsprop"];

/**
 * V8 optimises a function only after it has run for a while, and drops that work again for code
 * left unused across garbage collections. A training run that starts on cold code holds the event
 * loop for tens of milliseconds in its first batches. This runs the same training path (windowing,
 * packing, forward, loss, BPTT, every optimizer) on a tiny model in small slices, one per turn of
 * the event loop (each well under a millisecond once warm), then calls `then`: started right
 * before a run, the run's first batch meets optimised code.
 *
 * Returns a function that cancels the remaining slices (and `then`). Never throws: a failure only
 * ends the warm-up early.
 */
export function warmUp(then: () => void, slices = 40): () => void {
  let cancelled = false;
  let pending: NodeJS.Immediate | null = null;
  let i = 0;
  let model: Model | null = null;
  let data: ReturnType<typeof prepareDataset> | null = null;
  const finish = (): void => {
    pending = null;
    if (!cancelled) then();
  };
  const slice = (): void => {
    pending = null;
    if (cancelled) return;
    try {
      if (!model || !data) {
        data = prepareDataset(Array.from({ length: 40 }, (_, k) => Math.sin(k / 3)), { length: 6, horizon: 1, scaling: "zscore", validationSplit: 0.25 });
        model = Model.create({ inputSize: 1, layers: [{ hiddenSize: 6 }, { hiddenSize: 5, outputSize: 1 }], seed: 1 });
      }
      // Batches of 4 and a remainder exercise both paths of the kernels (four rows at a time, one).
      model.fit(data.train, { epochs: 1, batchSize: 4, optimizer: OPTIMIZER_ORDER[i % 4], learningRate: 0.01, clipNorm: 1, truncate: 0, shuffle: false, validation: data.validation, gradientReport: i % 2 === 0 });
      if (i % 8 === 7) model.predict(data.validation.inputs);
    } catch {
      i = slices;
    }
    pending = setImmediate(++i < slices ? slice : finish);
  };
  pending = setImmediate(slice);
  return () => {
    cancelled = true;
    if (pending) clearImmediate(pending);
    pending = null;
  };
}
