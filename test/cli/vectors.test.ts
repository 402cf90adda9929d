// dump against the golden vectors: every PicPac 1.0 file written by the original implementation
// must dump exactly what the original reader returned (id, label, label2, field sizes and
// SHA-256), the 2.0 vectors their manifests, and convert v1 → v2 → v1 must give back every
// original field.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cli, parseJsonLines, repoRoot, sharedDir, tempDir } from './helpers.ts';

interface ManifestRecord {
  id: number;
  label: number;
  label2: number;
  fields: Array<{ size: number; sha256: string; type?: string }>;
  annotation?: string | null;
}
interface V1Manifest {
  records: ManifestRecord[];
  closed_segment_records?: number;
  recoverable_records?: number;
}
type DumpRow = { index: number; id: number; label: number; label2: number; fields: Array<{ type: string; size: number; sha256: string }> };

const legacyDir = path.join(sharedDir, 'vectors/legacy-v1');
const repoV1Dir = path.join(repoRoot, 'test/vectors/v1');
const repoV2Dir = path.join(repoRoot, 'test/vectors/v2');

function manifests(dir: string, suffix: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith(suffix)).sort() : [];
}

async function dumpRows(file: string, ...flags: string[]): Promise<{ rows: DumpRow[]; stderr: string }> {
  const r = await cli('dump', file, ...flags);
  assert.equal(r.code, 0, r.stderr);
  return { rows: parseJsonLines(r.stdout) as unknown as DumpRow[], stderr: r.stderr };
}

function assertMatchesManifest(rows: DumpRow[], records: ManifestRecord[], file: string): void {
  for (const [i, row] of rows.entries()) {
    const want = records[i];
    assert.equal(row.index, i);
    assert.deepEqual(
      { id: row.id, label: row.label, label2: row.label2, fields: row.fields.map((f) => ({ size: f.size, sha256: f.sha256 })) },
      { id: want.id, label: want.label, label2: want.label2, fields: want.fields.map((f) => ({ size: f.size, sha256: f.sha256 })) },
      `${file} record ${i}`,
    );
  }
}

function v1Suite(title: string, dir: string, skip: string | false): void {
  describe(title, { skip }, () => {
    for (const name of manifests(dir, '.db.json')) {
      const dbFile = path.join(dir, name.replace(/\.json$/, ''));
      const manifest = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as V1Manifest;
      const crashed = manifest.closed_segment_records !== undefined;
      test(`dump ${name.replace(/\.json$/, '')} equals the original reader's records`, async () => {
        const { rows, stderr } = await dumpRows(dbFile, ...(crashed ? ['--recover'] : []));
        if (crashed) {
          assert.ok(rows.length >= manifest.closed_segment_records!, `at least the closed segments (${rows.length})`);
          assert.ok(rows.length <= manifest.records.length);
          if (manifest.recoverable_records !== undefined) assert.equal(rows.length, manifest.recoverable_records);
          assert.match(stderr, new RegExp(`recovered ${rows.length} records`));
          const verified = await cli('verify', dbFile);
          assert.equal(verified.code, 1, 'a crashed 1.0 file does not verify');
          assert.match(verified.stdout, /^FAILED: .*\n {2}byte \d+: .*unclosed segment/);
        } else {
          assert.equal(rows.length, manifest.records.length);
        }
        assertMatchesManifest(rows, manifest.records, name);
        // Field 1 of an annotated file is listed as the annotation, in place.
        for (const row of rows) {
          if (row.fields.length > 1 && row.fields[1].type === 'annotation/json') assert.notEqual(row.fields[0].type, 'annotation/json');
        }
      });
      if (crashed) continue;
      // [V1-5] [V1-6] the two mappings are inverse: v1 → v2 → v1 reproduces every slot.
      test(`convert ${name.replace(/\.json$/, '')} v1 → v2 → v1 gives back every field; verify passes [V1-5] [V1-6]`, async () => {
        const tmp = await tempDir();
        try {
          const v2 = path.join(tmp.dir, 'x.picpac');
          const back = path.join(tmp.dir, 'x.db');
          assert.equal((await cli('convert', dbFile, v2, '-q')).code, 0);
          assert.equal((await cli('convert', v2, back, '-q')).code, 0);
          const original = (await dumpRows(dbFile)).rows;
          assert.deepEqual((await dumpRows(back)).rows, original);
          const viaV2 = (await dumpRows(v2)).rows;
          assert.equal(viaV2.length, original.length);
          for (const [i, row] of viaV2.entries()) {
            // Same bytes, same labels; only the annotation's position differs (last in 2.0).
            const sorted = (r: DumpRow): string[] => r.fields.map((f) => `${f.size}:${f.sha256}`).sort();
            assert.deepEqual(sorted(row), sorted(original[i]));
            assert.deepEqual([row.id, row.label, row.label2], [original[i].id, original[i].label, original[i].label2]);
          }
          const verified = await cli('verify', dbFile);
          assert.equal(verified.code, 0, verified.stdout + verified.stderr);
          assert.match(verified.stdout, new RegExp(`^OK: ${original.length} records`));
          assert.equal((await cli('verify', v2)).code, 0);
        } finally {
          await tmp.cleanup();
        }
      });
    }
  });
}

