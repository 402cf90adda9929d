// Small generated stores for the ImageStream tests (not a test file itself): JPEG/PNG images
// with labels and rect annotations, written with PicpacWriter into a temp directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import type { NewRecord } from '../../src/engine/store.ts';

export interface FixtureOptions {
  count?: number;
  width?: number;
  height?: number;
  /** Vary sizes per record (width + (i % 3) * 4). */
  varySize?: boolean;
  format?: 'jpeg' | 'png';
  /** Record indices whose image bytes are corrupted. */
  corrupt?: number[];
  /** Label of record i (default i % 3). */
  label?: (i: number) => number;
  annotate?: boolean;
  /** Add a label-image field (PNG mask) to each record. */
  labelImage?: boolean;
  /** Image fields per record (multi_images; default 1): field k holds pixels(…, i + k), or pixels(…, i) with sameImages. */
  imageFields?: number;
  sameImages?: boolean;
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'picpac-stream-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function pixels(width: number, height: number, seed: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = (x * 8 + seed * 13) & 255;
      data[o + 1] = (y * 8 + seed * 7) & 255;
      data[o + 2] = ((x + y) * 4 + seed * 29) & 255;
    }
  }
  return data;
}

export async function encode(data: Uint8Array, width: number, height: number, channels: 1 | 3, format: 'jpeg' | 'png'): Promise<Uint8Array> {
  let img = sharp(data, { raw: { width, height, channels } });
  if (channels === 1) img = img.toColourspace('b-w'); // else sharp writes grey input as RGB
  return new Uint8Array(format === 'png' ? await img.png().toBuffer() : await img.jpeg({ quality: 90 }).toBuffer());
}

export function rectAnnotation(i: number): string {
  const x = 0.1 + (i % 4) * 0.1;
  return JSON.stringify({ shapes: [{ type: 'rect', geometry: { x, y: 0.2, width: 0.3, height: 0.4 } }] });
}

/** Write a store and return its path. */
export async function writeFixture(file: string, options: FixtureOptions = {}): Promise<string> {
  const { count = 24, width = 32, height = 24, varySize = false, format = 'jpeg', corrupt = [], annotate = false, labelImage = false, imageFields = 1, sameImages = false } = options;
  const labelOf = options.label ?? ((i: number) => i % 3);
  const writer = await PicpacWriter.create(file, { overwrite: true, fsyncOnClose: false });
  for (let i = 0; i < count; i++) {
    const w = varySize ? width + (i % 3) * 4 : width;
    let bytes = await encode(pixels(w, height, i), w, height, 3, format);
    if (corrupt.includes(i)) {
      bytes = bytes.slice(0, 40);
      bytes.fill(0x5a, 20);
    }
    const record: NewRecord = { id: 1000 + i, label: labelOf(i), label2: i, fields: [{ kind: 'image', bytes }] };
    for (let k = 1; k < imageFields; k++) record.fields.push({ kind: 'image', bytes: sameImages ? bytes : await encode(pixels(w, height, i + k), w, height, 3, format) });
    if (labelImage) {
      const mask = new Uint8Array(w * height);
      for (let p = 0; p < mask.length; p++) mask[p] = (p % w) < w / 2 ? 1 : 2;
      record.fields.push({ kind: 'label', bytes: await encode(mask, w, height, 1, 'png') });
    }
    if (annotate) record.annotation = rectAnnotation(i);
    await writer.append(record);
  }
  await writer.close();
  return file;
}
