// Generates the two small crash vectors of test/vectors/v1 ONCE (golden files are never
// regenerated; this documents how they were made). A V1Writer hands every record to the OS on
// append, so copying its file before close() gives exactly what a SIGKILL leaves on disk:
// closed segments, then an unclosed header (size 0, link 0) and the records after it.
//   node --import tsx test/vectors/v1/make-crash-vectors.ts
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { V1Writer } from '../../../src/engine/v1/v1-writer.ts';

const here = new URL('.', import.meta.url).pathname;

interface Spec {
  file: string;
  compact: boolean;
  records: number;
  /** Bytes cut from the end after the "kill" (a torn last record is simply not counted). */
  cutBytes: number;
}

const specs: Spec[] = [
  // 1020 closed + 80 in an unclosed second segment; the tail record is cut in half.
  { file: 'crash-compact-small.db', compact: true, records: 1101, cutBytes: 40 },
  // No closed segment at all (the header at 0 says 0 records), aligned: the last record's
  // padding is missing, as when the original writer is killed after the write, before the seek.
  { file: 'crash-aligned-small.db', compact: false, records: 30, cutBytes: 4096 - 90 },
];

function recordOf(i: number): { id: number; label: number; label2: number; fields: Uint8Array[] } {
  const text = new TextEncoder();
  const fields = [text.encode(String(i).repeat(1 + (i % 3)))];
  if (i % 4 !== 3) fields.push(text.encode('{"shapes":[]}'));
  if (i % 7 === 5) fields.push(new Uint8Array(0)); // an empty last field: valid in picpac-ts
  return { id: i, label: i % 5, label2: (i % 3) - 1, fields };
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const work = await mkdtemp(join(tmpdir(), 'v1-crash-'));
try {
  for (const spec of specs) {
    const path = join(work, spec.file);
    const writer = await V1Writer.create(path, { compact: spec.compact });
    const all = Array.from({ length: spec.records }, (_, i) => recordOf(i));
    for (const r of all) await writer.appendV1(r);
    await copyFile(path, join(here, spec.file)); // the "kill"
    await writer.close();
    const full = (await readFile(join(here, spec.file))).length;
    await truncate(join(here, spec.file), full - spec.cutBytes);
    const survivors = spec.cutBytes > 0 && spec.compact ? all.slice(0, -1) : all;
    const manifest = {
      file: spec.file,
      written_before_kill: spec.records,
      // A segment is closed when the 1021st record arrives.
      closed_segment_records: Math.floor((spec.records - 1) / 1020) * 1020,
      recoverable_records: survivors.length,
      records: survivors.map((r) => ({
        id: r.id,
        label: r.label,
        label2: r.label2,
        fields: r.fields.map((f) => ({ size: f.length, sha256: sha256(f) })),
      })),
    };
    await writeFile(join(here, `${spec.file}.json`), JSON.stringify(manifest, null, 1) + '\n');
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
