// Shared helpers for engine tests: temp dirs, DecodedRecord ↔ NewRecord, comparisons.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fieldKindName } from '../../src/format/field-type.ts';
import type { DecodedRecord } from '../../src/format/types.ts';
import type { NewRecord, StoredRecord } from '../../src/engine/store.ts';

export async function tempDir(prefix = 'picpac-engine-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A format-level record as the writer's input (explicit codec/size, so nothing is sniffed). */
export function toNewRecord(r: DecodedRecord & { annotation?: string }): NewRecord {
  const out: NewRecord = {
    id: r.id,
    label: r.label,
    label2: r.label2,
    fields: r.fields.map((f) => ({ kind: fieldKindName(f.kind), codec: f.codec, bytes: f.bytes, width: f.width, height: f.height })),
  };
  if (r.annotation !== undefined) out.annotation = r.annotation;
  return out;
}

/** What a stored record should look like, reduced to comparable plain data. */
export function plainStored(r: StoredRecord): unknown {
  return {
    id: r.id,
    label: r.label,
    label2: r.label2,
    fields: r.fields.map((f) => ({ kind: f.kind, codec: f.codec, bytes: Buffer.from(f.bytes).toString('hex'), width: f.width, height: f.height })),
    annotation: r.annotation,
  };
}

export function plainDecoded(r: DecodedRecord & { annotation?: string }): unknown {
  return {
    id: r.id,
    label: r.label,
    label2: r.label2,
    fields: r.fields.map((f) => ({ kind: fieldKindName(f.kind), codec: f.codec, bytes: Buffer.from(f.bytes).toString('hex'), width: f.width, height: f.height })),
    annotation: r.annotation === '' ? undefined : r.annotation,
  };
}

export function repoRoot(): string {
  return path.resolve(import.meta.dirname, '../..');
}
