// Differential property (STYLE §28): the same random operations — append, setAnnotation
// (replace / remove, also on records of an earlier session), close-and-reopen for append —
// applied to a .picpac file and to an LMDB (encoded) store give identical results through the
// Store interface: meta (minus byte placement), get, getAnnotation and scan.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { annotationJson, recordWithAnnotation } from '../../arbitraries.ts';
import { PicpacReader } from '../../../src/engine/picpac/picpac-reader.ts';
import { PicpacWriter } from '../../../src/engine/picpac/picpac-writer.ts';
import { LmdbStore, LmdbWriter } from '../../../src/engine/lmdb/lmdb-store.ts';
import type { Store, StoreWriter } from '../../../src/engine/store.ts';
import { plainStored, tempDir, toNewRecord } from '../helpers.ts';

type Op =
  | { op: 'append'; record: ReturnType<typeof toNewRecord> }
  | { op: 'annotate'; pick: number; text: string | undefined }
  | { op: 'reopen' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: recordWithAnnotation().map((r) => ({ op: 'append' as const, record: toNewRecord(r) })) },
  { weight: 2, arbitrary: fc.record({ pick: fc.nat(), text: fc.option(fc.oneof(annotationJson(), fc.constant('')), { nil: undefined }) }).map(({ pick, text }) => ({ op: 'annotate' as const, pick, text })) },
  { weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) },
);

let dir: string;
let cleanup: () => Promise<void>;
let serial = 0;
before(async () => ({ dir, cleanup } = await tempDir('picpac-differential-')));
after(() => cleanup());

interface Backend {
  create(): Promise<StoreWriter>;
  append(): Promise<StoreWriter>;
  open(): Promise<Store>;
}

function backends(): Backend[] {
  const n = serial++;
  const file = join(dir, `d${n}.picpac`);
  const lmdb = join(dir, `d${n}.lmdb`);
  return [
    { create: () => PicpacWriter.create(file, { fsyncOnClose: false }), append: () => PicpacWriter.append(file, { fsyncOnClose: false }), open: () => PicpacReader.open(file) },
    { create: () => LmdbWriter.create(lmdb, { mode: 'encoded', noSync: true }), append: () => LmdbWriter.append(lmdb, { noSync: true }), open: () => LmdbStore.open(lmdb) },
  ];
}

/** Apply the ops; return what the store shows afterwards, as plain data. */
async function run(backend: Backend, ops: Op[]): Promise<unknown> {
  let writer = await backend.create();
  const outcomes: string[] = [];
  for (const o of ops) {
    if (o.op === 'append') outcomes.push(`append → ${await writer.append(o.record)}`);
    else if (o.op === 'reopen') {
      await writer.close();
      writer = await backend.append();
      outcomes.push(`reopen → ${writer.recordCount}`);
    } else if (writer.recordCount > 0) {
      await writer.setAnnotation(o.pick % writer.recordCount, o.text);
      outcomes.push('annotate');
    } else {
      await assert.rejects(async () => writer.setAnnotation(0, o.text), RangeError);
      outcomes.push('annotate → RangeError');
    }
  }
  await writer.close();
  const store = await backend.open();
  try {
    const metas = [];
    const gets = [];
    const annotations = [];
    for (let i = 0; i < store.recordCount; i++) {
      const { byteOffset: _o, byteLength: _l, ...m } = store.meta(i);
      metas.push(m);
      gets.push(plainStored(await store.get(i)));
      annotations.push(await store.getAnnotation(i));
    }
    const scanned = [];
    for await (const r of store.scan()) scanned.push(plainStored(r));
    assert.deepEqual(scanned, gets, 'scan agrees with get');
    return { outcomes, recordCount: store.recordCount, metas, gets, annotations };
  } finally {
    await store.close();
  }
}

test('differential: .picpac and LMDB give identical results for the same operations', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { maxLength: 12 }), async (ops) => {
      const [picpac, lmdb] = backends();
      assert.deepEqual(await run(lmdb, ops), await run(picpac, ops));
    }),
    { seed: 42, numRuns: 100 },
  );
});
