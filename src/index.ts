/**
 * The core of node-red-rnn: recurrent layers (pluggable cells, src/cells), BPTT, losses, optimizers, data helpers and the
 * model file. Nothing here depends on Node-RED.
 */
export * from "./types";
export { Random } from "./random";
export * from "./initializers";
export { RnnLayer, drawWeights, layerShapes, weightShapes } from "./layer";
export { CELL_NAMES, DEFAULT_CELL, getCell } from "./cells";
export type { Cell, CellKernel, CellForward, ParamShape, Params } from "./cells";
export type { LayerParams, LayerInit, LayerOptions, WeightDraw } from "./layer";
export { fastBackend, wasmBackend, getBackend, defaultBackendName, BACKEND_VARIABLE } from "./backends";
export { setWasmMemoryLimit, wasmMemoryLimit } from "./wasm/arena";
export { wasmSimdSupported } from "./wasm/support";
export { wasmAvailable, wasmUnavailableReason } from "./wasm/module";
export type { LayerBackend, ForwardResult, BackwardOptions } from "./backends";
export { computeLoss, computeMetrics, checkLossName, addMetricSums, emptyMetricSums, metricsFromSums } from "./losses";
export type { LossOptions, LossResult, Metrics, MetricSums, RealUnits, ValidationMetrics } from "./losses";
export * from "./optimizers";
export * from "./clipping";
export { ParameterUpdater } from "./training";
export type { UpdateOptions, StepReport } from "./training";
export { Model, paramsToJSON } from "./model";
export type { ModelExtras } from "./model";
export { Forecaster } from "./inference";
export { forecast, historyLength, canRecurse, stepsPerPass } from "./forecast";
export type { ForecastOptions, ForecastResult } from "./forecast";
export { INTERVAL_STEPS, calibrateInSlices, calibrateOffThread, calibrateOnValidation, intervalsUnavailable, scoreOrigins } from "./calibration";
export type { CalibrationJob } from "./calibration";
export { INTERVAL_LEVELS, calibrateIntervals, conformalHalfWidth, halfWidthAt } from "./intervals";
export type { ModelConfig, ModelLayerConfig, GradientOptions, GradientResult } from "./model";
export { notComparable, scoreInSlices, scoreOnValidation } from "./evaluation";
export type { Preparation, ScoreOptions, ValidationScore } from "./evaluation";
export { MAX_REFUSED_IN_A_ROW, trainingLoop, runToEnd } from "./trainingLoop";
export type { FitOptions, FitResult, EpochInfo, MinibatchWork, ValidationSums, LoopEvent } from "./trainingLoop";
export { TrainingSession, loadWorkerTrainer } from "./session";
export type { SessionOptions, TrainingThreads } from "./session";
export { isPackedData, isEmptyData, toPackedData } from "./packedData";
export type { PackedData, NestedData, TrainingData } from "./packedData";
export * from "./tensors";
export { ForwardInBlocks, BLOCK_WORK } from "./forwardInBlocks";
export { inTimedSlices, nextTurn } from "./offThread";
export * from "./data";
export * from "./modelFile";
export * from "./modelStore";
export { exportTfjs, importTfjs, readTfjsModelJSON, TFJS_FORMAT, TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE } from "./tfjs";
export type { ExportedTfjs, ImportOptions, TfjsModelJSON, TfjsReading, TfjsWeightSpec, TfjsWeightsGroup } from "./tfjs";
export { loadForecastModelFile, loadTfjsModel, saveTfjsModel, writeTfjsFiles } from "./tfjs/files";
