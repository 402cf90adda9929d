// Shared by the annotator tests: a folder of small generated images (plus a text file and a
// broken JPEG that init must skip), a project built from it, and raw HTTP requests (fetch
// normalises `..` away, so traversal tests need node:http).
import { request } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

export async function tempRoot(prefix = 'picpac-annotate-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** `count` JPEGs (sizes vary, so normalisation is tested), notes.txt and broken.jpg. */
export async function makeImageFolder(dir: string, count: number, options: { width?: number; height?: number } = {}): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const width = (options.width ?? 320) + (i % 3) * 16;
    const height = (options.height ?? 200) + (i % 2) * 8;
    const hue = (i * 47) % 255;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="rgb(${hue},${255 - hue},140)"/><circle cx="${width / 2}" cy="${height / 2}" r="${height / 4}" fill="rgb(40,40,${hue})"/><text x="10" y="30" font-size="24" fill="white">${i + 1}</text></svg>`;
    const name = `img${String(i + 1).padStart(3, '0')}.jpg`;
    await writeFile(path.join(dir, name), await sharp(Buffer.from(svg)).jpeg({ quality: 80 }).toBuffer());
    names.push(name);
  }
  await writeFile(path.join(dir, 'notes.txt'), 'not an image\n');
  await writeFile(path.join(dir, 'broken.jpg'), Uint8Array.from({ length: 100 }, (_, i) => (i * 13) & 0xff));
  return names;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json: () => unknown;
}

/** One HTTP request with the path sent exactly as given. */
export function rawRequest(port: number, method: string, rawPath: string, options: { body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: rawPath, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8'), json: () => JSON.parse(body.toString('utf8')) });
      });
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

export function postJson(port: number, route: string, value: unknown): Promise<RawResponse> {
  return rawRequest(port, 'POST', route, { body: JSON.stringify(value), headers: { 'content-type': 'application/json' } });
}
