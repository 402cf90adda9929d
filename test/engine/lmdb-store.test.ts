// LmdbStore / LmdbWriter specifics beyond the conformance suite: the layout (keys, meta, index
// entries), error paths (not LMDB, not picpac, wrong layout version, refusals to overwrite),
// argument validation, and isLmdbDirectory.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { open } from 'lmdb';
import { FileExistsError, FormatError, PicpacError } from '../../src/errors.ts';
import { LmdbStore, LmdbWriter } from '../../src/engine/lmdb/lmdb-store.ts';
import { isLmdbDirectory, lmdbDataFormat } from '../../src/engine/lmdb/lmdb-detect.ts';
import { openLmdbEnv } from '../../src/engine/lmdb/lmdb-env.ts';
import { INDEX_ENTRY, LMDB_META_KEY, decodeRecordKey, recordKey } from '../../src/engine/lmdb/lmdb-layout.ts';
import { decodeRecordPayload } from '../../src/format/record.ts';
import { TensorDType } from '../../src/format/layout.ts';
import { encodeTensor } from '../../src/format/tensor.ts';
import { tempDir } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir('picpac-lmdb-')));
after(() => cleanup());

describe('LMDB layout', () => {
  test('keys are 4-byte big-endian record indexes (byte order = record order)', () => {
    assert.deepEqual(recordKey(0x01020304), Uint8Array.of(1, 2, 3, 4));
    assert.equal(decodeRecordKey(recordKey(0xfffffffe)), 0xfffffffe);
    assert.ok(Buffer.compare(Buffer.from(recordKey(255)), Buffer.from(recordKey(256))) < 0);
  });

  test('records hold the format 2.0 record payload; index entries are 40 bytes; meta is JSON', async () => {
    const path = join(dir, 'layout.lmdb');
    const w = await LmdbWriter.create(path, { mode: 'encoded', noSync: true });
    await w.append({ id: 7, label: 2.5, label2: -1, fields: [{ kind: 'bytes', bytes: Uint8Array.of(1, 2, 3) }], annotation: '{"a":1}' });
    await w.close();
    const env = await openLmdbEnv(path, { readOnly: true });
    try {
      assert.deepEqual(env.meta.get(LMDB_META_KEY), { format: 'picpac-lmdb', formatVersion: 1, mode: 'encoded', recordCount: 1 });
      const payload = env.records.getBinary(recordKey(0))!;
      const decoded = decodeRecordPayload(new Uint8Array(payload), 0, 0);
      assert.deepEqual([decoded.id, decoded.label, decoded.label2, decoded.fields.length], [7, 2.5, -1, 1]);
      assert.equal(env.index.getBinary(recordKey(0))!.length, INDEX_ENTRY.entryByteLength);
      assert.equal(Buffer.from(env.annotations.getBinary(recordKey(0))!).toString(), '{"a":1}');
    } finally {
      await env.root.close();
    }
  });

  test('a raw store records its pixel layout; meta width/height come from the tensor shape', async () => {
    const path = join(dir, 'raw-layout.lmdb');
    const w = await LmdbWriter.create(path, { mode: 'raw', noSync: true });
    await w.append({ fields: [{ kind: 'tensor', codec: TensorDType.uint8, bytes: encodeTensor({ dtype: TensorDType.uint8, shape: [2, 3, 3], data: new Uint8Array(18) }) }] });
    await w.close();
    const store = await LmdbStore.open(path);
    assert.equal(store.format, 'lmdb-raw');
    assert.match(store.info.pixelLayout ?? '', /HWC uint8/);
    assert.deepEqual([store.meta(0).width, store.meta(0).height, store.meta(0).imageCodec], [3, 2, 0]);
    await store.close();
  });
});

