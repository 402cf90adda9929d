// Shared fixtures for the viewer tests (not a test file): small generated databases with known
// boxes, a viewer on an ephemeral loopback port, and raw HTTP requests that keep the path as
// written (fetch would normalise `..` away).
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import type { NewRecord } from '../../src/engine/store.ts';
import { ViewerServer } from '../../src/server/server.ts';
import type { ViewerServerOptions } from '../../src/server/server.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'picpac-viewer-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const WIDTH = 160;
export const HEIGHT = 120;
/** Every record has this box (normalised), so tests know where it is drawn. */
export const BOX = { x: 0.25, y: 0.25, width: 0.5, height: 0.5 };

/** A flat grey photo-sized JPEG (no blue anywhere, so a drawn palette-1 box is easy to find). */
export async function greyJpeg(shade: number, width = WIDTH, height = HEIGHT): Promise<Uint8Array> {
  return new Uint8Array(await sharp({ create: { width, height, channels: 3, background: { r: shade, g: shade, b: shade } } }).jpeg({ quality: 90 }).toBuffer());
}

export function record(i: number, image: Uint8Array, annotate = true): NewRecord {
  const r: NewRecord = { id: 500 + i, label: i % 3, label2: 0, fields: [{ kind: 'image', bytes: image }] };
  if (annotate) r.annotation = JSON.stringify({ shapes: [{ type: 'rect', geometry: BOX }] });
  return r;
}

/** `count` annotated grey records, labels i % 3. */
export async function writeBoxDb(file: string, count = 12): Promise<string> {
  const writer = await PicpacWriter.create(file, { overwrite: true, fsyncOnClose: false });
  for (let i = 0; i < count; i++) await writer.append(record(i, await greyJpeg(100 + i * 5)));
  await writer.close();
  return file;
}

export async function startViewer(file: string, options: ViewerServerOptions = {}): Promise<ViewerServer> {
  return ViewerServer.open(file, { port: 0, ...options });
}

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** GET (or another method) with the path sent byte for byte. */
export function rawRequest(port: number, target: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: target, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const reply = await fetch(url);
  return { status: reply.status, body: await reply.json() };
}

export async function getBytes(url: string): Promise<{ status: number; type: string | null; bytes: Buffer; headers: Headers }> {
  const reply = await fetch(url);
  return { status: reply.status, type: reply.headers.get('content-type'), bytes: Buffer.from(await reply.arrayBuffer()), headers: reply.headers };
}

/** Pixels whose blue exceeds red by `margin` (the default palette colour 1 is RGB 31,119,180; the fixtures are grey). */
export async function bluePixels(bytes: Uint8Array, margin = 50): Promise<{ count: number; width: number; height: number; minX: number; maxX: number; minY: number; maxY: number }> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let count = 0;
  let minX = Infinity, maxX = -1, minY = Infinity, maxY = -1;
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const o = (y * info.width + x) * info.channels;
      if (data[o + 2] - data[o] > margin) {
        count++;
        minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
      }
    }
  }
  return { count, width: info.width, height: info.height, minX, maxX, minY, maxY };
}
