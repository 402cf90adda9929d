// The LMDB stores picpac writes are readable by the LMDB everyone has: Debian's lmdb-utils
// (mdb_stat, mdb_dump, LMDB 0.9.24) and python3-lmdb, reading by docs/lmdb.md alone
// (test/engine/fixtures/lmdb_read.py). This needs lmdb-js built for LMDB data format 1
// (`npm run build:lmdb-data-v1`, which .ci/run does); the npm prebuilt writes LMDB 1.0 files,
// which these tools refuse ("MDB_INVALID").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LmdbStore, LmdbWriter } from '../../src/engine/lmdb/lmdb-store.ts';
import { lmdbDataFormat } from '../../src/engine/lmdb/lmdb-detect.ts';
import { encodeTensor } from '../../src/format/tensor.ts';
import { TensorDType } from '../../src/format/layout.ts';
import type { NewRecord, StoredRecord } from '../../src/engine/store.ts';
import { tempDir } from './helpers.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const jpeg = (name: string) => new Uint8Array(readFileSync(join(here, '../vectors/v2/src', name)));
const python = '/usr/bin/python3'; // Debian's python3: python3-lmdb is installed for it, not for pyenv's

function missing(): string | undefined {
  if (spawnSync('mdb_stat', ['-V']).status !== 0) return 'mdb_stat not found (apt-get install lmdb-utils)';
  if (spawnSync(python, ['-c', 'import lmdb']).status !== 0) return `${python} cannot import lmdb (apt-get install python3-lmdb)`;
  if (lmdbDataFormat() !== 1) {
    const why = 'lmdb-js is the npm prebuilt (LMDB 1.0 data format): run `npm run build:lmdb-data-v1`';
    if (process.env.CI) throw new Error(`CI must build lmdb-js for LMDB data format 1: ${why}`);
    return why;
  }
  return undefined;
}
const skip = missing();
if (skip) console.log(`# skipping the Debian LMDB tool tests: ${skip}`);

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface PyRecord {
  index: number;
  id: number;
  label: number;
  label2: number;
  fields: Array<{ kind: number; codec: number; size: number; width: number; height: number; sha256: string }>;
  annotation: string | null;
  entry: { id: number; label: number; label2: number; width: number; height: number; byteLength: number; imageCodec: number; annotated: boolean; fieldCount: number };
}

const KIND_CODES: Record<string, number> = { image: 1, label: 2, tensor: 3, bytes: 4 };

/** What lmdb_read.py should print for a record, from picpac's own reader. */
function expected(r: StoredRecord): Omit<PyRecord, 'entry'> {
  return {
    index: r.recordIndex,
    id: r.id,
    label: r.label,
    label2: r.label2,
    fields: r.fields.map((f) => ({ kind: KIND_CODES[f.kind], codec: f.codec, size: f.bytes.length, width: f.width, height: f.height, sha256: sha256(f.bytes) })),
    annotation: r.annotation ?? null,
  };
}

