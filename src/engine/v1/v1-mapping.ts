// How the six untyped field slots of a 1.0 record map to typed StoredRecord fields, and back.
//
// Reading: slot 0 → 'image' (an encoded image or raw matrix) else 'bytes'; slot 1 → the
// annotation when it is JSON (first non-blank byte `{`, valid UTF-8; annotationSlot = 1, not in
// `fields`), 'label' when it is an image, else 'bytes'; slots 2-5 → 'image' when sniffed as one,
// else 'bytes'. Empty slots are KEPT as empty 'bytes' fields, in place: that is what makes the
// mapping reversible through the plain NewRecord interface (and through a 2.0 file, which
// stores empty fields too) without a side channel.
//
// Writing (the inverse): v1 slots = fields in order, with the annotation's UTF-8 bytes inserted
// at slot 1. Without an annotation, a 'label' field that is not already at position 1 moves
// there (1.0 readers take slot 1 as the annotation). Hence read → write reproduces the original
// slot list byte for byte: readers only produce 'label' at position 1.
import { LimitExceededError, invalidParameterError } from '../../errors.ts';
import { fieldTypeName } from '../../format/field-type.ts';
import { FieldKind, ImageCodec } from '../../format/layout.ts';
import { MAX_FIELDS } from '../../format/v1/layout.ts';
import { RECORD_SECTION } from '../../format/v1/record.ts';
import { decodeV1AnnotationText, sniffV1Field } from '../../format/v1/sniff-field.ts';
import type { FieldKindName, NewRecord, StoredField } from '../store.ts';

export interface MappedV1Fields {
  fields: StoredField[];
  annotation: string | undefined;
  /** 1 when the annotation came from slot 1. */
  annotationSlot: number | undefined;
}

/** Typed fields of one record's raw 1.0 slots (the bytes are used as given, not copied). */
export function mapV1Fields(slots: Uint8Array[]): MappedV1Fields {
  const fields: StoredField[] = [];
  let annotation: string | undefined;
  let annotationSlot: number | undefined;
  for (const [slot, bytes] of slots.entries()) {
    const sniffed = sniffV1Field(bytes);
    const isImage = sniffed.fieldClass === 'image' || sniffed.fieldClass === 'raw';
    if (slot === 1 && sniffed.fieldClass === 'json') {
      const text = decodeV1AnnotationText(bytes);
      if (text !== undefined) {
        annotation = text;
        annotationSlot = 1;
        continue;
      }
    }
    const kind: FieldKindName = isImage ? (slot === 1 ? 'label' : 'image') : 'bytes';
    const codec = isImage ? sniffed.codec : ImageCodec.unknown;
    fields.push({
      kind,
      type: fieldTypeName(FieldKind[kind], codec),
      codec,
      bytes,
      width: isImage ? sniffed.width : 0,
      height: isImage ? sniffed.height : 0,
    });
  }
  return { fields, annotation, annotationSlot };
}

const UTF8 = new TextEncoder();

/**
 * The 1.0 slot list of a NewRecord (see the file comment). An annotation must be JSON text
 * starting with `{` (after blanks): 1.0 readers recognise annotations only by that byte. More
 * than 6 slots is a LimitExceededError.
 */
export function v1SlotsOfNewRecord(record: NewRecord, place: { byteOffset: number; recordIndex: number }): Uint8Array[] {
  if (record === null || typeof record !== 'object') throw invalidParameterError('record', 'an object', record);
  if (!Array.isArray(record.fields)) throw invalidParameterError('record.fields', 'an array', record.fields);
  const fields = record.fields.map((f, k) => {
    if (f === null || typeof f !== 'object' || !(f.bytes instanceof Uint8Array)) {
      throw invalidParameterError(`record.fields[${k}].bytes`, 'a Uint8Array', f?.bytes);
    }
    return f;
  });
  const slots = fields.map((f) => f.bytes);
  const annotation = record.annotation;
  if (annotation !== undefined && annotation !== '') {
    if (typeof annotation !== 'string') throw invalidParameterError('record.annotation', 'a string', annotation);
    const text = UTF8.encode(annotation);
    if (decodeV1AnnotationText(text) === undefined) {
      throw invalidParameterError('record.annotation', 'JSON text starting with "{" (format 1.0 recognises annotations by that byte)', annotation);
    }
    if (slots.length === 0) slots.push(new Uint8Array(0));
    slots.splice(1, 0, text);
  } else {
    const labelAt = fields.findIndex((f, k) => k >= 1 && f.kind === 'label');
    if (labelAt > 1 && fields[1].kind !== 'label') slots.splice(1, 0, ...slots.splice(labelAt, 1));
  }
  if (slots.length > MAX_FIELDS) {
    throw new LimitExceededError('too many fields for format 1.0 (annotation included)', {
      section: RECORD_SECTION,
      byteOffset: place.byteOffset,
      recordIndex: place.recordIndex,
      expected: `<= ${MAX_FIELDS}`,
      actual: slots.length,
    });
  }
  return slots;
}
