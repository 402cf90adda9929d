import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError } from '../../src/errors.ts';
import { decodeAnnotationPayload, encodeAnnotationPayload } from '../../src/format/annotation.ts';
import { AnnotationFormat } from '../../src/format/layout.ts';
import { throwsFormat, utf8 } from './helpers.ts';

const json = '{"shapes": [{"type": "rect", "geometry": {"x": 0.1, "y": 0.2, "width": 0.3, "height": 0.4}}]}';

describe('annotation payload', () => {
  test('layout: u64 recordIndex, u32 format, u32 reserved, UTF-8 text [ANN-1] [ANN-2]', () => {
    const p = encodeAnnotationPayload({ recordIndex: 5, annotationFormat: AnnotationFormat.json, text: utf8.encode(json) });
    assert.deepEqual([...p.subarray(0, 16)], [5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(new TextDecoder().decode(p.subarray(16)), json);
  });

  test('round trip; text is a view; empty text (removal) round trips [ANN-4]', () => {
    for (const text of [utf8.encode(json), new Uint8Array(0), utf8.encode('{"note":"é中"}')]) {
      const a = { recordIndex: Number.MAX_SAFE_INTEGER, annotationFormat: 1, text };
      const p = encodeAnnotationPayload(a);
      const d = decodeAnnotationPayload(p, 0);
      assert.deepEqual(d, a);
      assert.equal(d.text.buffer, p.buffer);
    }
  });

  test('short payload → FormatError', () => {
    throwsFormat(() => decodeAnnotationPayload(new Uint8Array(15), 300), FormatError, { section: 'annotation', byteOffset: 300, actual: 15 });
  });

  test('recordIndex above 2^53-1 → FormatError [CNV-2]', () => {
    const p = encodeAnnotationPayload({ recordIndex: 0, annotationFormat: 1, text: new Uint8Array(0) });
    p[7] = 0x01;
    throwsFormat(() => decodeAnnotationPayload(p, 300), FormatError, { byteOffset: 300, section: 'annotation' });
  });

  test('format 0 → FormatError; other formats are returned for the caller to ignore [ANN-2]', () => {
    const p = encodeAnnotationPayload({ recordIndex: 1, annotationFormat: 1, text: new Uint8Array(0) });
    p[8] = 0;
    throwsFormat(() => decodeAnnotationPayload(p, 0), FormatError, { byteOffset: 8, recordIndex: 1 });
    p[8] = 9;
    assert.equal(decodeAnnotationPayload(p, 0).annotationFormat, 9);
  });

  test('argument validation', () => {
    assert.throws(() => encodeAnnotationPayload({ recordIndex: -1, annotationFormat: 1, text: new Uint8Array(0) }), TypeError);
    assert.throws(() => encodeAnnotationPayload({ recordIndex: 0, annotationFormat: 0, text: new Uint8Array(0) }), TypeError);
    assert.throws(() => encodeAnnotationPayload({ recordIndex: 0, annotationFormat: 1, text: json as never }), TypeError);
  });
});
