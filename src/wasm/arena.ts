/**
 * The memory of one WebAssembly kernel module, handed out in blocks: what a kernel's forward pass
 * leaves there for its backward pass stays resident between the two, and the memory grows only
 * when the blocks in use need it, up to a limit.
 *
 * Blocks are placed first-fit in a free list (the blocks of a training step are few: one per layer
 * and one scratch). When nothing fits and the memory may still grow, it grows; when it may not,
 * every block but those the caller keeps is released at once (their owners notice `live` is
 * false and copy their data in again) and the allocation is tried on the empty memory. A request
 * larger than the limit gets null: the caller then runs its JavaScript kernel instead.
 */

const PAGE = 65536;

/** Upper bound of every arena's memory, bytes: the maximum the modules declare (scripts/build-wasm.js). */
export const WASM_MEMORY_CEILING = 1024 * 1024 * 1024;

let memoryLimit = WASM_MEMORY_CEILING;

/**
 * Caps the memory the WebAssembly kernels of this thread may grow to (a small device may want less
 * than the default 1 GiB). Each thread has its own: worker threads keep the default. Layers whose
 * arrays do not fit run on the JavaScript kernels.
 */
export function setWasmMemoryLimit(bytes: number): void {
  if (!Number.isFinite(bytes) || bytes < PAGE) throw new Error(`the WebAssembly memory limit must be at least ${PAGE} bytes, got ${String(bytes)}`);
  memoryLimit = Math.min(Math.floor(bytes), WASM_MEMORY_CEILING);
}

export function wasmMemoryLimit(): number {
  return memoryLimit;
}

export interface ArenaBlock {
  /** Byte offset in the module's memory (16-byte aligned). */
  readonly offset: number;
  readonly bytes: number;
  /** False once the block was freed or released under memory pressure. */
  live: boolean;
}

interface FreeRange {
  offset: number;
  bytes: number;
}

export class WasmArena {
  private free: FreeRange[];
  private readonly used = new Set<ArenaBlock>();
  private view: Float64Array;

  constructor(private readonly memory: WebAssembly.Memory, private readonly base: number) {
    this.free = [{ offset: base, bytes: memory.buffer.byteLength - base }];
    this.view = new Float64Array(memory.buffer);
  }

  /** The memory as float64s; a fresh view after the memory grew (the old one is detached then). */
  get f64(): Float64Array {
    if (this.view.buffer !== this.memory.buffer) this.view = new Float64Array(this.memory.buffer);
    return this.view;
  }

  /** Current size of the memory, bytes. */
  get size(): number {
    return this.memory.buffer.byteLength;
  }

  /** Blocks in use now (what the tests check). */
  get blocksInUse(): number {
    return this.used.size;
  }

  /** A block of at least `bytes`, or null when it cannot fit under the limit. The `keep` blocks survive a release. */
  alloc(bytes: number, ...keep: (ArenaBlock | null)[]): ArenaBlock | null {
    const need = Math.ceil(bytes / 16) * 16;
    if (this.base + need > memoryLimit) return null;
    let block = this.take(need);
    if (block) return block;
    if (this.grow(need)) {
      block = this.take(need);
      if (block) return block;
    }
    this.releaseAllBut(keep);
    block = this.take(need);
    if (block) return block;
    return this.grow(need) ? this.take(need) : null;
  }

  release(block: ArenaBlock): void {
    if (!block.live) return;
    block.live = false;
    this.used.delete(block);
    this.giveBack(block.offset, block.bytes);
  }

  private take(need: number): ArenaBlock | null {
    for (let i = 0; i < this.free.length; i++) {
      const r = this.free[i];
      if (r.bytes < need) continue;
      const block: ArenaBlock = { offset: r.offset, bytes: need, live: true };
      r.offset += need;
      r.bytes -= need;
      if (r.bytes === 0) this.free.splice(i, 1);
      this.used.add(block);
      return block;
    }
    return null;
  }

  /** Returns a range to the free list, merged with its neighbours. */
  private giveBack(offset: number, bytes: number): void {
    const free = this.free;
    let i = 0;
    while (i < free.length && free[i].offset < offset) i++;
    free.splice(i, 0, { offset, bytes });
    if (i + 1 < free.length && offset + bytes === free[i + 1].offset) {
      free[i].bytes += free[i + 1].bytes;
      free.splice(i + 1, 1);
    }
    if (i > 0 && free[i - 1].offset + free[i - 1].bytes === offset) {
      free[i - 1].bytes += free[i].bytes;
      free.splice(i, 1);
    }
  }

  private releaseAllBut(keep: (ArenaBlock | null)[]): void {
    for (const b of [...this.used]) if (!keep.includes(b)) this.release(b);
  }

  /**
   * Grows so that a free range of `need` bytes exists at the end: at least doubling (few grows),
   * never past the limit. False when the limit (or the engine) refuses.
   */
  private grow(need: number): boolean {
    const size = this.size;
    const last = this.free[this.free.length - 1];
    const tailFree = last && last.offset + last.bytes === size ? last.bytes : 0;
    const wanted = size + need - tailFree;
    if (wanted > memoryLimit) return false;
    const target = Math.min(memoryLimit, Math.max(wanted, size * 2));
    const pages = Math.ceil((target - size) / PAGE);
    try {
      this.memory.grow(pages);
    } catch {
      return false;
    }
    this.giveBack(size, this.size - size);
    return true;
  }
}
