// Whole files in memory: the reference writer (encodeFileImage, appendFileImage) and a reference
// reader (decodeFileImage). The engine's streaming writer must produce byte-identical files for
// the same input; SPEC.md §12 fixes the order written here. [WRT-1..WRT-6]
import { FormatError, UnfinishedFileError, UnsupportedVersionError, invalidParameterError } from '../errors.ts';
import { crc32c } from './crc32c.ts';
import { decodeHeader, encodeHeader, firstFrameOffset, isValidAlignment } from './header.ts';
import { checkFramePayload, checkFramePlacement, decodeFrameHeader, encodeFrame, frameOffsetAfter, isCriticalFrame, isKnownFrameKind, nextFrame } from './frame.ts';
import { annotationFollows, decodeRecordPayload, encodeRecordPayload } from './record.ts';
import { decodeAnnotationPayload, encodeAnnotationPayload } from './annotation.ts';
import { decodeIndexPayload, encodeIndexPayload, indexEntryFromRecord } from './index-block.ts';
import { decodeMetadataPayload, encodeMetadataPayload, MetadataFormat } from './metadata.ts';
import { decodeFooterFrame, encodeFooterFrame } from './footer.ts';
import { ANNOTATION, AnnotationFormat, FOOTER, FORMAT_MINOR, FRAME, FrameKind, HEADER, RECORD_FLAG_ANNOTATION_FOLLOWS, alignUp } from './layout.ts';
import type { DecodedRecord, FileHeader, Footer, IndexAnnotationEntry, IndexBlock, IndexRecordEntry } from './types.ts';

/** A record to write, with its optional annotation (JSON text). */
export type RecordWithAnnotation = DecodedRecord & { annotation?: string };

/** One annotation change in an append: empty text removes the annotation. */
export interface AnnotationUpdate {
  recordIndex: number;
  text: string;
}

const utf8 = new TextEncoder();

/** Collects frames at increasing offsets; zero padding goes only before record frames. [ALN-3] */
class FrameSink {
  readonly parts: Uint8Array[] = [];
  constructor(
    public byteLength: number,
    readonly alignment: number,
  ) {}
  /** Append a frame (after padding, for a record frame); returns its offset and payload CRC. */
  frame(kind: number, payload: Uint8Array): { frameOffset: number; payloadCrc: number } {
    const frameOffset = frameOffsetAfter(this.byteLength, kind, this.alignment);
    if (frameOffset > this.byteLength) this.raw(new Uint8Array(frameOffset - this.byteLength));
    const bytes = encodeFrame(kind, payload);
    this.parts.push(bytes);
    this.byteLength += bytes.length;
    return { frameOffset, payloadCrc: new DataView(bytes.buffer, bytes.byteOffset).getUint32(FRAME.payloadCrc.offset, true) };
  }
  raw(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.byteLength += bytes.length;
  }
}

