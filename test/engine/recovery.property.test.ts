// Truncation at any offset, and any single bit flip, on files written by the engine [RCV-1] [RCV-2].
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { recordWithAnnotation } from '../arbitraries.ts';
import { encodeFileImage } from '../../src/format/file-image.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { MemorySource } from '../../src/engine/sources/byte-source.ts';
import { UnfinishedFileError } from '../../src/errors.ts';
import { verifyStore } from '../../src/engine/picpac/verify.ts';
import { scanFrames } from '../../src/engine/picpac/recovery.ts';
import { FrameKind } from '../../src/format/layout.ts';
import { plainDecoded, plainStored } from './helpers.ts';

/** Frame offsets and extents of every record / annotation frame of a file image. */
async function frameMap(bytes: Uint8Array): Promise<Array<{ kind: number; frameOffset: number; end: number }>> {
  const out = [];
  for await (const f of scanFrames(new MemorySource(bytes))) out.push({ kind: f.kind, frameOffset: f.frameOffset, end: f.frameOffset + 16 + f.header.payloadByteLength });
  return out;
}

const fileArb = fc.record({
  records: fc.array(recordWithAnnotation(), { minLength: 1, maxLength: 6 }),
  alignment: fc.constantFrom(1, 16, 512),
});

describe('recovery after truncation [RCV-1]', () => {
  test('recover yields exactly the records whose frames are complete; strict open is UnfinishedFileError', async () => {
    await fc.assert(
      fc.asyncProperty(fileArb, fc.double({ min: 0, max: 1, noNaN: true }), async ({ records, alignment }, where) => {
        const full = encodeFileImage(records, { alignment });
        const cut = Math.floor(where * (full.length - 1)); // strictly shorter than the file
        const bytes = full.subarray(0, cut);
        const frames = await frameMap(full);
        const recordFrames = frames.filter((f) => f.kind === FrameKind.record);
        const complete = recordFrames.filter((f) => f.end <= cut).length;
        await assert.rejects(PicpacReader.open(new MemorySource(bytes, 'cut.picpac')), (err: unknown) => {
          assert.ok(err instanceof UnfinishedFileError, String(err));
          assert.match((err as Error).message, /^cut\.picpac: /);
          assert.equal(typeof (err as UnfinishedFileError).byteOffset, 'number');
          return true;
        });
        const reader = await PicpacReader.open(new MemorySource(bytes, 'cut.picpac'), { recover: true });
        assert.equal(reader.recovered, true);
        assert.equal(reader.recordCount, complete);
        // Annotation frames complete within the cut survive; the others are lost.
        const annotationFrames = frames.filter((f) => f.kind === FrameKind.annotation);
        let annotationIndex = 0;
        for (let i = 0; i < complete; i++) {
          const expected = { ...records[i] };
          if (expected.annotation !== undefined) {
            const frame = annotationFrames[annotationIndex++];
            if (frame.end > cut) delete expected.annotation;
          }
          assert.deepEqual(plainStored(await reader.get(i)), plainDecoded(expected));
        }
        if (cut >= 64 && reader.tornTailOffset !== undefined) assert.ok(reader.tornTailOffset <= cut);
      }),
      { seed: 42, numRuns: 150 },
    );
  });
});

describe('verifyStore detects any single bit flip in a record [VFY-1]', () => {
  test('names the record index and its frame offset as the first problem', async () => {
    await fc.assert(
      fc.asyncProperty(fileArb, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 7 }), async ({ records, alignment }, which, at, bit) => {
        const image = encodeFileImage(records, { alignment });
        const recordFrames = (await frameMap(image)).filter((f) => f.kind === FrameKind.record);
        const target = which % recordFrames.length;
        const frame = recordFrames[target];
        const flipAt = frame.frameOffset + (at % (frame.end - frame.frameOffset));
        const bytes = image.slice();
        bytes[flipAt] ^= 1 << bit;
        const result = await verifyStore(new MemorySource(bytes, 'flip.picpac'));
        assert.equal(result.ok, false);
        assert.equal(result.problems[0].recordIndex, target, JSON.stringify(result.problems));
        assert.equal(result.problems[0].byteOffset, frame.frameOffset, JSON.stringify(result.problems));
        const clean = await verifyStore(new MemorySource(image, 'clean.picpac'));
        assert.deepEqual(clean.problems, []);
        assert.equal(clean.ok, true);
        assert.equal(clean.recordCount, records.length);
      }),
      { seed: 42, numRuns: 150 },
    );
  });
});

describe('resync (repair salvage) [RCV-4]', () => {
  test('a corrupt record in the middle: records after it are found again, the skipped range is reported', async () => {
    const records = Array.from({ length: 6 }, (_, i) => ({ id: i, label: i, label2: 0, fields: [{ kind: 1 as const, codec: 0, bytes: new Uint8Array(50 + i).fill(i), width: 0, height: 0 }] }));
    for (const alignment of [1, 64]) {
      const image = encodeFileImage(records, { alignment });
      const frames = (await frameMap(image)).filter((f) => f.kind === FrameKind.record);
      const bytes = image.slice();
      bytes[frames[2].frameOffset + 20] ^= 0x10;
      const { rebuildIndex } = await import('../../src/engine/picpac/recovery.ts');
      const strictScan = await rebuildIndex(new MemorySource(bytes));
      assert.equal(strictScan.index.recordCount, 2);
      assert.equal(strictScan.tornOffset, frames[2].frameOffset);
      const salvaged = await rebuildIndex(new MemorySource(bytes), { resync: true });
      assert.equal(salvaged.index.recordCount, 5);
      assert.deepEqual(Array.from(salvaged.index.id.subarray(0, 5)), [0, 1, 3, 4, 5]);
      assert.equal(salvaged.skipped.length, 1);
      assert.equal(salvaged.skipped[0].byteOffset, frames[2].frameOffset);
      assert.equal(salvaged.skipped[0].byteLength, frames[3].frameOffset - frames[2].frameOffset);
      assert.equal(salvaged.tornOffset, undefined);
    }
  });
});
