// Golden vectors of format 2.0 (test/vectors/v2, written by the format helper) read through
// openStore equal their JSON dumps (STYLE §27), over a file and over memory; the same files
// verify clean (or report the expected problem).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../../src/engine/open-store.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { MemorySource } from '../../src/engine/sources/byte-source.ts';
import { verifyStore } from '../../src/engine/picpac/verify.ts';
import { fieldKindCode } from '../../src/format/field-type.ts';
import type { Store, StoredRecord } from '../../src/engine/store.ts';

const VECTORS = path.resolve(import.meta.dirname, '../vectors/v2');
const cases = readdirSync(VECTORS).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));

interface VectorRecord {
  index: number;
  id: number;
  label: number;
  label2: number;
  fields: Array<{ type: string; kind: number; codec: number; size: number; sha256: string; width: number; height: number }>;
  annotation: string | null;
}

function dumpRecord(r: StoredRecord): VectorRecord {
  return {
    index: r.recordIndex,
    id: r.id,
    label: r.label,
    label2: r.label2,
    fields: r.fields.map((f) => ({ type: f.type, kind: fieldKindCode(f.kind), codec: f.codec, size: f.bytes.length, sha256: createHash('sha256').update(f.bytes).digest('hex'), width: f.width, height: f.height })),
    annotation: r.annotation ?? null,
  };
}

async function dumpAll(store: Store): Promise<VectorRecord[]> {
  const out = [];
  for (let i = 0; i < store.recordCount; i++) out.push(dumpRecord(await store.get(i)));
  const scanned = [];
  for await (const r of store.scan()) scanned.push(dumpRecord(r));
  assert.deepEqual(scanned, out, 'scan and get disagree');
  return out;
}

describe('v2 golden vectors through openStore', () => {
  for (const name of cases) {
    const json = JSON.parse(readFileSync(path.join(VECTORS, `${name}.json`), 'utf8'));
    const file = path.join(VECTORS, `${name}.picpac`);
    test(`${name}: ${json.description}`, async () => {
      const expectedRecords = (json.records as VectorRecord[]).map((r) => ({ ...r, annotation: r.annotation ?? null }));
      if (json.expect === 'ok') {
        const store = await openStore(file);
        assert.equal(store.format, 'picpac-2');
        assert.equal(store.recordCount, json.footer.recordCount);
        assert.equal((store as PicpacReader).generation, json.footer.generation);
        assert.equal((store as PicpacReader).annotatedCount, json.footer.annotatedCount);
        assert.deepEqual(await dumpAll(store), expectedRecords);
        // File metadata [EXT-7]: through the newest index block's metadataOffset [EXT-8].
        assert.equal(await store.getMetadata?.(), json.metadata);
        await store.close();
        const memory = await PicpacReader.open(new MemorySource(new Uint8Array(readFileSync(file)), name));
        assert.deepEqual(await dumpAll(memory), expectedRecords);
        const v = await verifyStore(file);
        assert.deepEqual(v.problems, []);
        assert.equal(v.recordCount, json.footer.recordCount);
      } else if (json.expect === 'FormatError') {
        // Corrupt: found at open (footer, index) or, for annotation text, when it is read. [VEC-2]
        const readAll = async (): Promise<void> => {
          const store = await openStore(file, { strict: true }); // the default falls back to a scan past a damaged index
          try {
            await dumpAll(store);
          } finally {
            await store.close();
          }
        };
        await assert.rejects(readAll(), (err: unknown) => {
          assert.equal((err as Error).name, 'FormatError', String(err));
          assert.equal((err as { byteOffset?: number }).byteOffset, json.error.byteOffset, String(err));
          assert.ok((err as Error).message.startsWith(file), (err as Error).message);
          return true;
        });
        const v = await verifyStore(file);
        assert.equal(v.ok, false);
        assert.ok(v.problems.some((p) => p.byteOffset === json.error.byteOffset), JSON.stringify(v.problems));
      } else {
        await assert.rejects(openStore(file), (err: unknown) => {
          assert.equal((err as Error).name, json.expect);
          assert.ok((err as Error).message.startsWith(file), (err as Error).message);
          return true;
        });
        const v = await verifyStore(file);
        assert.equal(v.ok, false);
        if (json.recovery) {
          const store = (await openStore(file, { recover: true })) as PicpacReader;
          assert.equal(store.recovered, true);
          assert.equal(store.recordCount, json.recovery.recordCount);
          assert.equal(store.tornTailOffset, json.recovery.tornAt);
          assert.deepEqual(await dumpAll(store), expectedRecords.slice(0, json.recovery.recordCount));
          await store.close();
          assert.equal(v.problems[0].byteOffset, json.recovery.tornAt);
        }
      }
    });
  }
});
