// Copy a store into a writer, changing how images are held (picpac convert --to lmdb-raw |
// lmdb-encoded | v2 | v1):
//   to 'raw'     image field 0 is decoded (src/augment/pixels/decode.ts, channel order RGB as the
//                decoder returns it, `channels` 3 by default) into a uint8 tensor [H, W, C]
//                (like Caffe's raw Datum, but HWC RGB; the engine never decodes, this layer does).
//   to 'encoded' a raw store's tensor field 0 is re-encoded: JPEG at `quality` (default 95)
//                for 1 or 3 channels, PNG (lossless) for 2 or 4 — LOSSY for JPEG, said in the
//                result's notes. Encoded images are copied byte for byte.
//   to 'keep'    every field copied byte for byte.
// Labels, ids, secondary labels, other fields (masks stay PNG) and annotations are kept.
import { invalidParameterError, outOfRangeError } from '../../errors.ts';
import { TensorDType } from '../../format/layout.ts';
import { encodeTensor } from '../../format/tensor.ts';
import type { NewField, NewRecord, Store, StoredField, StoredRecord, StoreWriter } from '../../engine/store.ts';
import { decodeImageSync } from './decode.ts';
import { loadSharp } from './sharp-module.ts';

export type TranscodeTarget = 'raw' | 'encoded' | 'keep';

export interface TranscodeOptions {
  to: TranscodeTarget;
  /** JPEG quality 1..100 for raw → encoded (default 95). */
  quality?: number;
  /** Channels of decoded pixels for → raw: 1, 3 or 4 (default 3, like Caffe's colour Datum). */
  channels?: 1 | 3 | 4;
  /** Records handed to the writer before waiting for acknowledgements (default 256). */
  maxPending?: number;
  /** Called after each record with the count so far. */
  onProgress?: (recordCount: number) => void;
}

export interface TranscodeResult {
  recordCount: number;
  /** Image fields decoded to raw pixels. */
  decodedCount: number;
  /** Raw fields re-encoded (JPEG or PNG). */
  reencodedCount: number;
  /** What the caller should tell the user (lossy steps first). */
  notes: string[];
}

const DEFAULT_QUALITY = 95;
const ENCODE_BATCH = 8;

/** Is this field a raw image as 'raw' stores hold it (uint8 tensor of rank 3, C 1..4)? */
export function isRawImageField(field: StoredField): boolean {
  if (field.kind !== 'tensor' || field.codec !== TensorDType.uint8) return false;
  const b = field.bytes;
  if (b.length < 16 || b[0] !== 3) return false;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const c = view.getUint32(12, true);
  return c >= 1 && c <= 4 && view.getUint32(4, true) * view.getUint32(8, true) * c === b.length - 16;
}

/** Decode an encoded image field to a raw uint8 tensor field [H, W, C]. */
export function rawFieldOf(field: StoredField, channels: number, recordIndex: number): NewField {
  const image = decodeImageSync(field.bytes, { channels, decodeMode: 1, recordIndex });
  const data = image.data instanceof Uint8Array ? image.data : Uint8Array.from(image.data);
  return {
    kind: 'tensor',
    codec: TensorDType.uint8,
    bytes: encodeTensor({ dtype: TensorDType.uint8, shape: [image.height, image.width, image.channels], data }),
    width: image.width,
    height: image.height,
  };
}

/** Re-encode a raw tensor field: JPEG (1 or 3 channels) at `quality`, PNG otherwise. */
export async function encodedFieldOf(field: StoredField, quality: number): Promise<NewField> {
  const view = new DataView(field.bytes.buffer, field.bytes.byteOffset, field.bytes.byteLength);
  const height = view.getUint32(4, true);
  const width = view.getUint32(8, true);
  const channels = view.getUint32(12, true) as 1 | 2 | 3 | 4;
  const sharp = await loadSharp();
  const pipeline = sharp(field.bytes.subarray(16), { raw: { width, height, channels } });
  const bytes = channels === 1 || channels === 3 ? await pipeline.jpeg({ quality, mozjpeg: false }).toBuffer() : await pipeline.png().toBuffer();
  return { kind: 'image', bytes: new Uint8Array(bytes), width, height };
}

function copyField(f: StoredField): NewField {
  return { kind: f.kind, codec: f.codec, bytes: f.bytes.slice(), width: f.width, height: f.height };
}

