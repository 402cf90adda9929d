// Sniff-and-dispatch (Arrow's RecordBatchReader.from): one entry point that opens whatever a
// path or URL holds — a 2.0 file, a PicPac 1.0 file, a shard manifest — as a Store.
import { readdir, readFile, stat } from 'node:fs/promises';

import { FormatError, PicpacError, invalidParameterError } from '../errors.ts';
import { SIGNATURE } from '../format/layout.ts';
import type { ByteSource } from './sources/byte-source.ts';
import './picpac/crc-native.ts'; // native CRC-32C, loaded once enough bytes are hashed
import { FileSource } from './sources/file-source.ts';
import { checkRegularFile, openRegularFile } from './sources/regular-file.ts';
import { isS3Url } from './sources/s3-client.ts';
import type { HttpSourceOptions } from './sources/http-source.ts';
import { PicpacReader } from './picpac/picpac-reader.ts';
import type { PicpacReaderOptions } from './picpac/picpac-reader.ts';
import { ShardedStore, isShardManifestPath, registerShardOpener } from './sources/shards.ts';
import type { Store } from './store.ts';


/** Options of {@link openStore}: the {@link PicpacReaderOptions}, plus options for http(s) sources. */
export interface OpenStoreOptions extends PicpacReaderOptions {
  /** Options for http(s) sources. */
  http?: HttpSourceOptions;
}

/** First bytes of a PicPac 1.0 file: segment magic AC 59, version 00 01. */
const V1_SIGNATURE = Uint8Array.of(0xac, 0x59, 0x00, 0x01);

/** What a file's first bytes say it is: a .picpac 2.0 file, a PicPac 1.0 file, or neither. */
export type StoreKind = 'picpac-2' | 'picpac-1' | 'unknown';

