import { transformSample, samplePerturbation } from '../../src/augment/sample-transform.ts';
import { seededRandom, makeImage, mask, iou, countPixels } from '../../test/augment/helpers.ts';
const rng = seededRandom(7);
let checked = 0, bad = 0;
const FULL = { annotate: 'json' as const, perturb: true, pert_angle: 30, pert_min_scale: 0.7, pert_max_scale: 1.3, pert_hflip: true, pert_vflip: true, crop_width: 100, crop_height: 90 };
for (let i = 0; i < 60; i++) {
  const rect = { x: 0.2 + 0.3 * rng.next(), y: 0.2 + 0.3 * rng.next(), w: 0.15 + 0.2 * rng.next(), h: 0.15 + 0.2 * rng.next() };
  const x0 = Math.round(rect.x * 120), y0 = Math.round(rect.y * 100), x1 = x0 + Math.round(rect.w * 120), y1 = y0 + Math.round(rect.h * 100);
  const image = makeImage(120, 100, 3, (x, y) => (x >= x0 && x < x1 && y >= y0 && y < y1 ? 255 : 0));
  const annotation = { shapes: [{ type: 'rect' as const, x: rect.x, y: rect.y, width: rect.w, height: rect.h }] };
  const p = samplePerturbation(rng, FULL);
  const a = transformSample({ image, annotation }, FULL, p);
  const b = transformSample({ image, annotation }, FULL, { ...p, angle: p.angle + 3 }); // label from a slightly different rotation
  if (countPixels(a.label!, (v) => v > 0) < 30) continue;
  checked++;
  if (iou(mask(a.image, 127), mask(b.label!, 0)) < 0.9) bad++;
}
console.log({ checked, badWith3degOff: bad });
