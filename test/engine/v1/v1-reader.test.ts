// V1Reader against every legacy vector (repo golden copies always, ../shared when present), the
// crash files (strict and recover), the Store mapping, and every open/read error path.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemorySource } from '../../../src/engine/sources/byte-source.ts';
import { V1Reader } from '../../../src/engine/v1/v1-reader.ts';
import { ClosedError, FormatError, LimitExceededError, UnfinishedFileError, UnsupportedVersionError } from '../../../src/errors.ts';
import { SEGMENT_HEADER_SIZE } from '../../../src/format/v1/layout.ts';
import { encodeV1Record } from '../../../src/format/v1/record.ts';
import { encodeSegmentHeader } from '../../../src/format/v1/segment.ts';
import {
  SHARED_ABSENT,
  assertMatchesManifest,
  isCrashVector,
  listVectors,
  readManifest,
  repoVectors,
  sha256,
  sharedPresent,
  sharedVectors,
} from './v1-vectors.ts';

/** Offset of the first segment whose header has link 0, by an independent walk. */
function unclosedSegmentOffset(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  for (;;) {
    const link = Number(view.getBigUint64(offset + 8, true));
    if (link === 0) return offset;
    offset = link;
  }
}

function vectorSuite(dir: string): void {
  for (const file of listVectors(dir)) {
    const manifest = readManifest(dir, file);
    const path = join(dir, file);
    if (isCrashVector(manifest)) {
      test(`${file}: strict open throws UnfinishedFileError at the unclosed segment`, async () => {
        const expectedOffset = unclosedSegmentOffset(readFileSync(path));
        await assert.rejects(V1Reader.open(path), (err: unknown) => {
          assert.ok(err instanceof UnfinishedFileError && err instanceof FormatError);
          assert.equal(err.section, 'v1-segment');
          assert.equal(err.byteOffset, expectedOffset);
          assert.match(err.message, new RegExp(`${file}.*at byte ${expectedOffset}`));
          return true;
        });
      });
      // [V1-4] closed segments whole, and the unclosed segment scanned head by head.
      test(`${file}: recover returns every record written before the kill, as the manifest lists [V1-4]`, async () => {
        const reader = await V1Reader.open(path, { recover: true });
        try {
          assert.ok(reader.recordCount >= manifest.closed_segment_records!);
          assert.equal(reader.recovery!.closedSegmentRecords, manifest.closed_segment_records);
          assert.equal(reader.recovery!.problems.length, 1);
          assert.ok(reader.recovery!.problems[0] instanceof UnfinishedFileError);
          await assertMatchesManifest(reader, manifest.records);
          // The goal: all records (the shared files: all 1500 written before the kill).
          const expectedAll = (manifest as { recoverable_records?: number }).recoverable_records ?? manifest.written_before_kill;
          assert.equal(reader.recordCount, expectedAll);
        } finally {
          await reader.close();
        }
      });
    } else {
      for (const recover of [false, true]) {
        test(`${file}: ${recover ? 'recover' : 'strict'} open reads every record as the manifest lists`, async () => {
          const reader = await V1Reader.open(path, { recover });
          try {
            await assertMatchesManifest(reader, manifest.records);
            if (recover) assert.deepEqual(reader.recovery!.problems, []);
            else assert.equal(reader.recovery, undefined);
          } finally {
            await reader.close();
          }
        });
      }
    }
  }
}

describe('golden 1.0 vectors in the repo', () => vectorSuite(repoVectors));
describe('shared legacy 1.0 vectors', { skip: sharedPresent ? false : SHARED_ABSENT }, () => vectorSuite(sharedVectors));

