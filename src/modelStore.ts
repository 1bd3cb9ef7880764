/**
 * Model files on disk: saves that a crash cannot tear, a backup of the previous version, and
 * loading that falls back to that backup when the main file is damaged.
 *
 * A save writes a temporary file next to the target, fsyncs it and renames it over the target.
 * A rename within one directory is atomic, so a reader (or the next start after a crash, a
 * power cut or a SIGKILL) sees either the old complete file or the new complete file.
 */
import { randomBytes } from "crypto";
import { promises as fsp } from "fs";
import * as nodePath from "path";
import { formatModelText, LIMITS, ModelFileError, parseModelText, validateModelJSON } from "./modelFile";
import { ModelJSON } from "./types";

export interface LoadedModel {
  model: ModelJSON;
  /** "backup" when the main file was unusable and `<path>.bak` was loaded instead. */
  from: "file" | "backup";
  /** Set when the backup was used: says what was wrong with the main file. */
  warning?: string;
}

/** Where the previous version of a model file is kept. */
export function backupPath(file: string): string {
  return file + ".bak";
}

function errorCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null ? (err as NodeJS.ErrnoException).code : undefined;
}

function noop(): void {
  /* a settled promise is all that is wanted */
}

// One chain of saves per resolved path, so two saves of the same file never interleave their
// temp files, backup and rename; the last save called is the last one written.
const chains = new Map<string, Promise<void>>();
// Temp files this process is writing right now; any other temp file carrying our pid is left
// over from an earlier process that had the same pid (common in containers) and crashed.
const activeTemps = new Set<string>();

/**
 * Validates `json` and writes it to `file` atomically, keeping the previous file as
 * `file + ".bak"`. The model is validated and serialised when this is called, so changes made
 * to `json` afterwards do not reach the file. An invalid model is never written.
 */
export function saveModelFile(file: string, json: ModelJSON): Promise<void> {
  let text: string;
  let target: string;
  try {
    if (typeof file !== "string" || file === "") throw new Error("model file path is empty");
    target = nodePath.resolve(file);
    text = formatModelText(validateModelJSON(json));
  } catch (err) {
    return Promise.reject(err);
  }
  return queueWrite(target, text);
}

/**
 * Writes `data` to `file` as `saveModelFile` writes a model (atomically, keeping the previous
 * file as `file + ".bak"`, one write after the other per path), for the other files a model is
 * saved as (src/tfjs).
 */
export function writeFileAtomically(file: string, data: string | Uint8Array): Promise<void> {
  if (typeof file !== "string" || file === "") return Promise.reject(new Error("file path is empty"));
  return queueWrite(nodePath.resolve(file), data);
}

function queueWrite(target: string, data: string | Uint8Array): Promise<void> {
  const previous = chains.get(target) ?? Promise.resolve();
  const run = previous.then(() => writeAtomically(target, data));
  const settled = run.then(noop, noop);
  chains.set(target, settled);
  void settled.then(() => {
    if (chains.get(target) === settled) chains.delete(target);
  });
  return run;
}

async function writeAtomically(file: string, data: string | Uint8Array): Promise<void> {
  const dir = nodePath.dirname(file);
  await fsp.mkdir(dir, { recursive: true });
  const tag = `${process.pid}-${randomBytes(6).toString("hex")}`;
  const temp = `${file}.tmp-${tag}`;
  const backupTemp = `${file}.tmp-${tag}-bak`;
  activeTemps.add(temp);
  activeTemps.add(backupTemp);
  try {
    const old = await fsp.stat(file).catch((err) => {
      if (errorCode(err) === "ENOENT") return null;
      throw err;
    });
    const handle = await fsp.open(temp, "wx", old && old.isFile() ? old.mode & 0o777 : 0o666);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (old && old.isFile()) {
      // The backup is swapped in by rename too, so a `.bak` that exists is always complete.
      if (await linkOrCopy(file, backupTemp)) await fsp.rename(backupTemp, backupPath(file));
    }
    await fsp.rename(temp, file);
    await syncDirectory(dir);
  } catch (err) {
    await Promise.all([temp, backupTemp].map((p) => fsp.unlink(p).catch(noop)));
    throw err;
  } finally {
    activeTemps.delete(temp);
    activeTemps.delete(backupTemp);
  }
  await removeStaleTemps(file).catch(noop);
}

/**
 * Makes `to` hold the current content of `from`: a hard link where the file system has them
 * (no copy, and the rename that follows gives the main name a new inode), else a synced copy.
 * Returns false when `from` disappeared meanwhile (nothing to back up).
 */
