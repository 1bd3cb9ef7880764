/**
 * Entry point of the worker thread `calibrateOffThread` starts for one model: it rebuilds the
 * model and the history from their flat forms, runs `calibrateOnValidation` and answers once,
 * its error included, through the one-shot plumbing of src/offThread.ts; then the thread ends.
 */
import { calibrateOnValidation, modelFromSnapshot, ToCalibrationWorker } from "./calibration";
import { unflattenHistory } from "./data/flatHistory";
import { answerOnce, oneShotPort } from "./offThread";

const port = oneShotPort("calibrateOffThread");

port.once("message", (m: ToCalibrationWorker) => {
  answerOnce(port, () => ({ value: calibrateOnValidation(modelFromSnapshot(m.model), unflattenHistory(m.history), m.steps) }));
});
