// The annotator's HTTP server (node:http, 127.0.0.1 by default): the page under /annotate/,
// its static files from the fixed page/ folder, and a JSON API. Image bytes are served only
// from project records (GET /api/image/<id>): no path from a request is ever used to open a
// file. Bodies are bounded and validated; malformed input gets 400 with a message, unknown
// ids 404. A save is acknowledged only after its LMDB commit.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HttpError, listen, parseRequestUrl, pathId, queryChoice, queryInt, readJsonObject, redirect, sendBytes, sendJson, sendThrown, serveStaticFile,
} from '../engine/sources/http-kit.ts';
import { ImageCodec } from '../format/layout.ts';
import { NotFoundError, type AnnotationProject, type BatchRecord, type Change, type ImageState } from './project.ts';
import { WorkQueue, isDone } from './queue.ts';
import { AnnotationInputError, checkShape, SHAPE_TYPES, type ShapeType } from './shapes.ts';

export const PAGE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'page');

export interface AnnotateServerOptions {
  host?: string;
  /** 0 picks a free port. Default 18000. */
  port?: number;
  rows?: number;
  cols?: number;
  /** The drawing tool selected when the page opens (all three stay available). Default 'rect'. */
  shape?: ShapeType;
  viewedAsDone?: boolean;
  leaseMs?: number;
  /** Largest JSON body (default 256 KiB). */
  maxBodyBytes?: number;
}

export interface AnnotateServer {
  readonly url: string;
  readonly port: number;
  readonly queue: WorkQueue;
  close(): Promise<void>;
}

const CODEC_TYPES: Record<number, string> = {
  [ImageCodec.jpeg]: 'image/jpeg',
  [ImageCodec.png]: 'image/png',
  [ImageCodec.webp]: 'image/webp',
  [ImageCodec.gif]: 'image/gif',
  [ImageCodec.bmp]: 'image/bmp',
  [ImageCodec.avif]: 'image/avif',
  [ImageCodec.tiff]: 'image/tiff',
};

/** The page loads only its own script, styles and images, and talks only to this server. */
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SESSION_RE = /^[A-Za-z0-9_-]{1,64}$/;

function field<T>(body: Record<string, unknown>, name: string, check: (v: unknown) => v is T, expected: string): T {
  const value = body[name];
  if (!check(value)) throw new HttpError(400, `"${name}" must be ${expected}, got ${value === undefined ? 'nothing' : JSON.stringify(value)?.slice(0, 60)}`);
  return value;
}
const isSession = (v: unknown): v is string => typeof v === 'string' && SESSION_RE.test(v);
const isUser = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 64 && !/[\u0000-\u001f\u007f]/.test(v);
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';

function optionalId(body: Record<string, unknown>, name: string): number | undefined {
  return body[name] === undefined || body[name] === null ? undefined : field(body, name, isId, 'a positive integer');
}

