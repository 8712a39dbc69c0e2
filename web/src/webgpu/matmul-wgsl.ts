/**
 * The WebGPU matmul, out[b] = op(A[b]) @ op(B[b]) with the engine's conventions (see
 * src/kernels/backend.ts: A is [m, k], or [k, m] when transA; B is [k, n], or [n, k] when transB;
 * A[b] starts at b·aStride, B[b] at b·bStride). Each 16×16 workgroup computes a 16×16 tile of
 * one batch's output, walking k in 16-wide slabs staged through workgroup memory.
 */
export const TILE = 16;

export const MATMUL_WGSL = /* wgsl */ `
struct Dims { m: u32, n: u32, k: u32, transA: u32, transB: u32, aStride: u32, bStride: u32, pad: u32 }
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> d: Dims;
const T = ${TILE}u;
var<workgroup> tileA: array<array<f32, ${TILE}>, ${TILE}>;
var<workgroup> tileB: array<array<f32, ${TILE}>, ${TILE}>;

// op(A)[i, p] of batch bat, 0 outside the matrix.
fn loadA(bat: u32, i: u32, p: u32) -> f32 {
  if (i >= d.m || p >= d.k) { return 0.0; }
  if (d.transA == 1u) { return A[bat * d.aStride + p * d.m + i]; }
  return A[bat * d.aStride + i * d.k + p];
}

// op(B)[p, j] of batch bat, 0 outside the matrix.
fn loadB(bat: u32, p: u32, j: u32) -> f32 {
  if (p >= d.k || j >= d.n) { return 0.0; }
  if (d.transB == 1u) { return B[bat * d.bStride + j * d.k + p]; }
  return B[bat * d.bStride + p * d.n + j];
}

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let row = wg.y * T + l.y;
  let col = wg.x * T + l.x;
  let bat = wg.z;
  var acc = 0.0;
  for (var t = 0u; t < d.k; t += T) {
    tileA[l.y][l.x] = loadA(bat, row, t + l.x);
    tileB[l.y][l.x] = loadB(bat, t + l.y, col);
    workgroupBarrier();
    for (var p = 0u; p < T; p++) { acc += tileA[l.y][p] * tileB[p][l.x]; }
    workgroupBarrier();
  }
  if (row < d.m && col < d.n) { C[(bat * d.m + row) * d.n + col] = acc; }
}
`;
