// Shared by the 1.0 tests: where the golden vectors are, and the manifest comparison.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Reader } from '../../../src/engine/v1/v1-reader.ts';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** Golden copies in the repo: always tested. */
export const repoVectors = join(repoRoot, 'test/vectors/v1');
/** The full legacy set: tested when ../shared is present. */
export const sharedVectors = resolve(repoRoot, '../shared/vectors/legacy-v1');
export const sharedPresent = existsSync(sharedVectors);
export const SHARED_ABSENT = `${sharedVectors} absent: shared legacy vectors not tested`;

export interface ManifestField {
  size: number;
  sha256: string;
}
export interface ManifestRecord {
  id: number;
  label: number;
  label2: number;
  fields: ManifestField[];
}
export interface Manifest {
  file: string;
  records: ManifestRecord[];
  written_before_kill?: number;
  closed_segment_records?: number;
}

export function listVectors(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.db') && existsSync(join(dir, `${f}.json`)))
    .sort();
}

export function readManifest(dir: string, file: string): Manifest {
  return JSON.parse(readFileSync(join(dir, `${file}.json`), 'utf8')) as Manifest;
}

export const isCrashVector = (manifest: Manifest): boolean => manifest.written_before_kill !== undefined;

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Every record as the manifest lists it: id, label (float32), label2, each field's size and hash. */
export async function assertMatchesManifest(reader: V1Reader, records: ManifestRecord[]): Promise<void> {
  assert.equal(reader.recordCount, records.length, 'record count');
  for (const [i, expected] of records.entries()) {
    const meta = reader.meta(i);
    assert.equal(meta.id, expected.id, `record ${i} id`);
    assert.equal(meta.label, Math.fround(expected.label), `record ${i} label`);
    assert.equal(meta.label2, expected.label2, `record ${i} label2`);
    const raw = await reader.readRawFields(i);
    assert.deepEqual(
      raw.map((b) => ({ size: b.length, sha256: sha256(b) })),
      expected.fields,
      `record ${i} fields`,
    );
  }
}
