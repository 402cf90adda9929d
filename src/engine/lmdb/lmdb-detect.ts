// Is this path an LMDB environment directory (data.mdb inside)? And is its data.mdb sane enough
// to hand to LMDB? LMDB maps the file and trusts its pages: an empty, truncated or foreign
// data.mdb crashes the process (SIGSEGV/SIGBUS) instead of failing, so the two meta pages are
// checked here first and problems become FormatErrors.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { FormatError, MissingDependencyError } from '../../errors.ts';

/** True when `path` is a directory holding a `data.mdb` file (an LMDB environment; not yet checked to be a picpac one). */
export function isLmdbDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory() && existsSync(join(path, 'data.mdb'));
  } catch {
    return false;
  }
}

const MAGIC = 0xbeefc0de;
/**
 * The two on-disk LMDB data formats. LMDB 0.9.x (Debian's lmdb-utils and python3-lmdb, Caffe):
 * 16-byte page header (pgno, pad, flags, lower, upper), data version 1. LMDB 1.0 (lmdb-js's
 * npm prebuilt, "0.9.90"): 24-byte page header (pgno, txnid, ...), data version 2. The two are
 * mutually unreadable; the meta that follows the page header is laid out alike.
 */
const DATA_FORMATS = {
  1: { pageHeader: 16, name: 'LMDB 0.9 data format (version 1)' },
  2: { pageHeader: 24, name: 'LMDB 1.0 data format (version 2)' },
} as const;
export type LmdbDataFormat = keyof typeof DATA_FORMATS;
/** Offsets inside the meta (after the page header). */
const META = { magic: 0, version: 4, pageSize: 24, lastPage: 120, txnId: 128 } as const;

/**
 * The data format the loaded lmdb-js binary reads and writes: 1 when it was built from its
 * bundled LMDB 0.9 sources (scripts/build-lmdb-data-v1.sh), 2 for the npm prebuilt (LMDB
 * "0.9.90", i.e. 1.0 pre-release, whose patch number is >= 70).
 */
export function lmdbDataFormat(): LmdbDataFormat {
  // lmdb is an optional peer dependency: loaded here, on first use, not when picpac is imported.
  let lmdb: unknown;
  try {
    lmdb = createRequire(import.meta.url)('lmdb');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'MODULE_NOT_FOUND') throw new MissingDependencyError('LMDB stores', ['lmdb'], { cause: error });
    throw error;
  }
  // `version` is exported by lmdb-js (native.js) but missing from its type declarations.
  const lmdbVersion = (lmdb as { version: { major: number; minor: number; patch: number } }).version;
  return lmdbVersion.major === 0 && lmdbVersion.minor === 9 && lmdbVersion.patch < 70 ? 1 : 2;
}

function fail(file: string, problem: string, byteOffset: number, expected?: string | number, actual?: string | number): FormatError {
  return new FormatError(problem, { section: 'lmdb-file', byteOffset, expected, actual }).withFile(file);
}

/**
 * Check data.mdb of `dir` before LMDB maps it: both meta pages readable, in the data format of
 * the loaded lmdb binary, and the file as long as the newest meta page says. Throws FormatError
 * (section 'lmdb-file').
 */
export function checkLmdbDataFile(dir: string): void {
  const file = join(dir, 'data.mdb');
  const byteLength = statSync(file).size;
  const head = new Uint8Array(Math.min(byteLength, 2 * 65536));
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const view = new DataView(head.buffer);
  const u32 = (offset: number) => (offset + 4 <= head.length ? view.getUint32(offset, true) : 0);
  const ours = lmdbDataFormat();
  const other: LmdbDataFormat = ours === 1 ? 2 : 1;
  const { pageHeader } = DATA_FORMATS[ours];
  const otherHeader = DATA_FORMATS[other].pageHeader;
  if (u32(otherHeader + META.magic) === MAGIC && u32(otherHeader + META.version) === other) {
    const hint = other === 1
      ? 'rebuild lmdb-js for it with `npm run build:lmdb-data-v1` (see docs/lmdb.md)'
      : 'this lmdb-js build (scripts/build-lmdb-data-v1.sh) reads LMDB 0.9 files only: convert it with mdb_dump/mdb_load of LMDB 1.0, or reinstall the lmdb prebuilt';
    throw fail(file, `${DATA_FORMATS[other].name}: the loaded lmdb-js reads the ${DATA_FORMATS[ours].name} only; ${hint}`, otherHeader + META.version, DATA_FORMATS[ours].name, DATA_FORMATS[other].name);
  }
  if (byteLength < 1024) throw fail(file, 'data.mdb shorter than its two meta pages', byteLength, '>= 2 pages', `${byteLength} bytes`);
  if (u32(pageHeader + META.magic) !== MAGIC) {
    throw fail(file, 'not an LMDB data file (bad meta magic)', pageHeader, '0xbeefc0de', `0x${u32(pageHeader).toString(16)}`);
  }
  const pageSize = u32(pageHeader + META.pageSize);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    throw fail(file, 'bad LMDB page size', pageHeader + META.pageSize, 'a power of two in 512..65536', pageSize);
  }
  if (byteLength < 2 * pageSize) throw fail(file, 'data.mdb shorter than its two meta pages', byteLength, `>= ${2 * pageSize} bytes`, byteLength);
  let newest: { txnId: bigint; lastPage: bigint } | undefined;
  for (const page of [0, pageSize]) {
    const m = page + pageHeader;
    if (m + META.txnId + 8 > head.length || u32(m + META.magic) !== MAGIC) continue;
    if (u32(m + META.version) !== ours) throw fail(file, 'unsupported LMDB data version', m + META.version, ours, u32(m + META.version));
    const txnId = view.getBigUint64(m + META.txnId, true);
    const lastPage = view.getBigUint64(m + META.lastPage, true);
    if (!newest || txnId > newest.txnId) newest = { txnId, lastPage };
  }
  if (!newest) throw fail(file, 'no valid LMDB meta page', pageHeader, '0xbeefc0de', 'none');
  const needed = (Number(newest.lastPage) + 1) * pageSize;
  if (byteLength < needed) throw fail(file, 'data.mdb truncated (shorter than its last page)', byteLength, `>= ${needed} bytes`, byteLength);
}
