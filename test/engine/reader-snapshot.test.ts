// PicpacReader.snapshot / fromSnapshot: a second reader of the same local file built from the
// first one's index (shared memory, as a stream's worker threads get it), never from the file's
// index — and refused when the path now names another file or a shorter one.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rename, truncate, open } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { RecordIndex } from '../../src/engine/picpac/record-index.ts';
import { MemorySource } from '../../src/engine/sources/byte-source.ts';
import { expectedRecord } from './fixtures/deterministic-records.ts';
import { plainStored, tempDir } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir('picpac-snapshot-')));
after(() => cleanup());

/** A file of `count` records; record 4's annotation is rewritten later (not adjacent to its record). */
async function writeStore(name: string, count: number): Promise<string> {
  const file = path.join(dir, name);
  const writer = await PicpacWriter.create(file, { alignment: 16 });
  for (let i = 0; i < count; i++) await writer.append(expectedRecord(i));
  await writer.setAnnotation(4, JSON.stringify({ updated: 4 }));
  await writer.close();
  return file;
}

async function sameRecords(a: PicpacReader, b: PicpacReader): Promise<void> {
  assert.equal(b.recordCount, a.recordCount);
  assert.equal(b.annotatedCount, a.annotatedCount);
  assert.equal(b.generation, a.generation);
  assert.equal(b.indexOffset, a.indexOffset);
  for (let i = 0; i < a.recordCount; i++) {
    assert.deepEqual(b.meta(i), a.meta(i), `meta ${i}`);
    assert.deepEqual(plainStored(await b.get(i)), plainStored(await a.get(i)), `get ${i}`);
    const sync = b.getSync(i);
    if (sync !== undefined) assert.deepEqual(plainStored(sync), plainStored(await a.get(i)), `getSync ${i}`);
    assert.equal(await b.getAnnotation(i), await a.getAnnotation(i), `annotation ${i}`);
  }
}

