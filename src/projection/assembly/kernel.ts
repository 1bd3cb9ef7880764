/**
 * The output projection z_t = W_hy h_t + b_y in AssemblyScript (the activation g is applied by the
 * loader, src/projection/wasm.ts, on the few outputs), on the blocks of src/wasm/assembly/linalg.ts.
 */
import { affine, addColumnSums, addProductTN } from "../../wasm/assembly/linalg";

/** z (B×T×O, batch-major) from h (T×B×H, time-major); whyT is W_hy transposed (H×O). */
export function projectionForward(whyT: usize, by: usize, h: usize, z: usize, B: i32, T: i32, H: i32, O: i32): void {
  const BH = <usize>B * H;
  for (let t = 0; t < T; t++) {
    affine(z + ((<usize>t * O) << 3), T * O, by, h + ((<usize>t * BH) << 3), H, whyT, H, 0, 0, 0, 0, B, O);
  }
}

/**
 * From dz (T×B×O, time-major: the gradient of z) to dH = dz·W_hy (T×B×H), adding dz's products
 * into gwhy (O×H) and gby (O).
 */
export function projectionBackward(why: usize, dz: usize, h: usize, dH: usize, gwhy: usize, gby: usize, B: i32, T: i32, H: i32, O: i32): void {
  const R = T * B;
  affine(dH, H, 0, dz, O, why, O, 0, 0, 0, 0, R, H);
  addProductTN(gwhy, dz, h, R, O, H);
  addColumnSums(gby, dz, R, O);
}
