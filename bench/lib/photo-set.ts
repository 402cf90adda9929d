// Benchmark data: JPEG crops of the real photographs in ../shared/photos (REFERENCE §4.1 used
// crops of the same photos at quality 90), or generated images when the folder is absent.
// Files are cached under bench/.cache so repeated runs measure the same bytes.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, totalmem } from 'node:os';
import sharp from 'sharp';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../..');
export const photosDir = resolve(repoRoot, '../shared/photos');
export const cacheDir = join(repoRoot, 'bench/.cache');

export interface PhotoSet {
  dir: string;
  files: string[];
  /** 'photographs' or 'generated' — said in every report. */
  origin: string;
  totalBytes: number;
}

/** Deterministic 32-bit PRNG (mulberry32) so crops are the same every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function photoSet(count: number, width: number, height: number, quality = 90): Promise<PhotoSet> {
  const dir = join(cacheDir, `photos-${width}x${height}-q${quality}-${count}`);
  const done = join(dir, 'DONE');
  const photos = existsSync(photosDir) ? readdirSync(photosDir).filter((f) => /\.jpe?g$/i.test(f)).sort() : [];
  const origin = photos.length > 0 ? 'photographs (../shared/photos)' : 'generated (../shared/photos absent)';
  if (!existsSync(done)) {
    mkdirSync(dir, { recursive: true });
    const rand = mulberry32(2016);
    const sources = await Promise.all(photos.map(async (p) => {
      const img = sharp(join(photosDir, p));
      const meta = await img.metadata();
      return { path: join(photosDir, p), width: meta.width ?? 0, height: meta.height ?? 0 };
    }));
    for (let i = 0; i < count; i++) {
      let jpeg: Buffer;
      if (sources.length > 0) {
        const src = sources[i % sources.length];
        // Crop a random window 1-2x the target size, then resize: natural content at target scale.
        const scale = 1 + rand();
        const cw = Math.min(src.width, Math.round(width * scale));
        const ch = Math.min(src.height, Math.round(height * scale));
        const left = Math.floor(rand() * (src.width - cw + 1));
        const top = Math.floor(rand() * (src.height - ch + 1));
        jpeg = await sharp(src.path)
          .extract({ left, top, width: cw, height: ch })
          .resize(width, height, { fit: 'fill' })
          .jpeg({ quality, mozjpeg: false })
          .toBuffer();
      } else {
        const noise = Buffer.alloc(width * height * 3);
        for (let k = 0; k < noise.length; k++) noise[k] = (k % 251) ^ Math.floor(rand() * 64);
        jpeg = await sharp(noise, { raw: { width, height, channels: 3 } }).blur(1.5).jpeg({ quality }).toBuffer();
      }
      writeFileSync(join(dir, `${String(i).padStart(6, '0')}.jpg`), jpeg);
    }
    writeFileSync(done, origin);
  }
  const files = readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort().map((f) => join(dir, f));
  let totalBytes = 0;
  for (const f of files) totalBytes += readFileSync(f).length;
  return { dir, files, origin: readFileSync(done, 'utf8'), totalBytes };
}

export function machineLine(): string {
  const cpu = cpus();
  return `node ${process.version}, ${process.platform}/${process.arch}, ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
}
