// Small HTTP helpers shared by picpac's servers (the annotator, the viewer): JSON replies and
// errors, a bounded JSON body reader, static files from one fixed folder (no request path can
// leave it), query-parameter validation, and listen(). No image code, no routing framework.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import path from 'node:path';

/** An error with an HTTP status; its message is sent to the client. */
export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
  }
}

/** Headers every reply carries: no sniffing, no framing by other sites, same-origin only. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
});

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function sendError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { error: message });
}

export function sendBytes(res: ServerResponse, bytes: Uint8Array, contentType: string, headers: Record<string, string> = {}): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': contentType, 'content-length': bytes.byteLength, ...headers });
  res.end(bytes);
}

export function redirect(res: ServerResponse, location: string, status = 302): void {
  res.writeHead(status, { ...SECURITY_HEADERS, location });
  res.end();
}

/** Map anything thrown by a handler to a reply: HttpError keeps its status, the rest is a 500. */
export function sendThrown(res: ServerResponse, error: unknown): void {
  if (error instanceof HttpError) sendError(res, error.status, error.message);
  else sendError(res, 500, `internal error: ${(error as Error)?.message ?? String(error)}`);
}

export interface JsonBodyOptions {
  /** Largest body accepted (default 1 MiB): 413 beyond it, without reading the rest. */
  maxBytes?: number;
}

/**
 * Read and parse a JSON request body. 415 unless the content type is JSON, 413 when larger
 * than `maxBytes`, 400 (with the parser's message) when it is not valid JSON.
 */
export async function readJsonBody(req: IncomingMessage, options: JsonBodyOptions = {}): Promise<unknown> {
  const maxBytes = options.maxBytes ?? 1 << 20;
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) throw new HttpError(415, `expected a JSON body (content-type application/json), got ${type === '' ? 'none' : JSON.stringify(type)}`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw new HttpError(413, `body of ${declared} bytes exceeds the limit of ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let byteLength = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    byteLength += chunk.length;
    if (byteLength > maxBytes) {
      req.resume();
      throw new HttpError(413, `body exceeds the limit of ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'empty body: expected JSON');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `malformed JSON: ${(error as Error).message}`);
  }
}

/** A JSON body that must be an object (400 otherwise). */
export async function readJsonObject(req: IncomingMessage, options?: JsonBodyOptions): Promise<Record<string, unknown>> {
  const value = await readJsonBody(req, options);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

export const STATIC_CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
});

/**
 * Serve `relativePath` from `rootDir` only: names with `..`, backslashes, NUL, a leading `/`,
 * hidden segments or an unknown extension are 404s, and the resolved real path (symlinks
 * followed) must still be inside the root.
 */
export async function serveStaticFile(res: ServerResponse, rootDir: string, relativePath: string, headers: Record<string, string> = {}): Promise<void> {
  const segments = relativePath.split('/');
  const bad = relativePath === '' || relativePath.includes('\\') || relativePath.includes('\0') || segments.some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.'));
  const type = STATIC_CONTENT_TYPES[path.extname(relativePath).toLowerCase()];
  if (bad || type === undefined) throw new HttpError(404, 'not found');
  const root = await realpath(rootDir);
  let file: string;
  try {
    file = await realpath(path.join(root, ...segments));
  } catch {
    throw new HttpError(404, 'not found');
  }
  if (!file.startsWith(root + path.sep)) throw new HttpError(404, 'not found');
  const info = await stat(file);
  if (!info.isFile()) throw new HttpError(404, 'not found');
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': info.size, ...headers });
  await new Promise<void>((resolve, reject) => {
    createReadStream(file).on('error', reject).on('end', resolve).pipe(res);
  });
}

/** The decoded path of a request URL and its query; 400 for a malformed target. */
export function parseRequestUrl(req: IncomingMessage): { pathname: string; query: URLSearchParams } {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    throw new HttpError(400, 'malformed request target');
  }
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    throw new HttpError(400, 'malformed percent-encoding in the path');
  }
  return { pathname, query: url.searchParams };
}

/** An integer query parameter within [min, max]; `fallback` when absent; 400 otherwise. */
export function queryInt(query: URLSearchParams, name: string, range: { min: number; max: number }, fallback: number): number {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new HttpError(400, `query parameter ${name} must be an integer in ${range.min}..${range.max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** A string query parameter from a fixed set; `fallback` when absent; 400 otherwise. */
export function queryChoice<T extends string>(query: URLSearchParams, name: string, choices: readonly T[], fallback: T): T {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  if (!(choices as readonly string[]).includes(text)) throw new HttpError(400, `query parameter ${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(text.slice(0, 40))}`);
  return text as T;
}

/** A positive integer id from a path segment; 404 when it is not one (it names nothing). */
export function pathId(segment: string | undefined): number {
  if (segment === undefined || !/^[1-9]\d{0,15}$/.test(segment)) throw new HttpError(404, 'not found');
  const value = Number(segment);
  if (!Number.isSafeInteger(value)) throw new HttpError(404, 'not found');
  return value;
}

/** Start listening; resolves with the bound port (0 picks a free one). */
export function listen(server: Server, options: { host: string; port: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : options.port);
    });
  });
}
