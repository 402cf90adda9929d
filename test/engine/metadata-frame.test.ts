// File metadata (SPEC §9.1 [EXT-7]–[EXT-9]): the class table lives IN the .picpac, in a kind-5
// frame named by the newest index block. The engine writer writes what the reference writer
// does; an append keeps it named; recovery finds it by scanning; a bad offset is a format error.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/engine/open-store.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { verifyStore } from '../../src/engine/picpac/verify.ts';
import { FormatError } from '../../src/errors.ts';
import { decodeIndexPayload, encodeFileImage, encodeIndexPayload, FieldKind } from '../../src/format/index.ts';

const TABLE = '{"classes":[{"label":1,"name":"car","coco":{"id":3}},{"label":2,"name":"plate"}]}';
const bytesOf = (i: number): Uint8Array => Uint8Array.from({ length: 40 + i }, (_, k) => (k * 7 + i) & 0xff);

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'picpac-meta-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeWith(file: string, count: number, metadata: string | undefined, alignment = 1): Promise<void> {
  const writer = await PicpacWriter.create(file, { alignment });
  for (let i = 0; i < count; i++) await writer.append({ id: i, label: i % 2, fields: [{ kind: 'bytes', bytes: bytesOf(i) }], annotation: i === 1 ? '{"shapes":[]}' : undefined });
  if (metadata !== undefined) await writer.setMetadata(metadata);
  await writer.close();
}

describe('metadata frame (class table in the file)', () => {
  test('engine writer = reference writer, byte for byte [WRT-1]; read back through the index [EXT-8]', () => withDir(async (dir) => {
    for (const alignment of [1, 4096]) {
      const file = path.join(dir, `a${alignment}.picpac`);
      await writeWith(file, 3, TABLE, alignment);
      const records = [0, 1, 2].map((i) => ({ id: i, label: i % 2, label2: 0, fields: [{ kind: FieldKind.bytes, codec: 0, bytes: bytesOf(i), width: 0, height: 0 }], ...(i === 1 ? { annotation: '{"shapes":[]}' } : {}) }));
      assert.deepEqual(new Uint8Array(await readFile(file)), encodeFileImage(records, { alignment, metadata: TABLE }));
      const store = await openStore(file);
      assert.equal(await store.getMetadata!(), TABLE);
      await store.close();
      assert.deepEqual((await verifyStore(file)).problems, []);
    }
  }));

  test('an append that does not set it keeps it; a new one wins', () => withDir(async (dir) => {
    const file = path.join(dir, 'b.picpac');
    await writeWith(file, 2, TABLE);
    let writer = await PicpacWriter.append(file);
    await writer.append({ fields: [{ kind: 'bytes', bytes: bytesOf(9) }] });
    await writer.close();
    let reader = await PicpacReader.open(file);
    assert.equal(await reader.getMetadata(), TABLE);
    await reader.close();
    writer = await PicpacWriter.append(file);
    await writer.setMetadata('{"classes":[]}');
    await writer.close();
    reader = await PicpacReader.open(file);
    assert.equal(await reader.getMetadata(), '{"classes":[]}');
    assert.equal(reader.recordCount, 3);
    await reader.close();
  }));

  test('a file without metadata answers undefined', () => withDir(async (dir) => {
    const file = path.join(dir, 'c.picpac');
    await writeWith(file, 1, undefined);
    const reader = await PicpacReader.open(file);
    assert.equal(reader.metadataOffset, 0);
    assert.equal(await reader.getMetadata(), undefined);
    await reader.close();
  }));

  test('recovery (no footer) finds the newest metadata frame by scanning [EXT-9]', () => withDir(async (dir) => {
    const file = path.join(dir, 'd.picpac');
    await writeWith(file, 2, TABLE);
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length - 64)); // footer gone: unfinished
    const store = await openStore(file, { recover: true });
    assert.equal(store.recordCount, 2);
    assert.equal(await store.getMetadata!(), TABLE);
    await store.close();
  }));

  test('a metadataOffset that does not point backwards is a format error naming the byte [EXT-8]', () => {
    const payload = encodeIndexPayload({ firstRecordIndex: 0, previousIndexOffset: 0, metadataOffset: 5000, records: [], annotations: [] });
    assert.throws(() => decodeIndexPayload(payload, 1000), (err: unknown) => err instanceof FormatError && /metadata offset does not point backwards/.test(err.message) && /1040/.test(err.message));
    assert.equal(decodeIndexPayload(payload, 6000).metadataOffset, 5000);
  });
});