describe('PicpacReader snapshots', () => {
  test('a reader from a snapshot reads every record, meta and annotation the opened one does', async () => {
    const file = await writeStore('same.picpac', 30);
    const reader = await PicpacReader.open(file);
    const snapshot = reader.snapshot()!;
    assert.ok(snapshot.index.columns.frameOffset.buffer instanceof SharedArrayBuffer);
    const adopted = await PicpacReader.fromSnapshot(structuredClone(snapshot));
    assert.ok(adopted);
    await sameRecords(reader, adopted);
    await adopted.close();
    await reader.close();
  });

  test('another thread reads through a posted snapshot, sharing the index columns', async () => {
    const file = await writeStore('thread.picpac', 12);
    const reader = await PicpacReader.open(file);
    const snapshot = reader.snapshot()!;
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const id = workerData.index.columns.id;
      parentPort.postMessage({ shared: id.buffer instanceof SharedArrayBuffer, ids: Array.from(id) });`;
    const worker = new Worker(source, { eval: true, workerData: snapshot });
    const answer = await new Promise<{ shared: boolean; ids: number[] }>((resolve, reject) => worker.once('message', resolve).once('error', reject));
    await worker.terminate();
    assert.equal(answer.shared, true);
    assert.deepEqual(answer.ids, Array.from({ length: 12 }, (_, i) => i));
    await reader.close();
  });

  test('the snapshot is the file as opened: later commits come with refresh(), without touching the shared columns', async () => {
    const file = await writeStore('grow.picpac', 10);
    const reader = await PicpacReader.open(file);
    const snapshot = reader.snapshot()!;
    // An annotation change alone: applied to the existing entries, in place but for the copy.
    const annotator = await PicpacWriter.append(file);
    await annotator.setAnnotation(0, JSON.stringify({ updated: 0 }));
    await annotator.close();
    const first = (await PicpacReader.fromSnapshot(snapshot))!;
    const second = (await PicpacReader.fromSnapshot(snapshot))!;
    assert.equal(await first.getAnnotation(0), expectedRecord(0).annotation);
    assert.equal(await first.refresh(), 10);
    assert.equal(await first.getAnnotation(0), JSON.stringify({ updated: 0 }));
    // The other reader of the same snapshot still has the file as it was.
    assert.equal(await second.getAnnotation(0), expectedRecord(0).annotation);
    await sameRecords(reader, second);
    const appender = await PicpacWriter.append(file);
    for (let i = 10; i < 15; i++) await appender.append(expectedRecord(i));
    await appender.close();
    assert.equal(await first.refresh(), 15);
    const fresh = await PicpacReader.open(file);
    assert.deepEqual(plainStored(await first.get(14)), plainStored(await fresh.get(14)));
    assert.equal(second.recordCount, 10);
    for (const r of [first, second, reader, fresh]) await r.close();
  });

  test('a path that now names another file, or a shorter one, gives undefined (open it afresh)', async () => {
    const file = await writeStore('replaced.picpac', 8);
    const reader = await PicpacReader.open(file);
    const snapshot = reader.snapshot()!;
    const other = await writeStore('other.picpac', 8);
    await rename(other, file); // same size and content kind, another inode
    assert.equal(await PicpacReader.fromSnapshot(snapshot), undefined);
    const reopened = await PicpacReader.open(file);
    const cut = reopened.snapshot()!;
    await truncate(file, cut.knownEnd - 1);
    assert.equal(await PicpacReader.fromSnapshot(cut), undefined);
    await reopened.close();
    await reader.close();
  });

  test('the adopted reader never reads the index: a damaged header after the snapshot does not matter to it', async () => {
    const file = await writeStore('header.picpac', 6);
    const reader = await PicpacReader.open(file);
    const snapshot = reader.snapshot()!;
    const handle = await open(file, 'r+');
    await handle.write(new Uint8Array(8), 0, 8, 0); // the signature, in place (same inode)
    await handle.close();
    await assert.rejects(PicpacReader.open(file));
    const adopted = (await PicpacReader.fromSnapshot(snapshot))!;
    assert.deepEqual(plainStored(await adopted.get(5)), plainStored(await reader.get(5)));
    await adopted.close();
    await reader.close();
  });

  test('no snapshot of a reader over something other than a local file; none after close', async () => {
    const file = await writeStore('memory.picpac', 5);
    const { readFile } = await import('node:fs/promises');
    const inMemory = await PicpacReader.open(new MemorySource(new Uint8Array(await readFile(file)), 'in-memory'));
    assert.equal(inMemory.snapshot(), undefined);
    const reader = await PicpacReader.open(file);
    await reader.close();
    assert.throws(() => reader.snapshot(), /closed/);
  });

  test('RecordIndex.share / fromShared / copy keep every column and count', () => {
    const index = new RecordIndex(2);
    for (let i = 0; i < 5; i++) {
      index.setRecord(i, { frameOffset: 64 + i * 100, payloadByteLength: 90 + i, payloadCrc: 7 * i, id: i, label: i / 2, label2: -i, width: i, height: 2 * i, fieldCount: 1, firstImageCodec: 1, entryFlags: i & 1 });
    }
    index.setAnnotation(3, 999, 12, 5, true);
    index.originalIndex = new Map([[4, 9]]);
    const shared = RecordIndex.fromShared(index.share());
    const copy = shared.copy();
    for (const other of [shared, copy]) {
      assert.equal(other.recordCount, 5);
      assert.equal(other.annotatedCount, 1);
      for (let i = 0; i < 5; i++) assert.deepEqual(other.meta(i), index.meta(i));
      assert.deepEqual(other.entry(4), index.entry(4));
      assert.deepEqual([...other.originalIndex!], [[4, 9]]);
    }
    assert.equal(copy.annotationCrc.buffer instanceof SharedArrayBuffer, false);
    copy.setAnnotation(3, 0, 0, 0, false);
    assert.equal(shared.hasAnnotation(3), true); // the copy is its own
    const empty = RecordIndex.fromShared(new RecordIndex().share());
    empty.setRecord(0, index.entry(0)); // an empty shared index still grows
    assert.equal(empty.recordCount, 1);
  });
});
