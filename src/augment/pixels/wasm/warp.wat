;; picpac's WebAssembly SIMD kernels (one module, instantiated once per thread by
;; src/augment/pixels/warp-simd.ts; compiled into wasm/warp-wasm.ts by scripts/build-wasm.ts):
;;   span, interior, fill3 — the image warp (below); nearest1 — the label warp; rgbToFloat,
;;   rgbPermute — batch conversion (end).
;; Memory 0–63 is scratch for the batch constants; callers place their data from byte 64.
;;
;; Bilinear affine warp of one output row run, 8-bit RGB (3 interleaved channels), with the same
;; 16.16 fixed-point coordinates and 8-bit weights as warp-kernels.ts (bilinear8c3 and
;; edgeSample8), so the result is bit-identical to the JS kernel:
;;   v = ((p00·(256−wx) + p01·wx)·(256−wy) + (p10·(256−wx) + p11·wx)·wy + 32768) >> 16
;; The caller (warp-simd.ts) passes only runs of pixels that are not wholly outside the source
;; (−1 ≤ x0 ≤ maxX, −1 ≤ y0 ≤ maxY). Interior pixels (0 ≤ x0 < maxX, 0 ≤ y0 < maxY) sample
;; directly; edge pixels first get edgeSample8's half-pixel clamp (cv::resize's edge
;; replication), then their taps outside the source (zero) are dropped by moving the 2×2
;; window inside and giving the dropped taps weight 0 — the same integer terms, so the same
;; result, and every read stays inside the source. The source must be at least 2×2.
;;
;; Per pixel: the 2×2 neighbourhood is two 8-byte loads (top row in lanes 0–7, bottom row in
;; 8–15), one swizzle puts each channel's left/right taps side by side, and i32x4.dot_i16x8_s
;; with (wa, wb) pairs gives a row's three horizontal sums at once. Reads go up to 2 bytes past
;; the last tap: the caller pads the source by 16 bytes.
(module
  (memory (export "memory") 1)

  ;; Sample `count` pixels from (fx, fy) stepping (stepX, stepY); write RGB bytes from `dst`.
  ;; lut < 0: out = clamp(v + add − sub) per channel (add/sub: byte deltas R | G<<8 | B<<16);
  ;; lut ≥ 0: out[k] = memory[lut + k·256 + v[k]].
  (func (export "span")
    (param $src i32) (param $stride i32) (param $maxX i32) (param $maxY i32)
    (param $dst i32) (param $count i32)
    (param $fx i32) (param $fy i32) (param $stepX i32) (param $stepY i32)
    (param $lut i32) (param $add i32) (param $sub i32)
    (local $end i32) (local $x0 i32) (local $y0 i32)
    (local $wa i32) (local $wb i32) (local $va i32) (local $vb i32) (local $t i32)
    (local $v v128) (local $addv v128) (local $subv v128)
    (local.set $addv (i32x4.replace_lane 0 (v128.const i32x4 0 0 0 0) (local.get $add)))
    (local.set $subv (i32x4.replace_lane 0 (v128.const i32x4 0 0 0 0) (local.get $sub)))
    (local.set $end (i32.add (local.get $dst) (i32.mul (local.get $count) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $x0 (i32.shr_s (local.get $fx) (i32.const 16)))
        (local.set $y0 (i32.shr_s (local.get $fy) (i32.const 16)))
        (local.set $wb (i32.and (i32.shr_s (local.get $fx) (i32.const 8)) (i32.const 255)))
        (local.set $vb (i32.and (i32.shr_s (local.get $fy) (i32.const 8)) (i32.const 255)))
        (if (i32.eqz (i32.and (i32.lt_u (local.get $x0) (local.get $maxX)) (i32.lt_u (local.get $y0) (local.get $maxY))))
          (then
            ;; Half-pixel clamp: px ∈ [−0.5, 0) → 0; px ∈ (maxX, maxX + 0.5] → maxX (same for y).
            (if (i32.and (i32.eq (local.get $x0) (i32.const -1)) (i32.ge_u (local.get $wb) (i32.const 128)))
              (then (local.set $x0 (i32.const 0)) (local.set $wb (i32.const 0))))
            (if (i32.and (i32.eq (local.get $x0) (local.get $maxX)) (i32.le_u (local.get $wb) (i32.const 128)))
              (then (local.set $wb (i32.const 0))))
            (if (i32.and (i32.eq (local.get $y0) (i32.const -1)) (i32.ge_u (local.get $vb) (i32.const 128)))
              (then (local.set $y0 (i32.const 0)) (local.set $vb (i32.const 0))))
            (if (i32.and (i32.eq (local.get $y0) (local.get $maxY)) (i32.le_u (local.get $vb) (i32.const 128)))
              (then (local.set $vb (i32.const 0))))))
        (local.set $wa (i32.sub (i32.const 256) (local.get $wb)))
        (local.set $va (i32.sub (i32.const 256) (local.get $vb)))
        (if (i32.eqz (i32.and (i32.lt_u (local.get $x0) (local.get $maxX)) (i32.lt_u (local.get $y0) (local.get $maxY))))
          (then
            ;; Taps outside the source are zero: shift the window inside, weight 0 for them.
            (if (i32.eq (local.get $x0) (i32.const -1))
              (then (local.set $x0 (i32.const 0)) (local.set $wa (local.get $wb)) (local.set $wb (i32.const 0))))
            (if (i32.eq (local.get $x0) (local.get $maxX))
              (then (local.set $x0 (i32.sub (local.get $maxX) (i32.const 1))) (local.set $wb (local.get $wa)) (local.set $wa (i32.const 0))))
            (if (i32.eq (local.get $y0) (i32.const -1))
              (then (local.set $y0 (i32.const 0)) (local.set $va (local.get $vb)) (local.set $vb (i32.const 0))))
            (if (i32.eq (local.get $y0) (local.get $maxY))
              (then (local.set $y0 (i32.sub (local.get $maxY) (i32.const 1))) (local.set $vb (local.get $va)) (local.set $va (i32.const 0))))))
        ;; t = src + y0·stride + x0·3
        (local.set $t
          (i32.add (local.get $src)
            (i32.add (i32.mul (local.get $y0) (local.get $stride)) (i32.mul (local.get $x0) (i32.const 3)))))
        ;; [t.r0 t.g0 t.b0 t.r1 t.g1 t.b1 · · | b.r0 b.g0 b.b0 b.r1 b.g1 b.b1 · ·]
        (local.set $v
          (v128.load64_lane 1 (i32.add (local.get $t) (local.get $stride))
            (v128.load64_zero (local.get $t))))
        ;; → [r0 r1 g0 g1 b0 b1 0 0 | the same for the bottom row] (index 255 reads as 0)
        (local.set $v
          (i8x16.swizzle (local.get $v) (v128.const i8x16 0 3 1 4 2 5 255 255 8 11 9 12 10 13 255 255)))
        ;; i32x4 [R, G, B, 0]
        (local.set $v
          (i32x4.shr_u
            (i32x4.add
              (i32x4.add
                (i32x4.mul
                  (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $v))
                    (i32x4.splat (i32.or (local.get $wa) (i32.shl (local.get $wb) (i32.const 16)))))
                  (i32x4.splat (local.get $va)))
                (i32x4.mul
                  (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $v))
                    (i32x4.splat (i32.or (local.get $wa) (i32.shl (local.get $wb) (i32.const 16)))))
                  (i32x4.splat (local.get $vb))))
              (v128.const i32x4 32768 32768 32768 32768))
            (i32.const 16)))
        (if (i32.lt_s (local.get $lut) (i32.const 0))
          (then
            (local.set $v (i16x8.narrow_i32x4_u (local.get $v) (local.get $v)))
            (local.set $v (i8x16.narrow_i16x8_u (local.get $v) (local.get $v)))
            (local.set $v (i8x16.sub_sat_u (i8x16.add_sat_u (local.get $v) (local.get $addv)) (local.get $subv)))
            ;; 4-byte store (its 4th byte is rewritten by the next pixel), except for the last.
            (if (i32.lt_u (i32.add (local.get $dst) (i32.const 3)) (local.get $end))
              (then (v128.store32_lane 0 (local.get $dst) (local.get $v)))
              (else
                (v128.store16_lane 0 (local.get $dst) (local.get $v))
                (v128.store8_lane offset=2 2 (local.get $dst) (local.get $v)))))
          (else
            (i32.store8 offset=0 (local.get $dst)
              (i32.load8_u offset=0 (i32.add (local.get $lut) (i32x4.extract_lane 0 (local.get $v)))))
            (i32.store8 offset=1 (local.get $dst)
              (i32.load8_u offset=256 (i32.add (local.get $lut) (i32x4.extract_lane 1 (local.get $v)))))
            (i32.store8 offset=2 (local.get $dst)
              (i32.load8_u offset=512 (i32.add (local.get $lut) (i32x4.extract_lane 2 (local.get $v)))))))
        (local.set $fx (i32.add (local.get $fx) (local.get $stepX)))
        (local.set $fy (i32.add (local.get $fy) (local.get $stepY)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 3)))
        (br $next))))

  ;; The hot loop: interior pixels only (0 ≤ x0 < maxX, 0 ≤ y0 < maxY for all `count`), additive
  ;; table only; otherwise as `span`. Four pixels a step, with `span`'s integer terms in another
  ;; order (the sum is exact, so the result is the same):
  ;;   h = p·(256−wx) + p'·wx per row (≤ 65280), then v = (h_top·(256−wy) + h_bottom·wy + 32768) >> 16.
  ;; One swizzle of the 2×2 taps gives [top R, bottom R, top G, bottom G] (left/right as i16
  ;; pairs), another [top B, bottom B]; i32x4.dot_i16x8_s with (256−wx, wx) makes the four row
  ;; sums h. h fits u16, not i16, so each is packed unsigned and flipped to h − 32768 (xor 0x8000);
  ;; a second dot product with (256−wy, wy) then does the vertical step, and 32768·256 is added
  ;; back with the rounding term. Addresses stay scalar: the vector units are the busy ones
  ;; (shuffles), the integer units are not. 0.84× the time per pixel of the two-pixel loop this
  ;; replaced (docs/performance.md).
  (func (export "interior")
    (param $src i32) (param $stride i32) (param $dst i32) (param $count i32)
    (param $fx i32) (param $fy i32) (param $stepX i32) (param $stepY i32)
    (param $add i32) (param $sub i32)
    (local $end i32) (local $wb i32) (local $vb i32) (local $t i32) (local $w v128)
    (local $v v128) (local $addv v128) (local $subv v128)
    (local $fxv v128) (local $fyv v128) (local $wx v128) (local $wy v128)
    (local $rg v128) (local $b v128) (local $centre v128) (local $bias v128)
    (local $p0 v128) (local $p1 v128) (local $p2 v128)
    ;; Every byte lane holds its channel's delta (R | G<<8 | B<<16 per 4 bytes).
    (local.set $addv (i32x4.splat (local.get $add)))
    (local.set $subv (i32x4.splat (local.get $sub)))
    ;; Taps [t.r0 t.g0 t.b0 t.r1 t.g1 t.b1 · · | b.r0 … b.b1 · ·] → i16 [tR tR' bR bR' tG tG' bG bG'] and [tB tB' bB bB' 0…]
    (local.set $rg (v128.const i8x16 0 255 3 255 8 255 11 255 1 255 4 255 9 255 12 255))
    (local.set $b (v128.const i8x16 2 255 5 255 10 255 13 255 255 255 255 255 255 255 255 255))
    (local.set $centre (v128.const i16x8 0x8000 0x8000 0x8000 0x8000 0x8000 0x8000 0x8000 0x8000))
    (local.set $bias (v128.const i32x4 8421376 8421376 8421376 8421376)) ;; 32768·256 + 32768
    ;; The four pixels' 16.16 coordinates, for their weights.
    (local.set $fxv (i32x4.add (i32x4.splat (local.get $fx)) (i32x4.mul (i32x4.splat (local.get $stepX)) (v128.const i32x4 0 1 2 3))))
    (local.set $fyv (i32x4.add (i32x4.splat (local.get $fy)) (i32x4.mul (i32x4.splat (local.get $stepY)) (v128.const i32x4 0 1 2 3))))
    (block $quadsDone
      (loop $quad
        (br_if $quadsDone (i32.lt_s (local.get $count) (i32.const 4)))
        ;; (256 − w) | w << 16 with w = bits 8–15 of the coordinate: the weight pairs as i16 lanes
        (local.set $wx (i32x4.shr_u (i32x4.shl (local.get $fxv) (i32.const 16)) (i32.const 24)))
        (local.set $wx (i32x4.add (i32x4.sub (i32x4.shl (local.get $wx) (i32.const 16)) (local.get $wx)) (i32x4.splat (i32.const 256))))
        (local.set $wy (i32x4.shr_u (i32x4.shl (local.get $fyv) (i32.const 16)) (i32.const 24)))
        (local.set $wy (i32x4.add (i32x4.sub (i32x4.shl (local.get $wy) (i32.const 16)) (local.get $wy)) (i32x4.splat (i32.const 256))))
        ;; pixel 0
        (local.set $t (i32.add (local.get $src) (i32.add
          (i32.mul (i32.shr_s (local.get $fy) (i32.const 16)) (local.get $stride))
          (i32.mul (i32.shr_s (local.get $fx) (i32.const 16)) (i32.const 3)))))
        (local.set $v (v128.load64_lane 1 (i32.add (local.get $t) (local.get $stride)) (v128.load64_zero (local.get $t))))
        (local.set $w (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $wx) (local.get $wx)))
        (local.set $p0
          (i32x4.shr_s
            (i32x4.add
              (i32x4.dot_i16x8_s
                (v128.xor
                  (i16x8.narrow_i32x4_u
                    (i32x4.dot_i16x8_s (i8x16.swizzle (local.get $v) (local.get $rg)) (local.get $w))
                    (i32x4.dot_i16x8_s (i8x16.swizzle (local.get $v) (local.get $b)) (local.get $w)))
                  (local.get $centre))
                (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $wy) (local.get $wy)))
              (local.get $bias))
            (i32.const 16)))
        ;; pixel 1
        (local.set $t (i32.add (local.get $src) (i32.add
          (i32.mul (i32.shr_s (i32.add (local.get $fy) (local.get $stepY)) (i32.const 16)) (local.get $stride))
          (i32.mul (i32.shr_s (i32.add (local.get $fx) (local.get $stepX)) (i32.const 16)) (i32.const 3)))))
        (local.set $v (v128.load64_lane 1 (i32.add (local.get $t) (local.get $stride)) (v128.load64_zero (local.get $t))))
        (local.set $w (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $wx) (local.get $wx)))
        (local.set $p1
          (i32x4.shr_s
            (i32x4.add
              (i32x4.dot_i16x8_s
                (v128.xor
                  (i16x8.narrow_i32x4_u
                    (i32x4.dot_i16x8_s (i8x16.swizzle (local.get $v) (local.get $rg)) (local.get $w))
                    (i32x4.dot_i16x8_s (i8x16.swizzle (local.get $v) (local.get $b)) (local.get $w)))
                  (local.get $centre))
                (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $wy) (local.get $wy)))
              (local.get $bias))
            (i32.const 16)))
        (local.set $p0 (i16x8.narrow_i32x4_u (local.get $p0) (local.get $p1)))
        ;; pixel 2
        (local.set $t (i32.add (local.get $src) (i32.add
          (i32.mul (i32.shr_s (i32.add (local.get $fy) (i32.mul (local.get $stepY) (i32.const 2))) (i32.const 16)) (local.get $stride))
          (i32.mul (i32.shr_s (i32.add (local.get $fx) (i32.mul (local.get $stepX) (i32.const 2))) (i32.const 16)) (i32.const 3)))))
        (local.set $v (v128.load64_lane 1 (i32.add (local.get $t) (local.get $stride)) (v128.load64_zero (local.get $t))))
        (local.set $w (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $wx) (local.get $wx)))
        (local.set $p1
          (i32x4.shr_s
            (i32x4.add
              (i32x4.dot_i16x8_s
                (v128.xor
                  (i16x8.narrow_i32x4_u
                    (i32x4.dot_i16x8_s (i8x16.swizzle (local.get $v) (local.get $rg)) (local.get $w))
                    (i32x4.dot_i16x8_s (i8x16.swizzle (local.get $v) (local.get $b)) (local.get $w)))
                  (local.get $centre))
                (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $wy) (local.get $wy)))
              (local.get $bias))
            (i32.const 16)))
        ;; pixel 3
        (local.set $t (i32.add (local.get $src) (i32.add
          (i32.mul (i32.shr_s (i32.add (local.get $fy) (i32.mul (local.get $stepY) (i32.const 3))) (i32.const 16)) (local.get $stride))
          (i32.mul (i32.shr_s (i32.add (local.get $fx) (i32.mul (local.get $stepX) (i32.const 3))) (i32.const 16)) (i32.const 3)))))
        (local.set $v (v128.load64_lane 1 (i32.add (local.get $t) (local.get $stride)) (v128.load64_zero (local.get $t))))
        (local.set $w (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $wx) (local.get $wx)))
        (local.set $p2
          (i32x4.shr_s
            (i32x4.add
              (i32x4.dot_i16x8_s
                (v128.xor
                  (i16x8.narrow_i32x4_u
                    (i32x4.dot_i16x8_s (i8x16.swizzle (local.get $v) (local.get $rg)) (local.get $w))
                    (i32x4.dot_i16x8_s (i8x16.swizzle (local.get $v) (local.get $b)) (local.get $w)))
                  (local.get $centre))
                (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $wy) (local.get $wy)))
              (local.get $bias))
            (i32.const 16)))
        ;; [R0 G0 B0 · R1 G1 B1 · …] → colour → 12 bytes
        (local.set $v (i8x16.narrow_i16x8_u (local.get $p0) (i16x8.narrow_i32x4_u (local.get $p1) (local.get $p2))))
        (local.set $v (i8x16.sub_sat_u (i8x16.add_sat_u (local.get $v) (local.get $addv)) (local.get $subv)))
        (local.set $v (i8x16.swizzle (local.get $v) (v128.const i8x16 0 1 2 4 5 6 8 9 10 12 13 14 255 255 255 255)))
        (v128.store64_lane 0 (local.get $dst) (local.get $v))
        (v128.store32_lane offset=8 2 (local.get $dst) (local.get $v))
        (local.set $fxv (i32x4.add (local.get $fxv) (i32x4.splat (i32.shl (local.get $stepX) (i32.const 2)))))
        (local.set $fyv (i32x4.add (local.get $fyv) (i32x4.splat (i32.shl (local.get $stepY) (i32.const 2)))))
        (local.set $fx (i32.add (local.get $fx) (i32.shl (local.get $stepX) (i32.const 2))))
        (local.set $fy (i32.add (local.get $fy) (i32.shl (local.get $stepY) (i32.const 2))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 12)))
        (local.set $count (i32.sub (local.get $count) (i32.const 4)))
        (br $quad)))
    (if (i32.eqz (local.get $count)) (then (return)))
    ;; The 1–3 pixels left, one at a time, as `span` computes them. All but the last: a 4-byte
    ;; store (its 4th byte is rewritten by the next pixel).
    (local.set $end (i32.add (local.get $dst) (i32.mul (i32.sub (local.get $count) (i32.const 1)) (i32.const 3))))
    (block $done
      (loop $next
        (local.set $t
          (i32.add (local.get $src)
            (i32.add
              (i32.mul (i32.shr_s (local.get $fy) (i32.const 16)) (local.get $stride))
              (i32.mul (i32.shr_s (local.get $fx) (i32.const 16)) (i32.const 3)))))
        (local.set $wb (i32.and (i32.shr_s (local.get $fx) (i32.const 8)) (i32.const 255)))
        (local.set $vb (i32.and (i32.shr_s (local.get $fy) (i32.const 8)) (i32.const 255)))
        (local.set $v
          (v128.load64_lane 1 (i32.add (local.get $t) (local.get $stride))
            (v128.load64_zero (local.get $t))))
        (local.set $v
          (i8x16.swizzle (local.get $v) (v128.const i8x16 0 3 1 4 2 5 255 255 8 11 9 12 10 13 255 255)))
        (local.set $w
          (i32x4.splat (i32.or (i32.sub (i32.const 256) (local.get $wb)) (i32.shl (local.get $wb) (i32.const 16)))))
        (local.set $v
          (i32x4.shr_u
            (i32x4.add
              (i32x4.add
                (i32x4.mul
                  (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $v)) (local.get $w))
                  (i32x4.splat (i32.sub (i32.const 256) (local.get $vb))))
                (i32x4.mul
                  (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $v)) (local.get $w))
                  (i32x4.splat (local.get $vb))))
              (v128.const i32x4 32768 32768 32768 32768))
            (i32.const 16)))
        (local.set $v (i16x8.narrow_i32x4_u (local.get $v) (local.get $v)))
        (local.set $v (i8x16.narrow_i16x8_u (local.get $v) (local.get $v)))
        (local.set $v (i8x16.sub_sat_u (i8x16.add_sat_u (local.get $v) (local.get $addv)) (local.get $subv)))
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (v128.store32_lane 0 (local.get $dst) (local.get $v))
        (local.set $fx (i32.add (local.get $fx) (local.get $stepX)))
        (local.set $fy (i32.add (local.get $fy) (local.get $stepY)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 3)))
        (br $next)))
    ;; The last pixel: exactly 3 bytes.
    (v128.store16_lane 0 (local.get $dst) (local.get $v))
    (v128.store8_lane offset=2 2 (local.get $dst) (local.get $v)))

  ;; `count` pixels from `dst` all set to the bytes of `rgb` (R | G<<8 | B<<16): the warp's
  ;; pixels outside the source (the colour table's value of 0) and its crop padding (0), so that
  ;; the driver writes every output byte once instead of zeroing the rows first. 16 pixels (48
  ;; bytes, three vectors of the repeating pattern) a step, then byte by byte.
  (func (export "fill3") (param $dst i32) (param $count i32) (param $rgb i32)
    (local $end i32) (local $a v128) (local $b v128) (local $c v128)
    (local.set $a (i8x16.swizzle (i32x4.splat (local.get $rgb)) (v128.const i8x16 0 1 2 0 1 2 0 1 2 0 1 2 0 1 2 0)))
    (local.set $b (i8x16.swizzle (i32x4.splat (local.get $rgb)) (v128.const i8x16 1 2 0 1 2 0 1 2 0 1 2 0 1 2 0 1)))
    (local.set $c (i8x16.swizzle (i32x4.splat (local.get $rgb)) (v128.const i8x16 2 0 1 2 0 1 2 0 1 2 0 1 2 0 1 2)))
    (local.set $end (i32.add (local.get $dst) (i32.mul (local.get $count) (i32.const 3))))
    (block $wholeDone
      (loop $whole
        (br_if $wholeDone (i32.gt_u (i32.add (local.get $dst) (i32.const 48)) (local.get $end)))
        (v128.store offset=0 (local.get $dst) (local.get $a))
        (v128.store offset=16 (local.get $dst) (local.get $b))
        (v128.store offset=32 (local.get $dst) (local.get $c))
        (local.set $dst (i32.add (local.get $dst) (i32.const 48)))
        (br $whole)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (i32.store8 offset=0 (local.get $dst) (local.get $rgb))
        (i32.store8 offset=1 (local.get $dst) (i32.shr_u (local.get $rgb) (i32.const 8)))
        (i32.store8 offset=2 (local.get $dst) (i32.shr_u (local.get $rgb) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 3)))
        (br $next))))

  ;; Nearest-neighbour affine warp of one output row run, 8-bit single channel (a label map:
  ;; warp.ts warpLabel, whose JS loop it replaces with the same 16.16 coordinates):
  ;; dst[i] = src[(fy >> 16)·stride + (fx >> 16)] for `count` pixels, (fx, fy) += (stepX, stepY).
  ;; The caller passes only runs whose every source pixel is inside the source.
  (func (export "nearest1")
    (param $src i32) (param $stride i32) (param $dst i32) (param $count i32)
    (param $fx i32) (param $fy i32) (param $stepX i32) (param $stepY i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $dst) (local.get $count)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (i32.store8 (local.get $dst)
          (i32.load8_u
            (i32.add (local.get $src)
              (i32.add
                (i32.mul (i32.shr_s (local.get $fy) (i32.const 16)) (local.get $stride))
                (i32.shr_s (local.get $fx) (i32.const 16))))))
        (local.set $fx (i32.add (local.get $fx) (local.get $stepX)))
        (local.set $fy (i32.add (local.get $fy) (local.get $stepY)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (br $next))))

  ;; Batch conversion (batch.ts writeImage, the float32 NHWC 3-channel case): `pixels` 8-bit
  ;; pixels at `src` (a multiple of 4; 4 bytes of read slack after them) → float32 at `dst`,
  ;; out = float(in[perm]) − mean. Memory 0–15 holds the channel swizzle for 4 pixels, 16–63
  ;; the means as three f32x4 [m0 m1 m2 m0] [m1 m2 m0 m1] [m2 m0 m1 m2]. The caller uses this
  ;; only when each mean is exact in float32, so the result equals JS's double arithmetic.
  ;; The signed convert is exact for 0–255 and one x64 instruction (see convert.wat).
  (func (export "rgbToFloat") (param $src i32) (param $dst i32) (param $pixels i32)
    (local $end i32) (local $perm v128) (local $m0 v128) (local $m1 v128) (local $m2 v128)
    (local $v v128) (local $lo v128) (local $hi v128)
    (local.set $perm (v128.load (i32.const 0)))
    (local.set $m0 (v128.load (i32.const 16)))
    (local.set $m1 (v128.load (i32.const 32)))
    (local.set $m2 (v128.load (i32.const 48)))
    (local.set $end (i32.add (local.get $src) (i32.mul (local.get $pixels) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $v (i8x16.swizzle (v128.load (local.get $src)) (local.get $perm)))
        (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
        (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
        (v128.store offset=0 (local.get $dst)
          (f32x4.sub (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (local.get $lo))) (local.get $m0)))
        (v128.store offset=16 (local.get $dst)
          (f32x4.sub (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_u (local.get $lo))) (local.get $m1)))
        (v128.store offset=32 (local.get $dst)
          (f32x4.sub (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (local.get $hi))) (local.get $m2)))
        (local.set $src (i32.add (local.get $src) (i32.const 12)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 48)))
        (br $next))))

  ;; Batch conversion, the uint8 NHWC 3-channel case: `pixels` pixels (a multiple of 4) from
  ;; `src` to `dst` with the channel swizzle at memory 0–15 (as rgbToFloat), 4 pixels a step.
  (func (export "rgbPermute") (param $src i32) (param $dst i32) (param $pixels i32)
    (local $end i32) (local $perm v128) (local $v v128)
    (local.set $perm (v128.load (i32.const 0)))
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
)
