// Every error path of the engine's public API, with exact messages for argument errors.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { MemorySource } from '../../src/engine/sources/byte-source.ts';
import { openStore } from '../../src/engine/open-store.ts';
import { rebuildIndex, scanFrames } from '../../src/engine/picpac/recovery.ts';
import { verifyStore } from '../../src/engine/picpac/verify.ts';
import { writeFileAtomically } from '../../src/engine/rewrite.ts';
import { encodeFileImage } from '../../src/format/file-image.ts';
import { encodeFrame } from '../../src/format/frame.ts';
import { encodeHeader } from '../../src/format/header.ts';
import { FieldKind } from '../../src/format/layout.ts';
import { ClosedError, FileExistsError, FormatError, LimitExceededError, PicpacError, UnsupportedVersionError } from '../../src/errors.ts';
import { tempDir } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir()));
after(() => cleanup());

const oneRecord = { fields: [{ kind: 'bytes' as const, bytes: new Uint8Array([1, 2, 3]) }] };
const image = (n: number) => encodeFileImage(Array.from({ length: n }, (_, i) => ({ id: i, label: i, label2: 0, fields: [{ kind: FieldKind.bytes, codec: 0, bytes: new Uint8Array(100).fill(i), width: 0, height: 0 }] })), { alignment: 1 });

describe('writer errors', () => {
  test('FileExistsError without overwrite; overwrite replaces', async () => {
    const file = path.join(dir, 'exists.picpac');
    await writeFile(file, 'x');
    await assert.rejects(PicpacWriter.create(file), (err: unknown) => {
      assert.ok(err instanceof FileExistsError);
      assert.equal((err as Error).message, `refusing to overwrite existing file ${file} (pass overwrite to replace it)`);
      return true;
    });
    const w = await PicpacWriter.create(file, { overwrite: true });
    await w.close();
    assert.equal((await PicpacReader.open(file)).recordCount, 0);
  });

  test('invalid options: exact messages', async () => {
    const file = path.join(dir, 'opts.picpac');
    await assert.rejects(PicpacWriter.create(file, { alignment: 3 }), { name: 'TypeError', message: 'Expected 1 or a power of two up to 1048576 for options.alignment but received 3 of type number' });
    await assert.rejects(PicpacWriter.create(file, { overwrite: 'yes' as never }), { name: 'TypeError', message: 'Expected a boolean for options.overwrite but received "yes" of type string' });
    await assert.rejects(PicpacWriter.create(file, { bufferBytes: -1 }), { name: 'TypeError', message: 'Expected an integer between 0 and 1073741824 for options.bufferBytes but received -1 of type number' });
    await assert.rejects(PicpacWriter.create(''), { name: 'TypeError', message: 'Expected a non-empty string for path but received "" of type string' });
    await assert.rejects(PicpacReader.open(new MemorySource(image(1)), { maxRecordBytes: -5 }), { name: 'RangeError', message: 'Expected an integer between 0 and 2147483647 for options.maxRecordBytes but received -5 of type number' });
    await assert.rejects(PicpacReader.open(new MemorySource(image(1)), { recover: 1 as never }), { name: 'TypeError', message: 'Expected a boolean for options.recover but received 1 of type number' });
  });

  test('bad records and bad annotation targets', async () => {
    const w = await PicpacWriter.create(path.join(dir, 'bad-records.picpac'));
    await assert.rejects(w.append({ fields: [{ kind: 'picture' as never, bytes: new Uint8Array(1) }] }), { name: 'TypeError', message: `Expected one of 'image', 'label', 'tensor', 'bytes' for record.fields[0].kind but received "picture" of type string` });
    await assert.rejects(w.append({ id: -1, fields: [] }), { name: 'TypeError', message: 'Expected an integer between 0 and 2^53-1 for record.id but received -1 of type number' });
    await assert.rejects(w.append({ fields: [{ kind: 'bytes', bytes: [1, 2] as never }] }), { name: 'TypeError', message: 'Expected a Uint8Array for record.fields[0].bytes but received [1,2] of type object' });
    assert.equal(await w.append(oneRecord), 0);
    await assert.rejects(w.setAnnotation(1, '{}'), { name: 'RangeError', message: 'Expected an integer between 0 and 0 for recordIndex but received 1 of type number' });
    await assert.rejects(w.setAnnotation(0, 5 as never), { name: 'TypeError', message: 'Expected a string or undefined for annotation but received 5 of type number' });
    await w.close();
  });

  test('ClosedError after close; close twice is a no-op', async () => {
    const w = await PicpacWriter.create(path.join(dir, 'closed.picpac'));
    await w.close();
    await w.close();
    await assert.rejects(w.append(oneRecord), ClosedError);
    await assert.rejects(w.setAnnotation(0, '{}'), ClosedError);
    await assert.rejects(w.flush(), ClosedError);
  });

  test('sniffs image codec and size when not given', async () => {
    const file = path.join(dir, 'sniff.picpac');
    const png = new Uint8Array(await readFile(path.resolve(import.meta.dirname, '../vectors/v2/annotated.picpac'))).subarray(0, 0);
    const w = await PicpacWriter.create(file);
    // A minimal PNG signature + IHDR with 7×5 pixels.
    const ihdr = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 7, 0, 0, 0, 5, 8, 2, 0, 0, 0]);
    await w.append({ fields: [{ kind: 'image', bytes: ihdr }, { kind: 'bytes', bytes: png }] });
    await w.close();
    const r = await PicpacReader.open(file);
    assert.deepEqual([r.meta(0).imageCodec, r.meta(0).width, r.meta(0).height], [2, 7, 5]);
    assert.equal((await r.get(0)).fields[0].type, 'image/png');
    await r.close();
  });
});

