// Format 2.1 (SPEC §21): the rules 2.1 adds or states, through the engine reader, the reference
// reader and the CLI, on the 2.1 golden vectors and on mutations of them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { MemorySource } from '../../src/engine/sources/byte-source.ts';
import { verifyStore } from '../../src/engine/picpac/verify.ts';
import { rebuildIndex } from '../../src/engine/picpac/recovery.ts';
import { FormatError, UnsupportedVersionError } from '../../src/errors.ts';
import { decodeFileImage, decodeFooterFrame, encodeFooterFrame, encodeFileImage, fieldTypeName, FieldKind, FOOTER, HEADER, ImageCodec, TensorDType, crc32c } from '../../src/format/index.ts';
import { cli } from '../cli/helpers.ts';

const root = path.resolve(import.meta.dirname, '../..');
const vector = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(root, 'test/vectors/v2', `${name}.picpac`)));
const manifest = (name: string) => JSON.parse(readFileSync(path.join(root, 'test/vectors/v2', `${name}.json`), 'utf8'));

describe('[HDR-9] extended header CRC', () => {
  const bytes = vector('header-extended-crc');

  test('a grown header with its CRC reads; a flipped grown byte is a format error at byte 56', async () => {
    const reader = await PicpacReader.open(new MemorySource(bytes, 'grown'));
    assert.equal(reader.recordCount, 3);
    await reader.close();
    for (const at of [64, 80, 95]) {
      const flipped = bytes.slice();
      flipped[at] ^= 0x10;
      assert.throws(() => decodeFileImage(flipped), (e: unknown) => e instanceof FormatError && e.byteOffset === HEADER.extendedHeaderCrc.offset);
      await assert.rejects(PicpacReader.open(new MemorySource(flipped, 'flipped')), (e: unknown) => e instanceof FormatError && e.byteOffset === HEADER.extendedHeaderCrc.offset && /extended header CRC/.test(e.message));
      await assert.rejects(PicpacReader.open(new MemorySource(flipped, 'flipped'), { recover: true }), FormatError);
    }
  });

  test('without feature bit 17 the grown bytes stay unchecked (2.0 files such as future-minor read as before) [HDR-4]', async () => {
    const future = vector('future-minor').slice();
    future[70] ^= 0xff; // inside its 96-byte header, covered by no CRC
    const reader = await PicpacReader.open(new MemorySource(future, 'future'));
    assert.equal(reader.recordCount, 3);
    await reader.close();
  });
});

describe('[FTR-8] [EXT-6] [EXT-2] footer flags', () => {
  test('footer flag bit 0 refuses the file at open, before any gap between indexed frames is read', async () => {
    const bytes = vector('extension-critical-flagged');
    const source = new MemorySource(bytes, 'flagged');
    await assert.rejects(PicpacReader.open(source), (e: unknown) => e instanceof UnsupportedVersionError && /critical extension frames/.test(e.message) && e.byteOffset === bytes.length - 64 + 16 + FOOTER.footerFlags.offset);
    // Small files are opened with one read of the whole file; the refusal came from the footer
    // field, not from walking to the frame (which sits at offset > 64 and would name its kind).
    assert.ok(source.counter.reads <= 2);
  });

  test('an unknown ancillary footer flag is ignored; flags survive encode/decode', () => {
    const footer = { indexOffset: 100, recordCount: 1, annotatedCount: 0, generation: 1, footerOffset: 200, footerFlags: 1 << 20 };
    assert.deepEqual(decodeFooterFrame(encodeFooterFrame(footer), 200), footer);
    assert.throws(() => decodeFooterFrame(encodeFooterFrame({ ...footer, footerFlags: 1 << 3 }), 200), (e: unknown) => e instanceof UnsupportedVersionError && /unknown critical footer flag/.test(e.message));
    assert.equal('footerFlags' in decodeFooterFrame(encodeFooterFrame({ ...footer, footerFlags: 0 }), 200), false, '2.0 footers decode as before');
  });

  test('files written by this version carry minor 1 ([REC-11]) and no footer flags [HDR-2] [VER-3]', () => {
    const bytes = encodeFileImage([{ id: 1, label: 0, label2: 0, fields: [] }], { alignment: 1 });
    assert.equal(bytes[9], 1);
    assert.equal(decodeFooterFrame(bytes.subarray(bytes.length - 64), bytes.length - 64).footerFlags, undefined);
  });
});

