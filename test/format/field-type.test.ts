import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldKindCode, fieldKindName, fieldTypeName } from '../../src/format/field-type.ts';
import { FieldKind, ImageCodec, TensorDType } from '../../src/format/layout.ts';

describe('field type names', () => {
  test('fieldTypeName', () => {
    assert.equal(fieldTypeName(FieldKind.image, ImageCodec.jpeg), 'image/jpeg');
    assert.equal(fieldTypeName(FieldKind.image, ImageCodec.unknown), 'image/unknown');
    assert.equal(fieldTypeName(FieldKind.image, 200), 'image/unknown');
    assert.equal(fieldTypeName(FieldKind.label, ImageCodec.png), 'label/png');
    assert.equal(fieldTypeName(FieldKind.tensor, TensorDType.float32), 'tensor/float32');
    assert.equal(fieldTypeName(FieldKind.tensor, 99), 'tensor/unknown');
    assert.equal(fieldTypeName(FieldKind.bytes, 0), 'bytes');
    assert.throws(() => fieldTypeName(9 as never, 0), TypeError);
  });

  test('kind names and codes are inverse', () => {
    for (const name of ['image', 'label', 'tensor', 'bytes'] as const) assert.equal(fieldKindName(fieldKindCode(name)), name);
    assert.throws(() => fieldKindCode('json' as never), { name: 'TypeError', message: `Expected one of 'image', 'label', 'tensor', 'bytes' for name but received "json" of type string` });
    assert.throws(() => fieldKindCode('toString' as never), TypeError);
    assert.throws(() => fieldKindName(0 as never), TypeError);
  });
});
