// V1Writer: byte identity with files written by the original (which proves the original reader
// accepts ours), the NewRecord mapping, the §1.1.9 hex dump, limits and error paths.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { V1Reader } from '../../../src/engine/v1/v1-reader.ts';
import { V1Writer } from '../../../src/engine/v1/v1-writer.ts';
import { ClosedError, FileExistsError, LimitExceededError, PicpacError, UnfinishedFileError } from '../../../src/errors.ts';
import { SHARED_ABSENT, repoVectors, sharedPresent, sharedVectors } from './v1-vectors.ts';

async function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'v1-writer-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Rewrite `source` record by record, raw or through the typed Store mapping; compare bytes. */
async function assertRewriteIdentical(source: string, via: 'raw' | 'typed'): Promise<void> {
  await withTmp(async (dir) => {
    const reader = await V1Reader.open(source);
    const out = join(dir, 'copy.db');
    const writer = await V1Writer.create(out, { compact: reader.mode === 'compact' });
    for (let i = 0; i < reader.recordCount; i++) {
      if (via === 'raw') await writer.appendV1(await reader.readV1Record(i));
      else await writer.append(await reader.get(i));
    }
    await writer.close();
    await reader.close();
    const [expected, actual] = await Promise.all([readFile(source), readFile(out)]);
    assert.equal(actual.length, expected.length, 'file length');
    assert.ok(actual.equals(expected), 'bytes differ');
  });
}

const REPO_FILES = ['v1-compact.db', 'v1-anno.db', 'v1-empty.db'];
const SHARED_FILES = ['v1-compact.db', 'v1-aligned.db', 'v1-anno.db', 'v1-anno-compact.db', 'v1-fields4.db', 'v1-segments.db', 'v1-empty.db'];

describe('byte identity with the original writer (repo vectors)', () => {
  for (const file of REPO_FILES) {
    for (const via of ['raw', 'typed'] as const) {
      test(`${file} rewritten (${via}) is byte-identical`, () => assertRewriteIdentical(join(repoVectors, file), via));
    }
  }
});

describe('byte identity with the original writer (shared vectors)', { skip: sharedPresent ? false : SHARED_ABSENT }, () => {
  for (const file of SHARED_FILES) {
    for (const via of ['raw', 'typed'] as const) {
      test(`${file} rewritten (${via}) is byte-identical`, () => assertRewriteIdentical(join(sharedVectors, file), via));
    }
  }
});

