// Opening the LMDB environment of a picpac LMDB store and its four named databases (layout in
// lmdb-layout.ts). Shared by LmdbStore (read-only) and LmdbWriter.
import type { Database, RootDatabase } from 'lmdb';
import { PicpacError } from '../../errors.ts';
import { missingDependency } from '../../optional-import.ts';
import { LMDB_DB_NAMES, LMDB_META_KEY, parseMeta } from './lmdb-layout.ts';
import type { LmdbMeta } from './lmdb-layout.ts';

// lmdb is an optional peer dependency (docs/package.md): `import 'picpac'` works without it, and
// opening an LMDB store then says what to install. It is loaded on the first open, not when the
// module loads: its native addon (and msgpackr's) cost every `import 'picpac'` ~40 ms otherwise.
let lmdb: Promise<typeof import('lmdb') | Error> | undefined;

async function lmdbOpen(): Promise<typeof import('lmdb').open> {
  lmdb ??= import('lmdb').catch((error: Error) => error);
  const loaded = await lmdb;
  if (loaded instanceof Error) throw missingDependency(loaded, 'LMDB stores') ?? loaded;
  return loaded.open;
}

/** Value passed through untouched: lmdb-js hands `decode` its shared read buffer (no slice). */
const passThrough = {
  encode: (value: Uint8Array): Uint8Array => value,
  decode: (bytes: Uint8Array, byteLength: number): Uint8Array => bytes.subarray(0, byteLength),
};

export interface LmdbEnv {
  root: RootDatabase;
  meta: Database<unknown, string>;
  records: Database<Uint8Array, Uint8Array>;
  /**
   * The records database again, decoding to a view into lmdb-js's shared read buffer (valid
   * until the next read from ANY lmdb database in this thread): scan copies it once.
   */
  recordsView: Database<Uint8Array, Uint8Array>;
  index: Database<Uint8Array, Uint8Array>;
  annotations: Database<Uint8Array, Uint8Array>;
}

export interface OpenEnvOptions {
  readOnly: boolean;
  noSync?: boolean;
}

export async function openLmdbEnv(dir: string, options: OpenEnvOptions): Promise<LmdbEnv> {
  const open = await lmdbOpen();
  let root: RootDatabase;
  try {
    root = open({ path: dir, noSubdir: false, maxDbs: 8, readOnly: options.readOnly, noSync: options.noSync ?? false });
  } catch (err) {
    throw new PicpacError('IO', `cannot open LMDB environment ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const binary = { encoding: 'binary', keyEncoding: 'binary' } as const;
  const meta = root.openDB<unknown, string>({ name: LMDB_DB_NAMES.meta, encoding: 'json' });
  const records = root.openDB<Uint8Array, Uint8Array>({ name: LMDB_DB_NAMES.records, ...binary });
  const recordsView = root.openDB<Uint8Array, Uint8Array>({ name: LMDB_DB_NAMES.records, keyEncoding: 'binary', encoder: passThrough } as never);
  const index = root.openDB<Uint8Array, Uint8Array>({ name: LMDB_DB_NAMES.index, ...binary });
  const annotations = root.openDB<Uint8Array, Uint8Array>({ name: LMDB_DB_NAMES.annotations, ...binary });
  return { root, meta, records, recordsView, index, annotations };
}

/** The meta entry, checked (FormatError when this is not a picpac LMDB store). */
export function readLmdbMeta(env: LmdbEnv | undefined, dir: string): LmdbMeta {
  return parseMeta(env?.meta?.get(LMDB_META_KEY), dir);
}

/** Named databases that do not exist open as undefined in a read-only environment. */
export function hasAllDatabases(env: LmdbEnv): boolean {
  return env.meta !== undefined && env.records !== undefined && env.index !== undefined && env.annotations !== undefined;
}
