import * as fs from "fs";
import * as path from "path";
import { ArenaBlock, WasmArena } from "../../backends/wasmArena";
import { wasmSimdSupported } from "../../backends/wasmSupport";
import type { LayerSpec } from "../../types";
import { CellBackwardOptions, CellForward, CellKernel, Params } from "../cell";
import { elmanFast } from "./fast";

/**
 * The Elman cell's WebAssembly SIMD kernel: the loops of ./assembly/kernel.ts, compiled at build
 * time into elman.wasm next to this file, driven from here.
 *
 * Forward copies the weights and x into the module's memory once, runs every step there and
 * leaves the hidden states there for backward (a block of the arena, one per layer); only h_t is
 * copied out, because the projection and the next layer read it. Backward copies ∂L/∂h in, runs
 * BPTT on what forward left and copies out the gradients and ∂L/∂x. When the block was released
 * meanwhile (memory pressure, or another forward of the same layer) backward stages forward's
 * data again from the copy it kept; when the layer's arrays do not fit under the memory limit at
 * all, both passes run the JavaScript kernel: slower, never wrong, never a crash.
 */

interface ElmanExports {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  transpose(dst: number, src: number, rows: number, cols: number): void;
  toTimeMajor(dst: number, src: number, B: number, T: number, n: number): void;
  forward(wxT: number, whT: number, bias: number, xt: number, hs: number, B: number, T: number, I: number, H: number, act: number): void;
  backward(wx: number, wh: number, hs: number, xt: number, dH: number, dhNext: number, gwx: number, gwh: number, gb: number, dX: number, norms: number,
    B: number, T: number, I: number, H: number, act: number, truncate: number, wantNorms: number, needDX: number): void;
}

/** The activations' numbers in the module (its TANH, RELU, SIGMOID; anything else is linear). */
const ACTIVATION_CODE: Record<string, number> = { tanh: 0, relu: 1, sigmoid: 2, linear: 3 };

interface ElmanModule {
  readonly exports: ElmanExports;
  readonly arena: WasmArena;
}

const WASM_FILE = path.join(__dirname, "elman.wasm");

let loaded: ElmanModule | null | undefined;
let loadError: string | null = null;

/**
 * This thread's instance, created on first use (each worker thread compiles its own: a few
 * milliseconds for a module of a few kilobytes), or null when this engine has no WebAssembly SIMD
 * or the build did not produce the module.
 */
function elmanModule(): ElmanModule | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (!wasmSimdSupported()) {
    loadError = "this JavaScript engine has no WebAssembly SIMD";
    return null;
  }
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(WASM_FILE)), {});
    const exports = instance.exports as unknown as ElmanExports;
    loaded = { exports, arena: new WasmArena(exports.memory, exports.heapBase()) };
  } catch (err) {
    loadError = `the Elman WebAssembly kernel could not be loaded (${(err as Error).message})`;
  }
  return loaded;
}

/** Whether the kernel can run here; when not, `elmanWasmUnavailable()` says why. */
export function elmanWasmAvailable(): boolean {
  return elmanModule() !== null;
}

export function elmanWasmUnavailable(): string | null {
  elmanModule();
  return loadError;
}

/** The arena of this thread's instance (for tests and the bench), or null. */
export function elmanWasmArena(): WasmArena | null {
  return elmanModule()?.arena ?? null;
}

/** Byte offsets of forward's arrays inside its block, counts rounded up to even (16-byte alignment). */
class ForwardLayout {
  readonly wx: number;
  readonly wh: number;
  readonly wxT: number;
  readonly whT: number;
  readonly bias: number;
  readonly xb: number;
  readonly xt: number;
  readonly hs: number;
  readonly bytes: number;

  constructor(readonly B: number, readonly T: number, readonly I: number, readonly H: number) {
    let at = 0;
    const place = (n: number): number => {
      const o = at;
      at += Math.ceil(n / 2) * 16;
      return o;
    };
    this.wx = place(H * I);
    this.wh = place(H * H);
    this.wxT = place(I * H);
    this.whT = place(H * H);
    this.bias = place(H);
    this.xb = place(B * T * I);
    this.xt = place(B * T * I);
    this.hs = place((T + 1) * B * H);
    this.bytes = at;
  }
}

/** What forward leaves for backward. `hs` is the JavaScript copy (T+1)×B×H, slot 0 = h_0. */
class ElmanWasmCache {
  constructor(
    readonly block: ArenaBlock,
    readonly layout: ForwardLayout,
    readonly hs: Float64Array,
  ) {}
}

/** The block each layer's parameters last ran forward in: a new forward of the layer replaces it. */
const blockOfLayer = new WeakMap<Params, ArenaBlock>();
/** Blocks whose forward result was dropped without a backward (an evaluation, a forecast) go back. */
const orphans = new FinalizationRegistry<ArenaBlock>((block) => loaded?.arena.release(block));

/** Copies the weights and x into the block at `base` and lays out what the loops read. */
function stage(m: ElmanModule, L: ForwardLayout, base: number, p: Params, x: Float64Array): void {
  const mem = m.arena.f64;
  mem.set(p.W_xh, (base + L.wx) / 8);
  mem.set(p.W_hh, (base + L.wh) / 8);
  mem.set(p.b_h, (base + L.bias) / 8);
  mem.set(x, (base + L.xb) / 8);
  const e = m.exports;
  e.transpose(base + L.wxT, base + L.wx, L.H, L.I);
  e.transpose(base + L.whT, base + L.wh, L.H, L.H);
  e.toTimeMajor(base + L.xt, base + L.xb, L.B, L.T, L.I);
}

