/**
 * Background threads yield the CPU to Node-RED's own thread. On a small machine (2 vCPUs, measured)
 * a busy worker thread at the same priority let the main thread's event loop stall up to ~21 ms;
 * at nice 10 the worst stall fell to ~9 ms. The threads that call this are work Node-RED waits
 * for (data preparation, interval calibration, training) but no message is held up by them.
 */
import * as fs from "fs";
import * as os from "os";
import { isMainThread } from "worker_threads";

/** The nice value background threads take: below Node-RED's thread, above idle work (19). */
export const BACKGROUND_NICE = 10;

/**
 * Lowers the scheduling priority of the calling thread only, to `BACKGROUND_NICE`; returns the
 * thread's id, or null where it could not be done (not Linux, not permitted, the main thread).
 *
 * On Linux `setpriority` on a thread id changes that one thread, not the process: that is why the
 * id comes from /proc/thread-self ("<pid>/task/<tid>"); `os.setPriority(0, …)` would mean the
 * process's main thread. Raising one's own nice value needs no privilege, but a sandbox may still
 * refuse it: the thread then simply keeps its priority.
 */
export function lowerThisThreadsPriority(): number | null {
  // On the main thread this would slow Node-RED itself, the opposite of the point.
  if (isMainThread) return null;
  try {
    const tid = Number(fs.readlinkSync("/proc/thread-self").split("/").pop());
    if (!Number.isInteger(tid) || tid <= 0) return null;
    os.setPriority(tid, BACKGROUND_NICE);
    return tid;
  } catch {
    return null;
  }
}
