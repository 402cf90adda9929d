// Property: arbitrary 1.0 records survive V1Writer → V1Reader in compact and aligned modes
// (sometimes across a segment boundary), and the typed Store mapping is reversible: rewriting
// get(i) through append() reproduces the file byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { V1Reader } from '../../../src/engine/v1/v1-reader.ts';
import { V1Writer, type V1RecordInput } from '../../../src/engine/v1/v1-writer.ts';

const te = new TextEncoder();
const PNG = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 9, 0, 0, 0, 7, 1, 2);

const fieldArb = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 1, arbitrary: fc.constantFrom(te.encode('{"shapes":[]}'), te.encode(' \n{"a":"é"}'), Uint8Array.of(0x7b, 0xff), PNG, Uint8Array.of(0xff, 0xd8, 0xff)) },
);

const recordArb: fc.Arbitrary<Required<V1RecordInput>> = fc.record({
  id: fc.integer({ min: 0, max: 0xffffffff }),
  label: fc.float(),
  label2: fc.integer({ min: -32768, max: 32767 }),
  fields: fc.array(fieldArb, { maxLength: 6 }),
});

// Mostly small files; sometimes more than 1020 records (built from a few templates, cheap).
const fileArb = fc.record({
  compact: fc.boolean(),
  templates: fc.array(recordArb, { minLength: 1, maxLength: 12 }),
  recordCount: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 30 }) }, { weight: 1, arbitrary: fc.integer({ min: 1019, max: 1060 }) }),
});

test('V1Writer → V1Reader round trip, and get() → append() reproduces the file [property]', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'v1-prop-'));
  let run = 0;
  try {
    await fc.assert(
      fc.asyncProperty(fileArb, async ({ compact, templates, recordCount }) => {
        const records = Array.from({ length: recordCount }, (_, i) => templates[i % templates.length]);
        const path = join(dir, `a${run}.db`);
        const copy = join(dir, `b${run++}.db`);
        const writer = await V1Writer.create(path, { compact });
        for (const r of records) await writer.appendV1(r);
        await writer.close();
        const reader = await V1Reader.open(path);
        const rewriter = await V1Writer.create(copy, { compact });
        try {
          assert.equal(reader.recordCount, records.length);
          assert.equal(reader.mode, compact || records.length === 0 ? 'compact' : 'aligned');
          for (const [i, r] of records.entries()) {
            const v1 = await reader.readV1Record(i);
            assert.deepEqual(
              { id: v1.id, label: v1.label, label2: v1.label2, fields: v1.fields.map((f) => [...f]) },
              { id: r.id, label: Math.fround(r.label), label2: r.label2, fields: r.fields.map((f) => [...f]) },
            );
            const meta = reader.meta(i);
            assert.deepEqual([meta.id, meta.label, meta.label2], [r.id, Math.fround(r.label), r.label2]);
            const stored = await reader.get(i);
            assert.equal(stored.fields.length + (stored.annotation === undefined ? 0 : 1), r.fields.length);
            assert.equal(meta.hasAnnotation, stored.annotation !== undefined);
            await rewriter.append(stored);
          }
        } finally {
          await rewriter.close();
          await reader.close();
        }
        assert.ok((await readFile(copy)).equals(await readFile(path)), 'typed rewrite differs');
        await rm(path);
        await rm(copy);
      }),
      { seed: 42, numRuns: 60 },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
