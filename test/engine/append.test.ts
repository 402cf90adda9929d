// Append after reopen: generations, annotation replacement (newest wins), the old prefix never
// changes, and the bytes equal the reference appendFileImage [WRT-3] [WRT-4].
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { recordWithAnnotation } from '../arbitraries.ts';
import { appendFileImage, encodeFileImage } from '../../src/format/file-image.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { verifyStore } from '../../src/engine/picpac/verify.ts';
import { UnfinishedFileError } from '../../src/errors.ts';
import { plainDecoded, plainStored, tempDir, toNewRecord } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir()));
after(() => cleanup());

let counter = 0;

describe('PicpacWriter.append', () => {
  test('several generations: prefix unchanged, bytes equal appendFileImage, newest annotation wins', async () => {
    const generationArb = fc.record({
      records: fc.array(recordWithAnnotation(), { maxLength: 4 }),
      updates: fc.array(fc.record({ pick: fc.nat(), text: fc.oneof(fc.constant(''), fc.string({ maxLength: 30 }).map((s) => JSON.stringify({ s }))) }), { maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(recordWithAnnotation(), { maxLength: 4 }), fc.array(generationArb, { minLength: 1, maxLength: 3 }), fc.constantFrom(1, 64), async (first, generations, alignment) => {
        const file = path.join(dir, `append-${counter++}.picpac`);
        const w = await PicpacWriter.create(file, { alignment, fsyncOnClose: false });
        for (const r of first) void w.append(toNewRecord(r));
        await w.close();
        let expected = encodeFileImage(first, { alignment });
        const model = first.map((r) => ({ ...r }));
        let previous = new Uint8Array(await readFile(file));
        assert.ok(Buffer.from(previous).equals(Buffer.from(expected)));
        for (const [g, gen] of generations.entries()) {
          const a = await PicpacWriter.append(file, { fsyncOnClose: false });
          assert.equal(a.generation, g + 2);
          for (const r of gen.records) void a.append(toNewRecord(r));
          model.push(...gen.records.map((r) => ({ ...r })));
          const updates = [];
          if (model.length > 0) {
            for (const u of gen.updates) {
              const recordIndex = u.pick % model.length;
              await a.setAnnotation(recordIndex, u.text === '' ? undefined : u.text);
              updates.push({ recordIndex, text: u.text });
              if (u.text === '') delete model[recordIndex].annotation;
              else model[recordIndex].annotation = u.text;
            }
          }
          await a.close();
          expected = appendFileImage(expected, gen.records, { annotations: updates });
          const bytes = new Uint8Array(await readFile(file));
          assert.ok(Buffer.from(bytes.subarray(0, previous.length)).equals(Buffer.from(previous)), 'append changed the old prefix');
          assert.ok(Buffer.from(bytes).equals(Buffer.from(expected)), 'append differs from appendFileImage');
          previous = bytes;
        }
        const reader = await PicpacReader.open(file);
        assert.equal(reader.generation, generations.length + 1);
        assert.equal(reader.recordCount, model.length);
        for (let i = 0; i < model.length; i++) assert.deepEqual(plainStored(await reader.get(i)), plainDecoded(model[i]));
        await reader.close();
        assert.equal((await verifyStore(file)).ok, true);
      }),
      { seed: 42, numRuns: 40 },
    );
  });

  // [RCV-5] A writer never appends to an unfinished file and never modifies it: it reports
  // UnfinishedFileError naming the torn offset; `picpac repair` writes the recovered records
  // to a new file (test/cli/verify-repair.test.ts).
  test('an unfinished file is refused, named by its torn offset, and left unchanged [RCV-5]', async () => {
    const file = path.join(dir, 'unfinished.picpac');
    const w = await PicpacWriter.create(file);
    await w.append({ fields: [{ kind: 'bytes', bytes: new Uint8Array(3) }] });
    await w.append({ fields: [{ kind: 'bytes', bytes: new Uint8Array(50).fill(7) }] });
    await w.abort();
    const whole = new Uint8Array(await readFile(file));
    // Tear the second record's payload: the valid frames end where that frame starts.
    const torn = whole.subarray(0, whole.length - 10);
    await writeFile(file, torn);
    const tornOffset = whole.length - (16 + 32 + 16 + 50);
    for (let attempt = 0; attempt < 2; attempt++) {
      await assert.rejects(PicpacWriter.append(file), (err: unknown) => {
        assert.ok(err instanceof UnfinishedFileError);
        assert.equal(err.byteOffset, tornOffset);
        assert.match((err as Error).message, /1 records are recoverable/);
        assert.match((err as Error).message, new RegExp(`run \`picpac repair .*unfinished\\.picpac OUT\``));
        assert.match((err as Error).message, new RegExp(`torn tail at byte ${tornOffset}$`));
        return true;
      });
      assert.ok(Buffer.from(await readFile(file)).equals(Buffer.from(torn)), 'the unfinished file was modified');
    }
    const r = await PicpacReader.open(file, { recover: true });
    assert.equal(r.recordCount, 1);
    assert.equal(r.tornTailOffset, tornOffset);
    await r.close();
  });

  test('append keeps the alignment of the file and refuses a new one', async () => {
    const file = path.join(dir, 'aligned.picpac');
    const w = await PicpacWriter.create(file, { alignment: 4096 });
    await w.append({ fields: [{ kind: 'bytes', bytes: new Uint8Array(10) }] });
    await w.close();
    await assert.rejects(PicpacWriter.append(file, { alignment: 1 } as never), {
      name: 'TypeError',
      message: 'Expected undefined (append keeps the file alignment) for options.alignment but received 1 of type number',
    });
    const a = await PicpacWriter.append(file);
    assert.equal(a.alignment, 4096);
    const index = await a.append({ fields: [{ kind: 'bytes', bytes: new Uint8Array(10) }] });
    assert.equal(index, 1);
    await a.close();
    const r = await PicpacReader.open(file);
    assert.equal(r.meta(1).byteOffset % 4096, 0);
    await r.close();
    await writeFile(path.join(dir, 'x'), '');
  });
});