export async function startAnnotateServer(project: AnnotationProject, options: AnnotateServerOptions = {}): Promise<AnnotateServer> {
  const rows = options.rows ?? 2;
  const cols = options.cols ?? 3;
  const host = options.host ?? '127.0.0.1';
  const shape = options.shape ?? 'rect';
  if (!SHAPE_TYPES.includes(shape)) throw new RangeError(`shape must be one of ${SHAPE_TYPES.join(', ')}, got ${shape}`);
  const viewedAsDone = options.viewedAsDone ?? false;
  const maxBytes = options.maxBodyBytes ?? 256 << 10;
  const queue = new WorkQueue(project, { batchSize: rows * cols, viewedAsDone, leaseMs: options.leaseMs });

  const imageView = (id: number, state: ImageState = project.state(id)) => {
    const entry = project.image(id)!;
    return { id, name: entry.name, width: entry.width, height: entry.height, shapes: state.shapes, verified: state.verified, viewed: state.viewed, revision: state.revision, done: isDone(state, viewedAsDone) };
  };
  const batchView = (batch: BatchRecord | undefined) =>
    batch === undefined ? null : { id: batch.id, expiresAt: batch.expiresAt, finished: batch.finishedAt !== undefined, images: batch.imageIds.map((id) => imageView(id)) };
  const status = () => queue.status();

  async function handleApi(req: IncomingMessage, res: ServerResponse, route: string, query: URLSearchParams): Promise<void> {
    const [name, arg, extra] = route.split('/');
    const method = req.method ?? 'GET';
    const expect = (wanted: string): void => {
      if (method !== wanted) throw new HttpError(405, `${method} is not allowed here; use ${wanted}`);
    };
    if (name === 'config' && arg === undefined) {
      expect('GET');
      return sendJson(res, 200, { classes: project.classes, rows, cols, shape, viewedAsDone, leaseMs: queue.leaseMs, total: project.imageCount });
    }
    if (name === 'status' && arg === undefined) {
      expect('GET');
      return sendJson(res, 200, status());
    }
    if (name === 'image' && extra === undefined) {
      expect('GET');
      const id = pathId(arg);
      const entry = project.image(id);
      if (entry === undefined) throw new HttpError(404, `image ${id} does not exist`);
      let bytes: Uint8Array;
      try {
        bytes = await project.imageBytes(id);
      } catch (error) {
        throw new HttpError(404, `image ${id} cannot be read: ${(error as Error).message.replace(project.dir, 'PROJECT')}`);
      }
      return sendBytes(res, bytes, CODEC_TYPES[entry.codec] ?? 'application/octet-stream', { 'cache-control': 'private, max-age=3600' });
    }
    if (name === 'images' && extra === undefined) {
      expect('GET');
      const id = pathId(arg);
      if (project.image(id) === undefined) throw new HttpError(404, `image ${id} does not exist`);
      const log = [...project.log({ imageId: id })].slice(-200);
      return sendJson(res, 200, { image: imageView(id), log });
    }
    if (name === 'review' && arg === undefined) {
      expect('GET');
      const filter = queryChoice(query, 'filter', ['all', 'done', 'todo', 'unverified', 'verified', 'shapes'] as const, 'done');
      const offset = queryInt(query, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER }, 0);
      const limit = queryInt(query, 'limit', { min: 1, max: 500 }, 100);
      const ids = project.imageIds().filter((id) => {
        const s = project.state(id);
        const done = isDone(s, viewedAsDone);
        switch (filter) {
          case 'all': return true;
          case 'done': return done;
          case 'todo': return !done;
          case 'unverified': return done && !s.verified;
          case 'verified': return s.verified;
          case 'shapes': return s.shapes.length > 0;
        }
      });
      const items = ids.slice(offset, offset + limit).map((id) => {
        const s = project.state(id);
        const v = imageView(id, s);
        return { id, name: v.name, width: v.width, height: v.height, shapeCount: s.shapes.length, verified: s.verified, viewed: s.viewed, done: v.done, updatedAt: s.updatedAt, updatedBy: s.updatedBy };
      });
      return sendJson(res, 200, { filter, total: ids.length, offset, items });
    }
    if (name === 'batch' && extra === undefined && (arg === 'next' || arg === 'prev' || arg === 'renew')) {
      expect('POST');
      const body = await readJsonObject(req, { maxBytes });
      const session = field(body, 'session', isSession, 'a session id of 1..64 characters [A-Za-z0-9_-]');
      if (arg === 'next') {
        const user = field(body, 'user', isUser, 'a user name of 1..64 printable characters');
        const from = optionalId(body, 'from');
        const batch = await queue.next(session, user, from === undefined ? {} : { from });
        return sendJson(res, 200, { batch: batchView(batch), status: status() });
      }
      if (arg === 'prev') {
        const before = optionalId(body, 'before');
        return sendJson(res, 200, { batch: batchView(queue.previous(session, before)), status: status() });
      }
      const batchId = field(body, 'batchId', isId, 'a positive integer');
      return sendJson(res, 200, { ok: await queue.renew(session, batchId) });
    }
    if ((name === 'save' || name === 'verify') && arg === undefined) {
      expect('POST');
      const body = await readJsonObject(req, { maxBytes });
      const user = field(body, 'user', isUser, 'a user name of 1..64 printable characters');
      const imageId = field(body, 'imageId', isId, 'a positive integer');
      const change: Change = { imageId, action: 'verify', user, ip: req.socket.remoteAddress ?? '' };
      if (name === 'verify') {
        change.verified = field(body, 'verified', isBool, 'true or false');
      } else {
        const action = body.action;
        if (action === 'create' || action === 'update') {
          let shape;
          try {
            shape = checkShape(body.shape, 'shape');
          } catch (error) {
            if (error instanceof AnnotationInputError) throw new HttpError(400, error.message);
            throw error;
          }
          if (shape.id === undefined) throw new HttpError(400, 'shape.id is required (the page makes one per shape)');
          Object.assign(change, { action, shape });
        } else if (action === 'delete') {
          const shapeId = body.shapeId;
          if (typeof shapeId !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(shapeId)) throw new HttpError(400, `"shapeId" must be a shape id, got ${JSON.stringify(shapeId)?.slice(0, 60)}`);
          Object.assign(change, { action, shapeId });
        } else {
          throw new HttpError(400, `"action" must be create, update or delete, got ${JSON.stringify(action)?.slice(0, 40)}`);
        }
      }
      if (project.image(imageId) === undefined) throw new HttpError(404, `image ${imageId} does not exist`);
      const state = await project.apply(change);
      return sendJson(res, 200, { ok: true, imageId, revision: state.revision, shapeCount: state.shapes.length, verified: state.verified, status: status() });
    }
    throw new HttpError(404, 'no such endpoint');
  }

  // Bound to loopback, only loopback names are accepted in Host: a web page cannot reach the
  // annotator through DNS rebinding (and a cross-site JSON POST already needs a CORS preflight,
  // which this server never grants).
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1';
  const allowedHost = (value: string | undefined): boolean =>
    !loopback || (value !== undefined && /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i.test(value));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!allowedHost(req.headers.host)) throw new HttpError(421, `this server answers to 127.0.0.1 or localhost, not ${JSON.stringify(req.headers.host ?? '')}`);
    const { pathname, query } = parseRequestUrl(req);
    if (pathname === '/' || pathname === '/annotate') return redirect(res, '/annotate/');
    if (pathname === '/favicon.ico') {
      res.writeHead(204);
      return void res.end();
    }
    if (pathname.startsWith('/api/')) return handleApi(req, res, pathname.slice('/api/'.length), query);
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} is not allowed here`);
    // The page decides from its URL what to show: the grid, the review list or one image.
    if (pathname === '/annotate/' || pathname === '/annotate/review/' || /^\/annotate\/review\/\d{1,16}$/.test(pathname)) {
      return serveStaticFile(res, PAGE_DIR, 'index.html', { 'cache-control': 'no-store', 'content-security-policy': PAGE_CSP });
    }
    if (pathname.startsWith('/annotate/static/')) return serveStaticFile(res, PAGE_DIR, pathname.slice('/annotate/static/'.length), { 'cache-control': 'no-cache' });
    throw new HttpError(404, 'not found');
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof NotFoundError) return sendThrown(res, new HttpError(404, error.message));
      sendThrown(res, error);
    });
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000;
  const port = await listen(server, { host, port: options.port ?? 18000 });
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/annotate/`,
    port,
    queue,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
