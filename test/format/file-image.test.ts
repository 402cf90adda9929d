import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError, UnfinishedFileError, UnsupportedVersionError } from '../../src/errors.ts';
import { appendFileImage, decodeFileImage, encodeFileImage } from '../../src/format/file-image.ts';
import { decodeFrameHeader, encodeFrame, frameExtent, nextFrame } from '../../src/format/frame.ts';
import { decodeAnnotationPayload } from '../../src/format/annotation.ts';
import { decodeRecordPayload, encodeRecordPayload } from '../../src/format/record.ts';
import { encodeFooterFrame } from '../../src/format/footer.ts';
import { FieldKind, FrameKind, ImageCodec } from '../../src/format/layout.ts';
import { openIndex } from './index-chain.ts';
import { throwsFormat, utf8 } from './helpers.ts';

const rec = (id: number, annotation?: string) => ({
  id,
  label: id / 2,
  label2: 0,
  fields: [{ kind: FieldKind.image, codec: ImageCodec.jpeg, bytes: new Uint8Array(10 + id).fill(id), width: 4, height: 3 }],
  ...(annotation === undefined ? {} : { annotation }),
});
const text = (i: number) => `{"shapes": [{"type": "point", "geometry": {"x": 0.${i}, "y": 0.5}}]}`;

/** Frame kinds and offsets in file order, walking from the first frame by the scan rule [ALN-4]. */
function frameKinds(bytes: Uint8Array, alignment: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let end = alignment > 64 ? alignment : 64;
  while (end < bytes.length) {
    const at = nextFrame(bytes, 0, end, alignment).frameOffset;
    const h = decodeFrameHeader(bytes.subarray(at, at + 16), at);
    out.push([h.kind, at]);
    end = at + frameExtent(h.payloadByteLength);
  }
  return out;
}

