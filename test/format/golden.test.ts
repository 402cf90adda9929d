// Golden vectors (STYLE §27, §30): one test per test/vectors/v2/*.json. Each .picpac is decoded
// with the format functions and compared with its JSON dump; its SHA-256 must match SPEC.md §20.
// Corruption: truncations at every byte of the header and index region and seeded bit flips
// must only ever produce PicpacError subclasses.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FormatError, PicpacError, UnfinishedFileError, UnsupportedVersionError } from '../../src/errors.ts';
import { Rng } from '../../src/engine/rng.ts';
import { decodeHeader, firstFrameOffset } from '../../src/format/header.ts';
import { checkFramePayload, checkFramePlacement, decodeFrameHeader, isCriticalFrame, nextFrame } from '../../src/format/frame.ts';
import { decodeRecordPayload } from '../../src/format/record.ts';
import { decodeAnnotationPayload } from '../../src/format/annotation.ts';
import { decodeFileImage, encodeFileImage } from '../../src/format/file-image.ts';
import { fieldTypeName } from '../../src/format/field-type.ts';
import { FrameKind } from '../../src/format/layout.ts';
import type { DecodedRecord } from '../../src/format/types.ts';
import { openIndex } from './index-chain.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const vectorDir = path.join(root, 'test/vectors/v2');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const decoder = new TextDecoder();

interface VectorJson {
  case: string;
  byteLength: number;
  expect: 'ok' | 'UnsupportedVersionError' | 'UnfinishedFileError' | 'FormatError';
  error?: { name: string; byteOffset: number };
  header: object;
  footer: object | null;
  recovery?: { recordCount: number; validByteLength: number; tornAt?: number };
  records: Array<{ index: number; id: number; label: number; label2: number; fields: Array<{ type: string; kind: number; codec: number; size: number; sha256: string; width: number; height: number }>; annotation: string | null }>;
}

/** SPEC.md §20 rows: | `name.picpac` | description | bytes | `sha256` | */
function specDigests(): Map<string, { byteLength: number; sha256: string }> {
  const spec = readFileSync(path.join(root, 'SPEC.md'), 'utf8');
  const out = new Map<string, { byteLength: number; sha256: string }>();
  for (const m of spec.matchAll(/^\| `([a-z0-9-]+)\.picpac` \|[^|]*\| (\d+) \| `([0-9a-f]{64})` \|$/gm)) out.set(m[1], { byteLength: Number(m[2]), sha256: m[3] });
  return out;
}

/** Walk every frame from the first frame offset, with the frame-level functions only. */
function walkFrames(bytes: Uint8Array): { kinds: number[]; records: DecodedRecord[]; annotations: Map<number, string> } {
  const header = decodeHeader(bytes);
  const kinds: number[] = [];
  const records: DecodedRecord[] = [];
  const annotations = new Map<number, string>();
  for (let end = firstFrameOffset(header); end < bytes.length; ) {
    // The scan rule [ALN-4]: a frame at `end`, or zero padding then a record frame.
    const next = nextFrame(bytes, 0, end, header.alignment);
    const at = next.frameOffset;
    const h = decodeFrameHeader(bytes.subarray(at, at + 16), at);
    checkFramePlacement(h.kind, at, next.afterPadding, header.alignment);
    const payload = bytes.subarray(at + 16, at + 16 + h.payloadByteLength);
    checkFramePayload(h, payload, at);
    kinds.push(h.kind);
    if (h.kind === FrameKind.record) records.push(decodeRecordPayload(payload, at + 16, records.length));
    if (h.kind === FrameKind.annotation) {
      const a = decodeAnnotationPayload(payload, at + 16);
      if (a.text.length === 0) annotations.delete(a.recordIndex);
      else annotations.set(a.recordIndex, decoder.decode(a.text));
    }
    if (isCriticalFrame(h)) throw new UnsupportedVersionError('critical extension', { section: 'frame', byteOffset: at });
    end = at + 16 + h.payloadByteLength;
  }
  return { kinds, records, annotations };
}

