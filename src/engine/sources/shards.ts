// A dataset split over several store files, described by a `.picpac.json` manifest:
//   { "format": "picpac-shards", "version": 1,
//     "shards": [{ "path": "part-0.picpac", "recordCount": 1000, "byteLength": 123456 }, ...] }
// Paths are relative to the manifest and may not leave its directory [SHD-3]. ShardedStore concatenates the shards: record indices run
// across them in manifest order. Each shard's record count and byte length are checked against
// the manifest, and errors name the shard.
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FormatError, PicpacError, invalidParameterError, outOfRangeError } from '../../errors.ts';
import type { RecordMeta, ScanOptions, Store, StoredRecord } from '../store.ts';

export const SHARD_MANIFEST_FORMAT = 'picpac-shards';
export const SHARD_MANIFEST_VERSION = 1;

/** One shard of a manifest: its path relative to the manifest, and the record count and byte length it must have. */
export interface ShardEntry {
  path: string;
  recordCount: number;
  byteLength: number;
}

/** A `.picpac.json` shard manifest: format 'picpac-shards', version 1, and the shards in record order. */
export interface ShardManifest {
  format: typeof SHARD_MANIFEST_FORMAT;
  version: number;
  shards: ShardEntry[];
}

/** Opens one shard: the store and the byte length of its source. */
export type ShardOpener = (location: string) => Promise<{ store: Store; byteLength: number }>;

let defaultShardOpener: ShardOpener | undefined;

/** openStore registers itself here (a registry instead of an import cycle). */
export function registerShardOpener(opener: ShardOpener): void {
  defaultShardOpener = opener;
}

/** True when `location` ends in `.picpac.json`, the name a shard manifest must have. */
export function isShardManifestPath(location: string): boolean {
  return location.endsWith('.picpac.json');
}

/** Parse and validate manifest JSON text (`name` for messages). */
export function parseShardManifest(text: string, name: string): ShardManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FormatError(`shard manifest is not JSON (${(err as Error).message})`, { section: 'manifest', byteOffset: 0 }).withFile(name);
  }
  const m = json as ShardManifest;
  const bad = (problem: string, expected?: string, actual?: unknown): never => {
    throw new FormatError(problem, { section: 'manifest', byteOffset: 0, expected, actual: actual === undefined ? undefined : JSON.stringify(actual) }).withFile(name);
  };
  if (typeof m !== 'object' || m === null) bad('manifest is not an object');
  if (m.format !== SHARD_MANIFEST_FORMAT) bad('wrong manifest format', SHARD_MANIFEST_FORMAT, m.format);
  if (m.version !== SHARD_MANIFEST_VERSION) bad('unsupported manifest version', String(SHARD_MANIFEST_VERSION), m.version);
  if (!Array.isArray(m.shards)) bad('shards is not an array');
  m.shards.forEach((s, i) => {
    if (typeof s?.path !== 'string' || s.path === '') bad(`shards[${i}].path is not a non-empty string`);
    const escape = shardPathProblem(s.path);
    if (escape) bad(`shards[${i}].path ${escape}`, 'a relative path inside the manifest directory', s.path);
    if (!Number.isSafeInteger(s.recordCount) || s.recordCount < 0) bad(`shards[${i}].recordCount is not a count`);
    if (!Number.isSafeInteger(s.byteLength) || s.byteLength < 0) bad(`shards[${i}].byteLength is not a byte length`);
  });
  return m;
}

/**
 * Why a manifest's shard path is refused, or undefined when it is fine [SHD-3] [SEC-5]: it must
 * be relative to the manifest's directory, with `/` separators, and must not escape it.
 */
export function shardPathProblem(shardPath: string): string | undefined {
  if (shardPath.startsWith('/') || /^[A-Za-z]:/.test(shardPath)) return 'is absolute';
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(shardPath)) return 'is a URL';
  if (shardPath.includes('\\')) return 'contains a backslash (use / separators)';
  if (shardPath.split('/').includes('..')) return 'contains a .. segment';
  return undefined;
}