/** What the first bytes say the file is. */
export function sniffStoreKind(firstBytes: Uint8Array): StoreKind {
  if (startsWith(firstBytes, SIGNATURE)) return 'picpac-2';
  if (startsWith(firstBytes, V1_SIGNATURE)) return 'picpac-1';
  return 'unknown';
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** What a local file holds, from its first 8 bytes (a FIFO or device is refused, never opened blocking). */
export async function sniffFileKind(path: string): Promise<StoreKind> {
  const { handle } = await openRegularFile(path, 'r');
  try {
    const first = new Uint8Array(8);
    const { bytesRead } = await handle.read(first, 0, 8, 0);
    return sniffStoreKind(first.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/** A remote location: http(s):// or s3://. */
export function isUrl(location: string): boolean {
  return /^(https?|s3):\/\//i.test(location);
}

// The http(s), s3:// and PicPac 1.0 modules load when a location needs them: together with
// what they import (node:http, node:https, node:crypto) they are ~20 ms of a local `picpac
// stat`, whose start-up budget is 150 ms (issue 11).
const loadHttpSource = async () => (await import('./sources/http-source.ts')).HttpSource;
const loadS3Source = async () => (await import('./sources/s3-source.ts')).S3Source;

/** Open the byte source behind a path or URL (s3:// through the optional AWS SDK). */
export async function openByteSource(location: string, options?: { http?: HttpSourceOptions }): Promise<ByteSource> {
  if (isS3Url(location)) return (await loadS3Source()).open(location);
  return isUrl(location) ? (await loadHttpSource()).open(location, options?.http) : FileSource.open(location);
}

/**
 * Open a store: a .picpac 2.0 file, a PicPac 1.0 file, a `.picpac.json` shard manifest, local,
 * over http(s) or on s3://, or a local LMDB directory (LmdbStore, 'lmdb-encoded' | 'lmdb-raw'). The store owns the source and closes it.
 * @param [options.recover=false] read what a crashed writer left (2.0 and 1.0)
 * @param [options.verifyChecksums=true] and the other PicpacReader limits
 */
export async function openStore(location: string, options?: OpenStoreOptions): Promise<Store> {
  if (typeof location !== 'string' || location === '') throw invalidParameterError('location', 'a non-empty path or URL', location);
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw invalidParameterError('options', 'an object', options);
  if (isShardManifestPath(location)) {
    const text = isUrl(location) ? await readUrlText(location, options) : await readFile(location, 'utf8');
    return ShardedStore.open(location, text, (shard) => openShard(shard, options));
  }
  if (!isUrl(location)) {
    let info;
    try {
      info = await stat(location);
    } catch (err) {
      throw new PicpacError('IO', `cannot open ${location}: ${(err as Error).message}`, { cause: err });
    }
    if (info.isDirectory()) {
      const names = await readdir(location);
      if (names.includes('data.mdb')) return (await import('./lmdb/lmdb-store.ts')).LmdbStore.open(location); // an LMDB environment (lmdb-layout.ts); lmdb loads only here
      throw new PicpacError('IO', `${location} is a directory, not a store`);
    }
    if (!info.isFile()) await checkRegularFile(location); // FIFO, device, socket: refused, never opened

  }
  return openSourceStore(await openByteSource(location, options), options);
}

/** Remote sources: the first bytes are read once and serve the sniff and the header read. */
const REMOTE_PREFIX_BYTES = 256 << 10;

class PrefixSource implements ByteSource {
  constructor(
    private readonly source: ByteSource,
    private readonly prefix: Uint8Array,
  ) {}
  get name(): string {
    return this.source.name;
  }
  get byteLength(): number {
    return this.source.byteLength;
  }
  read(byteOffset: number, byteLength: number): Promise<Uint8Array> {
    const end = Math.min(byteOffset + byteLength, this.source.byteLength);
    if (end <= this.prefix.length) return Promise.resolve(this.prefix.subarray(byteOffset, Math.max(byteOffset, end)));
    return this.source.read(byteOffset, byteLength);
  }
  refresh(): Promise<number> {
    return this.source.refresh();
  }
  close(): Promise<void> {
    return this.source.close();
  }
}

async function openShard(location: string, options?: OpenStoreOptions): Promise<{ store: Store; byteLength: number }> {
  const source = await openByteSource(location, options);
  const byteLength = source.byteLength;
  return { store: await openSourceStore(source, options), byteLength };
}

registerShardOpener((location) => openShard(location));

/** Open a store over a source it then owns (closed on failure). */
export async function openSourceStore(source: ByteSource, options?: OpenStoreOptions): Promise<Store> {
  try {
    // s3:// objects are read by range, often by several ranks that each need a share of the
    // records: no prefix read (the reader still reads a small file whole).
    if (!(source instanceof FileSource) && !(source instanceof (await loadS3Source()))) {
      // One request serves the sniff, the header and, for small files, everything (the file is append-only: a prefix never changes).
      const prefix = await source.read(0, Math.min(source.byteLength, REMOTE_PREFIX_BYTES));
      source = new PrefixSource(source, prefix);
    }
    const first = await source.read(0, 8);
    const kind = sniffStoreKind(first);
    const readerOptions: PicpacReaderOptions = { ...options };
    delete (readerOptions as OpenStoreOptions).http;
    if (kind === 'picpac-2' || (first.length < SIGNATURE.length && startsWith(SIGNATURE, first) && options?.recover)) {
      const reader = await PicpacReader.open(source, readerOptions);
      return ownSource(reader, source);
    }
    if (kind === 'picpac-1') {
      const { V1Reader } = await import('./v1/v1-reader.ts');
      return ownSource(await V1Reader.open(source, { recover: options?.recover ?? false }), source);
    }
    throw new FormatError('not a picpac store (unknown signature)', {
      section: 'header',
      byteOffset: 0,
      expected: 'a picpac 2.0 signature (89 50 50 43 ...) or a 1.0 segment header (ac 59 00 01)',
      actual: Array.from(first, (b) => b.toString(16).padStart(2, '0')).join(' '),
    }).withFile(source.name);
  } catch (err) {
    await source.close().catch(() => {});
    throw err;
  }
}

/** Readers given a ByteSource do not close it; make close() release it too. */
function ownSource<T extends Store>(store: T, source: ByteSource): T {
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await source.close();
  };
  return store;
}

async function readUrlText(location: string, options?: OpenStoreOptions): Promise<string> {
  if (isS3Url(location)) {
    // Through S3Source, so that the node-local cache (keyed by ETag) serves a known manifest too.
    const source = await (await loadS3Source()).open(location);
    try {
      return new TextDecoder().decode(await source.read(0, source.byteLength));
    } finally {
      await source.close();
    }
  }
  const source = await (await loadHttpSource()).open(location, options?.http);
  try {
    return new TextDecoder().decode(await source.read(0, source.byteLength));
  } finally {
    await source.close();
  }
}

export { writeShardManifest } from './sources/shards.ts';
