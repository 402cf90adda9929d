// picpac-explorer for .picpac, PicPac 1.0 and LMDB stores: node:http, no framework. The
// database is opened once; every request is validated (unknown names → 400 naming the closest
// valid one, ids in range, sizes and counts capped) and every failure becomes a JSON (API) or
// HTML (pages) reply with a message — a corrupt record is a 500 for that request only.
// Renders are bounded by a semaphore with a bounded queue (503 beyond it), so load cannot
// exhaust memory. Only the database and the fixed pages folder are ever read.
import { randomInt } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HttpError, SECURITY_HEADERS, listen, parseRequestUrl, queryChoice, queryInt, sendBytes, sendJson, sendThrown, serveStaticFile,
} from '../engine/sources/http-kit.ts';
import { Rng } from '../engine/rng.ts';
import { PicpacError } from '../errors.ts';
import { parseAnnotation } from '../augment/annotation.ts';
import { STREAM_PARAMS, STREAM_PARAM_NAMES } from '../augment/config-schema.ts';
import { PAGE_CSP, errorPageHtml, gridPageHtml } from './grid-page.ts';
import { LiveStore } from './live-store.ts';
import { Overview } from './overview.ts';
import { VIEWER_DEFAULTS, VIEWER_LIMITS, checkQueryNames, queryBool, queryNumber, streamConfigFromQuery, streamQueryString } from './params.ts';
import { renderRecord } from './render.ts';
import { RenderGate, RenderPool } from './render-pool.ts';
import { ThumbnailCache, renderThumbnail } from './thumbs.ts';
import { loadSharp } from '../augment/pixels/sharp-module.ts';

export const PAGES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pages');

export interface ViewerServerOptions {
  /** Interface to listen on (default '127.0.0.1': loopback only). */
  host?: string;
  /** TCP port (default 18888, the original's; 0 picks a free one). */
  port?: number;
  /** Bytes the overview's sampled scan reads at most (default 1000 MiB, the explorer's --max-peek). */
  maxPeekBytes?: number;
  /** Minimum ms between automatic refreshes of a growing file (default 1000; -1 never). */
  refreshMs?: number;
  /** Bytes of rendered thumbnails and collage kept (default 32 MiB). */
  thumbCacheBytes?: number;
  /** Worker threads that render images and thumbnails (default: the CPU count, at most 4; 0 renders on the HTTP thread). */
  renderThreads?: number;
  /** Renders running at once (default max(4, 2 × renderThreads)) and waiting at most (default 256; 503 beyond). */
  maxConcurrentRenders?: number;
  maxQueuedRenders?: number;
  /** Milliseconds a render worker may take for one image or thumbnail before it is answered with 503 and replaced (default 10000). */
  renderDeadlineMs?: number;
  /** Called once per finished request (status, ms). */
  onRequest?: (entry: { method: string; url: string; status: number; ms: number }) => void;
}

const IMAGE_NAMES = ['id', 'format', 'quality', 'norm', 'anno_factor', 'output'];
const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * The web viewer (`picpac serve`): an HTTP server that browses a .picpac, PicPac 1.0 or LMDB
 * store (grid of thumbnails, record pages, rendered images with annotations, JSON API). Every
 * request is validated; a corrupt record fails its own request only, and renders are bounded
 * (503 beyond the queue). Listens on 127.0.0.1 unless `host` says otherwise.
 */
export class ViewerServer {
  readonly live: LiveStore;
  readonly overview: Overview;
  readonly thumbs: ThumbnailCache;
  readonly server: Server;
  readonly host: string;
  port = 0;
  /** Milliseconds spent opening the database (reading its index). */
  openMs = 0;
  /** Render workers; undefined when rendering on the HTTP thread. */
  readonly pool: RenderPool | undefined;
  private readonly gate: RenderGate;
  private readonly onRequest: ViewerServerOptions['onRequest'];