describe('[RCV-1] one torn offset: the end of the last valid frame', () => {
  for (const name of ['torn', 'aligned-torn', 'aligned-torn-in-padding']) {
    test(`${name}: engine recovery, reference reader, verify and dump agree on the manifest's tornAt`, async () => {
      const bytes = vector(name);
      const { recovery } = manifest(name);
      assert.equal(recovery.tornAt, recovery.validByteLength);
      const reader = await PicpacReader.open(new MemorySource(bytes, name), { recover: true });
      assert.equal(reader.tornTailOffset, recovery.tornAt);
      assert.equal(reader.recordCount, recovery.recordCount);
      await reader.close();
      assert.equal(decodeFileImage(bytes, { recover: true }).tornAt, recovery.tornAt);
      const v = await verifyStore(path.join(root, 'test/vectors/v2', `${name}.picpac`));
      assert.equal(v.problems[0].byteOffset, recovery.tornAt);
      const dump = await cli('dump', path.join(root, 'test/vectors/v2', `${name}.picpac`), '--recover');
      assert.match(dump.stderr, new RegExp(`torn tail at byte ${recovery.tornAt}\\b`));
    });
  }

  test('head -c of an aligned file is torn at its last complete frame, not at the next page', async () => {
    const bytes = vector('aligned-4096');
    const cut = bytes.subarray(0, 8192 + 100); // into record 2, which starts at 8192
    const reader = await PicpacReader.open(new MemorySource(cut, 'cut'), { recover: true });
    assert.ok(reader.tornTailOffset !== undefined && reader.tornTailOffset < 8192 && reader.tornTailOffset % 4096 !== 0);
    await reader.close();
  });
});

describe('[ANN-5] an annotation frame before its record', () => {
  test('strict dump names the annotation frame at byte 64, not a bad magic', async () => {
    const file = path.join(root, 'test/vectors/v2/annotation-before-record.picpac');
    const r = await cli('dump', file, '--strict');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /annotation frame precedes the frame of its record at byte 64 \(record 0\)/);
    assert.doesNotMatch(r.stderr, /magic/);
  });

  test('a recovery scan ignores the misplaced frame and keeps the records', async () => {
    const bytes = vector('annotation-before-record');
    const rebuilt = await rebuildIndex(new MemorySource(bytes, 'm'));
    assert.equal(rebuilt.index.recordCount, 2);
    assert.equal(rebuilt.index.annotatedCount, 0);
    assert.equal(rebuilt.orphanAnnotationFrames, 1);
    const d = decodeFileImage(bytes, { recover: true });
    assert.deepEqual([d.records.length, d.annotations.size], [2, 0]);
  });
});

describe('[FTR-5] [FTR-6] footer against its index', () => {
  test('wrong generation and annotatedCount are format errors at the field (strict); recovery salvages the records [RCV-7]', async () => {
    for (const [name, field] of [['footer-generation-wrong', FOOTER.generation.offset], ['footer-annotated-count-wrong', FOOTER.annotatedCount.offset]] as const) {
      const bytes = vector(name);
      const at = bytes.length - 64 + 16 + field;
      await assert.rejects(PicpacReader.open(new MemorySource(bytes, name), { strict: true }), (e: unknown) => e instanceof FormatError && e.code === 'FORMAT' && e.byteOffset === at);
      const recovered = await PicpacReader.open(new MemorySource(bytes, name), { recover: true });
      assert.ok(recovered.recordCount >= 2, `${name}: ${recovered.recordCount} records salvaged`);
      await recovered.close();
      const v = await verifyStore(path.join(root, 'test/vectors/v2', `${name}.picpac`));
      assert.ok(v.problems.some((p) => p.byteOffset === at && p.section === 'footer'), JSON.stringify(v.problems));
    }
  });
});

describe('[VEC-1] manifest type strings', () => {
  test('SPEC §20 table = fieldTypeName for every code', () => {
    const spec = readFileSync(path.join(root, 'SPEC.md'), 'utf8');
    const row = (start: string): string[] => {
      const line = spec.split('\n').find((l) => l.startsWith(start));
      assert.ok(line, start);
      return [...(line.split('|')[3] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    };
    const imageNames = row('| 1 image |');
    const imageCodes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    assert.deepEqual(imageCodes.map((c) => fieldTypeName(FieldKind.image, c)), imageNames);
    assert.deepEqual(imageCodes.map((c) => fieldTypeName(FieldKind.label, c)), imageNames.map((n) => n.replace('image/', 'label/')));
    assert.equal(ImageCodec.v1raw, 8);
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 0].map((c) => fieldTypeName(FieldKind.tensor, c)), row('| 3 tensor |'));
    assert.equal(TensorDType.float64, 8);
    assert.deepEqual([fieldTypeName(FieldKind.bytes, 0)], row('| 4 bytes |'));
    assert.equal(row('| annotation frame |')[0], 'annotation/json');
    assert.ok(crc32c(new Uint8Array(0)) === 0, 'the CRC of no bytes is 0 ([HDR-9] for a 64-byte header)');
  });
});
