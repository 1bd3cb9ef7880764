import { parentPort, workerData } from "worker_threads";
import type { EpochInfo } from "../trainingLoop";
import { endFit, runLeader } from "./leader";
import { runHelper } from "./helper";
import { CTRL, MainToWorker, WorkerInit, WorkerToMain } from "./protocol";
import { modelOverSharedWeights } from "./shared";
import { PeerFailedError, waitForValue } from "./sync";
import { lowerThisThreadsPriority } from "../threadPriority";
import { drawWeights } from "../layer";

/**
 * Entry point of a training worker (started by ParallelTrainer from the compiled file). The
 * leader runs the training loop; a helper computes its part of every minibatch. Every failure is
 * caught and reported to the main thread as a message: an uncaught exception in a worker would
 * only surface as an "error" event, without saying which fit it belonged to.
 */

if (!parentPort) throw new Error("this file is a worker_threads entry point; ParallelTrainer starts it");
const port = parentPort;
lowerThisThreadsPriority();
const init = workerData as WorkerInit;
const ctrl = new Int32Array(init.control);
const model = modelOverSharedWeights(init.inputSize, init.specs, init.weights);

function post(message: WorkerToMain): void {
  port.postMessage(message);
}

function report(fit: number, err: unknown): void {
  const secondary = err instanceof PeerFailedError;
  const e = err instanceof Error ? err : new Error(String(err));
  post({ type: "error", fit, message: e.message, stack: e.stack, secondary });
}

port.on("message", (command: MainToWorker) => {
  if (command.type !== "fit") return;
  if (init.role === "helper") {
    runHelper(model, command, init.part, init.parts, ctrl, (err) => report(command.fit, err));
    return;
  }
  let epochsSent = 0;
  const onEpoch = (info: EpochInfo): void => {
    if (!command.waitForEpochAck) return;
    post({ type: "epoch", fit: command.fit, info });
    epochsSent++;
    // The main thread reads the weights and runs the user's callback while we hold still.
    waitForValue(ctrl, CTRL.ACK, epochsSent);
  };
  try {
    // Before the first task is published: the helpers read these weights from shared memory.
    drawWeights(model.layers, command.draws);
    const result = runLeader(model, command, init.parts, ctrl, onEpoch);
    endFit(ctrl, init.parts);
    post({ type: "done", fit: command.fit, result });
  } catch (err) {
    // Helpers still computing or waiting are released by the end, not by the error flag: they
    // did nothing wrong, and this way no fit can start before they are out.
    endFit(ctrl, init.parts);
    report(command.fit, err);
  }
});

post({ type: "ready" });