function validate(options: TranscodeOptions): Required<Omit<TranscodeOptions, 'onProgress'>> & Pick<TranscodeOptions, 'onProgress'> {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object', options);
  const { to } = options;
  if (to !== 'raw' && to !== 'encoded' && to !== 'keep') throw invalidParameterError('options.to', "one of 'raw', 'encoded', 'keep'", to);
  const quality = options.quality ?? DEFAULT_QUALITY;
  if (typeof quality !== 'number' || !Number.isInteger(quality)) throw invalidParameterError('options.quality', 'an integer between 1 and 100', quality);
  if (quality < 1 || quality > 100) throw outOfRangeError('options.quality', 'an integer between 1 and 100', quality);
  const channels = options.channels ?? 3;
  if (channels !== 1 && channels !== 3 && channels !== 4) throw invalidParameterError('options.channels', 'one of 1, 3, 4', channels);
  const maxPending = options.maxPending ?? 256;
  if (typeof maxPending !== 'number' || !Number.isInteger(maxPending) || maxPending < 1) throw invalidParameterError('options.maxPending', 'a positive integer', maxPending);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw invalidParameterError('options.onProgress', 'a function', options.onProgress);
  return { to, quality, channels, maxPending, onProgress: options.onProgress };
}

/**
 * Copy every record of `source` into `writer` (which the caller opened and closes), in order.
 * @param options.to 'raw' | 'encoded' | 'keep' (see the file comment)
 * @param [options.quality=95] JPEG quality for raw → encoded
 * @param [options.channels=3] channels of decoded pixels for → raw
 */
export async function transcodeStore(source: Store, writer: StoreWriter, options: TranscodeOptions): Promise<TranscodeResult> {
  const o = validate(options);
  const sourceIsRaw = source.format === 'lmdb-raw';
  const result: TranscodeResult = { recordCount: 0, decodedCount: 0, reencodedCount: 0, notes: [] };
  const pending: Promise<number>[] = [];
  let batch: Array<Promise<NewRecord>> = [];

  const convert = (r: StoredRecord): NewRecord | Promise<NewRecord> => {
    const fields: Array<NewField | Promise<NewField>> = r.fields.map((f, k) => {
      if (k === 0 && o.to === 'raw' && f.kind === 'image') {
        result.decodedCount++;
        return rawFieldOf(f, o.channels, r.recordIndex);
      }
      if (k === 0 && o.to === 'encoded' && sourceIsRaw && isRawImageField(f)) {
        result.reencodedCount++;
        return encodedFieldOf({ ...f, bytes: f.bytes.slice() }, o.quality);
      }
      return copyField(f);
    });
    const base = { id: r.id, label: r.label, label2: r.label2, ...(r.annotation !== undefined ? { annotation: r.annotation } : {}) };
    if (fields.every((f) => !(f instanceof Promise))) return { ...base, fields: fields as NewField[] };
    return Promise.all(fields).then((done) => ({ ...base, fields: done }));
  };

  const flushBatch = async (): Promise<void> => {
    for (const record of await Promise.all(batch)) {
      const ack = writer.append(record);
      ack.catch(() => {}); // observed below
      pending.push(ack);
      result.recordCount++;
      o.onProgress?.(result.recordCount);
      if (pending.length >= o.maxPending) await pending.shift();
    }
    batch = [];
  };

  for await (const record of source.scan()) {
    const converted = convert(record);
    batch.push(Promise.resolve(converted));
    if (batch.length >= (converted instanceof Promise ? ENCODE_BATCH : 1)) await flushBatch();
  }
  await flushBatch();
  while (pending.length > 0) await pending.shift();
  await writer.flush();
  if (result.reencodedCount > 0) {
    result.notes.push(`re-encoded ${result.reencodedCount} raw image(s) as JPEG quality ${o.quality} (lossy; 2- or 4-channel images as PNG, lossless)`);
  }
  if (result.decodedCount > 0) result.notes.push(`decoded ${result.decodedCount} image(s) to raw ${o.channels}-channel uint8 pixels (HWC, RGB order)`);
  if (o.to === 'raw' && result.decodedCount < result.recordCount) {
    result.notes.push(`${result.recordCount - result.decodedCount} record(s) had no image in field 0 and were copied unchanged`);
  }
  return result;
}
