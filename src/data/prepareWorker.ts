/**
 * Entry point of the worker thread `prepareRunOffThread` starts for one run: it collects the
 * series sent in slices, runs `prepareRun` and answers once (the packed arrays transferred), its
 * error included, through the one-shot plumbing of src/offThread.ts; then the thread ends.
 */
import { answerOnce, oneShotPort } from "../offThread";
import { PrepareOptions } from "./prepare";
import { describePrepareError, prepareRun, toMessage, ToPrepareWorker } from "./prepareRun";

const port = oneShotPort("prepareRunOffThread");

const rowSlices: unknown[][] = [];
const timeSlices: Float64Array[] = [];

function joinTimes(): Float64Array {
  const out = new Float64Array(timeSlices.reduce((n, s) => n + s.length, 0));
  let at = 0;
  for (const s of timeSlices) {
    out.set(s, at);
    at += s.length;
  }
  return out;
}

port.on("message", (m: ToPrepareWorker) => {
  if (m.type === "rows") rowSlices.push(m.rows);
  else if (m.type === "times") timeSlices.push(m.times);
  else if (m.type === "run") {
    answerOnce(
      port,
      () => {
        // concat keeps holes where the caller's array had them, as the array itself would.
        const series = m.sliced.rows ? ([] as unknown[]).concat(...rowSlices) : m.series;
        const options: PrepareOptions = m.sliced.times ? { ...m.options, times: joinTimes() } : m.options;
        rowSlices.length = 0;
        timeSlices.length = 0;
        return toMessage(prepareRun(series, options));
      },
      describePrepareError,
    );
  }
});