  private constructor(live: LiveStore, pool: RenderPool | undefined, options: ViewerServerOptions) {
    this.live = live;
    this.pool = pool;
    this.host = options.host ?? '127.0.0.1';
    this.overview = new Overview(live, { maxPeekBytes: options.maxPeekBytes });
    // Thumbnails go to the workers while any is alive, else render here.
    const renderThumb = pool === undefined ? undefined : async (recordIndex: number) => pool.hasWorkers
      ? (await pool.render({ kind: 'thumb', recordIndex, refreshes: live.refreshes })).bytes
      : renderThumbnail(live, recordIndex);
    this.thumbs = new ThumbnailCache(live, { maxBytes: options.thumbCacheBytes, render: renderThumb });
    this.gate = new RenderGate(options.maxConcurrentRenders ?? Math.max(4, 2 * (pool?.threads ?? 0)), options.maxQueuedRenders ?? 256);
    this.onRequest = options.onRequest;
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('clientError', (_error, socket) => socket.destroy());
    this.server.keepAliveTimeout = 5000;
    this.server.headersTimeout = 10000;
    this.server.requestTimeout = 60000;
  }

  /**
   * Open the database and start listening; resolves once the port is bound (the overview scan
   * continues in the background).
   */
  static async open(dbPath: string, options: ViewerServerOptions = {}): Promise<ViewerServer> {
    const port = options.port ?? 18888;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`Expected an integer between 0 and 65535 for port but received ${port}`);
    const renderThreads = options.renderThreads ?? Math.min(4, availableParallelism());
    if (!Number.isInteger(renderThreads) || renderThreads < 0 || renderThreads > 64) throw new RangeError(`Expected an integer between 0 and 64 for renderThreads but received ${renderThreads}`);
    await loadSharp(); // the viewer encodes every image it serves: not on the first request's time
    const opening = performance.now();
    const live = await LiveStore.open(dbPath, { refreshMs: options.refreshMs });
    const openMs = performance.now() - opening;
    let pool: RenderPool | undefined;
    try {
      if (renderThreads > 0) pool = await RenderPool.start(dbPath, renderThreads, { deadlineMs: options.renderDeadlineMs });
    } catch (error) {
      await live.close();
      throw error;
    }
    const viewer = new ViewerServer(live, pool, options);
    viewer.openMs = openMs;
    try {
      viewer.port = await listen(viewer.server, { host: viewer.host, port });
    } catch (error) {
      await pool?.close();
      await live.close();
      throw error;
    }
    void viewer.overview.start().catch(() => {});
    return viewer;
  }

  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host === '0.0.0.0' ? '127.0.0.1' : this.host;
    return `http://${host}:${this.port}`;
  }

  /** Stop listening, drop open connections, stop the render workers and close the store. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.overview.stop();
    await this.overview.start().catch(() => {});
    await this.pool?.close();
    await this.live.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    let page = false;
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        throw new HttpError(405, `method ${req.method} not allowed: the viewer is read-only`);
      }
      this.checkHost(req);
      const { pathname, query } = parseRequestUrl(req);
      page = !pathname.startsWith('/api/') && pathname !== '/image' && pathname !== '/file';
      await this.route(pathname, query, res);
    } catch (error) {
      try {
        this.fail(res, error, page);
      } catch {
        res.destroy();
      }
    } finally {
      try {
        this.onRequest?.({ method: req.method ?? '', url: req.url ?? '', status: res.statusCode, ms: performance.now() - started });
      } catch {
        // A logger failure must not take the server down.
      }
    }
  }

  /** Bound to loopback, answer only loopback host names (a DNS-rebinding page cannot read the database). */
  private checkHost(req: IncomingMessage): void {
    if (!/^(127\.|::1$|localhost$)/.test(this.host)) return;
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host) && !/^127\.\d+\.\d+\.\d+$/.test(host)) {
      throw new HttpError(403, `host ${JSON.stringify(host.slice(0, 60))} not allowed: the viewer listens on ${this.host} and answers loopback names only`);
    }
  }

  private fail(res: ServerResponse, error: unknown, page: boolean): void {
    let status = 500;
    let message: string;
    if (error instanceof HttpError) {
      status = error.status;
      message = error.message;
    } else if (error instanceof PicpacError) {
      message = error.message;
    } else if ((error instanceof TypeError || error instanceof RangeError) && error.message.startsWith('Expected ')) {
      // An argument error raised while rendering: parameters this record cannot satisfy (round_div larger than the image, …).
      status = 400;
      message = error.message;
    } else {
      message = `internal error: ${(error as Error)?.message ?? String(error)}`;
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (page) {
      const body = errorPageHtml(status, message);
      res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP, 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (error instanceof HttpError) sendThrown(res, error);
    else sendJson(res, status, { error: message });
  }

  private async route(pathname: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
    switch (pathname) {
      case '/':
      case '/index.html':
        checkQueryNames(query, [], { stream: false });
        return this.page(res, 'overview.html');
      case '/record':
        checkQueryNames(query, ['id'], { stream: true });
        streamConfigFromQuery(query);
        await this.recordIndex(query, { required: true });
        return this.page(res, 'record.html');
      case '/stream':
        checkQueryNames(query, ['on_error'], { stream: true });
        return this.page(res, 'stream.html');
      case '/l':
        return this.grid(query, res);
      case '/favicon.ico':
        res.writeHead(204, { ...SECURITY_HEADERS, 'cache-control': 'max-age=86400' });
        res.end();
        return;
      case '/hello':
        return sendBytes(res, Buffer.from('Hello world!'), 'text/plain; charset=utf-8');
      case '/api/overview':
        checkQueryNames(query, [], { stream: false });
        await this.live.maybeRefresh();
        return sendJson(res, 200, await this.overview.json());
      case '/api/sample':
        return this.sample(query, res);
      case '/api/record':
        return this.record(query, res);
      case '/api/file':
      case '/file': // the 2016 picpac-server's name
        return this.file(query, res);
      case '/api/image':
      case '/image': // the 2016 picpac-server's name
        return this.image(query, res);
      case '/api/thumb':
        return this.thumb(query, res);
      case '/api/collage.jpg':
        checkQueryNames(query, [], { stream: false });
        return this.collage(res);
      case '/api/stream':
        return this.stream(query, res);
      case '/api/refresh': {
        checkQueryNames(query, [], { stream: false });
        const recordCount = await this.live.refresh();
        return sendJson(res, 200, { recordCount, generation: this.live.generation, refreshable: this.live.canRefresh });
      }
      case '/api/params':
        checkQueryNames(query, [], { stream: false });
        return sendJson(res, 200, {
          viewerDefaults: VIEWER_DEFAULTS,
          limits: VIEWER_LIMITS,
          params: STREAM_PARAM_NAMES.map((name) => ({ name, ...STREAM_PARAMS[name] })),
        });
    }
    if (pathname.startsWith('/static/')) {
      return serveStaticFile(res, PAGES_DIR, pathname.slice('/static/'.length), { 'cache-control': 'no-cache', 'content-security-policy': PAGE_CSP });
    }
    throw new HttpError(404, `not found: ${JSON.stringify(pathname.slice(0, 80))}`);
  }

  private page(res: ServerResponse, file: string): Promise<void> {
    return serveStaticFile(res, PAGES_DIR, file, { 'cache-control': 'no-cache', 'content-security-policy': PAGE_CSP });
  }

  /** `id` as a record index: 400 when malformed, 404 when out of range; random when absent and not required. */
  private async recordIndex(query: URLSearchParams, options: { required: boolean }): Promise<number> {
    const text = query.get('id');
    if (text === null || text === '') {
      if (options.required) throw new HttpError(400, 'query parameter id is required (a record index)');
      await this.live.maybeRefresh();
      const count = this.live.recordCount;
      if (count === 0) throw new HttpError(404, 'the database has no records');
      return randomInt(count);
    }
    const recordIndex = queryInt(query, 'id', { min: 0, max: SAFE }, 0);
    if (recordIndex >= this.live.recordCount) await this.live.maybeRefresh();
    return this.live.checkIndex(recordIndex);
  }

  /** `count` distinct record indices, seeded (the explorer used unseeded rand()). */
  private sampleIds(count: number, seed: number): number[] {
    const total = this.live.recordCount;
    const rng = new Rng(seed, 0x5a);
    if (count >= total) return Array.from({ length: total }, (_, i) => i);
    const picked = new Set<number>();
    while (picked.size < count) picked.add(Math.floor(rng.next() * total));
    return [...picked];
  }

  private async sample(query: URLSearchParams, res: ServerResponse): Promise<void> {
    checkQueryNames(query, ['count', 'seed'], { stream: false });
    const count = queryInt(query, 'count', { min: 1, max: VIEWER_LIMITS.maxSampleCount }, 20);
    const seed = queryInt(query, 'seed', { min: 0, max: SAFE }, randomInt(2 ** 31));
    await this.live.maybeRefresh();
    sendJson(res, 200, { samples: this.sampleIds(count, seed), seed, recordCount: this.live.recordCount });
  }

  private async grid(query: URLSearchParams, res: ServerResponse): Promise<void> {
    checkQueryNames(query, ['count', 'seed'], { stream: true });
    const count = queryInt(query, 'count', { min: 1, max: VIEWER_LIMITS.maxCount }, 20);
    const seed = queryInt(query, 'seed', { min: 0, max: SAFE }, randomInt(2 ** 31));
    const config = streamConfigFromQuery(query);
    await this.live.maybeRefresh();
    const items = this.sampleIds(count, seed).map((recordIndex) => {
      const m = this.live.meta(recordIndex);
      return { recordIndex, label: m.label, hasAnnotation: m.hasAnnotation };
    });
    const sized = config.max_size > 0 || config.resize_width > 0 || config.crop_width > 0;
    const again = new URLSearchParams(query);
    again.set('seed', String(seed + 1));
    const body = gridPageHtml({
      name: this.live.store.name.split(/[\\/]/).pop() ?? 'picpac',
      recordCount: this.live.recordCount,
      items,
      streamQuery: streamQueryString(query),
      imageQuery: sized ? '' : 'max_size=300',
      seed,
      againQuery: again.toString(),
    });
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': PAGE_CSP, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  private async record(query: URLSearchParams, res: ServerResponse): Promise<void> {
    checkQueryNames(query, ['id'], { stream: false });
    const recordIndex = await this.recordIndex(query, { required: true });
    const record = await this.live.get(recordIndex);
    let annotation: unknown = null;
    let annotationError: string | null = null;
    if (record.annotation !== undefined) {
      try {
        annotation = parseAnnotation(record.annotation, { recordIndex });
      } catch (error) {
        annotationError = (error as Error).message;
      }
    }
    sendJson(res, 200, {
      recordIndex,
      recordCount: this.live.recordCount,
      format: this.live.store.format,
      id: record.id,
      label: record.label,
      label2: record.label2,
      width: record.width,
      height: record.height,
      imageCodec: record.imageCodec,
      byteOffset: record.byteOffset,
      byteLength: record.byteLength,
      hasAnnotation: record.annotation !== undefined,
      fields: record.fields.map((f, index) => ({
        index, kind: f.kind, type: f.type, codec: f.codec, byteLength: f.bytes.byteLength, width: f.width, height: f.height,
        url: `/api/file?id=${recordIndex}&field=${index}`,
      })),
      annotationText: record.annotation ?? null,
      annotation,
      annotationError,
    });
  }

  private async file(query: URLSearchParams, res: ServerResponse): Promise<void> {
    checkQueryNames(query, ['id', 'field'], { stream: false });
    const recordIndex = await this.recordIndex(query, { required: false });
    const fieldIndex = queryInt(query, 'field', { min: 0, max: 65535 }, 0);
    const record = await this.live.get(recordIndex);
    const field = record.fields[fieldIndex];
    if (field === undefined) throw new HttpError(404, `record ${recordIndex} has ${record.fields.length} field(s); field ${fieldIndex} does not exist`);
    const type = field.type.startsWith('image/') ? field.type : field.type === 'label/png' ? 'image/png' : field.type === 'label/jpeg' ? 'image/jpeg' : 'application/octet-stream';
    sendBytes(res, field.bytes, type, { 'x-picpac-field-kind': field.kind, 'x-picpac-field-type': field.type, 'cache-control': 'no-cache' });
  }

  private async image(query: URLSearchParams, res: ServerResponse): Promise<void> {
    checkQueryNames(query, IMAGE_NAMES, { stream: true });
    const format = queryChoice(query, 'format', ['jpeg', 'png'] as const, 'jpeg');
    const quality = queryInt(query, 'quality', { min: 1, max: 100 }, 90);
    const norm = queryBool(query, 'norm', false);
    const annoFactor = queryNumber(query, 'anno_factor', { min: -1e6, max: 1e6 }, 1);
    const outputText = query.get('output');
    const output = outputText === null || outputText === '' ? undefined : queryChoice(query, 'output', ['image', 'label'] as const, 'image');
    const config = streamConfigFromQuery(query);
    const recordIndex = await this.recordIndex(query, { required: false });
    const options = { format, quality, norm, annoFactor, output };
    const pool = this.pool !== undefined && this.pool.hasWorkers ? this.pool : undefined;
    const rendered = await this.gate.run(async () => pool === undefined
      ? renderRecord(await this.live.get(recordIndex), config, options)
      : pool.render({ kind: 'image', recordIndex, query: query.toString(), options, refreshes: this.live.refreshes }));
    const p = rendered.perturbation;
    sendBytes(res, rendered.bytes, rendered.contentType, {
      'cache-control': 'no-cache',
      'x-picpac-record': String(recordIndex),
      'x-picpac-size': `${rendered.width}x${rendered.height}`,
      'x-picpac-output': rendered.output,
      'x-picpac-perturbation': JSON.stringify({ hflip: p.hflip, vflip: p.vflip, color: p.color, angle: round(p.angle), scale: round(p.scale) }),
    });
  }

  private async thumb(query: URLSearchParams, res: ServerResponse): Promise<void> {
    checkQueryNames(query, ['class', 'offset'], { stream: false });
    const classIndex = queryInt(query, 'class', { min: 0, max: 1_000_000 }, 0);
    const offset = queryInt(query, 'offset', { min: 0, max: 1_000_000 }, 0);
    const classes = await this.overview.classes();
    const members = classes.members[classIndex];
    if (members === undefined) throw new HttpError(404, `class ${classIndex} does not exist: there are ${classes.members.length} class(es)`);
    const recordIndex = members[offset];
    if (recordIndex === undefined) throw new HttpError(404, `class ${classIndex} has ${members.length} sampled thumbnail(s); offset ${offset} is out of range`);
    const bytes = await this.gate.run(() => this.thumbs.thumbnail(recordIndex));
    sendBytes(res, bytes, 'image/jpeg', { 'cache-control': 'private, max-age=300', 'x-picpac-record': String(recordIndex) });
  }

  private async collage(res: ServerResponse): Promise<void> {
    const indices = await this.overview.collageIndices();
    const bytes = await this.gate.run(() => this.thumbs.collage(indices.filter((i) => i < this.live.recordCount)));
    sendBytes(res, bytes, 'image/jpeg', { 'cache-control': 'private, max-age=300' });
  }

  private async stream(query: URLSearchParams, res: ServerResponse): Promise<void> {
    checkQueryNames(query, ['on_error'], { stream: true });
    const onError = queryChoice(query, 'on_error', ['throw', 'skip'] as const, 'throw');
    await this.live.maybeRefresh();
    if (this.live.recordCount === 0) throw new HttpError(404, 'the database has no records');
    // Loaded on first use: the stream (worker pool, sampler) is not needed to browse a database.
    const { streamBatch } = await import('./stream-batch.ts');
    const json = await this.gate.run(() => streamBatch(this.live.store, query, { onError }));
    sendJson(res, 200, json);
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