function concat(parts: Uint8Array[], byteLength: number): Uint8Array {
  const out = new Uint8Array(byteLength);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Write records (each followed by its annotation frame, if any) then one commit. Returns the
 * index block and the live-annotation changes so callers can count them.
 */
function writeCommit(
  sink: FrameSink,
  records: readonly RecordWithAnnotation[],
  updates: readonly AnnotationUpdate[],
  commit: { firstRecordIndex: number; previousIndexOffset: number; live: Set<number>; generation: number; annotationFlags: boolean; metadata?: string; metadataOffset?: number },
): void {
  const recordEntries: IndexRecordEntry[] = [];
  const newest = new Map<number, IndexAnnotationEntry>(); // newest change per record in this commit
  const writeAnnotation = (recordIndex: number, text: string): void => {
    const payload = encodeAnnotationPayload({ recordIndex, annotationFormat: AnnotationFormat.json, text: utf8.encode(text) });
    const { frameOffset, payloadCrc } = sink.frame(FrameKind.annotation, payload);
    // Empty text is a removal: the frame is written (recovery sees it), the entry says 0. [ANN-4]
    newest.set(recordIndex, text === '' ? { recordIndex, frameOffset: 0, payloadByteLength: 0, payloadCrc: 0 } : { recordIndex, frameOffset, payloadByteLength: payload.length, payloadCrc });
    if (text === '') commit.live.delete(recordIndex);
    else commit.live.add(recordIndex);
  };
  records.forEach((record, i) => {
    // Minor >= 1: a record written with its annotation says so, for recovery. [REC-11]
    const annotated = record.annotation !== undefined && record.annotation !== '';
    const payload = encodeRecordPayload(record, commit.annotationFlags && annotated ? RECORD_FLAG_ANNOTATION_FOLLOWS : 0);
    const { frameOffset, payloadCrc } = sink.frame(FrameKind.record, payload);
    recordEntries.push(indexEntryFromRecord(frameOffset, payload, payloadCrc, record));
    if (record.annotation !== undefined && record.annotation !== '') writeAnnotation(commit.firstRecordIndex + i, record.annotation);
  });
  const recordCount = commit.firstRecordIndex + records.length;
  for (const u of updates) {
    if (!Number.isSafeInteger(u.recordIndex) || u.recordIndex < 0 || u.recordIndex >= recordCount) {
      throw invalidParameterError('annotation update recordIndex', `an integer between 0 and ${recordCount - 1}`, u.recordIndex);
    }
    if (typeof u.text !== 'string') throw invalidParameterError('annotation update text', 'a string', u.text);
    writeAnnotation(u.recordIndex, u.text);
  }
  // New file metadata goes last before the index block that names it; else the old one stays named. [EXT-8]
  let metadataOffset = commit.metadataOffset ?? 0;
  if (commit.metadata !== undefined) {
    if (typeof commit.metadata !== 'string') throw invalidParameterError('options.metadata', 'a string', commit.metadata);
    metadataOffset = sink.frame(FrameKind.metadata, encodeMetadataPayload({ metadataFormat: MetadataFormat.json, text: utf8.encode(commit.metadata) })).frameOffset;
  }
  const block: IndexBlock = {
    firstRecordIndex: commit.firstRecordIndex,
    previousIndexOffset: commit.previousIndexOffset,
    ...(metadataOffset !== 0 ? { metadataOffset } : {}),
    records: recordEntries,
    annotations: [...newest.values()].sort((a, b) => a.recordIndex - b.recordIndex), // [IDX-6]
  };
  const { frameOffset: indexOffset } = sink.frame(FrameKind.index, encodeIndexPayload(block));
  const footerOffset = sink.byteLength;
  sink.raw(encodeFooterFrame({ indexOffset, recordCount, annotatedCount: commit.live.size, generation: commit.generation, footerOffset }));
}

function checkRecords(records: unknown): asserts records is RecordWithAnnotation[] {
  if (!Array.isArray(records)) throw invalidParameterError('records', 'an array of records', records);
  records.forEach((r, i) => {
    const a = (r as RecordWithAnnotation)?.annotation;
    if (a !== undefined && typeof a !== 'string') throw invalidParameterError(`records[${i}].annotation`, 'a string or undefined', a);
  });
}

/**
 * A whole finished file: header, each record frame followed by its annotation frame when the
 * record has a non-empty annotation, one index block (firstRecordIndex 0, previousIndexOffset 0),
 * then the footer (generation 1). [WRT-1]
 */
export function encodeFileImage(records: RecordWithAnnotation[], options: { alignment: number; minorVersion?: number; metadata?: string }): Uint8Array {
  checkRecords(records);
  const alignment = options?.alignment;
  if (!isValidAlignment(alignment)) throw invalidParameterError('options.alignment', '1 or a power of two up to 2^20', alignment);
  // minorVersion 0 writes the 2.0 bytes (no record flags): the published 2.0 vectors.
  const minorVersion = options?.minorVersion ?? FORMAT_MINOR;
  const header = encodeHeader({ alignment, minorVersion });
  const sink = new FrameSink(0, alignment);
  sink.raw(header);
  const start = alignUp(HEADER.byteLength, alignment);
  sink.raw(new Uint8Array(start - HEADER.byteLength));
  writeCommit(sink, records, [], { firstRecordIndex: 0, previousIndexOffset: 0, live: new Set(), generation: 1, annotationFlags: minorVersion >= 1, metadata: options.metadata });
  return concat(sink.parts, sink.byteLength);
}

/**
 * A finished file plus one more commit, as an append must write it: after the old footer, new
 * record frames (each preceded by zero padding to the alignment, followed by its annotation frame),
 * then the annotation updates in the order given, an index block chained to the previous one,
 * and a footer with generation + 1. The old bytes are kept unchanged. [WRT-3] [WRT-4]
 */
export function appendFileImage(base: Uint8Array, records: RecordWithAnnotation[], options?: { annotations?: AnnotationUpdate[]; metadata?: string }): Uint8Array {
  checkRecords(records);
  const updates = options?.annotations ?? [];
  if (!Array.isArray(updates)) throw invalidParameterError('options.annotations', 'an array', updates);
  const old = decodeFileImage(base);
  const footer = old.footer as Footer;
  const sink = new FrameSink(0, old.header.alignment);
  sink.raw(base);
  writeCommit(sink, records, updates, {
    firstRecordIndex: footer.recordCount,
    previousIndexOffset: footer.indexOffset,
    live: new Set(old.annotations.keys()),
    generation: footer.generation + 1,
    metadata: options?.metadata,
    metadataOffset: old.metadataOffset,
    // The file's own minor version decides (the header is never rewritten): a 2.0 file stays 2.0.
    annotationFlags: old.header.minorVersion >= 1,
  });
  return concat(sink.parts, sink.byteLength);
}

/** Everything {@link decodeFileImage} read from a whole file held in memory. */
export interface DecodedFileImage {
  header: FileHeader;
  /** null when recovering a file without a valid footer. */
  footer: Footer | null;
  records: DecodedRecord[];
  /** recordIndex → annotation text (UTF-8 bytes), newest frame wins, removals deleted. */
  annotations: Map<number, Uint8Array>;
  /** End of the last valid frame (recovery) or the file length (strict). */
  validByteLength: number;
  /** The torn offset [RCV-1] when recovering a torn file: the end of the last valid frame (= validByteLength). */
  tornAt?: number;
  /** Text of the newest metadata frame (file order), and its frame offset (0: none). [EXT-7] */
  metadata?: Uint8Array;
  metadataOffset: number;
}

/**
 * Reference reader. Strict (default): requires a valid footer (UnfinishedFileError) and every
 * frame to verify. `recover: true`: scan from the first frame and stop at the first frame that
 * does not verify, keeping every complete frame before it. [RCV-1] [RCV-2] Unknown critical
 * frames fail in both modes (UnsupportedVersionError) [EXT-2]; unknown ancillary frames are
 * skipped [EXT-3]. The index chain is not consulted (see the engine for index-based reading).
 */
export function decodeFileImage(bytes: Uint8Array, options?: { recover?: boolean }): DecodedFileImage {
  const recover = options?.recover === true;
  const header = decodeHeader(bytes);
  let footer: Footer | null = null;
  let end = bytes.length;
  if (!recover) {
    if (bytes.length < firstFrameOffset(header) + FOOTER.frameByteLength) {
      throw new UnfinishedFileError('no valid footer: file too short', { section: 'footer', byteOffset: bytes.length, expected: `>= ${firstFrameOffset(header) + FOOTER.frameByteLength} bytes`, actual: bytes.length });
    }
    footer = decodeFooterFrame(bytes.subarray(bytes.length - FOOTER.frameByteLength), bytes.length - FOOTER.frameByteLength);
    end = footer.footerOffset;
  }
  const records: DecodedRecord[] = [];
  const annotations = new Map<number, Uint8Array>();
  let metadata: Uint8Array | undefined;
  let metadataOffset = 0;
  let offset = firstFrameOffset(header);
  let validByteLength = offset;
  let tornAt: number | undefined;
  let indexBlocks = 0;
  // A record flagged "annotation follows" [REC-11] is kept only once its annotation frame is read.
  let pendingUnit: { frameOffset: number; previousEnd: number } | undefined;
  while (offset < end) {
    let frameOffset = offset; // where the failing structure starts, when one fails
    try {
      // [ALN-4]: a frame at `offset`, or zero padding and then a record frame.
      const next = nextFrame(bytes.subarray(0, end), 0, offset, header.alignment);
      if (next.frameOffset >= end) throw new FormatError('file ends inside padding', { section: 'frame', byteOffset: offset, expected: `a record frame at ${next.frameOffset}`, actual: `${end} bytes` });
      frameOffset = next.frameOffset;
      const frame = decodeFrameHeader(bytes.subarray(frameOffset, frameOffset + FRAME.headerByteLength), frameOffset, { recordIndex: records.length });
      checkFramePlacement(frame.kind, frameOffset, next.afterPadding, header.alignment, records.length);
      const payloadStart = frameOffset + FRAME.headerByteLength;
      const payload = bytes.subarray(payloadStart, payloadStart + frame.payloadByteLength);
      checkFramePayload(frame, payload, frameOffset, records.length);
      if (pendingUnit !== undefined && frame.kind !== FrameKind.annotation) {
        throw new FormatError('record flagged "annotation follows" without its annotation frame', { section: 'record', byteOffset: pendingUnit.frameOffset, recordIndex: records.length - 1 });
      }
      if (frame.kind === FrameKind.record) {
        records.push(decodeRecordPayload(payload, payloadStart, records.length));
        if (annotationFollows(payload)) pendingUnit = { frameOffset, previousEnd: validByteLength };
      } else if (frame.kind === FrameKind.annotation) {
        pendingUnit = undefined;
        const a = decodeAnnotationPayload(payload, payloadStart);
        if (!recover && a.recordIndex >= records.length) {
          // [ANN-5] An annotation frame comes after its record frame (recovery ignores it below).
          throw new FormatError(`annotation frame names record ${a.recordIndex}, but only ${records.length} record frames precede it`, { section: 'annotation', byteOffset: frameOffset, recordIndex: a.recordIndex, expected: `< ${records.length}`, actual: a.recordIndex });
        }
        if (!recover && a.annotationFormat === AnnotationFormat.json) checkUtf8(a.text, payloadStart + ANNOTATION.headByteLength, a.recordIndex);
        // Recovering, a misplaced frame (naming a record not yet read) is ignored. [ANN-5]
        if (a.annotationFormat === AnnotationFormat.json && a.recordIndex < records.length) {
          if (a.text.length === 0) annotations.delete(a.recordIndex);
          else annotations.set(a.recordIndex, a.text);
        }
      } else if (frame.kind === FrameKind.metadata) {
        const m = decodeMetadataPayload(payload, payloadStart);
        if (m.metadataFormat === MetadataFormat.json) {
          metadata = m.text;
          metadataOffset = frameOffset;
        }
      } else if (frame.kind === FrameKind.index) {
        decodeIndexPayload(payload, payloadStart);
        indexBlocks++;
      } else if (!isKnownFrameKind(frame.kind) && isCriticalFrame(frame)) {
        throw new UnsupportedVersionError('unknown critical frame kind', { section: 'frame', byteOffset: frameOffset, expected: 'a known kind', actual: frame.kind });
      }
      offset = payloadStart + frame.payloadByteLength;
      validByteLength = offset;
    } catch (e) {
      if (!recover || !(e instanceof FormatError) || e instanceof UnsupportedVersionError) throw e;
      tornAt = validByteLength; // the torn offset: end of the last valid frame [RCV-1]
      break;
    }
  }
  if (pendingUnit !== undefined) {
    // The annotation written with the last record is missing: the unit is torn, from its record frame on.
    if (!recover) throw new FormatError('record flagged "annotation follows" without its annotation frame', { section: 'record', byteOffset: pendingUnit.frameOffset, recordIndex: records.length - 1 });
    records.pop();
    tornAt = pendingUnit.frameOffset;
    validByteLength = pendingUnit.previousEnd;
    offset = validByteLength;
  }
  if (!recover) {
    // The frames before the footer must end exactly where the footer starts.
    if (offset !== end) {
      throw new FormatError('frames overrun the footer', { section: 'frame', byteOffset: end, expected: end, actual: offset });
    }
    validByteLength = bytes.length;
  }
  // Annotations for records that do not exist (a torn tail) are not reported. [ANN-5]
  for (const k of annotations.keys()) if (k >= records.length) annotations.delete(k);
  if (footer) checkFooterAgainstFrames(footer, records.length, annotations.size, indexBlocks);
  return { header, footer, records, annotations, validByteLength, metadataOffset, ...(metadata === undefined ? {} : { metadata }), ...(tornAt === undefined ? {} : { tornAt }) };
}


const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** [ANN-8] Annotation text must be UTF-8: anything else is a format error at the text's offset. */
function checkUtf8(text: Uint8Array, byteOffset: number, recordIndex: number): void {
  try {
    strictUtf8.decode(text);
  } catch {
    throw new FormatError('annotation text is not valid UTF-8', { section: 'annotation', byteOffset, recordIndex });
  }
}

/** [FTR-5] [FTR-6] The footer's counts and generation against the frames a strict walk found. */
function checkFooterAgainstFrames(footer: Footer, recordCount: number, annotatedCount: number, indexBlocks: number): void {
  const at = (offset: number): number => footer.footerOffset + FRAME.headerByteLength + offset;
  if (footer.recordCount !== recordCount) throw new FormatError('footer record count does not match the record frames', { section: 'footer', byteOffset: at(FOOTER.recordCount.offset), expected: recordCount, actual: footer.recordCount });
  if (footer.annotatedCount !== annotatedCount) throw new FormatError('annotated record count does not match the footer', { section: 'footer', byteOffset: at(FOOTER.annotatedCount.offset), expected: annotatedCount, actual: footer.annotatedCount });
  if (footer.generation !== indexBlocks) throw new FormatError('footer generation does not match the number of index blocks (one per commit)', { section: 'footer', byteOffset: at(FOOTER.generation.offset), expected: indexBlocks, actual: footer.generation });
}
