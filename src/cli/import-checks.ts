// What `picpac import` checks before it stores a record (docs/hostile-input.md):
//
// - Images (image and label fields): the structure walk of src/format/image-structure.ts — a
//   JPEG must reach its end-of-image marker through valid segments and scans, a PNG its IEND
//   chunk, a WebP/BMP the length its header states. Bytes after the end marker that are neither
//   padding nor an embedded JPEG are handed to a full decode (sharp, failOn 'warning'): camera
//   trailers pass, garbage that happens to contain an end marker does not. `check: 'decode'`
//   fully decodes every image; `check: 'none'` (--no-check) stores bytes as they come.
// - Formats the training stream cannot decode are converted: GIF becomes PNG (lossless; the
//   first frame of an animation). TIFF and AVIF, which have no structural rule, are decoded
//   once with sharp (the stream's own fallback decoder for them).
// - Annotations: larger than an annotation frame may hold → the input is skipped (it used to
//   abort the whole import); not a JSON object or `shapes` not an array → skipped; shapes that
//   break the annotator's geometry rules (src/format/shape-rules.ts) are dropped from the
//   annotation and counted, the other shapes and every unknown key are kept.
import sharp from 'sharp';
import type { NewRecord } from '../engine/store.ts';
import { checkImageStructure } from '../format/image-structure.ts';
import { sniffImage } from '../format/image-sniff.ts';
import { ANNOTATION, DEFAULT_LIMITS, ImageCodec } from '../format/layout.ts';
import { checkAnnotationDocument } from '../format/shape-rules.ts';
import type { ShapeProblem } from '../format/shape-rules.ts';
import { SkippedInputError } from './import-sources.ts';

export type ImportCheckMode = 'structure' | 'decode' | 'none';

/** Annotation text (UTF-8 bytes) one annotation frame holds, whatever the output backend. */
export const MAX_IMPORT_ANNOTATION_BYTES = DEFAULT_LIMITS.maxAnnotationBytes - ANNOTATION.headByteLength;

export interface CheckedRecord {
  record: NewRecord;
  /** Shapes dropped from the annotation, with their problems. */
  droppedShapes: ShapeProblem[];
  /** Image fields converted to another format (GIF → PNG). */
  converted: number;
}

const CODEC_NAMES = new Map<number, string>(Object.entries(ImageCodec).map(([name, code]) => [code, name.toUpperCase()]));

/** Check (and where needed convert) one record before it is stored; throws SkippedInputError for what must not be stored. */
export async function checkImportRecord(record: NewRecord, mode: ImportCheckMode): Promise<CheckedRecord> {
  const droppedShapes = record.annotation === undefined ? [] : checkAnnotation(record);
  let converted = 0;
  if (mode !== 'none') {
    for (const [index, field] of record.fields.entries()) {
      if (field.kind !== 'image' && field.kind !== 'label') continue;
      const replaced = await checkImageField(field.bytes, mode, record.fields.length > 1 ? `field ${index}: ` : '');
      if (replaced !== undefined) {
        Object.assign(field, replaced);
        converted++;
      }
    }
  }
  return { record, droppedShapes, converted };
}

function checkAnnotation(record: NewRecord): ShapeProblem[] {
  const text = record.annotation!;
  const byteLength = Buffer.byteLength(text, 'utf8'); // no copy of a possibly huge text
  if (byteLength > MAX_IMPORT_ANNOTATION_BYTES) {
    throw new SkippedInputError(`annotation is ${(byteLength / 1e6).toFixed(1)} MB, more than the ${MAX_IMPORT_ANNOTATION_BYTES} bytes one annotation frame holds`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SkippedInputError(`invalid annotation JSON: ${(error as Error).message}`);
  }
  const check = checkAnnotationDocument(json);
  if (check.documentProblem !== undefined) throw new SkippedInputError(check.documentProblem);
  if (check.shapeProblems.length === 0) return [];
  // Keep every other key and every valid shape; only the bad shapes go.
  const bad = new Set(check.shapeProblems.map((p) => p.shapeIndex));
  const doc = json as { shapes: unknown[] };
  record.annotation = JSON.stringify({ ...doc, shapes: doc.shapes.filter((_, i) => !bad.has(i)) });
  return check.shapeProblems;
}

type FieldUpdate = { bytes: Uint8Array; codec: number; width: number; height: number };

/** Throws SkippedInputError for a broken image; returns replacement bytes for a converted one. */
async function checkImageField(bytes: Uint8Array, mode: ImportCheckMode, prefix: string): Promise<FieldUpdate | undefined> {
  const sniffed = sniffImage(bytes);
  const name = CODEC_NAMES.get(sniffed.codec) ?? 'image';
  if (sniffed.codec === ImageCodec.gif) return convertToPng(bytes, prefix);
  if (sniffed.codec === ImageCodec.v1raw || sniffed.codec === ImageCodec.unknown) return undefined; // not an encoded image
  const structure = checkImageStructure(bytes, sniffed.codec);
  if (!structure.complete) throw new SkippedInputError(`${prefix}${structure.problem}`);
  const needsDecode = mode === 'decode' || !structure.checked || structure.trailer === 'data';
  if (needsDecode) {
    const why = structure.checked && structure.trailer === 'data' ? ` (${structure.trailingBytes} bytes follow its end marker)` : '';
    await decodeStrictly(bytes, `${prefix}${name}${why}`);
  }
  return undefined;
}

/** A full decode that turns decoder warnings (libjpeg "premature end of data", …) into a skip. */
async function decodeStrictly(bytes: Uint8Array, what: string): Promise<void> {
  try {
    await sharp(bytes, { failOn: 'warning' }).raw().toBuffer();
  } catch (error) {
    throw new SkippedInputError(`${what} does not decode cleanly: ${(error as Error).message.split('\n')[0]}`);
  }
}

async function convertToPng(bytes: Uint8Array, prefix: string): Promise<FieldUpdate> {
  try {
    const { data, info } = await sharp(bytes, { failOn: 'warning', pages: 1 }).png().toBuffer({ resolveWithObject: true });
    return { bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), codec: ImageCodec.png, width: info.width, height: info.height };
  } catch (error) {
    throw new SkippedInputError(`${prefix}GIF cannot be converted to PNG: ${(error as Error).message.split('\n')[0]}`);
  }
}