describe('Store mapping', () => {
  // [V1-5] 1.0 → 2.0 mapping: slot 0 image, JSON slot 1 becomes the annotation.
  test('v1-anno.db: field 0 is a JPEG image, field 1 JSON is the annotation (slot 1), not a field [V1-5]', async () => {
    const manifest = readManifest(repoVectors, 'v1-anno.db');
    const reader = await V1Reader.open(join(repoVectors, 'v1-anno.db'));
    try {
      assert.equal(reader.format, 'picpac-1');
      assert.equal(reader.mode, 'aligned');
      for (let i = 0; i < reader.recordCount; i++) {
        const meta = reader.meta(i);
        assert.equal(meta.hasAnnotation, true);
        assert.equal(meta.fieldCount, 1);
        assert.equal(meta.imageCodec, 1);
        assert.equal(meta.byteOffset, SEGMENT_HEADER_SIZE + 4096 * i);
        assert.equal(meta.byteLength, 64 + manifest.records[i].fields[0].size + manifest.records[i].fields[1].size);
        const record = await reader.get(i);
        assert.equal(record.fields.length, 1);
        assert.equal(record.fields[0].kind, 'image');
        assert.equal(record.fields[0].type, 'image/jpeg');
        assert.equal(record.fields[0].width, 96);
        assert.equal(record.fields[0].height, 72);
        assert.equal(record.annotationSlot, 1);
        assert.equal(sha256(new TextEncoder().encode(record.annotation)), manifest.records[i].fields[1].sha256);
        assert.equal(await reader.getAnnotation(i), record.annotation);
        assert.equal(Array.isArray(JSON.parse(record.annotation!).shapes), true);
      }
    } finally {
      await reader.close();
    }
  });

  test('v1-compact.db: no annotation, meta width/height from the JPEG header', async () => {
    const reader = await V1Reader.open(join(repoVectors, 'v1-compact.db'));
    assert.equal(reader.mode, 'compact');
    const meta = reader.meta(3);
    assert.deepEqual([meta.hasAnnotation, meta.fieldCount, meta.width, meta.height, meta.label], [false, 1, 96, 72, 1.5]);
    assert.equal(reader.group(3), 1.5);
    assert.equal(await reader.getAnnotation(3), undefined);
    const record = await reader.get(3);
    assert.equal(record.annotation, undefined);
    assert.equal(record.annotationSlot, undefined);
    await reader.close();
  });

  test('scan() yields what get() returns, across chunk boundaries, and honours start/end', async () => {
    const reader = await V1Reader.open(join(repoVectors, 'crash-compact-small.db'), { recover: true });
    try {
      const got = [];
      for await (const r of reader.scan({ start: 1000, end: 1100, chunkBytes: 1000 })) got.push(r);
      assert.equal(got.length, 100);
      for (const r of got) assert.deepEqual(r, await reader.get(r.recordIndex));
      const all = [];
      for await (const r of reader.scan()) all.push(r.recordIndex);
      assert.equal(all.length, reader.recordCount);
      assert.throws(() => reader.scan({ start: -1 }), RangeError);
      assert.throws(() => reader.scan({ end: reader.recordCount + 1 }), RangeError);
    } finally {
      await reader.close();
    }
  });

  // [V1-5] non-image slots become bytes fields; empty slots are kept in place (no annotation).
  test('empty slots are kept in place, so the slot list is reproducible [V1-5]', async () => {
    const bytes = concat(
      encodeSegmentHeader({ recordCount: 1, link: 8192 + 64 + 5, sizes: [64 + 5], groups: [0] }),
      encodeV1Record({ id: 7, label: 1, label2: -3, fields: [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array([9, 9]), new Uint8Array(0)] }),
    );
    const reader = await V1Reader.open(new MemorySource(bytes));
    const record = await reader.get(0);
    assert.deepEqual(record.fields.map((f) => [f.kind, f.bytes.length]), [['bytes', 3], ['bytes', 0], ['bytes', 2], ['bytes', 0]]);
    assert.equal(record.annotation, undefined);
    assert.equal(record.label2, -3);
    assert.deepEqual((await reader.readRawFields(0)).map((f) => f.length), [3, 0, 2, 0]);
  });

  test('a path and a MemorySource give the same reader; close() then use is ClosedError; bad index is RangeError', async () => {
    const path = join(repoVectors, 'v1-compact.db');
    const a = await V1Reader.open(path);
    const b = await V1Reader.open(new MemorySource(new Uint8Array(readFileSync(path)), path));
    assert.deepEqual(await a.get(5), await b.get(5));
    await b.close();
    await assert.rejects(V1Reader.open(path, { recover: 'yes' as unknown as boolean }), TypeError);
    assert.throws(() => a.meta(40), RangeError);
    assert.throws(() => a.meta(-1), RangeError);
    await a.close();
    await a.close();
    assert.throws(() => a.meta(0), ClosedError);
    await assert.rejects(a.get(0), ClosedError);
  });
});

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One closed segment holding the given records (compact). */
function fileOf(records: Uint8Array[]): Uint8Array {
  const end = SEGMENT_HEADER_SIZE + records.reduce((s, r) => s + r.length, 0);
  const header = encodeSegmentHeader({ recordCount: records.length, link: end, sizes: records.map((r) => r.length), groups: records.map(() => 0) });
  return concat(header, ...records);
}

const rec = (id: number, size = 10): Uint8Array => encodeV1Record({ id, label: id, label2: 0, fields: [new Uint8Array(size).fill(id)] });

async function rejectsFormat(bytes: Uint8Array, check: (err: FormatError) => void, options?: { recover?: boolean }): Promise<void> {
  await assert.rejects(V1Reader.open(new MemorySource(bytes, 'bad.db'), options), (err: unknown) => {
    assert.ok(err instanceof FormatError, String(err));
    assert.match(err.message, /^bad\.db: /);
    check(err);
    return true;
  });
}

