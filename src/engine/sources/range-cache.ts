// A node-local cache of byte ranges of remote objects (s3://), shared by the processes of a
// node: `<dir>/<object hash>/<byteOffset>-<byteLength>`, one file per range as it was read.
// Record reads are the same ranges every epoch (the index gives each record's offset and
// length), so the second epoch finds every range here and reads no remote byte.
//
// Lock-free sharing: an entry is written to a temporary name and renamed into place (atomic),
// so a reader sees a whole entry or none; two processes fetching the same range both rename
// identical bytes. A hit touches the file's mtime; eviction (least recently used first, by mtime)
// runs in whichever process finds the cache over its limit, and a reader whose entry vanished
// meanwhile just misses. Each process rescans the directory after writing 1/16 of the limit,
// so the cache can exceed its limit by at most (processes × limit / 16) between scans.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseByteSize } from '../byte-size.ts';

/** Names one cached byte range of one version of a remote object. */
export interface RangeKey {
  /** Identifies one version of one object (location, ETag, length). */
  object: string;
  byteOffset: number;
  byteLength: number;
}

/** What this process's {@link RangeCache} did: hits, misses, bytes written, files evicted. */
export interface RangeCacheStats {
  hits: number;
  misses: number;
  bytesWritten: number;
  evictedFiles: number;
}

/**
 * A cache of remote byte ranges on local disk, one file per range under `dir`, shared without
 * locks by all processes of a node and kept near `limitBytes` by evicting the least recently
 * used files. Cache failures (full disk, vanished entry) only cost a miss, never an error.
 */
export class RangeCache {
  readonly dir: string;
  readonly limitBytes: number;
  readonly stats: RangeCacheStats = { hits: 0, misses: 0, bytesWritten: 0, evictedFiles: 0 };
  /** Bytes in the cache at the last scan plus what this process wrote since; undefined before the first scan. */
  private knownBytes: number | undefined;
  private writtenSinceScan = 0;
  private scanning: Promise<void> | undefined;

  constructor(dir: string, limitBytes: number) {
    this.dir = path.resolve(dir);
    this.limitBytes = limitBytes;
  }

  private entryPath(key: RangeKey): string {
    const objectHash = createHash('sha256').update(key.object).digest('hex').slice(0, 32);
    return path.join(this.dir, objectHash, `${key.byteOffset}-${key.byteLength}`);
  }

  /** The cached bytes of `key`, or undefined on a miss (a file of the wrong length counts as a miss). */
  async get(key: RangeKey): Promise<Uint8Array | undefined> {
    const file = this.entryPath(key);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      this.stats.misses++;
      return undefined;
    }
    if (bytes.length !== key.byteLength) {
      this.stats.misses++; // a foreign or damaged file: treat as absent (the put will replace it)
      return undefined;
    }
    this.stats.hits++;
    const now = new Date();
    utimes(file, now, now).catch(() => {}); // LRU order; a lost touch only ages the entry
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Store the bytes of `key` (atomically: temporary file, then rename), then evict if the cache is over its limit. Never throws. */
  async put(key: RangeKey, bytes: Uint8Array): Promise<void> {
    if (bytes.length > this.limitBytes) return;
    const file = this.entryPath(key);
    const temporary = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(temporary, bytes);
      await rename(temporary, file);
    } catch {
      await unlink(temporary).catch(() => {}); // a full disk only costs the cache entry
      return;
    }
    this.stats.bytesWritten += bytes.length;
    this.writtenSinceScan += bytes.length;
    if (this.knownBytes === undefined || this.knownBytes + this.writtenSinceScan > this.limitBytes || this.writtenSinceScan > this.limitBytes / 16) {
      this.scanning ??= this.scanAndEvict().finally(() => (this.scanning = undefined));
      await this.scanning;
    }
  }

  /** Walk the cache, then delete least recently used entries until it is within 90 % of the limit. */
  async scanAndEvict(): Promise<void> {
    const entries: Array<{ file: string; bytes: number; mtimeMs: number }> = [];
    let objects: string[] = [];
    try {
      objects = await readdir(this.dir);
    } catch {
      /* no cache yet */
    }
    for (const object of objects) {
      let names: string[];
      try {
        names = await readdir(path.join(this.dir, object));
      } catch {
        continue;
      }
      for (const name of names) {
        const file = path.join(this.dir, object, name);
        try {
          const info = await stat(file);
          entries.push({ file, bytes: info.size, mtimeMs: info.mtimeMs });
        } catch {
          /* evicted by another process meanwhile */
        }
      }
    }
    let total = entries.reduce((sum, e) => sum + e.bytes, 0);
    if (total > this.limitBytes) {
      entries.sort((a, b) => a.mtimeMs - b.mtimeMs);
      const target = this.limitBytes * 0.9;
      for (const e of entries) {
        if (total <= target) break;
        await unlink(e.file).catch(() => {});
        total -= e.bytes;
        this.stats.evictedFiles++;
      }
    }
    this.knownBytes = total;
    this.writtenSinceScan = 0;
  }
}

const fromEnv = new Map<string, RangeCache>();

/**
 * The cache configured by PICPAC_CACHE_DIR and PICPAC_CACHE_LIMIT (default 20GB): the CLI's
 * --cache-dir / --cache-limit set these, so stream worker threads inherit them. One instance per
 * process and configuration.
 */
export function rangeCacheFromEnv(env: NodeJS.ProcessEnv = process.env): RangeCache | undefined {
  const dir = env.PICPAC_CACHE_DIR;
  if (!dir) return undefined;
  const limitBytes = parseByteSize(env.PICPAC_CACHE_LIMIT || '20GB', 'PICPAC_CACHE_LIMIT');
  const id = `${path.resolve(dir)}\n${limitBytes}`;
  let cache = fromEnv.get(id);
  if (!cache) fromEnv.set(id, (cache = new RangeCache(dir, limitBytes)));
  return cache;
}
