// What `picpac stat` can tell about field bytes from a .picpac 2.0 index alone, without reading
// a record frame (issue 11: stat of a 2000-record file in start-up time, and over HTTP in a few
// requests). Field bytes are exact for every record ([REC-6]: payload - 32-byte head - 16 bytes
// per descriptor). Image bytes are exact only where the index pins the field kinds down: a
// record with no field, or with one field whose firstImageCodec is set (that field is then the
// image, [IDX-5]); any other record (two or more fields, or one field of unknown kind) makes
// the image total unknown (null), and `stat --scan` counts it from the frames.
import type { RecordIndex } from '../engine/picpac/record-index.ts';

const RECORD_HEAD_BYTES = 32;
const FIELD_DESCRIPTOR_BYTES = 16;

export interface IndexFieldBytes {
  fieldByteLength: number;
  /** null when some record's image bytes cannot be told from its index entry. */
  imageByteLength: number | null;
}

export function fieldBytesFromIndex(columns: Readonly<RecordIndex>, recordCount: number): IndexFieldBytes {
  let fieldByteLength = 0;
  let imageByteLength: number | null = 0;
  for (let i = 0; i < recordCount; i++) {
    const fieldCount = columns.fieldCount[i];
    const bytes = columns.payloadByteLength[i] - RECORD_HEAD_BYTES - FIELD_DESCRIPTOR_BYTES * fieldCount;
    fieldByteLength += bytes;
    if (imageByteLength === null || fieldCount === 0) continue;
    imageByteLength = fieldCount === 1 && columns.imageCodec[i] !== 0 ? imageByteLength + bytes : null;
  }
  return { fieldByteLength, imageByteLength };
}