// [V1-3] the reader checks segment magic and version, and that the fields fit in sizes[i].
describe('open errors name section, byte offset and record [V1-3]', () => {
  test('bad magic → FormatError at byte 0', async () => {
    const bytes = fileOf([rec(0)]);
    bytes[0] = 0;
    await rejectsFormat(bytes, (e) => assert.deepEqual([e.section, e.byteOffset, e.expected, e.actual], ['v1-segment', 0, '0x59AC', '0x5900']));
  });
  test('bad version → UnsupportedVersionError at byte 2', async () => {
    const bytes = fileOf([rec(0)]);
    bytes[3] = 2;
    await rejectsFormat(bytes, (e) => {
      assert.ok(e instanceof UnsupportedVersionError);
      assert.equal(e.byteOffset, 2);
    });
  });
  test('size > 1020 → FormatError at byte 4', async () => {
    const bytes = fileOf([rec(0)]);
    new DataView(bytes.buffer).setUint16(4, 1021, true);
    await rejectsFormat(bytes, (e) => assert.deepEqual([e.byteOffset, e.actual], [4, 1021]));
  });
  test('link mismatch → FormatError at byte 8 with expected/actual', async () => {
    const bytes = fileOf([rec(0), rec(1)]);
    new DataView(bytes.buffer).setUint32(8, 8192 + 74, true);
    await rejectsFormat(bytes, (e) => assert.deepEqual([e.byteOffset, e.expected, e.actual], [8, 8192 + 148, 8192 + 74]));
  });
  test('a file cut inside record data → FormatError (link past the end); recover keeps the whole records', async () => {
    const bytes = fileOf([rec(0), rec(1), rec(2)]).subarray(0, 8192 + 74 * 2 + 30);
    await rejectsFormat(bytes, (e) => assert.match(e.message, /past the end of the file/));
    const reader = await V1Reader.open(new MemorySource(bytes), { recover: true });
    assert.equal(reader.recordCount, 2);
    assert.deepEqual([...(await reader.readRawFields(1))[0]], new Array(10).fill(1));
  });
  test('a second segment header cut short → FormatError at its offset; recover keeps segment 1', async () => {
    const first = fileOf([rec(0)]);
    const bytes = concat(first, new Uint8Array(100));
    await rejectsFormat(bytes, (e) => assert.deepEqual([e.byteOffset, e.actual], [first.length, '100 bytes']));
    const reader = await V1Reader.open(new MemorySource(bytes), { recover: true });
    assert.equal(reader.recordCount, 1);
  });
  test('zero-length file: strict FormatError, recover 0 records', async () => {
    await rejectsFormat(new Uint8Array(0), (e) => assert.equal(e.byteOffset, 0));
    assert.equal((await V1Reader.open(new MemorySource(new Uint8Array(0)), { recover: true })).recordCount, 0);
  });
  test('record width > 6 → FormatError at the width byte, with the record index', async () => {
    const bytes = fileOf([rec(0), rec(1)]);
    bytes[8192 + 74 + 8] = 7;
    await rejectsFormat(bytes, (e) => assert.deepEqual([e.section, e.byteOffset, e.recordIndex, e.actual], ['v1-record', 8192 + 74 + 8, 1, 7]));
    const reader = await V1Reader.open(new MemorySource(bytes), { recover: true });
    assert.equal(reader.recordCount, 1, 'recover drops the bad record');
    assert.equal(reader.recovery!.problems.length, 1);
  });
  test('field overrun → FormatError at the field slot', async () => {
    const bytes = fileOf([rec(0), rec(1)]);
    new DataView(bytes.buffer).setUint32(8192 + 16, 11, true);
    await rejectsFormat(bytes, (e) => assert.deepEqual([e.byteOffset, e.recordIndex, e.actual], [8192 + 16, 0, 11]));
  });
  test('sizes[i] < 64 → FormatError; >= 512 MiB → LimitExceededError (no allocation)', async () => {
    const small = fileOf([rec(0)]);
    new DataView(small.buffer).setUint32(32, 63, true);
    await rejectsFormat(small, (e) => assert.deepEqual([e.byteOffset, e.recordIndex], [32, 0]));
    const big = fileOf([rec(0)]);
    new DataView(big.buffer).setUint32(32, 512 * 1024 * 1024, true);
    await rejectsFormat(big, (e) => assert.ok(e instanceof LimitExceededError));
  });
  test('get() of a record the file no longer holds → FormatError (file shrank after open)', async () => {
    const bytes = fileOf([rec(0), rec(1)]);
    const source = new MemorySource(bytes);
    const reader = await V1Reader.open(source);
    source.setBytes(bytes.subarray(0, 8192 + 80));
    await assert.rejects(reader.get(1), (e: unknown) => e instanceof FormatError && e.recordIndex === 1 && /truncated/.test(e.message));
  });
});
