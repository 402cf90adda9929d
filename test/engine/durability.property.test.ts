// Recovery properties (issue 12): for any file of one or two commits, compact or aligned, and
//  - any truncation: every unit (a record and the annotation written with it) that lies wholly
//    before the cut is recovered, with exactly its annotation, and nothing else;
//  - any single flipped byte: every unit that does not contain the byte is recovered, with
//    exactly its annotation; the unit hit is dropped (or kept whole if the byte was outside it).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { MemorySource } from '../../src/engine/sources/byte-source.ts';
import { appendFileImage, encodeFileImage } from '../../src/format/file-image.ts';
import type { RecordWithAnnotation } from '../../src/format/file-image.ts';
import { FieldKind } from '../../src/format/layout.ts';
import { recordUnits } from '../frame-walk.ts';

const recordArb = fc.record({
  size: fc.integer({ min: 0, max: 300 }),
  fill: fc.integer({ min: 0, max: 255 }),
  annotated: fc.boolean(),
});
const fileArb = fc.record({
  first: fc.array(recordArb, { minLength: 0, maxLength: 8 }),
  second: fc.array(recordArb, { maxLength: 6 }),
  alignment: fc.constantFrom(1, 512),
});

interface RecordSpec {
  size: number;
  fill: number;
  annotated: boolean;
}
interface Spec {
  first: RecordSpec[];
  second: RecordSpec[];
  alignment: number;
}

function build(spec: Spec): { bytes: Uint8Array; expected: Array<[number, string | undefined]>; units: Array<[number, number]> } {
  const toRecord = (r: RecordSpec, id: number): RecordWithAnnotation => ({
    id,
    label: id,
    label2: 0,
    fields: [{ kind: FieldKind.bytes, codec: 0, bytes: new Uint8Array(r.size).fill(r.fill), width: 0, height: 0 }],
    ...(r.annotated ? { annotation: `{"id":${id}}` } : {}),
  });
  const first = spec.first.map((r, i) => toRecord(r, i));
  const second = spec.second.map((r, i) => toRecord(r, first.length + i));
  let bytes = encodeFileImage(first, { alignment: spec.alignment });
  if (second.length > 0) bytes = appendFileImage(bytes, second);
  const all = [...first, ...second];
  const units = recordUnits(bytes, spec.alignment);
  return { bytes, expected: all.map((r) => [r.id, r.annotation]), units };
}

async function recovered(bytes: Uint8Array): Promise<Array<[number, string | undefined]>> {
  const reader = await PicpacReader.open(new MemorySource(bytes), { recover: true });
  const out: Array<[number, string | undefined]> = [];
  for await (const r of reader.scan()) out.push([r.id, r.annotation]);
  await reader.close();
  return out;
}

describe('recovery keeps whole units (fast-check) [RCV-7] [RCV-8]', () => {
  test('any truncation: exactly the units before the cut, each with its annotation', async () => {
    await fc.assert(
      fc.asyncProperty(fileArb, fc.double({ min: 0, max: 1, noNaN: true }), async (spec, where) => {
        const { bytes, expected, units } = build(spec);
        const cut = Math.max(64, Math.floor(where * bytes.length));
        const want = expected.filter((_, i) => units[i][1] <= cut);
        assert.deepEqual(await recovered(bytes.subarray(0, cut)), want, `cut ${cut}`);
      }),
      { numRuns: 150 },
    );
  });

  test('any flipped byte after the header: every unit not hit, each with its annotation', async () => {
    await fc.assert(
      fc.asyncProperty(fileArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 255 }), async (spec, where, mask) => {
        const { bytes, expected, units } = build(spec);
        const at = 64 + Math.min(bytes.length - 65, Math.floor(where * (bytes.length - 64)));
        const damaged = bytes.slice();
        damaged[at] ^= mask;
        const want = expected.filter((_, i) => !(at >= units[i][0] && at < units[i][1]));
        assert.deepEqual(await recovered(damaged), want, `flip at ${at}`);
      }),
      { numRuns: 200 },
    );
  });
});
