/**
 * The shape of a numeric payload (batch × time × features, time × features, or a flat list),
 * read from its first entries and the lengths of its sequences without reading the values.
 */

/** Shape of a nested numeric payload: 3 = B×T×F, 2 = T×F, 1 = a flat list, 0 = not numeric. */
export function nestingDepth(v: unknown): number {
  let depth = 0;
  let cur: unknown = v;
  while (Array.isArray(cur)) {
    if (cur.length === 0) return 0;
    depth++;
    cur = cur[0];
    if (depth > 3) return 0;
  }
  return typeof cur === "number" ? depth : 0;
}

/** A nested numeric payload seen as a batch: B sequences of at most T steps of F numbers. */
export interface NestedShape {
  /** As nestingDepth: 3 = B×T×F, 2 = T×F, 1 = a flat list. */
  depth: number;
  /** The payload as B×T×F (the list itself in one sequence when flat: its steps are numbers). */
  batch: unknown[][];
  B: number;
  T: number;
  F: number;
}

/**
 * The shape of a numeric payload read from its first entries and its sequences' lengths, without
 * reading a value (null when nestingDepth says it is not numeric). What it counts is what packing
 * it would allocate, so a node can weigh a message before working on it; the values themselves
 * are checked as they are packed.
 */
export function nestedShape(payload: unknown): NestedShape | null {
  const depth = nestingDepth(payload);
  if (depth === 0) return null;
  const list = payload as unknown[];
  if (depth === 1) return { depth, batch: [list], B: 1, T: list.length, F: 1 };
  if (depth === 2) return { depth, batch: [list], B: 1, T: list.length, F: (list[0] as unknown[]).length };
  let T = 0;
  for (const seq of list) if (Array.isArray(seq) && seq.length > T) T = seq.length;
  return { depth, batch: list as unknown[][], B: list.length, T, F: ((list[0] as unknown[])[0] as unknown[]).length };
}
