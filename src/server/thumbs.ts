// Rendered thumbnails and the collage, cached: a bounded LRU (by bytes) keyed by record and size,
// with in-flight renders shared so a page that asks for the same thumbnail twice renders it once.
// Thumbnails are the plain image (no annotation), long side ≤ THUMB_SIZE, like the explorer's.
import { parseStreamConfig } from '../augment/config.ts';
import type { StreamConfig } from '../augment/config-schema.ts';
import type { LiveStore } from './live-store.ts';
import { encodeImage, transformRecord } from './render.ts';
import { loadSharp } from '../augment/pixels/sharp-module.ts';

/** Long side of a thumbnail in pixels (the explorer's ≤ 200 px). */
export const THUMB_SIZE = 200;
/** The collage: COLLAGE_SIZE² pixels, at most COLLAGE_TILES² tiles. */
export const COLLAGE_SIZE = 640;
export const COLLAGE_TILES = 10;

/** Least-recently-used map bounded by total bytes. */
export class ByteLru {
  private readonly entries = new Map<string, Uint8Array>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  get(key: string): Uint8Array | undefined {
    const value = this.entries.get(key);
    if (value === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: Uint8Array): void {
    if (value.byteLength > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.bytes -= old.byteLength;
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.bytes += value.byteLength;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.byteLength;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get byteLength(): number {
    return this.bytes;
  }
}

const THUMB_CONFIG: StreamConfig = parseStreamConfig({ max_size: THUMB_SIZE });

/** Render one thumbnail on this thread (the render workers do the same). */
export async function renderThumbnail(live: LiveStore, recordIndex: number): Promise<Uint8Array> {
  const { image } = await transformRecord(await live.get(recordIndex), THUMB_CONFIG);
  return (await encodeImage(image, { format: 'jpeg', quality: 85 })).bytes;
}

export interface ThumbnailCacheOptions {
  /** Bytes of JPEG kept (default 32 MiB). */
  maxBytes?: number;
  /** Render a thumbnail elsewhere (the render pool); default: on this thread. */
  render?: (recordIndex: number) => Promise<Uint8Array>;
}

export class ThumbnailCache {
  readonly lru: ByteLru;
  private readonly inFlight = new Map<string, Promise<Uint8Array>>();
  private readonly render: ((recordIndex: number) => Promise<Uint8Array>) | undefined;

  constructor(private readonly live: LiveStore, options: ThumbnailCacheOptions = {}) {
    this.lru = new ByteLru(options.maxBytes ?? 32 << 20);
    this.render = options.render;
  }

  /** JPEG thumbnail of a record (long side ≤ 200 px). */
  thumbnail(recordIndex: number): Promise<Uint8Array> {
    return this.cached(`thumb:${recordIndex}`, () => (this.render ? this.render(recordIndex) : renderThumbnail(this.live, recordIndex)));
  }

  /** A COLLAGE_SIZE² JPEG mosaic of up to COLLAGE_TILES² records (square crops). Records that fail to render leave a dark tile. */
  collage(recordIndices: readonly number[]): Promise<Uint8Array> {
    const picked = recordIndices.slice(0, COLLAGE_TILES * COLLAGE_TILES);
    return this.cached(`collage:${picked.join(',')}`, async () => {
      const side = Math.max(1, Math.ceil(Math.sqrt(picked.length)));
      const tile = Math.floor(COLLAGE_SIZE / side);
      // Fill every tile of the square grid: a small sample repeats.
      const cells = picked.length === 0 ? [] : Array.from({ length: side * side }, (_, k) => picked[k % picked.length]);
      const sharp = await loadSharp();
      const tiles = await Promise.all(cells.map(async (recordIndex, k) => {
        try {
          const input = await this.thumbnail(recordIndex);
          const bytes = await sharp(input).resize(tile, tile, { fit: 'cover' }).toBuffer();
          return { input: bytes, left: (k % side) * tile, top: Math.floor(k / side) * tile };
        } catch {
          return undefined;
        }
      }));
      const canvas = sharp({ create: { width: COLLAGE_SIZE, height: COLLAGE_SIZE, channels: 3, background: { r: 24, g: 24, b: 24 } } });
      return canvas.composite(tiles.filter((t) => t !== undefined)).jpeg({ quality: 85 }).toBuffer();
    });
  }

  private cached(key: string, make: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const hit = this.lru.get(key);
    if (hit !== undefined) return Promise.resolve(hit);
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    const promise = make().then((bytes) => {
      this.lru.set(key, bytes);
      return bytes;
    }).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }
}
