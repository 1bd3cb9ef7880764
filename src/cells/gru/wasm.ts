import type { LayerSpec } from "../../types";
import { activationCode, wasmCellKernel, WasmCellPlan, WasmCellProgram, wasmWindowRunner } from "../../wasm/cellKernel";
import { Layout } from "../../wasm/module";
import type { WindowRunner } from "../cell";
import { gruFast } from "./fast";
import { gateActivationOf, resetsAfter } from "./settings";

/**
 * The GRU's WebAssembly SIMD kernel, both places of the reset gate: the loops of
 * ./assembly/kernel.ts, driven through src/wasm/cellKernel.ts (which keeps forward's block for
 * backward and falls back to ./fast.ts).
 */

/** Byte offsets of forward's arrays in its block, and of backward's own scratch after its base. */
class GruPlan implements WasmCellPlan {
  readonly wx: number;
  readonly wh: number;
  readonly wxTzr: number;
  readonly wxTc: number;
  readonly whTzr: number;
  readonly whTc: number;
  readonly bzr: number;
  readonly bc: number;
  readonly bu: number;
  readonly xb: number;
  readonly xt: number;
  readonly hs: number;
  readonly zr: number;
  readonly hc: number;
  readonly v: number;
  readonly bytes: number;
  readonly dZR: number;
  readonly dC: number;
  readonly dU: number;
  readonly dhNext: number;
  readonly tmp: number;
  readonly work: number;

  constructor(readonly B: number, readonly T: number, readonly I: number, readonly H: number, readonly after: boolean) {
    const BH = B * H;
    const l = new Layout();
    this.wx = l.place(3 * H * I);
    this.wh = l.place(3 * H * H);
    this.wxTzr = l.place(2 * H * I);
    this.wxTc = l.place(H * I);
    this.whTzr = l.place(2 * H * H);
    this.whTc = l.place(H * H);
    this.bzr = l.place(2 * H);
    this.bc = l.place(H);
    this.bu = l.place(H);
    this.xb = l.place(B * T * I);
    this.xt = l.place(B * T * I);
    this.hs = l.place((T + 1) * BH);
    this.zr = l.place(2 * T * BH);
    this.hc = l.place(T * BH);
    this.v = l.place(T * BH);
    this.bytes = l.bytes;
    const w = new Layout();
    this.dZR = w.place(2 * T * BH);
    this.dC = w.place(T * BH);
    this.dU = w.place(after ? T * BH : 0);
    this.dhNext = w.place(BH);
    this.tmp = w.place(BH);
    this.work = w.bytes / 8;
  }
}

const program: WasmCellProgram<GruPlan> = {
  fallback: gruFast,
  params: (spec) => (resetsAfter(spec) ? ["W_x", "W_h", "bias", "recurrentBias"] : ["W_x", "W_h", "bias"]),
  plan: (spec, B, T) => new GruPlan(B, T, spec.inputSize, spec.hiddenSize, resetsAfter(spec)),

  forward(m, spec, L, base, p, x, h0) {
    const { B, T, I, H } = L;
    const mem = m.arena.f64;
    mem.set(p.W_x, (base + L.wx) / 8);
    mem.set(p.W_h, (base + L.wh) / 8);
    // z and r see both biases with the reset after; the candidate's recurrent bias goes to u.
    const bzr = (base + L.bzr) / 8;
    mem.set(p.bias.subarray(0, 2 * H), bzr);
    if (L.after) for (let j = 0; j < 2 * H; j++) mem[bzr + j] += p.recurrentBias[j];
    mem.set(p.bias.subarray(2 * H), (base + L.bc) / 8);
    if (L.after) mem.set(p.recurrentBias.subarray(2 * H), (base + L.bu) / 8);
    mem.set(x, (base + L.xb) / 8);
    const e = m.exports;
    e.transpose(base + L.wxTzr, base + L.wx, 2 * H, I);
    e.transpose(base + L.wxTc, base + L.wx + 2 * H * I * 8, H, I);
    e.transpose(base + L.whTzr, base + L.wh, 2 * H, H);
    e.transpose(base + L.whTc, base + L.wh + 2 * H * H * 8, H, H);
    e.toTimeMajor(base + L.xt, base + L.xb, B, T, I);
    const hAt = (base + L.hs) / 8;
    if (h0) mem.set(h0, hAt);
    else mem.fill(0, hAt, hAt + B * H);
    e.gruForward(base + L.wxTzr, base + L.wxTc, base + L.whTzr, base + L.whTc, base + L.bzr, base + L.bc, base + L.bu, base + L.xt,
      base + L.hs, base + L.zr, base + L.hc, base + L.v, B, T, I, H, activationCode(spec.activation), activationCode(gateActivationOf(spec)), L.after ? 1 : 0);
  },

  stateLength(spec, L) {
    return L.B * L.H;
  },

  state(mem, spec, L, base, out) {
    const at = (base + L.hs) / 8 + L.T * L.B * L.H;
    out.set(mem.subarray(at, at + L.B * L.H));
  },

  backward(m, spec, L, base, a) {
    const [gwx, gwh, gb, grb] = a.grads;
    const w = a.work;
    m.exports.gruBackward(base + L.wx, base + L.wh, base + L.hs, base + L.zr, base + L.hc, base + L.v, base + L.xt, a.dH, w + L.dZR, w + L.dC, w + L.dU,
      w + L.dhNext, w + L.tmp, gwx, gwh, gb, grb ?? 0, a.dX, a.norms,
      L.B, L.T, L.I, L.H, activationCode(spec.activation), activationCode(gateActivationOf(spec)), L.after ? 1 : 0, a.truncate, a.wantNorms ? 1 : 0, a.needDX ? 1 : 0);
  },
};

export const gruWasm = wasmCellKernel(program);

export function gruWindowRunner(spec: Readonly<LayerSpec>): WindowRunner | null {
  return wasmWindowRunner(program, spec);
}
