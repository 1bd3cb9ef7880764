/**
 * A TensorFlow.js layers model on disk: a folder with model.json and the weight files its
 * manifest lists (weights.bin when we write it). The manifest's paths are taken relative to
 * model.json and must stay inside its folder, so a model.json cannot make us read other files.
 */
import { promises as fsp } from "fs";
import * as nodePath from "path";
import type { Model } from "../model";
import { LIMITS, MODEL_FORMAT, ModelFileError } from "../modelFile";
import { LoadedModel, loadModelFile, writeFileAtomically } from "../modelStore";
import { TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE } from "./format";
import { ExportedTfjs, exportTfjs, importTfjs, ImportOptions } from "./index";
import type { TopologyOptions } from "./topology";
import { readTfjsModelJSON } from "./validate";

/**
 * Writes `model` into the folder `dir` as model.json and weights.bin, each atomically, weights
 * first: whoever reads model.json after it is replaced finds the weights it describes (and the
 * digest in model.json refuses a weights.bin of another save). Resolves with model.json's path.
 */
export async function saveTfjsModel(dir: string, model: Model, options: TopologyOptions = {}): Promise<string> {
  return writeTfjsFiles(dir, exportTfjs(model, options));
}

/** `saveTfjsModel` for a model exported already (the weights as they were then). */
export async function writeTfjsFiles(dir: string, { modelJson, weights }: ExportedTfjs): Promise<string> {
  if (typeof dir !== "string" || dir.trim() === "") throw new Error("the folder to write the TensorFlow.js model into is empty");
  const folder = nodePath.resolve(dir);
  await fsp.mkdir(folder, { recursive: true });
  await writeFileAtomically(nodePath.join(folder, TFJS_WEIGHTS_FILE), weights);
  const file = nodePath.join(folder, TFJS_MODEL_FILE);
  await writeFileAtomically(file, JSON.stringify(modelJson, null, 1) + "\n");
  return file;
}

/** A manifest path inside model.json's folder, or an error naming it. */
function weightPath(folder: string, p: string): string {
  if (p.includes("\0") || nodePath.isAbsolute(p) || /^[a-z][a-z0-9+.-]*:/i.test(p)) {
    throw new ModelFileError("weightsManifest", `the weight file ${JSON.stringify(p)} is not a path relative to model.json`);
  }
  const resolved = nodePath.resolve(folder, p);
  const rel = nodePath.relative(folder, resolved);
  if (rel === "" || rel === ".." || rel.startsWith(".." + nodePath.sep) || nodePath.isAbsolute(rel)) {
    throw new ModelFileError("weightsManifest", `the weight file ${JSON.stringify(p)} is outside model.json's folder`);
  }
  return resolved;
}

async function readBounded(file: string, limit: number, what: string): Promise<Buffer> {
  const handle = await fsp.open(file, "r");
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new ModelFileError("", `${what} ${file} is not a file`);
    // Checked before reading, so a huge file is refused without loading it.
    if (stat.size > limit) throw new ModelFileError("", `${what} ${file} holds ${stat.size} bytes, more than the ${limit} expected`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

function parseJsonText(text: string, file: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (e) {
    throw new ModelFileError("", `${file} is not valid JSON (truncated or corrupted): ${(e as Error).message}`);
  }
}

async function readModelJson(file: string): Promise<unknown> {
  return parseJsonText((await readBounded(file, LIMITS.maxTextLength, "model file")).toString("utf8"), file);
}

/** Imports the TensorFlow.js layers model whose model.json is `file` (parsed already as `parsed` when given). */
async function importAt(file: string, parsed: unknown, options: ImportOptions): Promise<Model> {
  const reading = readTfjsModelJSON(parsed);
  const folder = nodePath.dirname(nodePath.resolve(file));
  const paths = reading.paths.map((p) => weightPath(folder, p));
  // The real folder, so a symbolic link inside it cannot lead out of it.
  const realFolder = await fsp.realpath(folder);
  const parts: Buffer[] = [];
  let total = 0;
  for (const p of paths) {
    const real = await fsp.realpath(p).catch((e: NodeJS.ErrnoException) => {
      if (e && e.code === "ENOENT") throw new ModelFileError("weightsManifest", `the weight file ${p} that the manifest names is missing`);
      throw e;
    });
    const rel = nodePath.relative(realFolder, real);
    if (rel.startsWith("..") || nodePath.isAbsolute(rel)) throw new ModelFileError("weightsManifest", `the weight file ${p} leads outside model.json's folder`);
    // No file may hold more than what the manifest still expects: a huge file is never read.
    const part = await readBounded(p, reading.byteLength - total, "weight file");
    total += part.length;
    parts.push(part);
  }
  return importTfjs(parsed, parts.length === 1 ? parts[0] : Buffer.concat(parts, total), options);
}

/** Reads a TensorFlow.js layers model from its model.json (and the weight files beside it). */
export async function loadTfjsModel(file: string, options: ImportOptions = {}): Promise<Model> {
  try {
    return await importAt(file, await readModelJson(file), options);
  } catch (e) {
    if (e instanceof ModelFileError) e.file = file;
    throw e;
  }
}

/**
 * A model file as a forecast reads it: a file named model.json is a TensorFlow.js layers model,
 * unless it is one of ours (its format says so); any other file is one of ours. Resolves as
 * `loadModelFile` does (a missing file rejects with code "ENOENT").
 */
export async function loadForecastModelFile(file: string): Promise<LoadedModel> {
  if (nodePath.basename(file) !== TFJS_MODEL_FILE) return loadModelFile(file);
  let parsed: unknown;
  try {
    parsed = await readModelJson(file);
  } catch (e) {
    if (e instanceof ModelFileError) e.file = file;
    throw e;
  }
  if (typeof parsed === "object" && parsed !== null && (parsed as Record<string, unknown>).format === MODEL_FORMAT) return loadModelFile(file);
  try {
    return { model: (await importAt(file, parsed, {})).toJSON(), from: "file" };
  } catch (e) {
    if (e instanceof ModelFileError) e.file = file;
    throw e;
  }
}
