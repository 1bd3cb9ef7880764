import type { CellBackwardOptions, CellForward, CellKernel, Params, WindowRunner } from "../cells/cell";
import type { LayerSpec } from "../types";
import type { ArenaBlock } from "./arena";
import { ACTIVATION_CODE, consumed, Layout, markResident, releaseWithOwner, residentOffset, WasmKernels, wasmKernels } from "./module";
import { scratch as fromWorkspace, Workspace } from "../workspace";

/**
 * A cell's CellKernel and window runner on the WebAssembly module, from what is particular to the
 * cell (`WasmCellProgram`: where its arrays lie in a block, which exports run it). What every such
 * kernel does the same way lives here once: forward runs in a block of the arena that stays for
 * backward (one block per layer: a new forward of the layer replaces it), h_t is copied out and left
 * resident for the projection, backward reads ∂L/∂h where the wasm projection left it, and the
 * gradients and ∂L/∂x are copied out. When forward's block was released meanwhile, backward runs
 * forward again in a new block (the weights are those forward saw, by the weight rule, and x is
 * the caller's, kept unchanged): the same numbers. When the memory limit refuses the arrays, both
 * passes run the cell's JavaScript kernel: slower, never wrong, never a crash.
 */

/** The module's number of an activation; a name it does not know is an error, not a silent linear. */
export function activationCode(name: string): number {
  const code = ACTIVATION_CODE[name];
  if (code === undefined) throw new Error(`wasm backend: no kernel for the activation "${name}"`);
  return code;
}

/** Where forward's arrays lie in its block (byte offsets), and what backward needs besides. */
export interface WasmCellPlan {
  readonly B: number;
  readonly T: number;
  /** Bytes of forward's block. */
  readonly bytes: number;
  /** Byte offset of h_0 … h_T ((T+1)×B×H, time-major) in the block. */
  readonly hs: number;
  /** Numbers of scratch backward needs besides ∂L/∂h, the gradients, ∂L/∂x and the norms. */
  readonly work: number;
}

/** Byte offsets (in the module's memory) of what a backward pass reads and writes. */
export interface WasmBackwardArgs {
  /** ∂L/∂h_t from above, T×B×H time-major; the kernel may overwrite it. */
  readonly dH: number;
  /** One zeroed array per parameter, in the order of `params`, that receives its gradient. */
  readonly grads: readonly number[];
  /** ∂L/∂x, B×T×I, written when needDX. */
  readonly dX: number;
  /** T numbers, Σ_b ‖∂L/∂h_t‖², written when wantNorms. */
  readonly norms: number;
  /** The cell's own scratch (`plan.work` numbers). */
  readonly work: number;
  readonly truncate: number;
  readonly wantNorms: boolean;
  readonly needDX: boolean;
}

export interface WasmCellProgram<P extends WasmCellPlan> {
  /** The cell's JavaScript kernel, for what does not fit in the module's memory. */
  readonly fallback: CellKernel;
  /** The parameters whose gradients backward writes, in its order. */
  params(spec: Readonly<LayerSpec>): readonly string[];
  plan(spec: Readonly<LayerSpec>, B: number, T: number): P;
  /** Copies the weights, x (B×T×I) and the initial state (B×S, null: zeros) into the block at `base` and runs forward there. */
  forward(m: WasmKernels, spec: Readonly<LayerSpec>, plan: P, base: number, p: Params, x: ArrayLike<number>, s0: Float64Array | null): void;
  /** How many numbers the state after step T holds (B×S). */
  stateLength(spec: Readonly<LayerSpec>, plan: P): number;
  /** Copies the state after step T (B×S) from the block at `base` into `out`. */
  state(mem: Float64Array, spec: Readonly<LayerSpec>, plan: P, base: number, out: Float64Array): void;
  backward(m: WasmKernels, spec: Readonly<LayerSpec>, plan: P, base: number, args: WasmBackwardArgs): void;
}

