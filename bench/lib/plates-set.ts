// The REFERENCE §4.1 / §4.1.1 stream datasets: crops of the real photographs (photo-set.ts) with
// 1–3 synthetic licence plates pasted in, JPEG q90, annotation JSON rect shapes, imported aligned
// to 4096 like the original's `picpac-import -f 3`. Cached under bench/.cache.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { OverlayOptions } from 'sharp';
import { openStore } from '../../src/engine/open-store.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { Rng } from '../../src/engine/rng.ts';
import { cacheDir, cacheVersion, photoSet } from './photo-set.ts';

export interface PlatesSet {
  /** The aligned .picpac. */
  path: string;
  records: number;
  jpegBytes: number;
  /** 'photographs (…)' or 'generated (…)'. */
  origin: string;
}

/** A synthetic licence plate: light background, dark border and glyph-like bars. */
function plate(width: number, height: number, rand: () => number): Buffer {
  const data = Buffer.alloc(width * height * 3);
  const bg = 200 + Math.floor(rand() * 55);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const border = x < 2 || y < 2 || x >= width - 2 || y >= height - 2;
      const glyph = y > height * 0.25 && y < height * 0.75 && Math.floor(x / Math.max(2, width / 14)) % 2 === 1;
      const v = border || glyph ? 20 : bg;
      data.set([v, v, v - 10 < 0 ? 0 : v - 10], (y * width + x) * 3);
    }
  }
  return data;
}

export async function platesSet(count: number, width: number, height: number): Promise<PlatesSet> {
  const path = join(cacheDir, `stream-plates-${cacheVersion}-${width}x${height}-${count}.picpac`);
  const photos = await photoSet(count, width, height, 90);
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const rng = new Rng(4242); // seeded plate placement
    const rand = () => rng.next();
    const writer = await PicpacWriter.create(path + '.tmp', { alignment: 4096, overwrite: true, fsyncOnClose: false });
    for (const file of photos.files) {
      const plates = 1 + Math.floor(rand() * 3);
      const composites: OverlayOptions[] = [];
      const shapes: unknown[] = [];
      for (let k = 0; k < plates; k++) {
        const pw = Math.max(12, Math.round(width * (0.15 + rand() * 0.2)));
        const ph = Math.max(6, Math.round(pw * 0.3));
        const left = Math.floor(rand() * (width - pw));
        const top = Math.floor(rand() * (height - ph));
        composites.push({ input: plate(pw, ph, rand), raw: { width: pw, height: ph, channels: 3 }, left, top });
        shapes.push({ type: 'rect', geometry: { x: left / width, y: top / height, width: pw / width, height: ph / height } });
      }
      const bytes = await sharp(readFileSync(file)).composite(composites).jpeg({ quality: 90, mozjpeg: false }).toBuffer();
      await writer.append({ label: 0, fields: [{ kind: 'image', bytes: new Uint8Array(bytes) }], annotation: JSON.stringify({ shapes }) });
    }
    await writer.close();
    await rename(path + '.tmp', path);
  }
  const store = await openStore(path);
  let jpegBytes = 0;
  for (let i = 0; i < store.recordCount; i++) jpegBytes += store.meta(i).byteLength;
  const records = store.recordCount;
  await store.close();
  return { path, records, jpegBytes, origin: photos.origin };
}

/** The stored JPEG bytes of every record (field 0), for the decoder calibration. */
export async function platesJpegs(set: PlatesSet): Promise<Uint8Array[]> {
  const store = await openStore(set.path);
  const out: Uint8Array[] = [];
  for (let i = 0; i < store.recordCount; i++) out.push((await store.get(i)).fields[0].bytes.slice());
  await store.close();
  return out;
}
