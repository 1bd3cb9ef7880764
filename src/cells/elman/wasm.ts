import type { ArenaBlock } from "../../wasm/arena";
import { ACTIVATION_CODE, consumed, Layout, markResident, releaseWithOwner, residentOffset, WasmKernels, wasmKernels, wasmUnavailableReason } from "../../wasm/module";
import type { LayerSpec } from "../../types";
import { scratch, Workspace } from "../../workspace";
import { CellBackwardOptions, CellForward, CellKernel, Params, WindowRunner } from "../cell";
import { elmanFast } from "./fast";

/**
 * The Elman cell's WebAssembly SIMD kernel: the loops of ./assembly/kernel.ts, driven from here.
 *
 * Forward copies the weights and x into the module's memory once, runs every step there and
 * leaves the hidden states there for backward (a block of the arena, one per layer); h_t is also
 * copied out, because the JavaScript side (the next layer, the loss) reads it. Backward runs BPTT on
 * what forward left, with ∂L/∂h taken from the module's memory when the wasm projection left it
 * there, and copies out the gradients and ∂L/∂x. When forward's block was released meanwhile
 * (memory pressure, or another forward of the same layer) backward stages the data again from the
 * copies kept; when the layer does not fit under the memory limit at all, both passes run the
 * JavaScript kernel: slower, never wrong, never a crash.
 */

/** Byte offsets of forward's arrays inside its block. */
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
    const l = new Layout();
    this.wx = l.place(H * I);
    this.wh = l.place(H * H);
    this.wxT = l.place(I * H);
    this.whT = l.place(H * H);
    this.bias = l.place(H);
    this.xb = l.place(B * T * I);
    this.xt = l.place(B * T * I);
    this.hs = l.place((T + 1) * B * H);
    this.bytes = l.bytes;
  }
}

/**
 * What forward leaves for backward. `hs` is the JavaScript copy (T+1)×B×H, slot 0 = h_0: `h` of the
 * forward result, and what backward stages again if forward's block was released. A forward result
 * serves one backward.
 */
class ElmanWasmCache {
  consumed = false;

  constructor(
    readonly block: ArenaBlock,
    readonly layout: ForwardLayout,
    readonly hs: Float64Array,
  ) {}
}

/** The block each layer's parameters last ran forward in: a new forward of the layer replaces it. */
const blockOfLayer = new WeakMap<Params, ArenaBlock>();

function kernels(): WasmKernels {
  const m = wasmKernels();
  if (!m) throw new Error(wasmUnavailableReason() ?? "the WebAssembly kernels are not available");
  return m;
}

