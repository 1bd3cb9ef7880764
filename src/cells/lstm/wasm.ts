import type { LayerSpec } from "../../types";
import { activationCode, wasmCellKernel, WasmCellPlan, WasmCellProgram, wasmWindowRunner } from "../../wasm/cellKernel";
import { Layout } from "../../wasm/module";
import type { WindowRunner } from "../cell";
import { lstmFast } from "./fast";

/**
 * The LSTM cell's WebAssembly SIMD kernel: the loops of ./assembly/kernel.ts, driven through
 * src/wasm/cellKernel.ts (which keeps forward's block for backward and falls back to ./fast.ts).
 */

/** Byte offsets of forward's arrays in its block, and of backward's own scratch after its base. */
class LstmPlan implements WasmCellPlan {
  readonly wx: number;
  readonly wh: number;
  readonly wxT: number;
  readonly whT: number;
  readonly bias: number;
  readonly xb: number;
  readonly xt: number;
  readonly hs: number;
  readonly cs: number;
  readonly gates: number;
  readonly phiC: number;
  readonly bytes: number;
  readonly dA: number;
  readonly dhNext: number;
  readonly dcNext: number;
  readonly dcAt: number;
  readonly work: number;

  constructor(readonly B: number, readonly T: number, readonly I: number, readonly H: number) {
    const G = 4 * H, BH = B * H;
    const l = new Layout();
    this.wx = l.place(G * I);
    this.wh = l.place(G * H);
    this.wxT = l.place(I * G);
    this.whT = l.place(H * G);
    this.bias = l.place(G);
    this.xb = l.place(B * T * I);
    this.xt = l.place(B * T * I);
    this.hs = l.place((T + 1) * BH);
    this.cs = l.place((T + 1) * BH);
    this.gates = l.place(T * B * G);
    this.phiC = l.place(T * BH);
    this.bytes = l.bytes;
    const w = new Layout();
    this.dA = w.place(T * B * G);
    this.dhNext = w.place(BH);
    this.dcNext = w.place(BH);
    this.dcAt = w.place(BH);
    this.work = w.bytes / 8;
  }
}

const gateActivationOf = (spec: Readonly<LayerSpec>) => activationCode(spec.recurrentActivation ?? "sigmoid");

const program: WasmCellProgram<LstmPlan> = {
  fallback: lstmFast,
  params: () => ["W_x", "W_h", "bias"],
  plan: (spec, B, T) => new LstmPlan(B, T, spec.inputSize, spec.hiddenSize),

  forward(m, spec, L, base, p, x, s0) {
    const { B, T, I, H } = L;
    const G = 4 * H;
    const mem = m.arena.f64;
    mem.set(p.W_x, (base + L.wx) / 8);
    mem.set(p.W_h, (base + L.wh) / 8);
    mem.set(p.bias, (base + L.bias) / 8);
    mem.set(x, (base + L.xb) / 8);
    const e = m.exports;
    e.transpose(base + L.wxT, base + L.wx, G, I);
    e.transpose(base + L.whT, base + L.wh, G, H);
    e.toTimeMajor(base + L.xt, base + L.xb, B, T, I);
    // The carried state is [h, c] per row; slot 0 of hs and cs holds its two halves.
    const hAt = (base + L.hs) / 8, cAt = (base + L.cs) / 8;
    if (s0) {
      for (let b = 0; b < B; b++) {
        mem.set(s0.subarray(2 * b * H, (2 * b + 1) * H), hAt + b * H);
        mem.set(s0.subarray((2 * b + 1) * H, (2 * b + 2) * H), cAt + b * H);
      }
    } else {
      mem.fill(0, hAt, hAt + B * H);
      mem.fill(0, cAt, cAt + B * H);
    }
    e.lstmForward(base + L.wxT, base + L.whT, base + L.bias, base + L.xt, base + L.hs, base + L.cs, base + L.gates, base + L.phiC,
      B, T, I, H, activationCode(spec.activation), gateActivationOf(spec));
  },

  stateLength(spec, L) {
    return 2 * L.B * L.H;
  },

  state(mem, spec, L, base, out) {
    const { B, T, H } = L;
    const hAt = (base + L.hs) / 8 + T * B * H, cAt = (base + L.cs) / 8 + T * B * H;
    for (let b = 0; b < B; b++) {
      out.set(mem.subarray(hAt + b * H, hAt + (b + 1) * H), 2 * b * H);
      out.set(mem.subarray(cAt + b * H, cAt + (b + 1) * H), (2 * b + 1) * H);
    }
  },

  backward(m, spec, L, base, a) {
    const [gwx, gwh, gb] = a.grads;
    m.exports.lstmBackward(base + L.wx, base + L.wh, base + L.hs, base + L.cs, base + L.gates, base + L.phiC, base + L.xt, a.dH, a.work + L.dA,
      a.work + L.dhNext, a.work + L.dcNext, a.work + L.dcAt, gwx, gwh, gb, a.dX, a.norms,
      L.B, L.T, L.I, L.H, activationCode(spec.activation), gateActivationOf(spec), a.truncate, a.wantNorms ? 1 : 0, a.needDX ? 1 : 0);
  },
};

export const lstmWasm = wasmCellKernel(program);

export function lstmWindowRunner(spec: Readonly<LayerSpec>): WindowRunner | null {
  return wasmWindowRunner(program, spec);
}
