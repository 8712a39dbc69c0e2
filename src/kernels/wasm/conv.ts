import type { Conv2dDims, MatmulDims } from '../backend.js';
import type { WasmMatmul } from './matmul.js';

/**
 * The wasm backend's 2-D convolutions, as products on the threaded GEMM of `matmul.ts`:
 *
 * - conv2d unfolds x (im2col) into col[g, (c, p, q), (n, i, j)] = x[n, g·inC/groups + c,
 *   i·strideH − padH + p·dilationH, j·strideW − padW + q·dilationW] (0 outside the image), and
 *   multiplies each group's weight [out/groups, (c, p, q)] by it: [out/groups, (n, i, j)], whose
 *   rows are then laid out as [batch, out, outHeight, outWidth];
 * - convTranspose2d multiplies each group's weight, transposed ([(o, p, q), in/groups]), by x
 *   laid out as [g, c, (n, i, j)]: col[g, (o, p, q), (n, i, j)] = Σ_c W[c, o, p, q]·x[n, c, i, j],
 *   and adds every column onto the output position it lands on (col2im, the adjoint of im2col).
 *
 * The unfolded arrays and the products live in the wasm memory for the call
 * (`WasmMatmul.workspace`), so the GEMM reads and writes them in place.
 */
export class WasmConv {
  constructor(private readonly engine: WasmMatmul) {}

  /** conv2d of float32 arrays (see `Kernels.conv2d`); false, having done nothing, if it does not fit in the wasm memory. */
  conv2d(x: Float32Array, weight: Float32Array, out: Float32Array, d: Conv2dDims): boolean {
    const { batch, groups, outChannels } = d;
    const inPerGroup = d.inChannels / groups;
    const outPerGroup = outChannels / groups;
    const depth = inPerGroup * d.kernelHeight * d.kernelWidth; // the product's k
    const pixels = d.outHeight * d.outWidth;
    const columns = batch * pixels; // the product's n
    if (out.length === 0) return true;
    // One image: the product [groups, out/groups, pixels] is the output itself.
    const sizes = batch === 1 ? [groups * depth * columns] : [groups * depth * columns, out.length];
    const done = this.engine.workspace(sizes, ([col, product]) => {
      im2col(x, col!, d);
      const dims: MatmulDims = {
        batch: groups,
        m: outPerGroup,
        k: depth,
        n: columns,
        transA: false,
        transB: false,
        aBatchStride: outPerGroup * depth,
        bBatchStride: depth * columns,
      };
      if (!this.engine.matmul(weight, col!, product ?? out, dims)) return false;
      if (product) {
        // product[g, o, (n, pixel)] → out[n, g·outPerGroup + o, pixel]
        for (let row = 0; row < outChannels; row++) {
          for (let n = 0; n < batch; n++) {
            const from = row * columns + n * pixels;
            out.set(product.subarray(from, from + pixels), (n * outChannels + row) * pixels);
          }
        }
      }
      return true;
    });
    return done === true;
  }

  /** convTranspose2d of float32 arrays (see `Kernels.convTranspose2d`); false, having done nothing, if it does not fit. */
  convTranspose2d(x: Float32Array, weight: Float32Array, out: Float32Array, d: Conv2dDims): boolean {
    const { batch, groups, inChannels } = d;
    const inPerGroup = inChannels / groups;
    const outPerGroup = d.outChannels / groups;
    const taps = outPerGroup * d.kernelHeight * d.kernelWidth; // the product's m
    const pixels = d.height * d.width;
    const columns = batch * pixels; // the product's n
    if (out.length === 0) return true;
    // One image: x is [groups, in/groups, pixels] already.
    const sizes = batch === 1 ? [groups * taps * columns] : [groups * taps * columns, x.length];
    const done = this.engine.workspace(sizes, ([col, xByChannel]) => {
      if (xByChannel) {
        // x[n, c, pixel] → xByChannel[c, (n, pixel)]
        for (let c = 0; c < inChannels; c++) {
          for (let n = 0; n < batch; n++) {
            const from = (n * inChannels + c) * pixels;
            xByChannel.set(x.subarray(from, from + pixels), c * columns + n * pixels);
          }
        }
      }
      const dims: MatmulDims = {
        batch: groups,
        m: taps,
        k: inPerGroup,
        n: columns,
        transA: true,
        transB: false,
        aBatchStride: inPerGroup * taps,
        bBatchStride: inPerGroup * columns,
      };
      if (!this.engine.matmul(weight, xByChannel ?? x, col!, dims)) return false;
      col2im(col!, out, d);
      return true;
    });
    return done === true;
  }
}

