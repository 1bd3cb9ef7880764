/**
 * The core of node-red-rnn: Elman RNN layers, BPTT, losses, optimizers, data helpers and the
 * model file. Nothing here depends on Node-RED.
 */
export * from "./types";
export { Random } from "./random";
export * from "./initializers";
export { RnnLayer, weightShapes } from "./layer";
export type { LayerParams, LayerInit, LayerOptions } from "./layer";
export { fastBackend, getBackend } from "./backends";
export type { LayerBackend, ForwardResult, BackwardOptions } from "./backends";
export { computeLoss, computeMetrics, checkLossName } from "./losses";
export type { LossOptions, LossResult, Metrics } from "./losses";
export * from "./optimizers";
export * from "./clipping";
export { ParameterUpdater } from "./training";
export type { UpdateOptions, StepReport } from "./training";
export { Model, paramsToJSON } from "./model";
export type { ModelExtras } from "./model";
export { Forecaster } from "./inference";
export { forecast, historyLength, canRecurse, stepsPerPass } from "./forecast";
export type { ForecastOptions, ForecastResult } from "./forecast";
export { INTERVAL_STEPS, calibrateInSlices, calibrateOnValidation, intervalsUnavailable, scoreOrigins } from "./calibration";
export { INTERVAL_LEVELS, calibrateIntervals, conformalHalfWidth, halfWidthAt } from "./intervals";
export { warmUp } from "./warmup";
export type { ModelConfig, ModelLayerConfig, GradientOptions, GradientResult, FitOptions, FitResult, EpochInfo } from "./model";
export * from "./tensors";
export * from "./data";
export * from "./modelFile";
export * from "./modelStore";