/** What forward leaves for backward; a forward result serves one backward. */
class WasmCellCache<P extends WasmCellPlan> {
  consumed = false;

  constructor(
    readonly block: ArenaBlock,
    readonly plan: P,
    /** A copy of the initial state (null: zeros), to run forward again. */
    readonly s0: Float64Array | null,
    /** The JavaScript copy of h_1 … h_T. */
    readonly h: Float64Array,
  ) {}
}

function addFrom(target: Float64Array, mem: Float64Array, at: number): void {
  for (let i = 0; i < target.length; i++) target[i] += mem[at + i];
}

export function wasmCellKernel<P extends WasmCellPlan>(program: WasmCellProgram<P>): CellKernel {
  const { fallback } = program;
  /** The block each layer's parameters last ran forward in. */
  const blockOfLayer = new WeakMap<Params, ArenaBlock>();

  function forward(spec: Readonly<LayerSpec>, p: Params, x: Float64Array, B: number, T: number, s0: Float64Array | null, ws: Workspace | null): CellForward {
    const m = wasmKernels();
    if (!m) return fallback.forward(spec, p, x, B, T, s0, ws);
    const previous = blockOfLayer.get(p);
    if (previous) m.arena.release(previous);
    const plan = program.plan(spec, B, T);
    const block = m.arena.alloc(plan.bytes);
    if (!block) return fallback.forward(spec, p, x, B, T, s0, ws);
    const base = block.offset;
    program.forward(m, spec, plan, base, p, x, s0);
    const BH = B * spec.hiddenSize;
    const mem = m.arena.f64;
    const hAt = (base + plan.hs) / 8 + BH;
    // With a workspace (training, validation) the copy goes into its buffer: a fresh array per
    // minibatch, freed whenever the collector gets to it, leaves the C allocator's arenas fragmented
    // and the process tens of MB larger after a run (docs/performance.md, Memory).
    const h = fromWorkspace(ws, "wasmCell.h", T * BH, false);
    h.set(mem.subarray(hAt, hAt + T * BH));
    markResident(h, block, hAt * 8);
    // Straight into the workspace's buffer, like h: no array of its own per minibatch.
    const state = fromWorkspace(ws, "wasmCell.state", program.stateLength(spec, plan), false);
    program.state(mem, spec, plan, base, state);
    const cache = new WasmCellCache(block, plan, s0 ? s0.slice() : null, h);
    blockOfLayer.set(p, block);
    releaseWithOwner(cache, block);
    return { B, T, h, state, cache };
  }

  function backward(spec: Readonly<LayerSpec>, p: Params, fwd: CellForward, x: Float64Array, dH: Float64Array, grads: Params, options: CellBackwardOptions, ws: Workspace | null): Float64Array | null {
    const cache = fwd.cache;
    const m = wasmKernels();
    // Forward ran the JavaScript kernel (the layer did not fit): so does backward.
    if (!(cache instanceof WasmCellCache) || !m) return fallback.backward(spec, p, fwd, x, dH, grads, options, ws);
    if (cache.consumed) throw new Error("wasm backend: backward already ran on this forward result (run forward again)");
    const plan = cache.plan as P;
    const { B, T } = plan;
    const I = spec.inputSize, H = spec.hiddenSize;
    const needDX = options.needInputGrad;
    const names = program.params(spec);
    const dHResident = residentOffset(dH);
    const s = new Layout();
    const oDH = dHResident ? -1 : s.place(T * B * H);
    const oGrads = names.map((n) => s.place(p[n].length));
    const oDX = s.place(needDX ? B * T * I : 0), oNorms = s.place(T), oWork = s.place(plan.work);

    let block: ArenaBlock | null = cache.block.live ? cache.block : null;
    const scratch = m.arena.alloc(s.bytes, block, dHResident?.block ?? null);
    if (scratch && !block) {
      block = m.arena.alloc(plan.bytes, scratch, dHResident?.block ?? null);
      if (block) program.forward(m, spec, plan, block.offset, p, x, cache.s0);
    }
    const dHLive = dHResident && dHResident.block.live ? dHResident : null;
    if (!scratch || !block || (dHResident && !dHLive)) {
      if (scratch) m.arena.release(scratch);
      if (block) m.arena.release(block);
      const again = fallback.forward(spec, p, x, B, T, cache.s0, null);
      const dX = fallback.backward(spec, p, again, x, dH, grads, options, null);
      finish(cache, p);
      return dX;
    }
    const sb = scratch.offset;
    const mem = m.arena.f64;
    const dHAt = dHLive ? dHLive.offset : sb + oDH;
    if (!dHLive) mem.set(dH, dHAt / 8);
    const gradsFrom = oGrads.length ? oGrads[0] : oDX;
    mem.fill(0, (sb + gradsFrom) / 8, (sb + oDX) / 8);
    program.backward(m, spec, plan, block.offset, {
      dH: dHAt, grads: oGrads.map((o) => sb + o), dX: sb + oDX, norms: sb + oNorms, work: sb + oWork,
      truncate: options.truncate > 0 ? Math.floor(options.truncate) : 0, wantNorms: options.dhNormSq !== undefined, needDX,
    });
    names.forEach((n, k) => addFrom(grads[n], mem, (sb + oGrads[k]) / 8));
    if (options.dhNormSq) addFrom(options.dhNormSq, mem, (sb + oNorms) / 8);
    let dX: Float64Array | null = null;
    if (needDX) {
      dX = fromWorkspace(ws, "wasmCell.dX", B * T * I, false);
      dX.set(mem.subarray((sb + oDX) / 8, (sb + oDX) / 8 + B * T * I));
    }
    m.arena.release(scratch);
    // Backward ends the use of forward's block and of ∂L/∂h's copy (which it overwrote).
    m.arena.release(block);
    if (dHLive) m.arena.release(dHLive.block);
    finish(cache, p);
    return dX;
  }

  /** The end of a forward result's use: its block goes back. */
  function finish(cache: WasmCellCache<P>, p: Params): void {
    cache.consumed = true;
    consumed(cache);
    wasmKernels()?.arena.release(cache.block);
    if (blockOfLayer.get(p) === cache.block) blockOfLayer.delete(p);
  }

  return { forward, backward };
}

