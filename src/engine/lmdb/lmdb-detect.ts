// Is this path an LMDB environment directory (data.mdb inside)? And is its data.mdb sane enough
// to hand to LMDB? LMDB maps the file and trusts its pages: an empty, truncated or foreign
// data.mdb crashes the process (SIGSEGV/SIGBUS) instead of failing, so the two meta pages are
// checked here first and problems become FormatErrors.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError } from '../../errors.ts';

export function isLmdbDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory() && existsSync(join(path, 'data.mdb'));
  } catch {
    return false;
  }
}

const MAGIC = 0xbeefc0de;
/** lmdb-js 3 writes LMDB 1.0 files: 24-byte page header (pgno, txnid, pad, flags, lower, upper), data version 2. */
const V1_PAGE_HEADER = 24;
const V1_DATA_VERSION = 2;
/** LMDB 0.9 (the C library Caffe used): 16-byte page header, data version 1. */
const V09_PAGE_HEADER = 16;
/** Offsets inside the meta (after the page header), LMDB 1.0 layout. */
const META = { magic: 0, version: 4, pageSize: 24, lastPage: 120, txnId: 128 } as const;

function fail(file: string, problem: string, byteOffset: number, expected?: string | number, actual?: string | number): FormatError {
  return new FormatError(problem, { section: 'lmdb-file', byteOffset, expected, actual }).withFile(file);
}

/**
 * Check data.mdb of `dir` before LMDB maps it: both meta pages readable, LMDB 1.0 format, and
 * the file as long as the newest meta page says. Throws FormatError (section 'lmdb-file').
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
  if (u32(V09_PAGE_HEADER + META.magic) === MAGIC && u32(V09_PAGE_HEADER + META.version) === 1) {
    throw fail(file, 'LMDB 0.9 data format (e.g. a Caffe LMDB): this build reads LMDB 1.0 files only; convert it with the LMDB 0.9 tools first', V09_PAGE_HEADER, 'LMDB 1.0 (data version 2)', 'LMDB 0.9 (data version 1)');
  }
  if (byteLength < 1024) throw fail(file, 'data.mdb shorter than its two meta pages', byteLength, '>= 2 pages', `${byteLength} bytes`);
  if (u32(V1_PAGE_HEADER + META.magic) !== MAGIC) {
    throw fail(file, 'not an LMDB data file (bad meta magic)', V1_PAGE_HEADER, '0xbeefc0de', `0x${u32(V1_PAGE_HEADER).toString(16)}`);
  }
  const pageSize = u32(V1_PAGE_HEADER + META.pageSize);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    throw fail(file, 'bad LMDB page size', V1_PAGE_HEADER + META.pageSize, 'a power of two in 512..65536', pageSize);
  }
  if (byteLength < 2 * pageSize) throw fail(file, 'data.mdb shorter than its two meta pages', byteLength, `>= ${2 * pageSize} bytes`, byteLength);
  let newest: { txnId: bigint; lastPage: bigint } | undefined;
  for (const page of [0, pageSize]) {
    const m = page + V1_PAGE_HEADER;
    if (m + META.txnId + 8 > head.length || u32(m + META.magic) !== MAGIC) continue;
    if (u32(m + META.version) !== V1_DATA_VERSION) throw fail(file, 'unsupported LMDB data version', m + META.version, V1_DATA_VERSION, u32(m + META.version));
    const txnId = view.getBigUint64(m + META.txnId, true);
    const lastPage = view.getBigUint64(m + META.lastPage, true);
    if (!newest || txnId > newest.txnId) newest = { txnId, lastPage };
  }
  if (!newest) throw fail(file, 'no valid LMDB meta page', V1_PAGE_HEADER, '0xbeefc0de', 'none');
  const needed = (Number(newest.lastPage) + 1) * pageSize;
  if (byteLength < needed) throw fail(file, 'data.mdb truncated (shorter than its last page)', byteLength, `>= ${needed} bytes`, byteLength);
}
