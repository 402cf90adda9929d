// decode(encode(x)) deep-equals x for every format structure (STYLE §28).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeHeader, encodeHeader } from '../../src/format/header.ts';
import { decodeFrameHeader, encodeFrame, checkFramePayload } from '../../src/format/frame.ts';
import { decodeRecordPayload, encodeRecordPayload } from '../../src/format/record.ts';
import { decodeAnnotationPayload, encodeAnnotationPayload } from '../../src/format/annotation.ts';
import { decodeIndexPayload, encodeIndexPayload } from '../../src/format/index-block.ts';
import { decodeFooterFrame, encodeFooterFrame } from '../../src/format/footer.ts';
import { decodeTensor, encodeTensor } from '../../src/format/tensor.ts';
import { decodeFileImage, encodeFileImage } from '../../src/format/file-image.ts';
import { annotationPayload, decodedRecord, footer, indexBlock, recordWithAnnotation, tensor } from '../arbitraries.ts';
import { openIndex } from './index-chain.ts';

const SEED = 42;

describe('round trips (property)', () => {
  test('header [HDR-2] [HDR-5]', () => {
    const alignment = fc.integer({ min: 0, max: 20 }).map((k) => 2 ** k);
    fc.assert(
      fc.property(alignment, fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff }), (a, minor, ancillary) => {
        const featureFlags = (ancillary << 16) >>> 0;
        assert.deepEqual(decodeHeader(encodeHeader({ alignment: a, minorVersion: minor, featureFlags })), { majorVersion: 2, minorVersion: minor, headerByteLength: 64, alignment: a, featureFlags });
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  test('frame [FRM-1] [FRM-2] [FRM-5]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 600 }), (kind, anyFlags, payload) => {
        const flags = kind <= 4 ? 0 : anyFlags; // [FRM-8]
        const frame = encodeFrame(kind, payload, flags);
        assert.equal(frame.length, 16 + payload.length); // no padding after a frame [ALN-3]
        const h = decodeFrameHeader(frame, 0);
        assert.deepEqual([h.kind, h.flags, h.payloadByteLength], [kind, flags, payload.length]);
        checkFramePayload(h, frame.subarray(16, 16 + payload.length), 0);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  test('record payload [REC-1] [REC-5] [REC-6]', () => {
    fc.assert(
      fc.property(decodedRecord(), (r) => {
        assert.deepEqual(decodeRecordPayload(encodeRecordPayload(r), 0), r);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  test('tensor [REC-8]', () => {
    fc.assert(fc.property(tensor(), (t) => assert.deepEqual(decodeTensor(encodeTensor(t), 0, t.dtype), t)), { seed: SEED, numRuns: 200 });
  });

  test('annotation payload [ANN-1]', () => {
    fc.assert(fc.property(annotationPayload(), (a) => assert.deepEqual(decodeAnnotationPayload(encodeAnnotationPayload(a), 0), a)), { seed: SEED, numRuns: 200 });
  });

  test('index payload [IDX-1] [IDX-2] [IDX-3]', () => {
    fc.assert(fc.property(indexBlock(), (b) => assert.deepEqual(decodeIndexPayload(encodeIndexPayload(b), Number.MAX_SAFE_INTEGER), b)), { seed: SEED, numRuns: 200 });
  });

  test('footer frame [FTR-1]', () => {
    fc.assert(fc.property(footer(), (f) => assert.deepEqual(decodeFooterFrame(encodeFooterFrame(f), f.footerOffset), f)), { seed: SEED, numRuns: 200 });
  });

  test('whole file: records, annotations, index agree [WRT-1] [IDX-5] [IDX-9]', () => {
    fc.assert(
      fc.property(fc.array(recordWithAnnotation(), { maxLength: 6 }), fc.constantFrom(1, 64, 4096), (records, alignment) => {
        const bytes = encodeFileImage(records, { alignment });
        const d = decodeFileImage(bytes);
        assert.deepEqual(d.records, records.map(({ annotation: _, ...r }) => r));
        const expected = records.flatMap((r, i) => (r.annotation ? [[i, r.annotation]] : []));
        assert.deepEqual([...d.annotations].map(([k, v]) => [k, new TextDecoder().decode(v)]), expected);
        const index = openIndex(bytes);
        assert.deepEqual(index.records.map((e) => [e.id, e.label, e.fieldCount]), records.map((r) => [r.id, r.label, r.fields.length]));
        // The recovery scan rebuilds the same records from frames alone.
        assert.deepEqual(decodeFileImage(bytes, { recover: true }).records, d.records);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });
});