v1Suite('legacy PicPac 1.0 vectors (../shared)', legacyDir, existsSync(legacyDir) ? false : '../shared/vectors/legacy-v1 absent');
v1Suite('repo PicPac 1.0 vectors (test/vectors/v1)', repoV1Dir, manifests(repoV1Dir, '.db.json').length > 0 ? false : 'test/vectors/v1 not written yet');

describe('format 2.0 vectors (test/vectors/v2)', { skip: manifests(repoV2Dir, '.json').length > 0 ? false : 'no 2.0 vectors yet' }, () => {
  for (const name of manifests(repoV2Dir, '.json')) {
    const file = path.join(repoV2Dir, name.replace(/\.json$/, '.picpac'));
    const manifest = JSON.parse(readFileSync(path.join(repoV2Dir, name), 'utf8')) as {
      expect: string;
      records: ManifestRecord[];
      recovery?: { recordCount: number; tornAt: number };
    };
    const expected = manifest.records.map((r) => ({
      ...r,
      fields: [
        ...r.fields,
        ...(r.annotation != null
          ? [{ type: 'annotation/json', size: Buffer.byteLength(r.annotation), sha256: createHash('sha256').update(r.annotation).digest('hex') }]
          : []),
      ],
    }));
    // [EXT-2] strict open checks the unindexed gaps between frames, so dump refuses a file
    // with an unknown critical extension frame (UnsupportedVersionError → exit 1).
    test(`dump ${name.replace(/\.json$/, '.picpac')} (${manifest.expect})`, async () => {
      if (manifest.expect === 'ok') {
        const { rows } = await dumpRows(file);
        assert.equal(rows.length, expected.length);
        assertMatchesManifest(rows, expected, name);
        assert.deepEqual(rows.map((r) => r.fields.map((f) => f.type)), expected.map((r) => r.fields.map((f) => f.type)));
        return;
      }
      // --strict: the default reader falls back to a scan (with a warning) past a damaged index.
      const strict = await cli('dump', file, '--strict');
      assert.equal(strict.code, 1, `${name}: expected ${manifest.expect}`);
      assert.doesNotMatch(strict.stderr, /\n\s+at /);
      if (manifest.recovery) {
        const { rows, stderr } = await dumpRows(file, '--recover');
        assert.equal(rows.length, manifest.recovery.recordCount);
        assertMatchesManifest(rows, expected, name);
        assert.match(stderr, new RegExp(`torn tail at byte ${manifest.recovery.tornAt}`));
      }
    });
  }
});