/**
 * The forecaster's window of one sequence: forward with B = 1 from zeros, in a block the runner
 * keeps from call to call (nothing allocated per call while T stays), the weights copied in every
 * call (they are read live).
 */
class WasmWindowRunner<P extends WasmCellPlan> implements WindowRunner {
  private block: ArenaBlock | null = null;
  private plan: P | null = null;

  constructor(private readonly program: WasmCellProgram<P>, private readonly spec: Readonly<LayerSpec>) {}

  run(p: Params, x: ArrayLike<number>, T: number, hs: Float64Array): boolean {
    const m = wasmKernels();
    if (!m) return false;
    let plan = this.plan;
    if (!this.block || !this.block.live || !plan || plan.T !== T) {
      if (this.block) {
        consumed(this);
        m.arena.release(this.block);
      }
      plan = this.plan = this.program.plan(this.spec, 1, T);
      this.block = m.arena.alloc(plan.bytes);
      if (!this.block) return false;
      releaseWithOwner(this, this.block);
    }
    const base = this.block.offset;
    this.program.forward(m, this.spec, plan, base, p, x, null);
    const H = this.spec.hiddenSize;
    const at = (base + plan.hs) / 8 + H;
    hs.set(m.arena.f64.subarray(at, at + T * H));
    return true;
  }
}

export function wasmWindowRunner<P extends WasmCellPlan>(program: WasmCellProgram<P>, spec: Readonly<LayerSpec>): WindowRunner | null {
  return wasmKernels() ? new WasmWindowRunner(program, spec) : null;
}
