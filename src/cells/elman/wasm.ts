import type { LayerSpec } from "../../types";
import { activationCode, wasmCellKernel, WasmCellPlan, WasmCellProgram, wasmWindowRunner } from "../../wasm/cellKernel";
import { Layout } from "../../wasm/module";
import type { WindowRunner } from "../cell";
import { elmanFast } from "./fast";

/**
 * The Elman cell's WebAssembly SIMD kernel: the loops of ./assembly/kernel.ts, driven through
 * src/wasm/cellKernel.ts (which keeps forward's block for backward and falls back to ./fast.ts).
 */

/** Byte offsets of forward's arrays in its block, and of backward's own scratch after its base. */
class ElmanPlan implements WasmCellPlan {
  readonly wx: number;
  readonly wh: number;
  readonly wxT: number;
  readonly whT: number;
  readonly bias: number;
  readonly xb: number;
  readonly xt: number;
  readonly hs: number;
  readonly bytes: number;
  /** Backward's scratch is ∂L/∂h_{t-1} from step t alone (B×H). */
  readonly work: number;

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
    this.work = B * H;
  }
}

const program: WasmCellProgram<ElmanPlan> = {
  fallback: elmanFast,
  params: () => ["W_xh", "W_hh", "b_h"],
  plan: (spec, B, T) => new ElmanPlan(B, T, spec.inputSize, spec.hiddenSize),

  forward(m, spec, L, base, p, x, h0) {
    const mem = m.arena.f64;
    mem.set(p.W_xh, (base + L.wx) / 8);
    mem.set(p.W_hh, (base + L.wh) / 8);
    mem.set(p.b_h, (base + L.bias) / 8);
    mem.set(x, (base + L.xb) / 8);
    const e = m.exports;
    e.transpose(base + L.wxT, base + L.wx, L.H, L.I);
    e.transpose(base + L.whT, base + L.wh, L.H, L.H);
    e.toTimeMajor(base + L.xt, base + L.xb, L.B, L.T, L.I);
    const hsAt = (base + L.hs) / 8;
    if (h0) mem.set(h0, hsAt);
    else mem.fill(0, hsAt, hsAt + L.B * L.H);
    e.elmanForward(base + L.wxT, base + L.whT, base + L.bias, base + L.xt, base + L.hs, L.B, L.T, L.I, L.H, activationCode(spec.activation));
  },

  stateLength(spec, L) {
    return L.B * L.H;
  },

  state(mem, spec, L, base, out) {
    const at = (base + L.hs) / 8 + L.T * L.B * L.H;
    out.set(mem.subarray(at, at + L.B * L.H));
  },

  backward(m, spec, L, base, a) {
    const [gwx, gwh, gb] = a.grads;
    m.exports.elmanBackward(base + L.wx, base + L.wh, base + L.hs, base + L.xt, a.dH, a.work, gwx, gwh, gb, a.dX, a.norms,
      L.B, L.T, L.I, L.H, activationCode(spec.activation), a.truncate, a.wantNorms ? 1 : 0, a.needDX ? 1 : 0);
  },
};

export const elmanWasm = wasmCellKernel(program);

export function elmanWindowRunner(spec: Readonly<LayerSpec>): WindowRunner | null {
  return wasmWindowRunner(program, spec);
}
