// ByteSource over the WHATWG `fetch` with HTTP Range requests: the browser-safe sibling of
// http-source.ts (which uses node:http keep-alive agents). Works in browsers, workers, Deno and
// Node ≥ 18. The length comes from a `Range: bytes=0-0` GET's Content-Range (HEAD is often
// not allowed cross-origin); every read is one Range GET that must answer 206.
import { ClosedError, SourceError, invalidParameterError } from '../../errors.ts';
import type { ByteSource, ReadCounter } from './byte-source.ts';

/** Options of {@link FetchSource.open}. */
export interface FetchSourceOptions {
  /** Extra request headers (authorization, ...). */
  headers?: Record<string, string>;
  /** The fetch function to use (default: the global `fetch`). */
  fetch?: typeof fetch;
  /** Give up on a request after this many milliseconds (default 30000). */
  timeoutMs?: number;
}

/** A read-only byte source over an http(s) URL, read with `fetch` and HTTP Range requests. */
export class FetchSource implements ByteSource {
  readonly name: string;
  /** Requests made and bytes received (the length probe included). */
  readonly counter: ReadCounter = { reads: 0, bytesRead: 0 };
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private length = 0;
  private closed = false;

  private constructor(url: string, headers: Record<string, string>, fetchFn: typeof fetch, timeoutMs: number) {
    this.url = url;
    this.name = url;
    this.headers = headers;
    this.fetchFn = fetchFn;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Open a URL (absolute, or relative to the page in a browser) and learn its length.
   * @param url the file's URL
   * @param options request headers, fetch implementation, timeout
   */
  static async open(url: string | URL, options: FetchSourceOptions = {}): Promise<FetchSource> {
    if (typeof url !== 'string' && !(url instanceof URL)) throw invalidParameterError('url', 'a URL string or URL', url);
    if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object', options);
    const fetchFn = options.fetch ?? globalThis.fetch;
    if (typeof fetchFn !== 'function') throw invalidParameterError('options.fetch', 'a fetch function (no global fetch here)', fetchFn);
    const timeoutMs = options.timeoutMs ?? 30000;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) throw invalidParameterError('options.timeoutMs', 'a positive number', timeoutMs);
    const source = new FetchSource(String(url), options.headers ?? {}, fetchFn.bind(globalThis), timeoutMs);
    await source.refresh();
    return source;
  }

  get byteLength(): number {
    return this.length;
  }

  /** Re-read the length with a one-byte Range request (Content-Range: bytes 0-0/LENGTH). */
  async refresh(): Promise<number> {
    const response = await this.get(0, 1);
    const total = /\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '');
    if (response.status === 416) {
      this.length = 0; // an empty file has no byte 0
    } else if (total) {
      this.length = Number(total[1]);
    } else {
      throw new SourceError(`${this.url}: the server answered ${response.status} without a Content-Range to a Range request; it must support HTTP Range requests (and expose Content-Range cross-origin)`);
    }
    await response.body?.cancel().catch(() => {});
    return this.length;
  }

  /** Read `byteLength` bytes at `byteOffset`; fewer only at the end of the file. */
  async read(byteOffset: number, byteLength: number): Promise<Uint8Array> {
    if (this.closed) throw new ClosedError(`${this.url} is closed`);
    if (!Number.isSafeInteger(byteOffset) || byteOffset < 0) throw invalidParameterError('byteOffset', 'a non-negative integer', byteOffset);
    if (!Number.isSafeInteger(byteLength) || byteLength < 0) throw invalidParameterError('byteLength', 'a non-negative integer', byteLength);
    const end = Math.min(byteOffset + byteLength, this.length);
    if (end <= byteOffset) return new Uint8Array(0);
    const response = await this.get(byteOffset, end - byteOffset);
    if (response.status !== 206) {
      await response.body?.cancel().catch(() => {});
      throw new SourceError(`${this.url}: expected 206 Partial Content for bytes ${byteOffset}-${end - 1}, got ${response.status}`);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    this.counter.bytesRead += bytes.length;
    if (bytes.length !== end - byteOffset) throw new SourceError(`${this.url}: short read at byte ${byteOffset}: expected ${end - byteOffset} bytes, got ${bytes.length}`);
    return bytes;
  }

  /** Later reads throw ClosedError (fetch keeps no connection to release). */
  async close(): Promise<void> {
    this.closed = true;
  }

  private async get(byteOffset: number, byteLength: number): Promise<Response> {
    this.counter.reads++;
    const signal = typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(this.timeoutMs) : undefined;
    let response: Response;
    try {
      response = await this.fetchFn(this.url, { headers: { ...this.headers, range: `bytes=${byteOffset}-${byteOffset + byteLength - 1}` }, signal });
    } catch (error) {
      throw new SourceError(`${this.url}: request for bytes ${byteOffset}-${byteOffset + byteLength - 1} failed: ${(error as Error).message}`, { cause: error });
    }
    if (response.status !== 206 && response.status !== 416 && !(response.status === 200 && byteOffset === 0)) {
      await response.body?.cancel().catch(() => {});
      throw new SourceError(`${this.url}: HTTP ${response.status} for bytes ${byteOffset}-${byteOffset + byteLength - 1}`);
    }
    return response;
  }
}
