// Bad bytes produce FormatError subclasses, never anything else (STYLE §18, §30).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FormatError, PicpacError } from '../../src/errors.ts';
import { checkFramePayload, decodeFrameHeader, encodeFrame } from '../../src/format/frame.ts';
import { decodeRecordPayload, encodeRecordPayload } from '../../src/format/record.ts';
import { decodeFooterFrame } from '../../src/format/footer.ts';
import { decodeFileImage, encodeFileImage } from '../../src/format/file-image.ts';
import { decodeIndexPayload } from '../../src/format/index-block.ts';
import { decodeAnnotationPayload } from '../../src/format/annotation.ts';
import { decodeHeader } from '../../src/format/header.ts';
import { decodeTensor } from '../../src/format/tensor.ts';
import { FrameKind } from '../../src/format/layout.ts';
import { decodedRecord, recordWithAnnotation } from '../arbitraries.ts';

const SEED = 42;

function decodeRecordFrame(frame: Uint8Array): void {
  const h = decodeFrameHeader(frame, 0);
  checkFramePayload(h, frame.subarray(16, 16 + h.payloadByteLength), 0, 0);
  decodeRecordPayload(frame.subarray(16, 16 + h.payloadByteLength), 16, 0);
}

describe('corruption (property)', () => {
  test('any single bit flip in a record frame is detected as a FormatError [FRM-6] [CRC-2]', () => {
    fc.assert(
      fc.property(decodedRecord(), fc.nat(), fc.integer({ min: 0, max: 7 }), (record, where, bit) => {
        const payload = encodeRecordPayload(record);
        const frame = encodeFrame(FrameKind.record, payload);
        const byteIndex = where % frame.length;
        frame[byteIndex] ^= 1 << bit;
        assert.throws(() => decodeRecordFrame(frame), (e: unknown) => e instanceof FormatError, `flip at ${byteIndex}.${bit}`);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  test('random bytes never escape as anything but a PicpacError [CNV-2]', () => {
    const decoders: Array<(b: Uint8Array) => unknown> = [
      (b) => decodeHeader(b),
      (b) => decodeFrameHeader(b, 0),
      (b) => decodeRecordPayload(b, 0),
      (b) => decodeAnnotationPayload(b, 0),
      (b) => decodeIndexPayload(b, 0),
      (b) => decodeFooterFrame(b, 1000),
      (b) => decodeTensor(b, 0, 7),
      (b) => decodeFileImage(b, { recover: true }),
    ];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (bytes, which) => {
        try {
          decoders[which % decoders.length](bytes);
        } catch (e) {
          assert.ok(e instanceof PicpacError, `${(e as Error)?.name}: ${(e as Error)?.message}`);
        }
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  test('structured garbage: a valid record payload with random bytes patched in decodes or throws FormatError [REC-6]', () => {
    fc.assert(
      fc.property(decodedRecord(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (record, patches) => {
        const payload = encodeRecordPayload(record);
        for (const [at, value] of patches) payload[at % payload.length] = value;
        try {
          decodeRecordPayload(payload, 0);
        } catch (e) {
          assert.ok(e instanceof FormatError, String(e));
        }
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  test('truncation at any offset never makes decodeFooterFrame accept [FTR-3] [FTR-4]', () => {
    fc.assert(
      fc.property(fc.array(recordWithAnnotation(), { maxLength: 4 }), fc.constantFrom(1, 4096), (records, alignment) => {
        const bytes = encodeFileImage(records, { alignment });
        for (let cut = 64; cut < bytes.length; cut++) {
          const end = bytes.subarray(0, cut);
          assert.throws(() => decodeFooterFrame(end.subarray(Math.max(0, cut - 64)), cut - 64), (e: unknown) => e instanceof FormatError && (e as FormatError).code === 'UNFINISHED', `cut ${cut}`);
        }
        assert.equal(decodeFooterFrame(bytes.subarray(bytes.length - 64), bytes.length - 64).footerOffset, bytes.length - 64);
      }),
      { seed: SEED, numRuns: 15 },
    );
  });
});