describe('Debian LMDB 0.9 tools read what convert --to lmdb-* writes', { skip }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir('picpac-lmdb-tools-')));
  after(async () => cleanup?.());

  const records: NewRecord[] = [
    { id: 7, label: 1.5, label2: -2, fields: [{ kind: 'image', bytes: jpeg('00000.jpg') }], annotation: '{"shapes":[{"type":"rect","label":1,"geometry":{"x":0.1,"y":0.2,"width":0.3,"height":0.4}}],"note":"é中"}' },
    { id: 2 ** 53 - 1, label: 0, label2: 3, fields: [{ kind: 'image', bytes: jpeg('00001.jpg') }, { kind: 'bytes', bytes: new Uint8Array([1, 2, 3]) }], annotation: '{"shapes":[]}' },
    { id: 9, label: 2, label2: 0, fields: [{ kind: 'image', bytes: jpeg('00002.jpg') }] },
  ];

  async function writeEncoded(path: string): Promise<void> {
    const w = await LmdbWriter.create(path, { mode: 'encoded' });
    for (const r of records) await w.append(r);
    await w.setAnnotation(1, undefined); // removal deletes the key and clears the index flag
    await w.close();
  }

  test('mdb_stat -a lists the four databases with their entry counts', async () => {
    const path = join(dir, 'stat.lmdb');
    await writeEncoded(path);
    const out = execFileSync('mdb_stat', ['-a', path], { encoding: 'utf8' });
    const entries = Object.fromEntries([...out.matchAll(/Status of (\S+(?: DB)?)\n(?:.*\n){4}\s*Entries: (\d+)/g)].map((m) => [m[1], Number(m[2])]));
    assert.deepEqual(entries, { 'Main DB': 4, annotations: 1, index: 3, meta: 1, records: 3 });
  });

  test('mdb_dump -s records gives every record payload byte for byte, keyed by big-endian record index', async () => {
    const path = join(dir, 'dump.lmdb');
    await writeEncoded(path);
    const out = execFileSync('mdb_dump', ['-s', 'records', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const lines = out.split('\n');
    const data = lines.slice(lines.indexOf('HEADER=END') + 1, lines.indexOf('DATA=END')).map((l) => Buffer.from(l.trim(), 'hex'));
    assert.equal(data.length, 2 * records.length);
    const store = await LmdbStore.open(path);
    try {
      for (let i = 0; i < records.length; i++) {
        assert.equal(data[2 * i].readUInt32BE(0), i);
        const r = await store.get(i);
        const value = data[2 * i + 1];
        assert.equal(Number(value.readBigUInt64LE(0)), r.id);
        assert.equal(value.readDoubleLE(8), r.label);
        assert.equal(value.readUInt16LE(24), r.fields.length);
        const fieldBytes = value.subarray(32 + 16 * r.fields.length);
        assert.equal(sha256(fieldBytes), sha256(Buffer.concat(r.fields.map((f) => f.bytes))));
      }
    } finally {
      await store.close();
    }
  });

  test('python3-lmdb reads meta, records, index entries and annotations as docs/lmdb.md states', async () => {
    const path = join(dir, 'py.lmdb');
    await writeEncoded(path);
    const py = JSON.parse(execFileSync(python, [join(here, 'fixtures/lmdb_read.py'), path], { encoding: 'utf8', maxBuffer: 64 << 20 }));
    assert.deepEqual(py.lmdbVersion.slice(0, 2), [0, 9]);
    assert.deepEqual(py.meta, { format: 'picpac-lmdb', formatVersion: 1, mode: 'encoded', recordCount: 3 });
    const store = await LmdbStore.open(path);
    try {
      assert.equal(py.records.length, store.recordCount);
      for (const rec of py.records as PyRecord[]) {
        const r = await store.get(rec.index);
        const { entry, ...rest } = rec;
        assert.deepEqual(rest, expected(r));
        assert.deepEqual(entry, { id: r.id, label: r.label, label2: r.label2, width: r.width, height: r.height, byteLength: entry.byteLength, imageCodec: r.imageCodec, annotated: r.hasAnnotation, fieldCount: r.fieldCount });
        assert.equal(entry.annotated, rec.annotation !== null);
      }
      assert.equal((py.records as PyRecord[])[1].annotation, null);
      assert.equal((py.records as PyRecord[])[1].entry.id, 2 ** 53 - 1); // f64 holds the u64 id exactly
    } finally {
      await store.close();
    }
  });

  test('a raw store: field 0 is a uint8 [H, W, C] tensor, readable by python3-lmdb', async () => {
    const path = join(dir, 'raw.lmdb');
    const pixels = Uint8Array.from({ length: 2 * 3 * 3 }, (_, i) => i * 7);
    const w = await LmdbWriter.create(path, { mode: 'raw' });
    await w.append({ id: 1, label: 4, fields: [{ kind: 'tensor', codec: TensorDType.uint8, bytes: encodeTensor({ dtype: TensorDType.uint8, shape: [2, 3, 3], data: pixels }) }] });
    await w.close();
    const py = JSON.parse(execFileSync(python, [join(here, 'fixtures/lmdb_read.py'), path], { encoding: 'utf8' }));
    assert.equal(py.meta.mode, 'raw');
    const [rec] = py.records as PyRecord[];
    assert.deepEqual(rec.fields.map((f) => [f.kind, f.codec, f.width, f.height, f.size]), [[3, TensorDType.uint8, 3, 2, 4 + 4 * 3 + pixels.length]]);
    assert.deepEqual([rec.entry.width, rec.entry.height, rec.entry.imageCodec], [3, 2, 0]);
  });
});