async function linkOrCopy(from: string, to: string): Promise<boolean> {
  try {
    await fsp.link(from, to);
    return true;
  } catch (err) {
    const code = errorCode(err);
    if (code === "ENOENT") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS" && code !== "EXDEV" && code !== "EMLINK") {
      throw err;
    }
  }
  try {
    await fsp.copyFile(from, to);
  } catch (err) {
    if (errorCode(err) === "ENOENT") return false;
    throw err;
  }
  const handle = await fsp.open(to, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

/** Makes the rename itself durable; some platforms (Windows) cannot open a directory, which is fine. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, "r");
    await handle.sync();
  } catch {
    // Not supported here: the data is already synced, only the rename's durability is weaker.
  } finally {
    await handle?.close().catch(noop);
  }
}

function processIsGone(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(err) === "ESRCH";
  }
}

/** Removes temp files of `file` left by processes that died in the middle of a save. */
async function removeStaleTemps(file: string): Promise<void> {
  const dir = nodePath.dirname(file);
  const prefix = nodePath.basename(file) + ".tmp-";
  for (const name of await fsp.readdir(dir)) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(\d+)-[0-9a-f]+(?:-bak)?$/.exec(name.slice(prefix.length));
    if (!match) continue;
    const full = nodePath.join(dir, name);
    const pid = Number(match[1]);
    const stale = pid === process.pid ? !activeTemps.has(full) : processIsGone(pid);
    if (stale) await fsp.unlink(full).catch(noop);
  }
}

async function readModel(file: string): Promise<ModelJSON> {
  let text: string;
  const handle = await fsp.open(file, "r");
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) {
      throw Object.assign(new Error(`EISDIR: ${file} is a directory, not a model file`), { code: "EISDIR", path: file });
    }
    // Checked before reading, so a huge file is refused without loading it into memory.
    if (stat.size > LIMITS.maxTextLength) {
      throw new ModelFileError("", `model file is too large: ${stat.size} bytes exceed the limit ${LIMITS.maxTextLength}`);
    }
    text = (await handle.readFile()).toString("utf8");
  } finally {
    await handle.close();
  }
  return parseModelText(text);
}

async function readModelAt(file: string): Promise<ModelJSON> {
  try {
    return await readModel(file);
  } catch (err) {
    if (err instanceof ModelFileError) err.file = file;
    throw err;
  }
}

/**
 * Reads and validates a model file. A missing file rejects with the fs error (code "ENOENT").
 * A damaged or invalid main file falls back to `file + ".bak"` when that one is valid, with a
 * warning naming what was wrong; the damaged file is left untouched for the user to inspect.
 */
export async function loadModelFile(file: string): Promise<LoadedModel> {
  try {
    return { model: await readModelAt(file), from: "file" };
  } catch (err) {
    if (errorCode(err) === "ENOENT" || !(err instanceof Error)) throw err;
    const backup = backupPath(file);
    let model: ModelJSON;
    try {
      model = await readModelAt(backup);
    } catch (backupErr) {
      if (errorCode(backupErr) !== "ENOENT") {
        err.message += ` (the backup ${backup} cannot be used either: ${(backupErr as Error).message})`;
      }
      throw err;
    }
    return {
      model,
      from: "backup",
      warning: `model file ${file} cannot be used (${err.message}); loaded the previous version from ${backup} and left the damaged file as it is`,
    };
  }
}

/**
 * Resolves a model path given in a node's settings. Relative paths are taken inside `userDir`
 * (Node-RED's user directory); a path that ends up outside it, absolute or through "..", is an
 * error unless `allowOutside`, so a flow cannot read or overwrite arbitrary files by default.
 * An absolute path that lies inside `userDir` is accepted.
 */
export function resolveModelPath(userDir: string, p: string, allowOutside = false): string {
  if (typeof p !== "string" || p.trim() === "") throw new Error("model file path is empty");
  if (p.includes("\0")) throw new Error("model file path contains a NUL character");
  if (typeof userDir !== "string" || userDir === "") throw new Error("the user directory is not known, so a model path cannot be resolved");
  const root = nodePath.resolve(userDir);
  const resolved = nodePath.resolve(root, p);
  if (allowOutside) return resolved;
  const rel = nodePath.relative(root, resolved);
  if (rel === "") throw new Error(`model file path ${JSON.stringify(p)} names the user directory itself, not a file`);
  if (rel === ".." || rel.startsWith(".." + nodePath.sep) || nodePath.isAbsolute(rel)) {
    throw new Error(`model file path ${JSON.stringify(p)} is outside the user directory (allow paths outside it to use it)`);
  }
  return resolved;
}