/**
 * The first and one-past-last output index o < count whose input index o·stride − pad + tap·dilation
 * falls inside [0, size).
 */
function validRange(count: number, size: number, stride: number, pad: number, offset: number): [number, number] {
  // o·stride + offset − pad ≥ 0 and ≤ size − 1
  const start = Math.min(count, Math.max(0, Math.ceil((pad - offset) / stride)));
  const end = Math.min(count, Math.floor((size - 1 + pad - offset) / stride) + 1);
  return [start, Math.max(start, end)];
}

/** col[g, (c, p, q), (n, i, j)] = x[n, g·inC/groups + c, i·sH − pH + p·dH, j·sW − pW + q·dW], 0 outside. */
function im2col(x: Float32Array, col: Float32Array, d: Conv2dDims): void {
  const { batch, inChannels, height, width, outHeight, outWidth, kernelHeight, kernelWidth, strideH, strideW, padH, padW, dilationH, dilationW } = d;
  const imageSize = inChannels * height * width;
  let at = 0;
  for (let channel = 0; channel < inChannels; channel++) {
    // Rows of col run over (group, c) = channel, then p, q: the group's rows follow each other.
    for (let p = 0; p < kernelHeight; p++) {
      const [i0, i1] = validRange(outHeight, height, strideH, padH, p * dilationH);
      for (let q = 0; q < kernelWidth; q++) {
        const [j0, j1] = validRange(outWidth, width, strideW, padW, q * dilationW);
        const firstColumn = j0 * strideW - padW + q * dilationW;
        for (let n = 0; n < batch; n++) {
          const plane = n * imageSize + channel * height * width;
          for (let i = 0; i < outHeight; i++) {
            if (i < i0 || i >= i1) {
              for (let j = 0; j < outWidth; j++) col[at++] = 0;
              continue;
            }
            let from = plane + (i * strideH - padH + p * dilationH) * width + firstColumn;
            let j = 0;
            for (; j < j0; j++) col[at++] = 0;
            for (; j < j1; j++, from += strideW) col[at++] = x[from]!;
            for (; j < outWidth; j++) col[at++] = 0;
          }
        }
      }
    }
  }
}

/**
 * out[n, g·outC/groups + o, i·sH − pH + p·dH, j·sW − pW + q·dW] += col[g, (o, p, q), (n, i, j)]
 * (dropped outside the output), onto zeros: the adjoint of {@link im2col}.
 */
function col2im(col: Float32Array, out: Float32Array, d: Conv2dDims): void {
  const { batch, height, width, outChannels, outHeight, outWidth, kernelHeight, kernelWidth, strideH, strideW, padH, padW, dilationH, dilationW } = d;
  out.fill(0);
  const outPlane = outHeight * outWidth;
  const outImage = outChannels * outPlane;
  let at = 0;
  for (let channel = 0; channel < outChannels; channel++) {
    for (let p = 0; p < kernelHeight; p++) {
      // Input rows i whose output row i·sH − pH + p·dH lies in [0, outHeight); likewise columns.
      const [i0, i1] = validRange(height, outHeight, strideH, padH, p * dilationH);
      for (let q = 0; q < kernelWidth; q++) {
        const [j0, j1] = validRange(width, outWidth, strideW, padW, q * dilationW);
        const firstColumn = j0 * strideW - padW + q * dilationW;
        for (let n = 0; n < batch; n++) {
          const plane = n * outImage + channel * outPlane;
          for (let i = i0; i < i1; i++) {
            let to = plane + (i * strideH - padH + p * dilationH) * outWidth + firstColumn;
            let from = at + i * width + j0;
            for (let j = j0; j < j1; j++, to += strideW) out[to] = out[to]! + col[from++]!;
          }
          at += height * width;
        }
      }
    }
  }
}
