// Issue 12 items 1-4 and 8 at the engine level: the last valid commit, resynchronising recovery
// that keeps a record with the annotation written with it, the lock taken before any open by
// every writer and rewrite, and non-regular files refused before open(2) could block.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { verifyStore } from '../../src/engine/picpac/verify.ts';
import { writeFileAtomically } from '../../src/engine/rewrite.ts';
import { openStore } from '../../src/engine/open-store.ts';
import { FileSource } from '../../src/engine/sources/file-source.ts';
import { MemorySource } from '../../src/engine/sources/byte-source.ts';
import { NotRegularFileError, UnfinishedFileError, WriterLockedError } from '../../src/errors.ts';
import { FrameKind } from '../../src/format/layout.ts';
import { annotationFollows } from '../../src/format/record.ts';
import { tempDir } from './helpers.ts';
import { frameSpans } from '../frame-walk.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir()));
after(() => cleanup());

const annotationOf = (i: number): string | undefined => (i % 2 === 1 ? `{"shapes":[{"type":"point","geometry":{"x":0.5,"y":0.5}}],"i":${i}}` : undefined);
const record = (i: number) => ({ id: i, label: i % 3, fields: [{ kind: 'bytes' as const, bytes: new Uint8Array(100 + (i % 7)).fill(i & 255) }], annotation: annotationOf(i) });

async function makeFile(name: string, count: number, alignment = 1): Promise<string> {
  const file = path.join(dir, name);
  const w = await PicpacWriter.create(file, { alignment, fsyncOnClose: false, overwrite: true });
  for (let i = 0; i < count; i++) void w.append(record(i));
  await w.close();
  return file;
}


async function idsAndAnnotations(reader: PicpacReader): Promise<Array<[number, string | undefined]>> {
  const out: Array<[number, string | undefined]> = [];
  for await (const r of reader.scan()) out.push([r.id, r.annotation]);
  return out;
}

describe('readers open the last valid commit (item 3) [RCV-6]', () => {
  test('a killed append: acknowledged (committed) records are all read [WRT-7]; default readers see the last commit and name the torn bytes; strict refuses; append continues safely', async () => {
    const file = await makeFile('killed-append.picpac', 10);
    const committed = (await readFile(file)).length;
    const w = await PicpacWriter.append(file, { bufferBytes: 0 });
    for (let i = 10; i < 14; i++) await w.append(record(i));
    await w.abort(); // as if killed: frames on disk, no commit
    const length = (await readFile(file)).length;
    assert.ok(length > committed);

    await assert.rejects(PicpacReader.open(file, { strict: true }), UnfinishedFileError);
    const reader = await PicpacReader.open(file);
    assert.equal(reader.recordCount, 10);
    assert.deepEqual(reader.tornTail, { byteOffset: committed, byteLength: length - committed, reason: reader.tornTail?.reason });
    assert.match(reader.warnings[0], new RegExp(`bytes ${committed}\\.\\.${length}`));
    assert.deepEqual((await idsAndAnnotations(reader)).map(([id]) => id), [...Array(10).keys()]);
    await reader.close();
    // openStore (stat, dump, stream, serve) reads the same commit.
    const store = await openStore(file);
    assert.equal(store.recordCount, 10);
    await store.close();

    // --append after the last commit: the torn bytes are kept in a side file first.
    const again = await PicpacWriter.append(file);
    assert.equal(again.tornTailSavedTo, `${file}.torn-${committed}`);
    assert.equal((await readFile(again.tornTailSavedTo!)).length, length - committed);
    await again.append(record(20));
    await again.close();
    const after = await PicpacReader.open(file, { strict: true });
    assert.deepEqual((await idsAndAnnotations(after)).map(([id]) => id), [...Array(10).keys(), 20]);
    await after.close();
    assert.equal((await verifyStore(file)).ok, true);
  });

  test('a file with no commit at all is refused with a message that says what to do', async () => {
    const file = path.join(dir, 'never-committed.picpac');
    const w = await PicpacWriter.create(file, { bufferBytes: 0 });
    await w.append(record(0));
    await w.abort();
    await assert.rejects(PicpacReader.open(file), (err: Error) => {
      assert.ok(err instanceof UnfinishedFileError);
      assert.match(err.message, /never-committed\.picpac: footer: no committed data to read.*picpac repair/);
      return true;
    });
    const recovered = await PicpacReader.open(file, { recover: true });
    assert.equal(recovered.recordCount, 1);
    await recovered.close();
  });
});