describe('file image (reference writer)', () => {
  test('order: header, record (+ annotation), ..., one index block, footer last [WRT-1] [WRT-2] [FTR-2] [FRM-5] [ALN-1]', () => {
    for (const alignment of [1, 4096]) {
      const bytes = encodeFileImage([rec(0, text(1)), rec(1), rec(2, text(2))], { alignment });
      const kinds = frameKinds(bytes, alignment);
      assert.deepEqual(kinds.map(([k]) => k), [1, 2, 1, 1, 2, 3, 4]);
      // Only record frames are aligned; every other frame starts where the previous one ends. [ALN-1] [ALN-3]
      let end = alignment === 1 ? 64 : alignment;
      for (const [kind, at] of kinds) {
        if (kind === FrameKind.record) {
          assert.equal(at % alignment, 0, 'record frames start aligned');
          assert.equal(at, Math.ceil(end / alignment) * alignment);
          assert.ok(bytes.subarray(end, at).every((b) => b === 0), 'zero padding before a record frame');
        } else {
          assert.equal(at, end, `frame kind ${kind} follows the previous frame directly`);
        }
        end = at + frameExtent(decodeFrameHeader(bytes.subarray(at, at + 16), at).payloadByteLength);
      }
      assert.equal(kinds.at(-1)![1], bytes.length - 64, 'footer is the last 64 bytes, no padding after it');
      if (alignment === 4096) assert.ok(bytes.subarray(64, 4096).every((b) => b === 0), 'zero padding after the header [HDR-8]');
    }
  });

  test('opening reads header, footer and the index only; random access is one read at an absolute offset [IDX-7] [ANN-7] [CNV-3]', () => {
    const bytes = encodeFileImage([rec(0, text(1)), rec(1), rec(2, text(2))], { alignment: 1 });
    const index = openIndex(bytes);
    assert.equal(index.blocks.length, 1);
    assert.equal(index.blocks[0].firstRecordIndex, 0);
    assert.equal(index.blocks[0].previousIndexOffset, 0);
    index.records.forEach((e, i) => {
      const frame = bytes.subarray(e.frameOffset, e.frameOffset + 16 + e.payloadByteLength);
      const h = decodeFrameHeader(frame, e.frameOffset);
      assert.equal(h.payloadCrc, e.payloadCrc);
      assert.equal(decodeRecordPayload(frame.subarray(16), e.frameOffset + 16, i).id, i);
    });
    const texts = [...index.annotations.values()].map((a) => new TextDecoder().decode(decodeAnnotationPayload(bytes.subarray(a.frameOffset + 16, a.frameOffset + 16 + a.payloadByteLength), 0).text));
    assert.deepEqual(texts, [text(1), text(2)]);
  });

  test('append: old bytes untouched, chained index, newest annotation wins, empty text removes [WRT-3] [WRT-4] [WRT-5] [IDX-4] [IDX-6] [IDX-8] [FTR-5] [FTR-7] [ANN-3] [ANN-4] [ANN-6] [ALN-2] [ALN-3] [REC-10]', () => {
    for (const alignment of [1, 4096]) {
      const base = encodeFileImage([rec(0, text(1)), rec(1, text(2))], { alignment });
      const next = appendFileImage(base, [rec(2), rec(3, text(3))], { annotations: [{ recordIndex: 0, text: text(4) }, { recordIndex: 1, text: '' }, { recordIndex: 0, text: text(5) }] });
      assert.deepEqual(next.subarray(0, base.length), base, 'a writer never rewrites bytes of a finished file');
      const kinds = frameKinds(next, alignment).map(([k]) => k);
      assert.deepEqual(kinds, [1, 2, 1, 2, 3, 4, 1, 1, 2, 2, 2, 2, 3, 4]);
      const index = openIndex(next);
      assert.equal(index.footer.generation, 2);
      assert.equal(index.blocks.length, 2);
      assert.equal(index.blocks[1].firstRecordIndex, 2);
      assert.equal(index.blocks[1].previousIndexOffset, index.blocks[0].frameOffset);
      assert.deepEqual(index.blocks[1].annotations.map((a) => [a.recordIndex, a.frameOffset === 0]), [[0, false], [1, true], [3, false]]);
      const d = decodeFileImage(next);
      assert.deepEqual(d.records.map((r) => r.id), [0, 1, 2, 3]);
      assert.deepEqual([...d.annotations].map(([k, v]) => [k, new TextDecoder().decode(v)]), [[0, text(5)], [3, text(3)]]);
      // After the old footer: padding only when a record frame comes next. [ALN-3]
      assert.equal(frameKinds(next, alignment).find(([, at]) => at >= base.length)![1], Math.ceil(base.length / alignment) * alignment);
      const third = appendFileImage(next, [], { annotations: [{ recordIndex: 1, text: text(6) }] });
      assert.equal(frameKinds(third, alignment).find(([, at]) => at >= next.length)![1], next.length, 'an annotation frame follows the old footer directly');
      const i3 = openIndex(third);
      assert.equal(i3.footer.generation, 3);
      assert.equal(i3.footer.annotatedCount, 3);
    }
  });

  test('append refuses annotations for records not yet written [WRT-6] [ANN-5]', () => {
    const base = encodeFileImage([rec(0)], { alignment: 1 });
    assert.throws(() => appendFileImage(base, [], { annotations: [{ recordIndex: 1, text: 'x' }] }), TypeError);
    assert.throws(() => appendFileImage(base, [], { annotations: [{ recordIndex: 0, text: 5 as never }] }), TypeError);
    throwsFormat(() => appendFileImage(base.subarray(0, base.length - 1), []), UnfinishedFileError);
  });

  test('an empty file: header, empty index, footer [FTR-6]', () => {
    const bytes = encodeFileImage([], { alignment: 1 });
    assert.equal(bytes.length, 64 + 16 + 48 + 64);
    const index = openIndex(bytes);
    assert.deepEqual(index.footer, { indexOffset: 64, recordCount: 0, annotatedCount: 0, generation: 1, footerOffset: 128 });
  });

  test('recovery keeps every complete frame and reports the torn offset [RCV-1] [RCV-2] [FTR-3]', () => {
    const bytes = encodeFileImage([rec(0, text(1)), rec(1), rec(2)], { alignment: 1 });
    const kinds = frameKinds(bytes, 1);
    const recordEnds = kinds.filter(([k]) => k === 1).map(([, at]) => at + frameExtent(decodeFrameHeader(bytes.subarray(at, at + 16), at).payloadByteLength));
    // Record 0 was written with its annotation: one unit, complete only with it [RCV-8].
    recordEnds[0] = kinds[1][1] + frameExtent(decodeFrameHeader(bytes.subarray(kinds[1][1], kinds[1][1] + 16), 0).payloadByteLength);
    for (let cut = 64; cut < bytes.length; cut++) {
      const torn = bytes.subarray(0, cut);
      throwsFormat(() => decodeFileImage(torn), UnfinishedFileError);
      const r = decodeFileImage(torn, { recover: true });
      const complete = recordEnds.filter((end) => end <= cut).length;
      assert.equal(r.records.length, complete, `cut ${cut}`);
      assert.ok(r.validByteLength <= cut);
      if (r.tornAt !== undefined) assert.equal(r.tornAt, r.validByteLength);
      // the annotation of record 0 only counts once its frame is complete [ANN-5]
      assert.equal(r.annotations.size, cut >= kinds[1][1] + frameExtent(decodeFrameHeader(bytes.subarray(kinds[1][1], kinds[1][1] + 16), 0).payloadByteLength) ? 1 : 0);
    }
  });

  test('aligned recovery: cut inside padding, non-zero padding, misplaced frames [ALN-4] [RCV-1]', () => {
    const bytes = encodeFileImage([rec(0, text(1)), rec(1), rec(2)], { alignment: 4096 });
    const kinds = frameKinds(bytes, 4096);
    const [, ann0] = kinds[1];
    const annEnd = ann0 + frameExtent(decodeFrameHeader(bytes.subarray(ann0, ann0 + 16), ann0).payloadByteLength);
    // cut inside the padding after record 0's annotation: one record, torn at the annotation's end
    const cut = decodeFileImage(bytes.subarray(0, annEnd + 10), { recover: true });
    assert.deepEqual([cut.records.length, cut.annotations.size, cut.validByteLength, cut.tornAt], [1, 1, annEnd, annEnd]);
    // a non-zero padding byte is corruption named with its offset: strict fails, recovery stops there
    const dirty = bytes.slice();
    dirty[annEnd + 100] = 1;
    throwsFormat(() => decodeFileImage(dirty), FormatError, { byteOffset: annEnd + 100, message: /non-zero padding/ });
    const r = decodeFileImage(dirty, { recover: true });
    assert.deepEqual([r.records.length, r.validByteLength, r.tornAt], [1, annEnd, annEnd]);
    // a record frame moved off the alignment is refused [ALN-1]
    const header = bytes.subarray(0, 4096);
    const record = encodeFrame(FrameKind.record, encodeRecordPayload(rec(0)));
    const index = encodeFrame(FrameKind.index, new Uint8Array(48).fill(0));
    const misplaced = new Uint8Array([...header, ...record, ...record]);
    const m = decodeFileImage(misplaced, { recover: true });
    assert.equal(m.records.length, 1);
    assert.equal(m.tornAt, 4096 + record.length);
    // padding before a frame that is not a record frame is refused [ALN-4]
    const padded = new Uint8Array([...header, ...record, ...new Uint8Array(8192 - 4096 - record.length), ...index]);
    const p = decodeFileImage(padded, { recover: true });
    assert.deepEqual([p.records.length, p.tornAt], [1, 4096 + record.length]); // the torn offset is the end of the last valid frame [RCV-1]
  });

  test('trailing garbage: strict open fails, recovery stops at the last valid frame [RCV-3]', () => {
    const bytes = encodeFileImage([rec(0), rec(1)], { alignment: 1 });
    const garbage = new Uint8Array(bytes.length + 10);
    garbage.set(bytes);
    garbage.fill(0x55, bytes.length);
    throwsFormat(() => decodeFileImage(garbage), UnfinishedFileError);
    const r = decodeFileImage(garbage, { recover: true });
    assert.equal(r.records.length, 2);
    assert.equal(r.tornAt, bytes.length);
    assert.equal(r.validByteLength, bytes.length);
  });

  test('annotation frames for records not present are ignored [ANN-5]', () => {
    const header = encodeFileImage([], { alignment: 1 }).subarray(0, 64);
    const record = encodeFrame(FrameKind.record, encodeRecordPayload(rec(0)));
    const ann = encodeFrame(FrameKind.annotation, new Uint8Array([...new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]), ...utf8.encode('{}')]));
    const bytes = new Uint8Array([...header, ...record, ...ann]);
    const r = decodeFileImage(bytes, { recover: true });
    assert.equal(r.records.length, 1);
    assert.equal(r.annotations.size, 0);
  });

  test('critical extension frame → UnsupportedVersionError even when recovering; ancillary skipped [EXT-2] [EXT-3]', () => {
    const header = encodeFileImage([], { alignment: 1 }).subarray(0, 64);
    const record = encodeFrame(FrameKind.record, encodeRecordPayload(rec(0)));
    const ancillary = encodeFrame(130, utf8.encode('x'), 0);
    const critical = encodeFrame(6, utf8.encode('x'), 1);
    assert.equal(decodeFileImage(new Uint8Array([...header, ...ancillary, ...record]), { recover: true }).records.length, 1);
    throwsFormat(() => decodeFileImage(new Uint8Array([...header, ...critical, ...record]), { recover: true }), UnsupportedVersionError, { byteOffset: 64, actual: 6 });
  });

  test('a footer that is not last (file grew after it) is a skipped frame; a stale copy fails [FTR-4] [FTR-7]', () => {
    const bytes = encodeFileImage([rec(0)], { alignment: 1 });
    const stale = new Uint8Array([...bytes, ...encodeFooterFrame({ indexOffset: 64, recordCount: 1, annotatedCount: 0, generation: 1, footerOffset: bytes.length - 64 })]);
    throwsFormat(() => decodeFileImage(stale), UnfinishedFileError, { message: /footer offset/ });
    assert.equal(decodeFileImage(stale, { recover: true }).records.length, 1);
  });

  test('argument validation', () => {
    assert.throws(() => encodeFileImage([], { alignment: 5 }), TypeError);
    assert.throws(() => encodeFileImage({} as never, { alignment: 1 }), TypeError);
    assert.throws(() => encodeFileImage([{ ...rec(0), annotation: 5 as never }], { alignment: 1 }), TypeError);
    throwsFormat(() => decodeFileImage(new Uint8Array(10)), FormatError, { section: 'header' });
  });
});
