// ByteSource over http(s) with Range requests (hyparquet's asyncBufferFromUrl, in Node): a
// keep-alive agent, HEAD for the length (or a `Range: bytes=0-0` GET read through
// Content-Range when HEAD is refused), a coalescing readMany, and an optional small LRU block
// cache for repeated small reads (index lookups of a remote store).
import http from 'node:http';
import https from 'node:https';
import { ClosedError, SourceError, invalidParameterError } from '../../errors.ts';
import type { ByteSource, ReadCounter } from './byte-source.ts';
import { planReads, sliceReads } from './read-plan.ts';
import type { ByteRange, ReadPlanOptions } from './read-plan.ts';

/** Options of {@link HttpSource.open}. */
export interface HttpSourceOptions {
  /** Extra request headers (authorization, ...). */
  headers?: Record<string, string>;
  /** Cache this many blocks (default 0: no cache). */
  cacheBlocks?: number;
  /** Block size of the cache in bytes (default 64 KiB). */
  cacheBlockBytes?: number;
  /** Give up on a request after this many milliseconds (default 30000). */
  timeoutMs?: number;
}

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Uint8Array;
}

/**
 * A {@link ByteSource} over an http(s) URL, by Range requests on keep-alive connections. Failed
 * requests and unexpected statuses are SourceErrors naming the URL. A server that ignores Range
 * still works (the whole body is fetched and sliced), only slowly.
 */
export class HttpSource implements ByteSource {
  readonly name: string;
  readonly counter: ReadCounter = { reads: 0, bytesRead: 0 };
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly cacheBlocks: number;
  private readonly cacheBlockBytes: number;
  private readonly cache = new Map<number, Uint8Array>();
  private length = 0;
  private closed = false;

