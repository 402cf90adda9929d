// Writer ↔ reader round trip and byte identity with the reference encoder [WRT-1].
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { recordWithAnnotation } from '../arbitraries.ts';
import { encodeFileImage } from '../../src/format/file-image.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { MemorySource } from '../../src/engine/sources/byte-source.ts';
import { plainDecoded, plainStored, tempDir, toNewRecord } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir()));
after(() => cleanup());

let counter = 0;
describe('PicpacWriter round trip [WRT-1]', () => {
  test('fresh file is byte-identical to encodeFileImage and reads back equal', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordWithAnnotation(), { maxLength: 8 }), fc.constantFrom(1, 8, 4096), fc.integer({ min: 0, max: 3000 }), async (records, alignment, bufferBytes) => {
        const file = path.join(dir, `rt-${counter++}.picpac`);
        const writer = await PicpacWriter.create(file, { alignment, bufferBytes, fsyncOnClose: false });
        const indices = await Promise.all(records.map((r) => writer.append(toNewRecord(r))));
        assert.deepEqual(indices, records.map((_, i) => i));
        await writer.close();
        const bytes = new Uint8Array(await readFile(file));
        assert.deepEqual(Buffer.from(bytes).equals(Buffer.from(encodeFileImage(records, { alignment }))), true);
        for (const source of [file, new MemorySource(bytes, 'mem')]) {
          const reader = await PicpacReader.open(source);
          assert.equal(reader.recordCount, records.length);
          for (let i = 0; i < records.length; i++) {
            assert.deepEqual(plainStored(await reader.get(i)), plainDecoded(records[i]));
            assert.equal(await reader.getAnnotation(i), records[i].annotation);
            assert.equal(reader.meta(i).hasAnnotation, records[i].annotation !== undefined);
          }
          const scanned = [];
          for await (const r of reader.scan({ copy: true })) scanned.push(plainStored(r));
          assert.deepEqual(scanned, records.map(plainDecoded));
          await reader.close();
        }
      }),
      { seed: 42, numRuns: 60 },
    );
  });
});
