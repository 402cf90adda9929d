// Annotated object sizes of a database against a receptive field (`picpac rf --db`, REFERENCE
// §2.4): the field must cover a typical object, but a field far larger than the objects lets
// the network learn the surroundings instead.
import { parseAnnotation } from '../augment/annotation.ts';
import { openStore } from '../engine/open-store.ts';
import type { RfResult } from './receptive-field.ts';

/** Long side (pixels at an S×S input, or at the stored size) of every annotated shape. */
export async function objectSizes(db: string, size: number | null): Promise<number[]> {
  const store = await openStore(db);
  const sizes: number[] = [];
  try {
    for (let i = 0; i < store.recordCount; i++) {
      const meta = store.meta(i);
      if (!meta.hasAnnotation) continue;
      const text = await store.getAnnotation(i);
      if (text === undefined) continue;
      const W = size ?? meta.width;
      const H = size ?? meta.height;
      for (const shape of parseAnnotation(text).shapes) {
        let w = 0;
        let h = 0;
        if (shape.type === 'rect' || shape.type === 'ellipse') [w, h] = [shape.width, shape.height];
        else if (shape.type === 'polygon' || shape.type === 'polygons') {
          const pts = shape.type === 'polygon' ? shape.points : shape.rings.flat();
          w = Math.max(...pts.map((p) => p.x)) - Math.min(...pts.map((p) => p.x));
          h = Math.max(...pts.map((p) => p.y)) - Math.min(...pts.map((p) => p.y));
        } else continue;
        sizes.push(Math.max(w * W, h * H));
      }
    }
  } finally {
    await store.close();
  }
  return sizes.sort((a, b) => a - b);
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** The comparison lines (and warnings) for `--db`. */
export function compareWithObjects(result: RfResult, sizes: number[], size: number | null): string[] {
  if (sizes.length === 0) return ['no annotated objects in the database'];
  const rf = Math.max(result.rf[0], result.rf[1]);
  const median = quantile(sizes, 0.5);
  const p90 = quantile(sizes, 0.9);
  const at = size === null ? 'stored image pixels' : `at ${size}×${size} input`;
  const lines = [`objects: ${sizes.length}, long side ${at}: min ${sizes[0].toFixed(0)}, median ${median.toFixed(0)}, 90th percentile ${p90.toFixed(0)}, max ${sizes[sizes.length - 1].toFixed(0)} px`];
  if (rf < median) lines.push(`warning: receptive field ${rf} px is smaller than the median object (${median.toFixed(0)} px): a cell cannot see a whole object; add layers or downsample more`);
  else if (rf > 8 * p90) lines.push(`warning: receptive field ${rf} px is more than 8× the 90th-percentile object (${p90.toFixed(0)} px): the network may learn the surroundings; use a smaller network`);
  else lines.push(`receptive field ${rf} px covers the median object (${median.toFixed(0)} px) at ${(rf / median).toFixed(1)}× its size: OK`);
  return lines;
}