/** Resolve a shard path against the manifest location (a file path, an http(s) or s3:// URL). */
export function resolveShardLocation(manifestLocation: string, shardPath: string): string {
  if (/^(https?|s3):\/\//.test(manifestLocation)) return new URL(shardPath, manifestLocation).href;
  if (/^https?:\/\//.test(shardPath) || path.isAbsolute(shardPath)) return shardPath;
  return path.join(path.dirname(manifestLocation), shardPath);
}

/**
 * Several store files read as one (Store format 'picpac-shards'), as listed by a `.picpac.json`
 * manifest: record indices run across the shards in manifest order. Errors name the shard.
 */
export class ShardedStore implements Store {
  readonly name: string;
  readonly format = 'picpac-shards';
  readonly shards: readonly Store[];
  /** First global record index of each shard, plus the total at the end. */
  private readonly starts: Float64Array;

  private constructor(name: string, shards: Store[]) {
    this.name = name;
    this.shards = shards;
    this.starts = new Float64Array(shards.length + 1);
    shards.forEach((s, i) => (this.starts[i + 1] = this.starts[i] + s.recordCount));
  }

  /** Open every shard listed in the manifest text, checking counts and lengths. */
  static async open(manifestLocation: string, manifestText: string, openShard: ShardOpener): Promise<ShardedStore> {
    const manifest = parseShardManifest(manifestText, manifestLocation);
    const stores: Store[] = [];
    try {
      for (const entry of manifest.shards) {
        const location = resolveShardLocation(manifestLocation, entry.path);
        let opened: { store: Store; byteLength: number };
        try {
          opened = await openShard(location);
        } catch (err) {
          if (err instanceof PicpacError) err.withFile(location);
          throw err;
        }
        stores.push(opened.store);
        if (opened.byteLength !== entry.byteLength) {
          throw new FormatError(`shard ${entry.path} byte length does not match the manifest`, { section: 'manifest', byteOffset: 0, expected: entry.byteLength, actual: opened.byteLength }).withFile(manifestLocation);
        }
        if (opened.store.recordCount !== entry.recordCount) {
          throw new FormatError(`shard ${entry.path} record count does not match the manifest`, { section: 'manifest', byteOffset: 0, expected: entry.recordCount, actual: opened.store.recordCount }).withFile(manifestLocation);
        }
      }
    } catch (err) {
      await Promise.all(stores.map((s) => s.close().catch(() => {})));
      throw err;
    }
    return new ShardedStore(manifestLocation, stores);
  }

  get recordCount(): number {
    return this.starts[this.shards.length];
  }

  /** Which shard holds global record `recordIndex`, and its index there. */
  locate(recordIndex: number): { shardIndex: number; localIndex: number } {
    if (!Number.isInteger(recordIndex) || recordIndex < 0 || recordIndex >= this.recordCount) {
      throw outOfRangeError('recordIndex', `an integer between 0 and ${this.recordCount - 1}`, recordIndex);
    }
    let lo = 0;
    let hi = this.shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= recordIndex) lo = mid;
      else hi = mid - 1;
    }
    return { shardIndex: lo, localIndex: recordIndex - this.starts[lo] };
  }

  meta(recordIndex: number): RecordMeta {
    const { shardIndex, localIndex } = this.locate(recordIndex);
    return { ...this.shards[shardIndex].meta(localIndex), recordIndex };
  }

  async get(recordIndex: number): Promise<StoredRecord> {
    const { shardIndex, localIndex } = this.locate(recordIndex);
    const record = await this.shards[shardIndex].get(localIndex);
    record.recordIndex = recordIndex;
    return record;
  }

  getAnnotation(recordIndex: number): Promise<string | undefined> {
    const { shardIndex, localIndex } = this.locate(recordIndex);
    return this.shards[shardIndex].getAnnotation(localIndex);
  }

  async *scan(options?: ScanOptions): AsyncIterableIterator<StoredRecord> {
    const start = options?.start ?? 0;
    const end = options?.end ?? this.recordCount;
    if (!Number.isInteger(start) || start < 0 || start > this.recordCount) throw outOfRangeError('options.start', `an integer between 0 and ${this.recordCount}`, start);
    if (!Number.isInteger(end) || end < start || end > this.recordCount) throw outOfRangeError('options.end', `an integer between ${start} and ${this.recordCount}`, end);
    for (let s = 0; s < this.shards.length; s++) {
      const first = this.starts[s];
      const localStart = Math.max(0, start - first);
      const localEnd = Math.min(this.shards[s].recordCount, end - first);
      if (localStart >= localEnd) continue;
      for await (const record of this.shards[s].scan({ ...options, start: localStart, end: localEnd })) {
        record.recordIndex += first;
        yield record;
      }
    }
  }

  /** Close every shard. */
  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.close()));
  }
}

/**
 * Write a manifest listing `shardPaths` (stored relative to the manifest). Each shard is opened
 * (openStore by default) to record its count; the byte length comes from the file.
 * @param [options.overwrite=false] replace an existing manifest
 */
export async function writeShardManifest(manifestPath: string, shardPaths: readonly string[], options?: { overwrite?: boolean; openShard?: ShardOpener }): Promise<ShardManifest> {
  const openShard = options?.openShard ?? defaultShardOpener;
  if (!openShard) throw new PicpacError('IO', 'no shard opener registered (import src/engine/open-store.ts or pass options.openShard)');
  if (typeof manifestPath !== 'string' || !isShardManifestPath(manifestPath)) throw invalidParameterError('manifestPath', 'a path ending in .picpac.json', manifestPath);
  if (!Array.isArray(shardPaths) || shardPaths.some((p) => typeof p !== 'string')) throw invalidParameterError('shardPaths', 'an array of paths', shardPaths);
  const shards: ShardEntry[] = [];
  for (const shardPath of shardPaths) {
    const relative = path.relative(path.dirname(manifestPath), shardPath).split(path.sep).join('/');
    if (shardPathProblem(relative)) throw invalidParameterError('shardPaths', "files in the manifest's directory or below it", shardPath);
    const { store } = await openShard(shardPath);
    try {
      shards.push({ path: relative, recordCount: store.recordCount, byteLength: (await stat(shardPath)).size });
    } finally {
      await store.close();
    }
  }
  const manifest: ShardManifest = { format: SHARD_MANIFEST_FORMAT, version: SHARD_MANIFEST_VERSION, shards };
  // Loaded here: rewrite.ts brings node:crypto and the writer lock, which reading a manifest never needs.
  const { writeFileAtomically } = await import('../rewrite.ts');
  await writeFileAtomically(manifestPath, (tmp) => writeFile(tmp, JSON.stringify(manifest, null, 2) + '\n'), { overwrite: options?.overwrite ?? false });
  return manifest;
}

export async function readShardManifestText(location: string): Promise<string> {
  return readFile(location, 'utf8');
}
