import { planGeometry, warpImage } from '../../src/augment/warp.ts';
const W = 256, H = 256;
const img = { width: W, height: H, channels: 3 as const, data: new Uint8Array(W * H * 3).map((_, i) => (i * 7) & 255) };
for (const [name, opts] of [['near-identity', { angle: 0.001 }], ['rot20', { angle: 20 }], ['rot20 s0.8', { angle: 20, scale: 0.8 }], ['s1.2', { scale: 1.2 }]] as const) {
  const plan = planGeometry(W, H, opts);
  for (let i = 0; i < 50; i++) warpImage(img, plan);
  const t0 = performance.now();
  for (let i = 0; i < 300; i++) warpImage(img, plan);
  console.log(name, ((performance.now() - t0) / 300).toFixed(3), 'ms');
}