describe('reader errors', () => {
  test('RangeError for a bad record index, ClosedError after close, errors name the file', async () => {
    const r = await PicpacReader.open(new MemorySource(image(3), 'three.picpac'));
    assert.throws(() => r.meta(3), { name: 'RangeError', message: 'Expected an integer between 0 and 2 for recordIndex but received 3 of type number' });
    assert.throws(() => r.meta(-1), RangeError);
    assert.throws(() => r.meta(1.5), RangeError);
    await assert.rejects(r.get(3), RangeError);
    await assert.rejects(r.getAnnotation(99), RangeError);
    assert.throws(() => r.scan({ start: 2, end: 1 }), { name: 'RangeError', message: 'Expected an integer between 2 and 3 for options.end but received 1 of type number' });
    await r.close();
    await assert.rejects(r.get(0), ClosedError);
  });

  test('limit exceeded: record larger than maxRecordBytes', async () => {
    const r = await PicpacReader.open(new MemorySource(image(2), 'limits.picpac'), { maxRecordBytes: 50 });
    await assert.rejects(r.get(1), (err: unknown) => {
      assert.ok(err instanceof LimitExceededError);
      assert.equal((err as LimitExceededError).recordIndex, 1);
      assert.match((err as Error).message, /^limits\.picpac: index: record frame exceeds the reader limit at byte \d+ \(record 1\): expected <= 50, got 148$/);
      return true;
    });
  });

  test('a corrupt payload is a FormatError naming record and offset; verifyChecksums:false skips the CRC', async () => {
    const bytes = image(3);
    const r0 = await PicpacReader.open(new MemorySource(bytes));
    const offset = r0.meta(1).byteOffset;
    const damaged = bytes.slice();
    damaged[offset + 16 + 40] ^= 0xff; // inside record 1's payload head
    const r = await PicpacReader.open(new MemorySource(damaged, 'crc.picpac'));
    await assert.rejects(r.get(1), (err: unknown) => {
      assert.ok(err instanceof FormatError);
      assert.equal((err as FormatError).recordIndex, 1);
      assert.equal((err as FormatError).byteOffset, offset + 16);
      assert.match((err as Error).message, /^crc\.picpac: frame: frame payload CRC mismatch/);
      return true;
    });
    const lax = await PicpacReader.open(new MemorySource(damaged), { verifyChecksums: false });
    await lax.get(1); // decodes (the flipped byte is field data)
    const scanned: number[] = [];
    await assert.rejects(async () => {
      for await (const rec of r.scan()) scanned.push(rec.recordIndex);
    }, FormatError);
    assert.deepEqual(scanned, [0]);
  });

  test('unknown critical extension: UnsupportedVersionError (strict, recover, scanFrames, verify); ancillary skipped', async () => {
    const records = [{ id: 0, label: 0, label2: 0, fields: [] }];
    for (const critical of [true, false]) {
      // header, extension frame, then a record, built by hand (no index: recovery path).
      const header = encodeHeader({ alignment: 1 });
      const ext = encodeFrame(200, new Uint8Array(5), critical ? 1 : 0);
      const body = encodeFileImage(records, { alignment: 1 }).subarray(64);
      const bytes = new Uint8Array([...header, ...ext, ...body.subarray(0, 16 + 32)]);
      const src = new MemorySource(bytes, 'ext.picpac');
      if (critical) {
        await assert.rejects(PicpacReader.open(src, { recover: true }), UnsupportedVersionError);
        await assert.rejects(rebuildIndex(src), UnsupportedVersionError);
        await assert.rejects(async () => {
          for await (const _ of scanFrames(src));
        }, UnsupportedVersionError);
        const v = await verifyStore(src);
        assert.ok(v.problems.some((p) => /unknown critical frame kind/.test(p.message)));
      } else {
        const r = await PicpacReader.open(src, { recover: true });
        assert.equal(r.recordCount, 1);
      }
    }
    const flagged = encodeHeader({ alignment: 1, featureFlags: 1 });
    const file = encodeFileImage([], { alignment: 1 });
    file.set(flagged, 0);
    await assert.rejects(PicpacReader.open(new MemorySource(file)), UnsupportedVersionError);
  });

  test('not a picpac file; LMDB directories; missing files', async () => {
    const junk = path.join(dir, 'junk.bin');
    await writeFile(junk, 'hello world, not a store');
    await assert.rejects(openStore(junk), (err: unknown) => err instanceof FormatError && /not a picpac store/.test((err as Error).message) && (err as Error).message.startsWith(junk));
    const lmdb = path.join(dir, 'lmdb-store');
    await mkdir(lmdb);
    await writeFile(path.join(lmdb, 'data.mdb'), '');
    // openStore hands LMDB directories to LmdbStore, which refuses a bad data.mdb before LMDB maps it.
    await assert.rejects(openStore(lmdb), (err: unknown) => err instanceof FormatError && (err as FormatError).section === 'lmdb-file' && (err as Error).message.includes(lmdb));
    await assert.rejects(openStore(path.join(dir, 'missing.picpac')), (err: unknown) => err instanceof PicpacError && (err as PicpacError).code === 'IO');
    await assert.rejects(openStore(''), { name: 'TypeError', message: 'Expected a non-empty path or URL for location but received "" of type string' });
  });

  test('a corrupt index is a FormatError (strict) but recover still reads the records', async () => {
    const bytes = image(3);
    const r0 = await PicpacReader.open(new MemorySource(bytes));
    const indexOffset = r0.indexOffset;
    const damaged = bytes.slice();
    damaged[indexOffset + 16 + 60] ^= 1;
    await assert.rejects(PicpacReader.open(new MemorySource(damaged), { strict: true }), FormatError);
    // Default: the index is redundant [IDX-9]; the records are found by a scan, with a warning.
    const scanned = await PicpacReader.open(new MemorySource(damaged));
    assert.equal(scanned.recordCount, 3);
    assert.match(scanned.warnings.join('\n'), /index is damaged/);
    for (let i = 0; i < 3; i++) assert.equal((await scanned.get(i)).id, i);
  });
});

describe('writeFileAtomically', () => {
  test('replaces only when asked, cleans up on failure', async () => {
    const target = path.join(dir, 'atomic.txt');
    await writeFileAtomically(target, (tmp) => writeFile(tmp, 'one'));
    assert.equal(await readFile(target, 'utf8'), 'one');
    await assert.rejects(writeFileAtomically(target, (tmp) => writeFile(tmp, 'two')), FileExistsError);
    await writeFileAtomically(target, (tmp) => writeFile(tmp, 'three'), { overwrite: true });
    assert.equal(await readFile(target, 'utf8'), 'three');
    await assert.rejects(writeFileAtomically(target, async (tmp) => {
      await writeFile(tmp, 'partial');
      throw new Error('producer failed');
    }, { overwrite: true }), /producer failed/);
    assert.equal(await readFile(target, 'utf8'), 'three');
    const { readdir } = await import('node:fs/promises');
    assert.deepEqual((await readdir(dir)).filter((n) => n.includes('.tmp-')), []);
  });
});
