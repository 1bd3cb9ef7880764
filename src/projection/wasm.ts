import { activateInPlace, derivativeFromOutput } from "../activations";
import type { Params } from "../cells/cell";
import type { LayerSpec } from "../types";
import type { ArenaBlock } from "../wasm/arena";
import { scratch, Workspace } from "../workspace";
import { Layout, markResident, residentOffset, wasmKernels } from "../wasm/module";
import { projectionFast } from "./fast";
import type { ProjectionForward, ProjectionKernel } from ".";

/**
 * The output projection on the WebAssembly kernels (./assembly/kernel.ts): the products with W_hy
 * run in the module's memory, on h where the wasm cell left it; the activation g and the gradient
 * through it, a few numbers per step, stay here. ∂L/∂h is left in the module's memory too (besides
 * the JavaScript copy returned), where the wasm cell's backward picks it up. When the arrays do
 * not fit under the memory limit, the JavaScript projection runs instead.
 */

/**
 * ∂L/∂h is handed to the cell's backward right away and never kept (src/backends/compose.ts), so
 * one array per thread serves every call; the block its copy was left in goes back at the next call
 * if the cell did not take it (a cell running its JavaScript kernel reads the array instead).
 */
let dHArray: Float64Array | null = null;
let dHBlock: ArenaBlock | null = null;

function reusableDH(n: number): Float64Array {
  if (!dHArray || dHArray.length < n) dHArray = new Float64Array(Math.max(n, dHArray ? 2 * dHArray.length : 0));
  return dHArray.length === n ? dHArray : dHArray.subarray(0, n);
}

function forward(spec: Readonly<LayerSpec>, p: Params, h: Float64Array, B: number, T: number, ws: Workspace | null): ProjectionForward {
  const m = wasmKernels();
  if (!m) return projectionFast.forward(spec, p, h, B, T, ws);
  const H = spec.hiddenSize;
  const O = spec.outputSize as number;
  const resident = residentOffset(h);
  const l = new Layout();
  const oWT = l.place(H * O), oW = l.place(O * H), oB = l.place(O), oZ = l.place(B * T * O), oH = resident ? -1 : l.place(T * B * H);
  const block = m.arena.alloc(l.bytes, resident?.block ?? null);
  if (!block || (resident && !resident.block.live)) {
    if (block) m.arena.release(block);
    return projectionFast.forward(spec, p, h, B, T, ws);
  }
  const at = block.offset;
  const mem = m.arena.f64;
  mem.set(p.W_hy, (at + oW) / 8);
  mem.set(p.b_y, (at + oB) / 8);
  const hAt = resident ? resident.offset : at + oH;
  if (!resident) mem.set(h, hAt / 8);
  m.exports.transpose(at + oWT, at + oW, O, H);
  m.exports.projectionForward(at + oWT, at + oB, hAt, at + oZ, B, T, H, O);
  const y = scratch(ws, "projection.y", B * T * O, false);
  y.set(mem.subarray((at + oZ) / 8, (at + oZ) / 8 + B * T * O));
  m.arena.release(block);
  const g = spec.outputActivation ?? "linear";
  if (g !== "linear") for (let r = 0; r < B * T; r++) activateInPlace(g, y, r * O, O);
  return { y, cache: null };
}

function backward(spec: Readonly<LayerSpec>, p: Params, fwd: ProjectionForward, h: Float64Array, B: number, T: number, dY: Float64Array, grads: Params, dYIsLogit: boolean, ws: Workspace | null): Float64Array {
  const m = wasmKernels();
  if (!m) return projectionFast.backward(spec, p, fwd, h, B, T, dY, grads, dYIsLogit, ws);
  const H = spec.hiddenSize;
  const O = spec.outputSize as number;
  const g = spec.outputActivation ?? "linear";
  const { y } = fwd;
  if (dHBlock) {
    m.arena.release(dHBlock);
    dHBlock = null;
  }
  const resident = residentOffset(h);
  const l = new Layout();
  const oDH = l.place(T * B * H), oW = l.place(O * H), oDz = l.place(T * B * O), oGw = l.place(O * H), oGb = l.place(O), oH = resident ? -1 : l.place(T * B * H);
  const block = m.arena.alloc(l.bytes, resident?.block ?? null);
  if (!block || (resident && !resident.block.live)) {
    if (block) m.arena.release(block);
    return projectionFast.backward(spec, p, fwd, h, B, T, dY, grads, dYIsLogit, ws);
  }
  const at = block.offset;
  const mem = m.arena.f64;
  // dz = ∂L/∂(W_hy h_t + b_y), written time-major straight into the module's memory.
  const dz = (at + oDz) / 8;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const yo = (b * T + t) * O;
      const zo = dz + (t * B + b) * O;
      if (dYIsLogit || g === "linear") {
        for (let o = 0; o < O; o++) mem[zo + o] = dY[yo + o];
      } else if (g === "softmax") {
        let dot = 0;
        for (let o = 0; o < O; o++) dot += dY[yo + o] * y[yo + o];
        for (let o = 0; o < O; o++) mem[zo + o] = y[yo + o] * (dY[yo + o] - dot);
      } else {
        for (let o = 0; o < O; o++) mem[zo + o] = dY[yo + o] * derivativeFromOutput("sigmoid", y[yo + o]);
      }
    }
  }
  mem.set(p.W_hy, (at + oW) / 8);
  mem.fill(0, (at + oGw) / 8, (at + oGb) / 8 + O);
  const hAt = resident ? resident.offset : at + oH;
  if (!resident) mem.set(h, hAt / 8);
  m.exports.projectionBackward(at + oW, at + oDz, hAt, at + oDH, at + oGw, at + oGb, B, T, H, O);
  const gW = grads.W_hy, gb = grads.b_y;
  for (let i = 0; i < O * H; i++) gW[i] += mem[(at + oGw) / 8 + i];
  for (let o = 0; o < O; o++) gb[o] += mem[(at + oGb) / 8 + o];
  const dH = reusableDH(T * B * H);
  dH.set(mem.subarray((at + oDH) / 8, (at + oDH) / 8 + T * B * H));
  // The block stays for the cell's backward, which reads ∂L/∂h there and then releases it.
  markResident(dH, block, at + oDH);
  dHBlock = block;
  return dH;
}

export const projectionWasm: ProjectionKernel = { forward, backward };
