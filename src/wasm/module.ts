import * as fs from "fs";
import * as path from "path";
import { ArenaBlock, WasmArena } from "./arena";
import { wasmSimdSupported } from "./support";

/**
 * The package's WebAssembly kernels (src/wasm/assembly, compiled at build time into kernels.wasm
 * next to this file): one instance per thread, created on first use (each worker thread compiles
 * its own, a few milliseconds for a module of a few kilobytes), with the arena of its memory.
 *
 * Arrays that have a live copy in the module's memory are "resident": a kernel that produced a
 * JavaScript array from its memory records where the copy is, so that the next kernel reading the
 * array (the projection reading h, the cell reading ∂L/∂h) uses the copy instead of copying it in.
 */

export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  transpose(dst: number, src: number, rows: number, cols: number): void;
  toTimeMajor(dst: number, src: number, B: number, T: number, n: number): void;
  elmanForward(wxT: number, whT: number, biasAt: number, xt: number, hs: number, B: number, T: number, I: number, H: number, act: number): void;
  elmanBackward(wx: number, wh: number, hs: number, xt: number, dH: number, dhNext: number, gwx: number, gwh: number, gb: number, dX: number, norms: number,
    B: number, T: number, I: number, H: number, act: number, truncate: number, wantNorms: number, needDX: number): void;
  lstmForward(wxT: number, whT: number, biasAt: number, xt: number, hs: number, cs: number, gates: number, phiC: number,
    B: number, T: number, I: number, H: number, act: number, gateAct: number): void;
  lstmBackward(wx: number, wh: number, hs: number, cs: number, gates: number, phiC: number, xt: number, dH: number, dA: number,
    dhNext: number, dcNext: number, dcAt: number, gwx: number, gwh: number, gb: number, dX: number, norms: number,
    B: number, T: number, I: number, H: number, act: number, gateAct: number, truncate: number, wantNorms: number, needDX: number): void;
  gruForward(wxTzr: number, wxTc: number, whTzr: number, whTc: number, bzr: number, bc: number, bu: number, xt: number,
    hs: number, zr: number, hc: number, v: number, B: number, T: number, I: number, H: number, act: number, gateAct: number, after: number): void;
  gruBackward(wx: number, wh: number, hs: number, zr: number, hc: number, v: number, xt: number, dH: number, dZR: number, dC: number, dU: number,
    dhNext: number, tmp: number, gwx: number, gwh: number, gb: number, grb: number, dX: number, norms: number,
    B: number, T: number, I: number, H: number, act: number, gateAct: number, after: number, truncate: number, wantNorms: number, needDX: number): void;
  projectionForward(whyT: number, by: number, h: number, z: number, B: number, T: number, H: number, O: number): void;
  projectionBackward(why: number, dz: number, h: number, dH: number, gwhy: number, gby: number, B: number, T: number, H: number, O: number): void;
}

export interface WasmKernels {
  readonly exports: KernelExports;
  readonly arena: WasmArena;
}

/** The activations' numbers in the module (linalg.ts: TANH, RELU, SIGMOID, HARD_SIGMOID; anything else is linear). */
export const ACTIVATION_CODE: Readonly<Record<string, number>> = { tanh: 0, relu: 1, sigmoid: 2, linear: 3, hardSigmoid: 4 };

const WASM_FILE = path.join(__dirname, "kernels.wasm");

let loaded: WasmKernels | null | undefined;
let loadError: string | null = null;

/** This thread's instance, or null when the engine has no WebAssembly SIMD or the build made no module. */
export function wasmKernels(): WasmKernels | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (!wasmSimdSupported()) {
    loadError = "this JavaScript engine has no WebAssembly SIMD";
    return null;
  }
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(WASM_FILE)), {});
    const exports = instance.exports as unknown as KernelExports;
    loaded = { exports, arena: new WasmArena(exports.memory, exports.heapBase()) };
  } catch (err) {
    loadError = `the WebAssembly kernels could not be loaded (${(err as Error).message})`;
  }
  return loaded;
}

export function wasmAvailable(): boolean {
  return wasmKernels() !== null;
}

/**
 * Whether the kernels can be expected to load here, without loading them: choosing the default
 * backend must not cost a thread that never trains (a node's thread, the series preparation's
 * worker) the module's compiled code and memory. Should the load fail later, the wasm kernels fall
 * back to the JavaScript ones.
 */
export function wasmExpected(): boolean {
  if (loaded !== undefined) return loaded !== null;
  return wasmSimdSupported() && fs.existsSync(WASM_FILE);
}

/** Why the kernels cannot run here, or null when they can. */
export function wasmUnavailableReason(): string | null {
  wasmKernels();
  return loadError;
}

interface Resident {
  readonly block: ArenaBlock;
  /** Byte offset of the array's copy in the module's memory. */
  readonly offset: number;
}

const residents = new WeakMap<Float64Array, Resident>();
/** Blocks whose owner was dropped without being consumed (an evaluation, a forecast) go back. */
const orphans = new FinalizationRegistry<ArenaBlock>((block) => loaded?.arena.release(block));

/** Records that `array` has a copy at `offset` inside `block`. */
export function markResident(array: Float64Array, block: ArenaBlock, offset: number): void {
  residents.set(array, { block, offset });
}

/** Where the live copy of `array` is, or null (none, or its block was released). */
export function residentOffset(array: Float64Array): Resident | null {
  const r = residents.get(array);
  return r && r.block.live ? r : null;
}

/** Releases `block` once `owner` is garbage-collected, unless `consumed(owner)` came first. */
export function releaseWithOwner(owner: object, block: ArenaBlock): void {
  orphans.register(owner, block, owner);
}

export function consumed(owner: object): void {
  orphans.unregister(owner);
}

/**
 * Places arrays one after another in a block: offsets in bytes, counts rounded up to even so that
 * every array starts 16-byte aligned (what v128 loads prefer).
 */
export class Layout {
  bytes = 0;

  place(numbers: number): number {
    const at = this.bytes;
    this.bytes += Math.ceil(numbers / 2) * 16;
    return at;
  }
}
