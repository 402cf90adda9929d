// micro: variants of the fast-path loop
const W = 256, H = 256, ch = 3;
const src = new Uint8Array(W * H * 3).map((_, i) => (i * 7) & 255);
const dst = new Uint8Array(W * H * 3);
function v1(a, d, c, f) {
  const stride = W * 3, maxX = W - 1, maxY = H - 1;
  const stepX = Math.round(a * 65536) | 0, stepY = Math.round(d * 65536) | 0;
  for (let y = 0; y < H; y++) {
    let fx = Math.round((c + 0 * y) * 65536) | 0;
    let fy = Math.round((f + 1 * y) * 65536) | 0;
    let o = y * W * 3;
    for (let x = 0; x < W; x++, o += 3) {
      const x0 = fx >> 16, y0 = fy >> 16, wx = (fx >> 8) & 255, wy = (fy >> 8) & 255;
      fx = (fx + stepX) | 0; fy = (fy + stepY) | 0;
      if ((x0 >>> 0) < maxX && (y0 >>> 0) < maxY) {
        const wx0 = 256 - wx, wy0 = 256 - wy;
        const p = y0 * stride + x0 * 3, q = p + stride;
        dst[o] = ((src[p] * wx0 + src[p + 3] * wx) * wy0 + (src[q] * wx0 + src[q + 3] * wx) * wy + 32768) >> 16;
        dst[o + 1] = ((src[p + 1] * wx0 + src[p + 4] * wx) * wy0 + (src[q + 1] * wx0 + src[q + 4] * wx) * wy + 32768) >> 16;
        dst[o + 2] = ((src[p + 2] * wx0 + src[p + 5] * wx) * wy0 + (src[q + 2] * wx0 + src[q + 5] * wx) * wy + 32768) >> 16;
      }
    }
  }
}
for (let i = 0; i < 100; i++) v1(1, 0.00001, 0.1, 0.1);
let t0 = performance.now();
for (let i = 0; i < 500; i++) v1(1, 0.00001, 0.1, 0.1);
console.log('v1', ((performance.now() - t0) / 500).toFixed(3));
const lut = new Uint8Array(768).map((_, i) => Math.min(255, (i & 255) + 3));
function v2(a, d, c, f) {
  const stride = W * 3, maxX = W - 1, maxY = H - 1;
  const stepX = Math.round(a * 65536) | 0, stepY = Math.round(d * 65536) | 0;
  for (let y = 0; y < H; y++) {
    let fx = Math.round((c + 0 * y) * 65536) | 0;
    let fy = Math.round((f + 1 * y) * 65536) | 0;
    let o = y * W * 3;
    for (let x = 0; x < W; x++, o += 3) {
      const x0 = fx >> 16, y0 = fy >> 16, wx = (fx >> 8) & 255, wy = (fy >> 8) & 255;
      fx = (fx + stepX) | 0; fy = (fy + stepY) | 0;
      if ((x0 >>> 0) < maxX && (y0 >>> 0) < maxY) {
        const wx0 = 256 - wx, wy0 = 256 - wy;
        const p = y0 * stride + x0 * 3, q = p + stride;
        dst[o] = lut[((src[p] * wx0 + src[p + 3] * wx) * wy0 + (src[q] * wx0 + src[q + 3] * wx) * wy + 32768) >> 16];
        dst[o + 1] = lut[256 + (((src[p + 1] * wx0 + src[p + 4] * wx) * wy0 + (src[q + 1] * wx0 + src[q + 4] * wx) * wy + 32768) >> 16)];
        dst[o + 2] = lut[512 + (((src[p + 2] * wx0 + src[p + 5] * wx) * wy0 + (src[q + 2] * wx0 + src[q + 5] * wx) * wy + 32768) >> 16)];
      }
    }
  }
}
for (let i = 0; i < 100; i++) v2(1, 0.00001, 0.1, 0.1);
t0 = performance.now();
for (let i = 0; i < 500; i++) v2(1, 0.00001, 0.1, 0.1);
console.log('v2 lut', ((performance.now() - t0) / 500).toFixed(3));
// v3: horizontal pass with packed R|B<<16
function v3(a, d, c, f) {
  const stride = W * 3, maxX = W - 1, maxY = H - 1;
  const stepX = Math.round(a * 65536) | 0, stepY = Math.round(d * 65536) | 0;
  for (let y = 0; y < H; y++) {
    let fx = Math.round((c + 0 * y) * 65536) | 0;
    let fy = Math.round((f + 1 * y) * 65536) | 0;
    let o = y * W * 3;
    for (let x = 0; x < W; x++, o += 3) {
      const x0 = fx >> 16, y0 = fy >> 16, wx = (fx >> 8) & 255, wy = (fy >> 8) & 255;
      fx = (fx + stepX) | 0; fy = (fy + stepY) | 0;
      if ((x0 >>> 0) < maxX && (y0 >>> 0) < maxY) {
        const p = y0 * stride + x0 * 3, q = p + stride;
        // weights: 4 corner weights in 16.0 with sum 65536 → shift 8 → sum 256
        const w11 = (wx * wy) >> 8, w01 = wx - w11, w10 = wy - w11, w00 = 256 - wx - wy + w11;
        dst[o] = (src[p] * w00 + src[p + 3] * w01 + src[q] * w10 + src[q + 3] * w11 + 128) >> 8;
        dst[o + 1] = (src[p + 1] * w00 + src[p + 4] * w01 + src[q + 1] * w10 + src[q + 4] * w11 + 128) >> 8;
        dst[o + 2] = (src[p + 2] * w00 + src[p + 5] * w01 + src[q + 2] * w10 + src[q + 5] * w11 + 128) >> 8;
      }
    }
  }
}
for (let i = 0; i < 100; i++) v3(1, 0.00001, 0.1, 0.1);
t0 = performance.now();
for (let i = 0; i < 500; i++) v3(1, 0.00001, 0.1, 0.1);
console.log('v3 4-weight', ((performance.now() - t0) / 500).toFixed(3));
