// A procedural sample set for the demo and tests: 256×256 scenes (a gradient with noise) with
// 1-3 coloured "plates" — rectangles with text-like dark stripes — pasted at seeded random
// positions, written as JPEG files plus a list file `path<TAB>annotation-json` that gives each
// plate as a normalized rect (REFERENCE §1.3.3). Same seed, same files.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../engine/rng.ts';

export interface SampleSetOptions {
  /** Images to generate (default 200). */
  count?: number;
  /** Square side in pixels (default 256). */
  size?: number;
  seed?: number;
  /** JPEG quality (default 90). */
  quality?: number;
}

export interface SampleSet {
  listPath: string;
  imageDir: string;
  imageCount: number;
  plateCount: number;
}

export interface PlateRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

type Rgb = [number, number, number];

function randomColour(rng: Rng, min: number, max: number): Rgb {
  return [rng.int(max - min) + min, rng.int(max - min) + min, rng.int(max - min) + min];
}

function overlaps(a: PlateRect, b: PlateRect, margin: number): boolean {
  return a.x < b.x + b.width + margin && b.x < a.x + a.width + margin && a.y < b.y + b.height + margin && b.y < a.y + a.height + margin;
}

/** Draw one scene into an RGB buffer; returns the plates in pixels. */
export function drawScene(rng: Rng, size: number): { pixels: Uint8Array; plates: PlateRect[] } {
  const pixels = new Uint8Array(size * size * 3);
  const from = randomColour(rng, 20, 200);
  const to = randomColour(rng, 20, 200);
  const angle = rng.next() * Math.PI * 2;
  const dx = Math.cos(angle) / size;
  const dy = Math.sin(angle) / size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = Math.min(1, Math.max(0, 0.5 + (x - size / 2) * dx + (y - size / 2) * dy));
      const noise = rng.int(21) - 10;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) pixels[o + c] = Math.min(255, Math.max(0, from[c] + (to[c] - from[c]) * t + noise));
    }
  }
  const plates: PlateRect[] = [];
  const wanted = 1 + rng.int(3);
  for (let attempt = 0; plates.length < wanted && attempt < 50; attempt++) {
    const width = Math.round(size * (0.22 + rng.next() * 0.2));
    const height = Math.round(width * (0.25 + rng.next() * 0.15));
    const plate = { x: rng.int(size - width), y: rng.int(size - height), width, height };
    if (plates.some((p) => overlaps(p, plate, 4))) continue;
    plates.push(plate);
    drawPlate(rng, pixels, size, plate);
  }
  return { pixels, plates };
}

function fill(pixels: Uint8Array, size: number, r: PlateRect, colour: Rgb): void {
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x; x < r.x + r.width; x++) {
      const o = (y * size + x) * 3;
      pixels[o] = colour[0];
      pixels[o + 1] = colour[1];
      pixels[o + 2] = colour[2];
    }
  }
}

function drawPlate(rng: Rng, pixels: Uint8Array, size: number, plate: PlateRect): void {
  const base = randomColour(rng, 150, 256);
  const border: Rgb = [base[0] >> 2, base[1] >> 2, base[2] >> 2];
  fill(pixels, size, plate, border);
  fill(pixels, size, { x: plate.x + 2, y: plate.y + 2, width: plate.width - 4, height: plate.height - 4 }, base);
  // "Characters": groups of 1-3 dark vertical bars, like a row of glyphs.
  const ink: Rgb = [rng.int(60), rng.int(60), rng.int(60)];
  const top = plate.y + Math.round(plate.height * 0.25);
  const barHeight = Math.max(2, Math.round(plate.height * 0.5));
  let x = plate.x + 5;
  while (x < plate.x + plate.width - 8) {
    const bars = 1 + rng.int(3);
    for (let b = 0; b < bars && x < plate.x + plate.width - 6; b++) {
      const barWidth = 1 + rng.int(3);
      fill(pixels, size, { x, y: top, width: barWidth, height: barHeight }, ink);
      x += barWidth + 1;
    }
    x += 3 + rng.int(3);
  }
}

const round4 = (v: number): number => Math.round(v * 1e4) / 1e4;

/** The annotation JSON of a scene: one normalized rect per plate. */
export function plateAnnotation(plates: PlateRect[], size: number): string {
  return JSON.stringify({
    shapes: plates.map((p) => ({
      type: 'rect',
      geometry: { x: round4(p.x / size), y: round4(p.y / size), width: round4(p.width / size), height: round4(p.height / size) },
    })),
  });
}

export async function generateSampleSet(outDir: string, options: SampleSetOptions = {}): Promise<SampleSet> {
  const count = options.count ?? 200;
  const size = options.size ?? 256;
  const seed = options.seed ?? 1;
  const quality = options.quality ?? 90;
  const imageDir = join(outDir, 'images');
  await mkdir(imageDir, { recursive: true });
  const lines: string[] = [];
  let plateCount = 0;
  // Encode a few at a time: sharp runs on the libuv pool while the next scene is drawn.
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const { pixels, plates } = drawScene(new Rng(seed, i), size);
    plateCount += plates.length;
    const name = `${String(i).padStart(5, '0')}.jpg`;
    lines.push(`images/${name}\t${plateAnnotation(plates, size)}`);
    inFlight.push(
      sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
        .jpeg({ quality })
        .toFile(join(imageDir, name)),
    );
    if (inFlight.length >= 8) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const listPath = join(outDir, 'list.tsv');
  await writeFile(listPath, lines.join('\n') + '\n');
  return { listPath, imageDir, imageCount: count, plateCount };
}
