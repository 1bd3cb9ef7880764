/**
 * The model file a predictor reads: read at deploy, then looked at again (its modification time
 * and size, one stat) at most once a second while messages arrive, and read again when it has
 * appeared or changed. A file written after the deploy, by this flow's trainer, another flow,
 * another Node-RED or a person copying it in, is picked up without a restart; see
 * docs/architecture.md for why this and not a notification from the trainer. A file named
 * model.json may be a TensorFlow.js layers model (src/tfjs/files.ts); its weight files are read
 * with it, but only a change of model.json is looked for.
 */
import { promises as fs } from "fs";
import { loadForecastModelFile, LoadedModel } from "../../src";
import { errorMessage } from "./runtime";

export interface WatchReports {
  /** A version of the file was read. */
  loaded(loaded: LoadedModel): void;
  /** There is no file (yet). */
  missing(): void;
  /** The file is there but cannot be used; `message` names it. */
  failed(message: string): void;
}

/** The shortest time between two looks at the file. */
export const RECHECK_MS = 1000;

export class ModelFileWatch {
  /** The version last read or found unusable ("mtime:size"), or null when there was no file. */
  private seen: string | null = null;
  private lastLook = -Infinity;
  private busy = false;
  private closed = false;
  private reportedMissing = false;

  constructor(readonly path: string, private readonly reports: WatchReports, private readonly recheckMs = RECHECK_MS) {}

  /** Reads the file now (the deploy). */
  start(): Promise<void> {
    this.lastLook = Date.now();
    return this.look();
  }

  /** A message arrived: looks at the file if the last look is old enough; never waits. */
  poke(now = Date.now()): void {
    if (this.busy || this.closed || now - this.lastLook < this.recheckMs) return;
    this.lastLook = now;
    void this.look();
  }

  close(): void {
    this.closed = true;
  }

  private async look(): Promise<void> {
    this.busy = true;
    try {
      let version: string | null;
      try {
        const st = await fs.stat(this.path);
        version = `${st.mtimeMs}:${st.size}`;
      } catch (e) {
        if ((e as NodeJS.ErrnoException)?.code !== "ENOENT") throw e;
        version = null;
      }
      if (this.closed) return;
      if (version === null) {
        // Reported when it goes missing, not on every look while it stays away.
        if (!this.reportedMissing) this.reports.missing();
        this.reportedMissing = true;
        this.seen = null;
        return;
      }
      if (version === this.seen) return;
      this.seen = version;
      this.reportedMissing = false;
      const loaded = await loadForecastModelFile(this.path);
      if (!this.closed) this.reports.loaded(loaded);
    } catch (e) {
      if (this.closed) return;
      const message = errorMessage(e);
      // Say which file: a flow may use several, and a parse error alone does not name it.
      this.reports.failed(message.includes(this.path) ? message : `${this.path}: ${message}`);
    } finally {
      this.busy = false;
    }
  }
}