describe('repair resynchronises: one flipped byte loses one unit at most (item 2) [RCV-7]', () => {
  for (const alignment of [1, 4096]) {
    test(`alignment ${alignment}: a flip in every frame kind and in padding`, async () => {
      const file = await makeFile(`flips-${alignment}.picpac`, 12, alignment);
      const bytes = new Uint8Array(await readFile(file));
      const all = frameSpans(bytes, alignment);
      const strict = await PicpacReader.open(new MemorySource(bytes));
      const expected = await idsAndAnnotations(strict);
      const recordAt = new Map<number, number>();
      for (let i = 0; i < strict.recordCount; i++) recordAt.set(strict.columns.frameOffset[i], i);
      const targets: Array<{ at: number; lost: number | undefined; what: string }> = [];
      for (const [kind, start, end] of all) {
        for (const at of [start + 1, start + 14, Math.floor((start + end) / 2), end - 1]) {
          // A record frame, or the annotation written with it: that record goes. Others: nothing.
          let lost: number | undefined;
          if (kind === FrameKind.record) lost = recordAt.get(start);
          if (kind === FrameKind.annotation) lost = [...recordAt].reverse().find(([offset]) => offset < start)?.[1];
          targets.push({ at, lost, what: `kind ${kind} at ${start}` });
        }
      }
      if (alignment > 1) targets.push({ at: all[0][2] + 100, lost: undefined, what: 'padding' });
      for (const t of targets) {
        const damaged = bytes.slice();
        damaged[t.at] ^= 0x20;
        const reader = await PicpacReader.open(new MemorySource(damaged), { recover: true });
        const got = await idsAndAnnotations(reader);
        const want = expected.filter((_, i) => i !== t.lost);
        assert.deepEqual(got, want, `flip at ${t.at} (${t.what})`);
        assert.ok(reader.recovery!.dropped.length >= 1 || reader.tornTailOffset !== undefined || t.what === 'padding', `flip at ${t.at}: the damage is reported`);
        await reader.close();
        // The index is redundant: a damaged index block or footer does not stop a default open.
        if (t.lost === undefined && t.what !== 'padding') {
          const plain = await PicpacReader.open(new MemorySource(damaged)).catch((err: Error) => err);
          if (plain instanceof PicpacReader) {
            assert.equal(plain.recordCount, 12, `flip at ${t.at}`);
            await plain.close();
          }
        }
      }
      await strict.close();
    });
  }
});

describe('annotation changes after damage go to the right record or nowhere [RCV-7]', () => {
  test('a record frame header is damaged: an intact index block still numbers the records after it', async () => {
    const file = path.join(dir, 'detached.picpac');
    const w = await PicpacWriter.create(file);
    for (let i = 0; i < 4; i++) await w.append({ id: i, fields: [{ kind: 'bytes', bytes: new Uint8Array(50).fill(i) }] });
    await w.setAnnotation(2, '{"late":2}'); // a detached change, naming record 2 by its index
    await w.close();
    const bytes = new Uint8Array(await readFile(file));
    const rec1 = frameSpans(bytes, 1).filter(([k]) => k === FrameKind.record)[1];
    const damaged = bytes.slice();
    damaged[rec1[1] + 5] ^= 0x40; // header CRC fails: kind and length of the frame are unknown
    const reader = await PicpacReader.open(new MemorySource(damaged), { recover: true });
    assert.deepEqual(await idsAndAnnotations(reader), [[0, undefined], [2, '{"late":2}'], [3, undefined]]);
    await reader.close();
    // Without the index block (cut before it) the numbering after the damage is unknown: the
    // change is dropped and reported, never attached to another record.
    const index = frameSpans(bytes, 1).find(([k]) => k === FrameKind.index)!;
    const cut = damaged.subarray(0, index[1]);
    const blind = await PicpacReader.open(new MemorySource(cut), { recover: true });
    assert.deepEqual(await idsAndAnnotations(blind), [[0, undefined], [2, undefined], [3, undefined]]);
    assert.ok(blind.recovery!.dropped.some((d) => /annotation change for record 2/.test(d.what)));
    await blind.close();
  });
});

