// NewRecord (what callers hand a writer) → DecodedRecord (what the format encodes): the
// defaults and argument checks every backend's writer shares (.picpac 2.0 and LMDB).
import { invalidParameterError } from '../errors.ts';
import { fieldKindCode } from '../format/field-type.ts';
import { sniffImage } from '../format/image-sniff.ts';
import { FieldKind } from '../format/layout.ts';
import type { DecodedRecord, Field } from '../format/types.ts';
import type { NewField, NewRecord } from './store.ts';

const FIELD_KINDS = ['image', 'label', 'tensor', 'bytes'];

/** Defaults: id = record index, labels 0; image/label codec and size sniffed when not given. */
export function toDecodedRecord(record: NewRecord, recordIndex: number): DecodedRecord {
  if (typeof record !== 'object' || record === null) throw invalidParameterError('record', 'an object', record);
  if (!Array.isArray(record.fields)) throw invalidParameterError('record.fields', 'an array of fields', record.fields);
  const id = record.id ?? recordIndex;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw invalidParameterError('record.id', 'an integer between 0 and 2^53-1', id);
  const label = record.label ?? 0;
  if (typeof label !== 'number') throw invalidParameterError('record.label', 'a number', label);
  const label2 = record.label2 ?? 0;
  if (typeof label2 !== 'number') throw invalidParameterError('record.label2', 'a number', label2);
  const fields = record.fields.map((f: NewField, i): Field => {
    if (typeof f !== 'object' || f === null) throw invalidParameterError(`record.fields[${i}]`, 'an object', f);
    if (!FIELD_KINDS.includes(f.kind)) throw invalidParameterError(`record.fields[${i}].kind`, "one of 'image', 'label', 'tensor', 'bytes'", f.kind);
    if (!(f.bytes instanceof Uint8Array)) throw invalidParameterError(`record.fields[${i}].bytes`, 'a Uint8Array', f.bytes);
    const kind = fieldKindCode(f.kind);
    let { codec, width, height } = f;
    if ((kind === FieldKind.image || kind === FieldKind.label) && (codec === undefined || width === undefined || height === undefined)) {
      const sniffed = sniffImage(f.bytes);
      codec ??= sniffed.codec;
      width ??= sniffed.width;
      height ??= sniffed.height;
    }
    return { kind, codec: codec ?? 0, bytes: f.bytes, width: width ?? 0, height: height ?? 0 };
  });
  return { id, label, label2, fields };
}
