import type { MatmulDims } from 'elbo';

/**
 * How the training worker and the GPU worker talk. The Backend interface is synchronous, WebGPU
 * is not (a result comes back through a promise), so the training worker writes the operands
 * into a SharedArrayBuffer, posts the dimensions, and blocks in Atomics.wait until the GPU
 * worker has run the kernel, read the result back into the same buffer and flipped the flag.
 *
 *     bytes 0..64        Int32 control words: [0] the flag, [1] error message length
 *     64..               A (aLen float32), then B (bLen), then the result (outLen); or an
 *                        error message (UTF-8) when the flag is FAILED
 */
export const HEADER_BYTES = 64;
export const FLAG = { pending: 0, done: 1, failed: 2 } as const;

export type GpuRequest = { type: 'hello' } | { type: 'matmul'; sab?: SharedArrayBuffer; dims: MatmulDims; aLen: number; bLen: number; outLen: number };

export type GpuHello = { ok: true; adapter: string; maxBytes: number } | { ok: false; error: string };