describe('V1Writer', () => {
  test('REFERENCE §1.1.9: three records, labels 1.5/0/2, aligned → 20480 bytes with the dumped header', async () => {
    await withTmp(async (dir) => {
      const path = join(dir, 'list.db');
      const writer = await V1Writer.create(path, { compact: false });
      for (const [size, label] of [[890, 1.5], [827, 0], [875, 2]]) {
        const jpeg = new Uint8Array(size);
        jpeg.set([0xff, 0xd8, 0xff, 0xe0]);
        await writer.appendV1({ id: 0, label, fields: [jpeg] });
      }
      await writer.close();
      const bytes = await readFile(path);
      assert.equal(bytes.length, 20480);
      const hex = (from: number, to: number): string => bytes.subarray(from, to).toString('hex');
      assert.equal(hex(0, 16), 'ac590001030000000050000000000000');
      assert.equal(hex(0x20, 0x30), '00100000001000000010000000000000');
      assert.equal(hex(0x1010, 0x101c), '0000c03f0000000000000040');
      assert.equal(hex(0x2000, 0x2018), '000000000000c03f01000000000000007a03000000000000');
      assert.equal(hex(0x2040, 0x2044), 'ffd8ffe0');
      const compactPath = join(dir, 'list-compact.db');
      const compact = await V1Writer.create(compactPath, { compact: true });
      for (const size of [890, 827, 875]) await compact.appendV1({ fields: [new Uint8Array(size)] });
      await compact.close();
      const c = await readFile(compactPath);
      assert.equal(c.length, 10976);
      assert.equal(c.subarray(0x20, 0x2c).toString('hex'), 'ba0300007b030000ab030000');
    });
  });

  test('ids default to the record index; indexLabel2 puts label2 in groups[]', async () => {
    await withTmp(async (dir) => {
      const path = join(dir, 'l2.db');
      const writer = await V1Writer.create(path, { indexLabel2: true });
      for (let i = 0; i < 3; i++) assert.equal(await writer.append({ label: 10 + i, label2: -i, fields: [{ kind: 'bytes', bytes: new Uint8Array([i]) }] }), i);
      assert.equal(writer.recordCount, 3);
      await writer.close();
      const reader = await V1Reader.open(path);
      assert.deepEqual([0, 1, 2].map((i) => [reader.meta(i).id, reader.meta(i).label, reader.group(i)]), [[0, 10, -0], [1, 11, -1], [2, 12, -2]]);
      await reader.close();
    });
  });

  // [V1-6] 2.0 → 1.0: fields in order, annotation inserted at slot 1, else the label moves there.
  test('annotation goes to slot 1; a label image moves to slot 1 when there is no annotation [V1-6]', async () => {
    await withTmp(async (dir) => {
      const path = join(dir, 'map.db');
      const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 4, 0, 0, 0, 3);
      const extra = new Uint8Array([7, 7]);
      const writer = await V1Writer.create(path);
      await writer.append({ fields: [{ kind: 'image', bytes: png }, { kind: 'bytes', bytes: extra }], annotation: '{"shapes":[]}' });
      await writer.append({ fields: [{ kind: 'image', bytes: png }, { kind: 'bytes', bytes: extra }, { kind: 'label', bytes: png }] });
      await writer.append({ fields: [], annotation: '{}' });
      await writer.close();
      const reader = await V1Reader.open(path);
      const slots = async (i: number): Promise<number[]> => (await reader.readRawFields(i)).map((f) => f.length);
      assert.deepEqual(await slots(0), [24, 13, 2]);
      assert.deepEqual(await slots(1), [24, 24, 2]);
      assert.deepEqual(await slots(2), [0, 2]);
      const r1 = await reader.get(1);
      assert.deepEqual(r1.fields.map((f) => `${f.kind}:${f.type}:${f.width}x${f.height}`), ['image:image/png:4x3', 'label:label/png:4x3', 'bytes:bytes:0x0']);
      const r0 = await reader.get(0);
      assert.equal(r0.annotation, '{"shapes":[]}');
      assert.equal(r0.annotationSlot, 1);
      await reader.close();
    });
  });

  // [V1-6] what 1.0 cannot hold is refused, never dropped: > 6 slots, id > 2^32-1, label2 not i16,
  // label beyond f32, an annotation 1.0 would not recognise.
  test('limits and argument errors: > 6 slots, bad id/label2, non-JSON annotation [V1-6]', async () => {
    await withTmp(async (dir) => {
      const writer = await V1Writer.create(join(dir, 'x.db'));
      const f = { kind: 'bytes' as const, bytes: new Uint8Array(1) };
      await assert.rejects(writer.append({ fields: [f, f, f, f, f, f, f] }), LimitExceededError);
      await assert.rejects(writer.append({ fields: [f, f, f, f, f, f], annotation: '{}' }), (e: unknown) => e instanceof LimitExceededError && e.recordIndex === 0);
      await assert.rejects(writer.append({ id: 2 ** 32, fields: [f] }), RangeError);
      await assert.rejects(writer.append({ id: 1.5, fields: [f] }), TypeError);
      await assert.rejects(writer.append({ label2: 40000, fields: [f] }), RangeError);
      await assert.rejects(writer.append({ label2: 1.5, fields: [f] }), TypeError);
      await assert.rejects(writer.append({ label: 1e39, fields: [f] }), RangeError);
      await assert.rejects(writer.append({ fields: [f], annotation: '[1]' }), TypeError);
      await assert.rejects(writer.append({ fields: [{ kind: 'bytes', bytes: [1] as unknown as Uint8Array }] }), TypeError);
      assert.equal(writer.recordCount, 0, 'failed appends consume no index');
      assert.equal(await writer.append({ fields: [f] }), 0);
      await writer.close();
    });
  });

  test('setAnnotation is refused with a PicpacError; use after close is ClosedError; close is idempotent', async () => {
    await withTmp(async (dir) => {
      const writer = await V1Writer.create(join(dir, 'x.db'));
      await writer.append({ fields: [] });
      await assert.rejects(writer.setAnnotation(0, '{}'), (e: unknown) => e instanceof PicpacError && /no side index/.test(e.message));
      await writer.flush({ fsync: true });
      await writer.close();
      await writer.close();
      await assert.rejects(writer.append({ fields: [] }), ClosedError);
      await assert.rejects(writer.flush(), ClosedError);
    });
  });

  test('an existing file is a FileExistsError unless overwrite', async () => {
    await withTmp(async (dir) => {
      const path = join(dir, 'x.db');
      await writeFile(path, 'precious');
      await assert.rejects(V1Writer.create(path), FileExistsError);
      assert.equal(await readFile(path, 'utf8'), 'precious');
      const writer = await V1Writer.create(path, { overwrite: true });
      await writer.close();
      assert.ok((await readFile(path)).equals(await readFile(join(repoVectors, 'v1-empty.db'))), 'empty writer = v1-empty.db');
      await assert.rejects(V1Writer.create(path, { compact: 'yes' as unknown as boolean }), TypeError);
    });
  });

  // [V1-4] what a crashed writer leaves: strict open refuses, recovery returns every record.
  test('a writer killed mid-segment leaves what the original leaves: strict refuses, recover reads all [V1-4]', async () => {
    await withTmp(async (dir) => {
      const path = join(dir, 'live.db');
      const writer = await V1Writer.create(path, { compact: false });
      for (let i = 0; i < 1025; i++) await writer.appendV1({ label: i % 3, fields: [new Uint8Array([i & 255])] });
      await copyFile(path, join(dir, 'killed.db'));
      await writer.close();
      await assert.rejects(V1Reader.open(join(dir, 'killed.db')), (e: unknown) => e instanceof UnfinishedFileError && e.byteOffset === 8192 + 1020 * 4096);
      const reader = await V1Reader.open(join(dir, 'killed.db'), { recover: true });
      assert.equal(reader.recordCount, 1025);
      assert.deepEqual([...(await reader.readRawFields(1024))[0]], [1024 & 255]);
      await reader.close();
      const clean = await V1Reader.open(path);
      assert.equal(clean.recordCount, 1025);
      await clean.close();
    });
  });
});