/** Copies the weights and x into the block at `base` and lays out what the loops read. */
function stage(m: WasmKernels, L: ForwardLayout, base: number, p: Params, x: ArrayLike<number>): void {
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

function forward(spec: Readonly<LayerSpec>, p: Params, x: Float64Array, B: number, T: number, h0: Float64Array | null, ws: Workspace | null): CellForward {
  const m = kernels();
  const I = spec.inputSize, H = spec.hiddenSize, BH = B * H;
  const previous = blockOfLayer.get(p);
  if (previous) m.arena.release(previous);
  const L = new ForwardLayout(B, T, I, H);
  const block = m.arena.alloc(L.bytes);
  if (!block) return elmanFast.forward(spec, p, x, B, T, h0, ws);
  const base = block.offset;
  stage(m, L, base, p, x);
  const hsAt = (base + L.hs) / 8;
  const mem = m.arena.f64;
  if (h0) mem.set(h0, hsAt);
  else mem.fill(0, hsAt, hsAt + BH);
  m.exports.elmanForward(base + L.wxT, base + L.whT, base + L.bias, base + L.xt, base + L.hs, B, T, I, H, ACTIVATION_CODE[spec.activation] ?? 3);
  // With a workspace (training, validation) the copy goes into its buffer: a fresh array per
  // minibatch, freed whenever the collector gets to it, leaves the C allocator's arenas fragmented
  // and the process tens of MB larger after a run (docs/performance.md, Memory).
  const hs = scratch(ws, "elman.hs", (T + 1) * BH, false);
  hs.set(mem.subarray(hsAt, hsAt + (T + 1) * BH));
  const cache = new ElmanWasmCache(block, L, hs);
  const h = hs.subarray(BH);
  markResident(h, block, base + L.hs + BH * 8);
  blockOfLayer.set(p, block);
  releaseWithOwner(cache, block);
  // A state kept by the caller (no workspace) must not hold the whole history alive.
  return { B, T, h, state: ws ? hs.subarray(T * BH) : hs.slice(T * BH), cache };
}

function backward(spec: Readonly<LayerSpec>, p: Params, fwd: CellForward, x: Float64Array, dH: Float64Array, grads: Params, options: CellBackwardOptions, ws: Workspace | null): Float64Array | null {
  const cache = fwd.cache;
  const m = wasmKernels();
  // Forward ran the JavaScript kernel (the layer did not fit): so does backward.
  if (!(cache instanceof ElmanWasmCache) || !m) return elmanFast.backward(spec, p, fwd, x, dH, grads, options, ws);
  if (cache.consumed) throw new Error("wasm backend: backward already ran on this forward result (run forward again)");
  const { B, T } = fwd;
  const I = spec.inputSize, H = spec.hiddenSize, BH = B * H;
  const L = cache.layout;
  const truncate = options.truncate > 0 ? Math.floor(options.truncate) : 0;
  const needDX = options.needInputGrad;
  const dHResident = residentOffset(dH);
  const s = new Layout();
  const oDH = dHResident ? -1 : s.place(T * BH);
  const oNext = s.place(BH), oGwx = s.place(H * I), oGwh = s.place(H * H), oGb = s.place(H), oDX = s.place(needDX ? B * T * I : 0), oNorms = s.place(T);

  let block: ArenaBlock | null = cache.block.live ? cache.block : null;
  const work = m.arena.alloc(s.bytes, block, dHResident?.block ?? null);
  if (work && !block) {
    // Forward's block is gone: stage its data again, from the copies kept.
    block = m.arena.alloc(L.bytes, work, dHResident?.block ?? null);
    if (block) {
      stage(m, L, block.offset, p, x);
      m.arena.f64.set(cache.hs, (block.offset + L.hs) / 8);
    }
  }
  const dHLive = dHResident && dHResident.block.live ? dHResident : null;
  if (!work || !block || (dHResident && !dHLive)) {
    if (work) m.arena.release(work);
    if (block) m.arena.release(block);
    const dX = elmanFast.backward(spec, p, { B, T, h: fwd.h, state: fwd.state, cache: { hs: cache.hs } }, x, dH, grads, options, ws);
    finish(cache, p);
    return dX;
  }
  const base = block.offset, sb = work.offset;
  const mem = m.arena.f64;
  const dHAt = dHLive ? dHLive.offset : sb + oDH;
  if (!dHLive) mem.set(dH, dHAt / 8);
  mem.fill(0, (sb + oGwx) / 8, (sb + oDX) / 8);
  m.exports.elmanBackward(base + L.wx, base + L.wh, base + L.hs, base + L.xt, dHAt, sb + oNext, sb + oGwx, sb + oGwh, sb + oGb, sb + oDX, sb + oNorms,
    B, T, I, H, ACTIVATION_CODE[spec.activation] ?? 3, truncate, options.dhNormSq ? 1 : 0, needDX ? 1 : 0);
  addFrom(grads.W_xh, mem, (sb + oGwx) / 8);
  addFrom(grads.W_hh, mem, (sb + oGwh) / 8);
  addFrom(grads.b_h, mem, (sb + oGb) / 8);
  if (options.dhNormSq) addFrom(options.dhNormSq, mem, (sb + oNorms) / 8);
  let dX: Float64Array | null = null;
  if (needDX) {
    dX = scratch(ws, "elman.dX", B * T * I, false);
    dX.set(mem.subarray((sb + oDX) / 8, (sb + oDX) / 8 + B * T * I));
  }
  m.arena.release(work);
  // Backward ends the use of forward's block and of ∂L/∂h's copy (which it overwrote with da_t).
  m.arena.release(block);
  if (dHLive) m.arena.release(dHLive.block);
  finish(cache, p);
  return dX;
}

/** The end of a forward result's use: its block goes back. */
function finish(cache: ElmanWasmCache, p: Params): void {
  cache.consumed = true;
  consumed(cache);
  wasmKernels()?.arena.release(cache.block);
  if (blockOfLayer.get(p) === cache.block) blockOfLayer.delete(p);
}

function addFrom(target: Float64Array, mem: Float64Array, at: number): void {
  for (let i = 0; i < target.length; i++) target[i] += mem[at + i];
}

export const elmanWasm: CellKernel = { forward, backward };

/**
 * The forecaster's window of one sequence: forward with B = 1 in a block the runner keeps from call
 * to call (nothing allocated per call), the weights copied in every call (they are read live).
 */
class ElmanWindowRunner implements WindowRunner {
  private block: ArenaBlock | null = null;
  private layout: ForwardLayout | null = null;

  constructor(private readonly spec: Readonly<LayerSpec>) {}

  run(p: Params, x: ArrayLike<number>, T: number, hs: Float64Array): boolean {
    const m = wasmKernels();
    if (!m) return false;
    const I = this.spec.inputSize, H = this.spec.hiddenSize;
    let L = this.layout;
    if (!this.block || !this.block.live || !L || L.T !== T) {
      if (this.block) {
        consumed(this);
        m.arena.release(this.block);
      }
      L = this.layout = new ForwardLayout(1, T, I, H);
      this.block = m.arena.alloc(L.bytes);
      if (!this.block) return false;
      releaseWithOwner(this, this.block);
    }
    const base = this.block.offset;
    stage(m, L, base, p, x);
    const hsAt = (base + L.hs) / 8;
    const mem = m.arena.f64;
    mem.fill(0, hsAt, hsAt + H);
    m.exports.elmanForward(base + L.wxT, base + L.whT, base + L.bias, base + L.xt, base + L.hs, 1, T, I, H, ACTIVATION_CODE[this.spec.activation] ?? 3);
    hs.set(mem.subarray(hsAt + H, hsAt + (T + 1) * H));
    return true;
  }
}

export function elmanWindowRunner(spec: Readonly<LayerSpec>): WindowRunner | null {
  return wasmKernels() ? new ElmanWindowRunner(spec) : null;
}