describe('LMDB errors', () => {
  test('a directory without data.mdb is not an LMDB store', async () => {
    const path = join(dir, 'empty-dir');
    await mkdir(path);
    assert.equal(isLmdbDirectory(path), false);
    assert.equal(isLmdbDirectory(join(dir, 'missing')), false);
    await assert.rejects(LmdbStore.open(path), (err: unknown) => err instanceof PicpacError && /not an LMDB directory/.test(err.message));
    await assert.rejects(LmdbWriter.append(path), PicpacError);
  });

  test('an LMDB environment without picpac meta (a Caffe LMDB) is a FormatError naming it', async () => {
    const path = join(dir, 'caffe');
    const env = open({ path, noSubdir: false });
    await env.put('00000000', 'datum');
    await env.close();
    assert.equal(isLmdbDirectory(path), true);
    await assert.rejects(LmdbStore.open(path), (err: unknown) => err instanceof FormatError && err.section === 'lmdb-meta' && err.message.includes(path));
  });

  test('an unknown layout version is an UNSUPPORTED_VERSION FormatError', async () => {
    const path = join(dir, 'future.lmdb');
    await (await LmdbWriter.create(path, { mode: 'encoded', noSync: true })).close();
    const env = await openLmdbEnv(path, { readOnly: false });
    await env.meta.put(LMDB_META_KEY, { format: 'picpac-lmdb', formatVersion: 9, mode: 'encoded', recordCount: 0 });
    await env.root.close();
    await assert.rejects(LmdbStore.open(path), (err: unknown) => err instanceof FormatError && err.code === 'UNSUPPORTED_VERSION');
  });

  test('create refuses an existing store without overwrite, and foreign files even with it', async () => {
    const path = join(dir, 'exists.lmdb');
    await (await LmdbWriter.create(path, { mode: 'encoded', noSync: true })).close();
    await assert.rejects(LmdbWriter.create(path, { mode: 'encoded' }), FileExistsError);
    const replaced = await LmdbWriter.create(path, { mode: 'raw', overwrite: true, noSync: true });
    await replaced.close();
    assert.equal((await LmdbStore.open(path).then(async (s) => [s.format, await s.close()]))[0], 'lmdb-raw');
    const foreign = join(dir, 'foreign');
    await mkdir(foreign);
    await writeFile(join(foreign, 'notes.txt'), 'mine');
    await assert.rejects(LmdbWriter.create(foreign, { mode: 'encoded', overwrite: true }), /holds files other than an LMDB store/);
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    await assert.rejects(LmdbWriter.create(file, { mode: 'encoded', overwrite: true }), FileExistsError);
  });

  test('argument errors use the sharp sentence', async () => {
    await assert.rejects(LmdbWriter.create(join(dir, 'bad'), { mode: 'jpeg' as never }), {
      name: 'TypeError',
      message: `Expected 'encoded' or 'raw' for options.mode but received "jpeg" of type string`,
    });
    await assert.rejects(LmdbWriter.create('', { mode: 'raw' }), TypeError);
    await assert.rejects(LmdbStore.open(''), TypeError);
    const w = await LmdbWriter.create(join(dir, 'args.lmdb'), { mode: 'encoded', noSync: true });
    await assert.rejects(w.append({ fields: [{ kind: 'pixels' as never, bytes: new Uint8Array(1) }] }), TypeError);
    await assert.rejects(w.append({ id: -1, fields: [] }), TypeError);
    await assert.rejects(w.setAnnotation(0, '{}'), RangeError);
    await assert.rejects(w.flush({ fsync: 'yes' as never }), TypeError);
    await w.append({ fields: [] });
    await assert.rejects(w.setAnnotation(0, 5 as never), TypeError);
    await w.flush({ fsync: true });
    await w.close();
    await w.close();
  });

  test('a raw store refuses a non-uint8 tensor or a wrong-rank tensor in field 0', async () => {
    const w = await LmdbWriter.create(join(dir, 'raw-refuse.lmdb'), { mode: 'raw', noSync: true });
    const f32 = encodeTensor({ dtype: TensorDType.float32, shape: [1, 1, 3], data: new Uint8Array(12) });
    await assert.rejects(w.append({ fields: [{ kind: 'tensor', codec: TensorDType.float32, bytes: f32 }] }), TypeError);
    const rank2 = encodeTensor({ dtype: TensorDType.uint8, shape: [2, 2], data: new Uint8Array(4) });
    await assert.rejects(w.append({ fields: [{ kind: 'tensor', codec: TensorDType.uint8, bytes: rank2 }] }), TypeError);
    await assert.rejects(w.append({ fields: [] }), TypeError);
    assert.equal(w.recordCount, 0);
    await w.close();
  });

  test('the store sees the records committed when it was opened, not later appends', async () => {
    const path = join(dir, 'snapshot.lmdb');
    const w = await LmdbWriter.create(path, { mode: 'encoded', noSync: true });
    await w.append({ fields: [] });
    const store = await LmdbStore.open(path);
    await w.append({ fields: [] });
    await w.close();
    assert.equal(store.recordCount, 1);
    let scanned = 0;
    for await (const _ of store.scan()) scanned++;
    assert.equal(scanned, 1);
    await store.close();
  });
});