function dumpRecords(records: DecodedRecord[], annotations: Map<number, string | Uint8Array>): VectorJson['records'] {
  return records.map((r, index) => {
    const a = annotations.get(index);
    return {
      index,
      id: r.id,
      label: r.label,
      label2: r.label2,
      fields: r.fields.map((f) => ({ type: fieldTypeName(f.kind, f.codec), kind: f.kind, codec: f.codec, size: f.bytes.length, sha256: sha256(f.bytes), width: f.width, height: f.height })),
      annotation: a === undefined ? null : typeof a === 'string' ? a : decoder.decode(a),
    };
  });
}

function onlyPicpacErrors(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PicpacError, `${what}: ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
}

const names = readdirSync(vectorDir).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).sort();
const digests = specDigests();

describe('golden vectors v2', () => {
  test('every vector is listed in SPEC.md §20 and every listed vector exists', () => {
    assert.ok(names.length >= 9);
    assert.deepEqual([...digests.keys()].sort(), names);
  });

  test('make-vectors.ts still reproduces every published vector and overwrites nothing [WRT-1]', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(vectorDir, 'make-vectors.ts'), '--check'], { cwd: root, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, '', 'no new vector was written');
  });

  for (const name of names) {
    describe(name, () => {
      const bytes = new Uint8Array(readFileSync(path.join(vectorDir, `${name}.picpac`)));
      const json = JSON.parse(readFileSync(path.join(vectorDir, `${name}.json`), 'utf8')) as VectorJson;

      test('SHA-256 and length match SPEC.md §20', () => {
        assert.equal(sha256(bytes), digests.get(name)?.sha256);
        assert.equal(bytes.length, digests.get(name)?.byteLength);
        assert.equal(bytes.length, json.byteLength);
      });

      test('header [HDR-1] [HDR-2] [VER-2] [VER-3]', () => {
        assert.deepEqual(decodeHeader(bytes), json.header);
      });

      if (json.expect === 'ok') {
        test('strict decode matches the JSON [FRM-6] [REC-10] [ANN-3] [ANN-4] [EXT-3] [EXT-4]', () => {
          const d = decodeFileImage(bytes);
          assert.deepEqual(d.footer, json.footer);
          assert.deepEqual(dumpRecords(d.records, d.annotations), json.records);
          const walked = walkFrames(bytes);
          assert.deepEqual(dumpRecords(walked.records, walked.annotations), json.records);
          // extension frames are not records and have no index entry [EXT-4]
          assert.equal(walked.kinds.filter((k) => k === FrameKind.record).length, json.records.length);
        });

        test('index chain agrees with the frames; annotations read via the index only [IDX-4] [IDX-5] [IDX-6] [IDX-7] [ANN-7] [FTR-6]', () => {
          const index = openIndex(bytes);
          const d = decodeFileImage(bytes);
          index.records.forEach((e, i) => {
            const h = decodeFrameHeader(bytes.subarray(e.frameOffset, e.frameOffset + 16), e.frameOffset);
            assert.equal(h.kind, FrameKind.record);
            assert.deepEqual([e.payloadByteLength, e.payloadCrc], [h.payloadByteLength, h.payloadCrc]);
            const r = decodeRecordPayload(bytes.subarray(e.frameOffset + 16, e.frameOffset + 16 + e.payloadByteLength), e.frameOffset + 16, i);
            assert.deepEqual(r, d.records[i]);
            const image = r.fields.find((f) => f.kind === 1);
            assert.deepEqual([e.id, e.label, e.label2, e.fieldCount, e.width, e.height, e.firstImageCodec], [r.id, r.label, r.label2, r.fields.length, image?.width ?? 0, image?.height ?? 0, image?.codec ?? 0]);
          });
          const viaIndex = new Map([...index.annotations].map(([k, a]) => [k, decodeAnnotationPayload(bytes.subarray(a.frameOffset + 16, a.frameOffset + 16 + a.payloadByteLength), a.frameOffset + 16).text]));
          assert.deepEqual(dumpRecords(d.records, viaIndex), json.records);
        });

        test('recovery scan returns the same records [RCV-1] [RCV-4] [IDX-9]', () => {
          const r = decodeFileImage(bytes, { recover: true });
          assert.equal(r.tornAt, undefined);
          assert.equal(r.validByteLength, bytes.length);
          assert.deepEqual(dumpRecords(r.records, r.annotations), json.records);
        });

        if (!['appended', 'aligned-appended', 'extension-ancillary', 'future-minor', 'header-extended-crc', 'metadata-class-table'].includes(name)) {
          test('re-encoding the decoded records reproduces the file byte for byte [WRT-1]', () => {
            const d = decodeFileImage(bytes);
            const input = d.records.map((r, i) => (d.annotations.has(i) ? { ...r, annotation: decoder.decode(d.annotations.get(i)) } : r));
            assert.deepEqual(encodeFileImage(input, { alignment: d.header.alignment, minorVersion: d.header.minorVersion }), bytes);
          });
        }
      }

      if (json.expect === 'UnsupportedVersionError') {
        test('readers refuse it, strictly and when recovering [EXT-2]', () => {
          assert.throws(() => decodeFileImage(bytes), UnsupportedVersionError);
          assert.throws(() => decodeFileImage(bytes, { recover: true }), UnsupportedVersionError);
          assert.throws(() => walkFrames(bytes), UnsupportedVersionError);
        });
      }

      if (json.expect === 'FormatError') {
        test('a corrupt file: the reference reader names the byte the manifest gives [VEC-2] [FTR-3] [ANN-5] [ANN-8] [IDX-10]', () => {
          assert.throws(() => decodeFileImage(bytes), (e: unknown) => e instanceof FormatError && !(e instanceof UnfinishedFileError) && !(e instanceof UnsupportedVersionError) && e.byteOffset === json.error?.byteOffset);
          onlyPicpacErrors(() => decodeFileImage(bytes, { recover: true }), 'recover');
        });
      }

      if (json.expect === 'UnfinishedFileError') {
        test('strict open fails; recovery yields the complete records [FTR-3] [RCV-1] [RCV-2]', () => {
          assert.throws(() => decodeFileImage(bytes), UnfinishedFileError);
          const r = decodeFileImage(bytes, { recover: true });
          assert.deepEqual(dumpRecords(r.records, r.annotations), json.records);
          assert.deepEqual({ recordCount: r.records.length, validByteLength: r.validByteLength, tornAt: r.tornAt }, json.recovery);
        });
      }

      test('truncation and bit flips only raise PicpacError subclasses [SEC-1]', () => {
        const header = decodeHeader(bytes);
        const cuts = new Set<number>();
        for (let i = 0; i <= firstFrameOffset(header) + 16 && i < bytes.length; i++) cuts.add(i);
        for (let i = Math.max(0, bytes.length - 400); i < bytes.length; i++) cuts.add(i);
        for (let i = 0; i < bytes.length; i += 97) cuts.add(i);
        for (const cut of cuts) {
          const b = bytes.subarray(0, cut);
          onlyPicpacErrors(() => decodeFileImage(b), `cut ${cut}`);
          onlyPicpacErrors(() => decodeFileImage(b, { recover: true }), `recover cut ${cut}`);
          if (cut < bytes.length && json.expect === 'ok') assert.throws(() => decodeFileImage(b), PicpacError);
        }
        const rng = new Rng(42); // seeded: the same flips on every run
        const random = () => rng.next();
        for (let i = 0; i < 150; i++) {
          const flipped = bytes.slice();
          const at = Math.floor(random() * bytes.length);
          flipped[at] ^= 1 << Math.floor(random() * 8);
          onlyPicpacErrors(() => decodeFileImage(flipped), `flip at ${at}`);
          onlyPicpacErrors(() => decodeFileImage(flipped, { recover: true }), `recover flip at ${at}`);
          // (the test helper openIndex asserts [FTR-6] itself: not for a vector that breaks it on purpose)
          if (json.expect !== 'FormatError') onlyPicpacErrors(() => openIndex(flipped), `index flip at ${at}`);
        }
      });
    });
  }
});