function forward(spec: Readonly<LayerSpec>, p: Params, x: Float64Array, B: number, T: number, h0: Float64Array | null): CellForward {
  const m = elmanModule();
  if (!m) throw new Error(elmanWasmUnavailable() ?? "the Elman WebAssembly kernel is not available");
  const I = spec.inputSize, H = spec.hiddenSize, BH = B * H;
  const previous = blockOfLayer.get(p);
  if (previous) m.arena.release(previous);
  const L = new ForwardLayout(B, T, I, H);
  const block = m.arena.alloc(L.bytes);
  if (!block) return elmanFast.forward(spec, p, x, B, T, h0);
  const base = block.offset;
  stage(m, L, base, p, x);
  const hsAt = (base + L.hs) / 8;
  const mem = m.arena.f64;
  if (h0) mem.set(h0, hsAt);
  else mem.fill(0, hsAt, hsAt + BH);
  m.exports.forward(base + L.wxT, base + L.whT, base + L.bias, base + L.xt, base + L.hs, B, T, I, H, ACTIVATION_CODE[spec.activation] ?? 3);
  const hs = mem.slice(hsAt, hsAt + (T + 1) * BH);
  const cache = new ElmanWasmCache(block, L, hs);
  blockOfLayer.set(p, block);
  orphans.register(cache, block, cache);
  return { B, T, h: hs.subarray(BH), state: hs.slice(T * BH), cache };
}

function backward(spec: Readonly<LayerSpec>, p: Params, fwd: CellForward, x: Float64Array, dH: Float64Array, grads: Params, options: CellBackwardOptions): Float64Array | null {
  const cache = fwd.cache;
  const m = elmanModule();
  // Forward ran the JavaScript kernel (the layer did not fit): so does backward.
  if (!(cache instanceof ElmanWasmCache) || !m) return elmanFast.backward(spec, p, fwd, x, dH, grads, options);
  const { B, T } = fwd;
  const I = spec.inputSize, H = spec.hiddenSize, BH = B * H;
  const L = cache.layout;
  const truncate = options.truncate > 0 ? Math.floor(options.truncate) : 0;
  const needDX = options.needInputGrad;
  // Scratch: dH, dhNext, the three gradients, dX and the norms.
  let s = 0;
  const place = (n: number): number => {
    const o = s;
    s += Math.ceil(n / 2) * 16;
    return o;
  };
  const oDH = place(T * BH), oNext = place(BH), oGwx = place(H * I), oGwh = place(H * H), oGb = place(H), oDX = place(needDX ? B * T * I : 0), oNorms = place(T);
  const scratchBytes = s;

  let block: ArenaBlock | null = cache.block.live ? cache.block : null;
  const scratch = m.arena.alloc(scratchBytes, block ?? undefined);
  if (scratch && !block) {
    // Forward's block is gone: stage its data again, from the copies kept.
    block = m.arena.alloc(L.bytes, scratch);
    if (block) {
      stage(m, L, block.offset, p, x);
      m.arena.f64.set(cache.hs, (block.offset + L.hs) / 8);
    }
  }
  if (!scratch || !block) {
    if (scratch) m.arena.release(scratch);
    if (block) m.arena.release(block);
    return elmanFast.backward(spec, p, { B, T, h: fwd.h, state: fwd.state, cache: { hs: cache.hs } }, x, dH, grads, options);
  }
  const base = block.offset, sb = scratch.offset;
  const mem = m.arena.f64;
  mem.set(dH, (sb + oDH) / 8);
  mem.fill(0, (sb + oGwx) / 8, (sb + oDX) / 8);
  m.exports.backward(base + L.wx, base + L.wh, base + L.hs, base + L.xt, sb + oDH, sb + oNext, sb + oGwx, sb + oGwh, sb + oGb, sb + oDX, sb + oNorms,
    B, T, I, H, ACTIVATION_CODE[spec.activation] ?? 3, truncate, options.dhNormSq ? 1 : 0, needDX ? 1 : 0);
  addFrom(grads.W_xh, mem, (sb + oGwx) / 8);
  addFrom(grads.W_hh, mem, (sb + oGwh) / 8);
  addFrom(grads.b_h, mem, (sb + oGb) / 8);
  if (options.dhNormSq) addFrom(options.dhNormSq, mem, (sb + oNorms) / 8);
  const dX = needDX ? mem.slice((sb + oDX) / 8, (sb + oDX) / 8 + B * T * I) : null;
  m.arena.release(scratch);
  // Backward is the end of the block's use (a second backward of the same result stages again).
  m.arena.release(block);
  orphans.unregister(cache);
  if (blockOfLayer.get(p) === cache.block) blockOfLayer.delete(p);
  return dX;
}

function addFrom(target: Float64Array, mem: Float64Array, at: number): void {
  for (let i = 0; i < target.length; i++) target[i] += mem[at + i];
}

export const elmanWasm: CellKernel = { forward, backward };
