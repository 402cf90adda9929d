// Classifying untyped 1.0 fields by content (HEAD's guess, REFERENCE §1.1.3).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageCodec } from '../../../src/format/layout.ts';
import { encodeRawMatrix } from '../../../src/format/v1/raw-matrix.ts';
import { decodeV1AnnotationText, sniffV1Field, startsLikeJson } from '../../../src/format/v1/sniff-field.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const PNG = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 4, 0, 0, 0, 3);

describe('sniffV1Field', () => {
  test('empty, image, raw matrix, JSON, bytes', () => {
    assert.equal(sniffV1Field(new Uint8Array(0)).fieldClass, 'empty');
    assert.deepEqual(sniffV1Field(PNG), { fieldClass: 'image', codec: ImageCodec.png, width: 4, height: 3 });
    assert.equal(sniffV1Field(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 0)).codec, ImageCodec.jpeg);
    const raw = encodeRawMatrix({ cvType: 16, rows: 2, cols: 5, data: new Uint8Array(30) });
    assert.deepEqual(sniffV1Field(raw), { fieldClass: 'raw', codec: ImageCodec.v1raw, width: 5, height: 2 });
    assert.equal(sniffV1Field(raw.subarray(0, 20)).fieldClass, 'bytes', 'length mismatch');
    assert.equal(sniffV1Field(raw.subarray(0, 20), { byteLength: raw.length }).fieldClass, 'raw', 'a peek with the full length');
    assert.equal(sniffV1Field(text(' \n\t{"shapes":[]}')).fieldClass, 'json');
    assert.equal(sniffV1Field(text('[1,2]')).fieldClass, 'bytes');
    assert.equal(sniffV1Field(text('   ')).fieldClass, 'bytes');
    assert.equal(sniffV1Field(new Uint8Array(16)).fieldClass, 'bytes', 'zeros are not a 0x0 raw matrix');
  });

  test('JSON test and annotation text: only valid UTF-8 becomes text (so it can be written back exactly)', () => {
    assert.equal(startsLikeJson(text('\r\n\v\f {')), true);
    assert.equal(startsLikeJson(text('x{')), false);
    assert.equal(decodeV1AnnotationText(text('{"a":"é"}')), '{"a":"é"}');
    assert.equal(decodeV1AnnotationText(Uint8Array.of(0x7b, 0xff, 0x7d)), undefined);
    const bom = Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d);
    assert.equal(decodeV1AnnotationText(bom), undefined, 'a BOM is not blank: not JSON by the HEAD rule');
    assert.equal(decodeV1AnnotationText(text('nope')), undefined);
  });
});