describe('a record and the annotation written with it are one unit (item 4) [REC-11] [RCV-8]', () => {
  test('writers flag annotated records; a cut inside the annotation frame drops its record', async () => {
    const file = await makeFile('unit.picpac', 4);
    const bytes = new Uint8Array(await readFile(file));
    const all = frameSpans(bytes, 1);
    const records = all.filter(([k]) => k === FrameKind.record);
    const flags = records.map(([, start, end]) => annotationFollows(bytes.subarray(start + 16, end)));
    assert.deepEqual(flags, [false, true, false, true]);
    assert.equal(bytes[9], 1, 'minor version 1');
    const lastAnnotation = all.filter(([k]) => k === FrameKind.annotation).at(-1)!;
    for (const cut of [lastAnnotation[1] + 3, lastAnnotation[1] + 16, lastAnnotation[2] - 1]) {
      const reader = await PicpacReader.open(new MemorySource(bytes.subarray(0, cut)), { recover: true });
      assert.deepEqual((await idsAndAnnotations(reader)).map(([id]) => id), [0, 1, 2], `cut ${cut}`);
      assert.equal(reader.tornTailOffset, records[3][1], 'the torn tail starts at the record');
      await reader.close();
    }
    // Complete annotation: the record is back with it.
    const whole = await PicpacReader.open(new MemorySource(bytes.subarray(0, lastAnnotation[2])), { recover: true });
    assert.deepEqual(await idsAndAnnotations(whole), [0, 1, 2, 3].map((i) => [i, annotationOf(i)]));
    await whole.close();
  });

  test('a 2.0 file (minor 0) appended to stays 2.0: no flags, reads as before', async () => {
    const { encodeFileImage } = await import('../../src/format/file-image.ts');
    const file = path.join(dir, 'old.picpac');
    await writeFile(file, encodeFileImage([{ id: 0, label: 0, label2: 0, fields: [] }], { alignment: 1, minorVersion: 0 }));
    const w = await PicpacWriter.append(file);
    await w.append({ id: 1, fields: [{ kind: 'bytes', bytes: new Uint8Array([1]) }], annotation: '{"a":1}' });
    await w.close();
    const bytes = new Uint8Array(await readFile(file));
    assert.equal(bytes[9], 0);
    const rec = frameSpans(bytes, 1).filter(([k]) => k === FrameKind.record)[1];
    assert.equal(annotationFollows(bytes.subarray(rec[1] + 16, rec[2])), false);
  });
});

describe('one lock for every writer and rewrite, taken before the store is opened (item 1) [CON-4]', () => {
  test('a rewrite by rename (repair --overwrite, annotator export) is refused while a writer appends', async () => {
    const file = await makeFile('locked.picpac', 3);
    const w = await PicpacWriter.append(file, { bufferBytes: 0 });
    await w.append(record(3));
    let produced = false;
    await assert.rejects(
      writeFileAtomically(file, async (tmp) => {
        produced = true;
        await writeFile(tmp, 'x');
      }, { overwrite: true }),
      (err: Error) => err instanceof WriterLockedError && err.message.includes(`locked by pid ${process.pid}`),
    );
    assert.equal(produced, false, 'refused before any work');
    await assert.rejects(PicpacWriter.append(file), WriterLockedError);
    await w.close();
    const r = await PicpacReader.open(file, { strict: true });
    assert.equal(r.recordCount, 4);
    await r.close();
  });
});

describe('only regular files are opened as databases (item 8)', { skip: process.platform === 'win32' ? 'no mkfifo' : false }, () => {
  test('a FIFO and a character device are refused at once, by every entry point', async () => {
    const fifo = path.join(dir, 'pipe.picpac');
    execFileSync('mkfifo', [fifo]);
    for (const target of [fifo, '/dev/zero']) {
      const isTyped = (err: unknown): boolean => err instanceof NotRegularFileError && (err as Error).message.includes('not a regular file');
      await assert.rejects(FileSource.open(target), isTyped);
      await assert.rejects(openStore(target), isTyped);
      await assert.rejects(PicpacReader.open(target), isTyped);
      await assert.rejects(verifyStore(target), isTyped);
      if (target === fifo) await assert.rejects(PicpacWriter.append(target), isTyped);
    }
    assert.equal(existsSync(`${fifo}.lock`), false, 'a refused append leaves no lock');
  });

  test('a truncated file stays a regular-file problem, not a hang', async () => {
    const file = await makeFile('cut.picpac', 3);
    await truncate(file, 100);
    await assert.rejects(PicpacReader.open(file), UnfinishedFileError);
  });
});
