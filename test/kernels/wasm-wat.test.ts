import { describe, expect, it } from 'vitest';
import { gemmWat } from '../../src/kernels/wasm/gemm.wat.js';
import { assembleWat } from '../../src/kernels/wasm/wat.js';

/**
 * The WAT assembler behind the wasm backend: its bytes equal a hand-encoded module, the folded
 * and flat forms agree, what it builds runs, and its errors name the function and the token.
 */
describe('assembleWat', () => {
  it('encodes a module byte for byte as the binary format specifies', () => {
    const bytes = assembleWat('(module (import "env" "mem" (memory 1 10 shared)) (func (export "f") (param i32) (result i32) local.get 0))');
    expect(Array.from(bytes)).toEqual([
      0x00,
      0x61,
      0x73,
      0x6d,
      1,
      0,
      0,
      0, // magic, version
      1,
      6,
      1,
      0x60,
      1,
      0x7f,
      1,
      0x7f, // type section: (i32) -> i32
      2,
      13,
      1,
      3,
      101,
      110,
      118,
      3,
      109,
      101,
      109,
      2,
      3,
      1,
      10, // import env.mem: shared memory 1..10
      3,
      2,
      1,
      0, // function section
      7,
      5,
      1,
      1,
      102,
      0,
      0, // export "f"
      10,
      6,
      1,
      4,
      0,
      0x20,
      0,
      0x0b, // code: no locals; local.get 0; end
    ]);
  });

  it('assembles folded and flat forms to the same bytes', () => {
    const folded = assembleWat('(func $f (param $x i32) (result i32) (i32.add (local.get $x) (i32.mul (local.get $x) (i32.const -3))))');
    const flat = assembleWat('(func $f (param $x i32) (result i32) local.get $x local.get $x i32.const -3 i32.mul i32.add)');
    expect(folded).toEqual(flat);
  });

  it('builds modules that run: loops with labels, if/else, calls, memory and SIMD', () => {
    const bytes = assembleWat(`(module
      (import "env" "mem" (memory 1 1))
      ;; sum of i for i in [0, n)
      (func $sum (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
        (block $done (loop $next
          (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
          (local.set $s (i32.add (local.get $s) (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
        (local.get $s))
      (func (export "sign") (param $x i32) (result i32)
        (if (result i32) (i32.lt_s (local.get $x) (i32.const 0)) (then (i32.const -1)) (else (call $sum (i32.const 3)))))
      (func (export "dot4") (param $p i32) (result f32) (local $v v128)
        (local.set $v (f32x4.mul (v128.load (local.get $p)) (v128.load offset=16 (local.get $p))))
        (f32.add (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
                 (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v))))))`);
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } }).exports as Record<string, (x: number) => number>;
    expect(exports['sum']!(10)).toBe(45);
    expect(exports['sign']!(-5)).toBe(-1);
    expect(exports['sign']!(5)).toBe(3);
    new Float32Array(mem.buffer).set([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(exports['dot4']!(0)).toBe(70);
  });

  it('encodes a lane store with and without a memarg before its lane (v128.store64_lane)', () => {
    const bytes = assembleWat(`(module
      (import "env" "mem" (memory 1 1))
      (func (export "store") (param $p i32) (local $v v128)
        (local.set $v (v128.load (local.get $p)))
        (v128.store64_lane 1 (i32.add (local.get $p) (i32.const 16)) (local.get $v))
        (v128.store64_lane offset=24 align=4 0 (local.get $p) (local.get $v))))`);
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    const store = (new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } }).exports as Record<string, (p: number) => void>)['store']!;
    new Int32Array(mem.buffer).set([1, 2, 3, 4], 2);
    store(8);
    expect(Array.from(new Int32Array(mem.buffer, 8, 10))).toEqual([1, 2, 3, 4, 3, 4, 1, 2, 0, 0]);
  });

  it('names the function and the token in its errors', () => {
    expect(() => assembleWat('(func $g (i32.frobnicate))')).toThrow('wat: in func $g: unknown instruction i32.frobnicate');
    expect(() => assembleWat('(func $g (local.get $nope))')).toThrow('wat: in func $g: unknown local $nope');
    expect(() => assembleWat('(func $g (br $nowhere))')).toThrow('wat: in func $g: unknown label $nowhere');
    expect(() => assembleWat('(func (i32.const 1)')).toThrow('wat: unbalanced "("');
  });

  it('assembles the matmul kernel, shared and unshared, to valid modules', () => {
    for (const shared of [false, true]) expect(WebAssembly.validate(assembleWat(gemmWat({ shared, fma: false })))).toBe(true);
  });
});