  private constructor(url: URL, options: Required<HttpSourceOptions>) {
    this.url = url;
    this.name = url.href;
    this.headers = options.headers;
    this.timeoutMs = options.timeoutMs;
    this.cacheBlocks = options.cacheBlocks;
    this.cacheBlockBytes = options.cacheBlockBytes;
    this.agent = url.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 8 }) : new http.Agent({ keepAlive: true, maxSockets: 8 });
  }

  /**
   * Open a URL and learn its length.
   * @param [options.cacheBlocks=0] LRU cache size in blocks
   * @param [options.cacheBlockBytes=65536] cache block size
   * @param [options.timeoutMs=30000] per-request timeout
   */
  static async open(url: string | URL, options?: HttpSourceOptions): Promise<HttpSource> {
    let parsed: URL;
    try {
      parsed = typeof url === 'string' ? new URL(url) : url;
    } catch {
      throw invalidParameterError('url', 'an http(s) URL', url);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalidParameterError('url', 'an http(s) URL', String(url));
    const o = options ?? {};
    if (typeof o !== 'object' || o === null) throw invalidParameterError('options', 'an object', o);
    const cacheBlocks = o.cacheBlocks ?? 0;
    if (!Number.isInteger(cacheBlocks) || cacheBlocks < 0) throw invalidParameterError('options.cacheBlocks', 'a non-negative integer', cacheBlocks);
    const cacheBlockBytes = o.cacheBlockBytes ?? 64 << 10;
    if (!Number.isInteger(cacheBlockBytes) || cacheBlockBytes < 512) throw invalidParameterError('options.cacheBlockBytes', 'an integer >= 512', cacheBlockBytes);
    const timeoutMs = o.timeoutMs ?? 30000;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) throw invalidParameterError('options.timeoutMs', 'a positive number', timeoutMs);
    const source = new HttpSource(parsed, { headers: o.headers ?? {}, cacheBlocks, cacheBlockBytes, timeoutMs });
    try {
      await source.refresh();
    } catch (err) {
      source.agent.destroy();
      throw err;
    }
    return source;
  }

  get byteLength(): number {
    return this.length;
  }

  /** Re-learn the length (HEAD; falls back to a one-byte Range GET). Clears the cache. */
  async refresh(): Promise<number> {
    this.checkOpen();
    this.cache.clear();
    const head = await this.request('HEAD', undefined);
    const contentLength = Number(head.headers['content-length']);
    if (head.status === 200 && Number.isSafeInteger(contentLength)) {
      this.length = contentLength;
      return this.length;
    }
    if (head.status !== 405 && head.status !== 200 && head.status !== 501) throw this.statusError('HEAD', head.status);
    const probe = await this.request('GET', 'bytes=0-0');
    const total = parseContentRangeTotal(probe.headers['content-range']);
    if (probe.status === 206 && total !== undefined) this.length = total;
    else if (probe.status === 200) this.length = probe.body.length;
    else if (probe.status === 416) this.length = parseContentRangeTotal(probe.headers['content-range']) ?? 0;
    else throw this.statusError('GET bytes=0-0', probe.status);
    return this.length;
  }

  async read(byteOffset: number, byteLength: number): Promise<Uint8Array> {
    this.checkOpen();
    const end = Math.min(this.length, byteOffset + byteLength);
    if (byteOffset >= end) return new Uint8Array(0);
    if (this.cacheBlocks > 0) return this.readCached(byteOffset, end);
    return this.fetchRange(byteOffset, end);
  }

  /** Read many ranges with as few requests as the gap rule allows (plan, then fetch). */
  async readMany(ranges: readonly ByteRange[], options?: ReadPlanOptions): Promise<Uint8Array[]> {
    this.checkOpen();
    const plan = planReads(ranges, options);
    const bytes = await Promise.all(plan.map((r) => this.read(r.byteOffset, r.byteLength)));
    return sliceReads(ranges, plan, bytes);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache.clear();
    this.agent.destroy();
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError(`http source ${this.name}`);
  }

  private async fetchRange(byteOffset: number, end: number): Promise<Uint8Array> {
    const range = `bytes=${byteOffset}-${end - 1}`;
    const res = await this.request('GET', range);
    this.counter.reads++;
    let body: Uint8Array;
    if (res.status === 206) body = res.body;
    else if (res.status === 200) body = res.body.subarray(byteOffset, end); // server ignored Range
    else if (res.status === 416) body = new Uint8Array(0);
    else throw this.statusError(`GET ${range}`, res.status);
    this.counter.bytesRead += body.length;
    return body.length > end - byteOffset ? body.subarray(0, end - byteOffset) : body;
  }

  /** Serve from whole cache blocks; fetch each run of missing blocks with one request. */
  private async readCached(byteOffset: number, end: number): Promise<Uint8Array> {
    const B = this.cacheBlockBytes;
    const firstBlock = Math.floor(byteOffset / B);
    const lastBlock = Math.floor((end - 1) / B);
    const blocks: Uint8Array[] = [];
    let missingStart = -1;
    const fetchMissing = async (upTo: number): Promise<void> => {
      if (missingStart < 0) return;
      const bytes = await this.fetchRange(missingStart * B, Math.min(this.length, (upTo + 1) * B));
      for (let b = missingStart; b <= upTo; b++) {
        const block = bytes.subarray((b - missingStart) * B, (b - missingStart + 1) * B);
        this.remember(b, block);
        blocks[b - firstBlock] = block;
      }
      missingStart = -1;
    };
    for (let b = firstBlock; b <= lastBlock; b++) {
      const hit = this.cache.get(b);
      if (hit) {
        await fetchMissing(b - 1);
        this.cache.delete(b); // refresh LRU position
        this.cache.set(b, hit);
        blocks[b - firstBlock] = hit;
      } else if (missingStart < 0) {
        missingStart = b;
      }
    }
    await fetchMissing(lastBlock);
    const out = new Uint8Array(end - byteOffset);
    for (let b = firstBlock; b <= lastBlock; b++) {
      const blockStart = b * B;
      const from = Math.max(byteOffset, blockStart);
      const to = Math.min(end, blockStart + B);
      out.set(blocks[b - firstBlock].subarray(from - blockStart, to - blockStart), from - byteOffset);
    }
    return out;
  }

  private remember(block: number, bytes: Uint8Array): void {
    this.cache.set(block, bytes);
    while (this.cache.size > this.cacheBlocks) this.cache.delete(this.cache.keys().next().value as number);
  }

  private statusError(what: string, status: number): SourceError {
    return new SourceError(`${what} ${this.name} failed with HTTP status ${status}`);
  }

  private request(method: 'GET' | 'HEAD', range: string | undefined): Promise<Response> {
    const lib = this.url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { ...this.headers };
    if (range) headers.range = range;
    return new Promise<Response>((resolve, reject) => {
      const req = lib.request(this.url, { method, agent: this.agent, headers, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new SourceError(`${method} ${this.name}: ${err.message}`, { cause: err })));
        res.on('end', () => {
          const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`timed out after ${this.timeoutMs} ms`)));
      req.on('error', (err) => reject(new SourceError(`${method} ${this.name}: ${err.message}`, { cause: err })));
      req.end();
    });
  }
}

function parseContentRangeTotal(value: string | undefined): number | undefined {
  const m = /\/(\d+)\s*$/.exec(value ?? '');
  return m ? Number(m[1]) : undefined;
}
