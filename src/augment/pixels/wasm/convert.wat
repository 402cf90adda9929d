;; Batch conversion into shared memory (batch-arena.ts): the batch tensors live in ONE shared
;; WebAssembly memory, imported by every thread's instance of this module, so the float32 pixels
;; are stored by wasm itself — a JavaScript copy into a SharedArrayBuffer runs word by word with
;; relaxed atomic semantics (V8), 2.5–7× slower than into private memory.
;;
;; The integer → float conversions are the SIGNED f32x4.convert_i32x4_s: the values are 0–255, so
;; the result is the same, and on x64 it is one instruction (cvtdq2ps) where V8 expands the
;; unsigned one into a sequence: the conversion ran 2.4× faster in-process (50 → 21 µs per 256²
;; RGB image, 2 × AMD EPYC, Node 20).
;;
;; Both functions run BACK TO FRONT, so a source lying at the start of its own destination (the
;; staged conversion of batch.ts: 8-bit pixels at the first quarter of their float32 place) is
;; read before it is overwritten: group g's stores start at 4× its loads' offset.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; `pixels` (a multiple of 4) 8-bit RGB pixels at `src` → float32 at `dst`, out = float(in[perm])
  ;; − mean. `consts`: 16 bytes of channel swizzle for 4 pixels, then the means as three f32x4
  ;; [m0 m1 m2 m0] [m1 m2 m0 m1] [m2 m0 m1 m2] (exact float32 values: same bits as JS's double).
  ;; Reads up to 4 bytes past the last pixel.
  (func (export "rgbToFloat") (param $consts i32) (param $src i32) (param $dst i32) (param $pixels i32)
    (local $perm v128) (local $m0 v128) (local $m1 v128) (local $m2 v128)
    (local $v v128) (local $lo v128) (local $hi v128) (local $s i32) (local $d i32)
    (local.set $perm (v128.load (local.get $consts)))
    (local.set $m0 (v128.load offset=16 (local.get $consts)))
    (local.set $m1 (v128.load offset=32 (local.get $consts)))
    (local.set $m2 (v128.load offset=48 (local.get $consts)))
    (local.set $s (i32.add (local.get $src) (i32.mul (local.get $pixels) (i32.const 3))))
    (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $pixels) (i32.const 12))))
    (block $done
      (loop $next
        (br_if $done (i32.le_u (local.get $s) (local.get $src)))
        (local.set $s (i32.sub (local.get $s) (i32.const 12)))
        (local.set $d (i32.sub (local.get $d) (i32.const 48)))
        (local.set $v (i8x16.swizzle (v128.load (local.get $s)) (local.get $perm)))
        (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
        (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
        (v128.store offset=0 (local.get $d)
          (f32x4.sub (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (local.get $lo))) (local.get $m0)))
        (v128.store offset=16 (local.get $d)
          (f32x4.sub (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_u (local.get $lo))) (local.get $m1)))
        (v128.store offset=32 (local.get $d)
          (f32x4.sub (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (local.get $hi))) (local.get $m2)))
        (br $next))))

  ;; `pixels` (a multiple of 4) 8-bit RGB pixels at `src` → 8-bit at `dst` in the channel order
  ;; of the swizzle at `consts` (dtype uint8 batches). FRONT to back, 12 bytes stored per 16
  ;; loaded: in place (src = dst) each group is read before it is written. Reads up to 4 bytes
  ;; past the last pixel.
  (func (export "rgbPermute") (param $consts i32) (param $src i32) (param $dst i32) (param $pixels i32)
    (local $perm v128) (local $v v128) (local $end i32)
    (local.set $perm (v128.load (local.get $consts)))
    (local.set $end (i32.add (local.get $src) (i32.mul (local.get $pixels) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $v (i8x16.swizzle (v128.load (local.get $src)) (local.get $perm)))
        (v128.store64_lane 0 (local.get $dst) (local.get $v))
        (v128.store32_lane offset=8 2 (local.get $dst) (local.get $v))
        (local.set $src (i32.add (local.get $src) (i32.const 12)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 12)))
        (br $next))))

  ;; `count` (a multiple of 16) bytes at `src` → float32 at `dst` (label maps: the values as they are).
  (func (export "bytesToFloat") (param $src i32) (param $dst i32) (param $count i32)
    (local $v v128) (local $lo v128) (local $hi v128) (local $s i32) (local $d i32)
    (local.set $s (i32.add (local.get $src) (local.get $count)))
    (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $count) (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.le_u (local.get $s) (local.get $src)))
        (local.set $s (i32.sub (local.get $s) (i32.const 16)))
        (local.set $d (i32.sub (local.get $d) (i32.const 64)))
        (local.set $v (v128.load (local.get $s)))
        (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
        (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
        (v128.store offset=0 (local.get $d) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (local.get $lo))))
        (v128.store offset=16 (local.get $d) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_u (local.get $lo))))
        (v128.store offset=32 (local.get $d) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (local.get $hi))))
        (v128.store offset=48 (local.get $d) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_u (local.get $hi))))
        (br $next))))
)