describe('a damaged data.mdb is a FormatError, never a crash (LMDB trusts its pages)', () => {
  async function damaged(name: string, mutate: (bytes: Uint8Array) => Uint8Array): Promise<string> {
    const path = join(dir, `${name}.lmdb`);
    const w = await LmdbWriter.create(path, { mode: 'encoded', noSync: true });
    for (let i = 0; i < 20; i++) void w.append({ fields: [{ kind: 'bytes', bytes: new Uint8Array(6000).fill(i) }] });
    await w.close();
    const { readFile } = await import('node:fs/promises');
    const bytes = new Uint8Array(await readFile(join(path, 'data.mdb')));
    await writeFile(join(path, 'data.mdb'), mutate(bytes));
    return path;
  }
  // The page header is 16 bytes in LMDB 0.9 files (data format 1) and 24 in LMDB 1.0 files (2).
  const pageHeader = lmdbDataFormat() === 1 ? 16 : 24;
  const otherFormat = lmdbDataFormat() === 1 ? { name: 'LMDB 1.0', pageHeader: 24, version: 2 } : { name: 'LMDB 0.9, e.g. Caffe', pageHeader: 16, version: 1 };
  const cases: Array<[string, (b: Uint8Array) => Uint8Array, RegExp]> = [
    ['empty', () => new Uint8Array(0), /shorter than its two meta pages/],
    ['one page', (b) => b.subarray(0, 4096), /shorter than its two meta pages/],
    ['truncated', (b) => b.subarray(0, b.length >> 1), /truncated/],
    ['garbage', (b) => b.map((_, i) => (i * 131) & 0xff), /not an LMDB data file|no valid LMDB meta page/],
    ['bad page size', (b) => { const c = b.slice(); new DataView(c.buffer).setUint32(pageHeader + 24, 3000, true); return c; }, /bad LMDB page size/],
    [`the other LMDB data format (${otherFormat.name})`, (b) => { const c = new Uint8Array(b.length); const v = new DataView(c.buffer); v.setUint32(otherFormat.pageHeader, 0xbeefc0de, true); v.setUint32(otherFormat.pageHeader + 4, otherFormat.version, true); return c; }, /data format \(version \d\): the loaded lmdb-js reads/],
  ];
  for (const [name, mutate, message] of cases) {
    test(name, async () => {
      const path = await damaged(name.replace(/\W+/g, '-'), mutate);
      await assert.rejects(LmdbStore.open(path), (err: unknown) => err instanceof FormatError && err.section === 'lmdb-file' && message.test(err.message) && err.message.includes(path));
      await assert.rejects(LmdbWriter.append(path), FormatError);
    });
  }
});
