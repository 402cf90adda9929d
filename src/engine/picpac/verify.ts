// verifyStore: check every byte that carries meaning — header, every frame (header CRC, payload
// CRC, record structure, annotation targets), the index chain against the frames it describes
// (offset, CRC, length, id, labels, field count, image size/codec, annotations), and the footer.
// Frames are walked with resync, so damage in the middle is reported and the walk continues.
// Problems come sorted by byte offset: the first one is the first bad record.
import { FormatError, PicpacError, invalidParameterError } from '../../errors.ts';
import { decodeAnnotationPayload } from '../../format/annotation.ts';
import { decodeHeader } from '../../format/header.ts';
import { indexEntryFromRecord } from '../../format/index-block.ts';
import { FRAME, FrameKind, HEADER } from '../../format/layout.ts';
import { annotationFollows, decodeRecordPayload } from '../../format/record.ts';
import type { FileHeader, IndexRecordEntry } from '../../format/types.ts';
import type { ByteSource } from '../sources/byte-source.ts';
import './crc-native.ts';
import { FileSource } from '../sources/file-source.ts';
import { PicpacReader } from './picpac-reader.ts';
import { readFileHeader, scanFrames } from './recovery.ts';
import { validateReaderOptions } from '../reader-options.ts';
import type { ValidReaderOptions } from '../reader-options.ts';
import type { FrameScanResult, SkippedRange } from './recovery.ts';

/** One problem {@link verifyStore} found: where (byte offset, section, record when known) and what. */
export interface VerifyProblem {
  recordIndex?: number;
  byteOffset: number;
  section: string;
  message: string;
}

/** What {@link verifyStore} found: `ok` is true when no problem was found. */
export interface VerifyResult {
  ok: boolean;
  /** Records found by walking the frames. */
  recordCount: number;
  /** At most maxProblems, sorted by byte offset. */
  problems: VerifyProblem[];
  /** All problems found (problems.length may be capped). */
  problemCount: number;
  bytesChecked: number;
}

/** Options of {@link verifyStore}. */
export interface VerifyOptions {
  /** List at most this many problems (default 100). */
  maxProblems?: number;
  /** Reader limits (defaults as PicpacReader): a larger frame is listed as a problem. */
  maxRecordBytes?: number;
  maxAnnotationBytes?: number;
  maxIndexBytes?: number;
  /** "locked by pid N" when a live writer holds the file's lock: an unfinished end is then not damage. */
  lockedBy?: string;
}

const FRAME_HEADER_BYTES = FRAME.headerByteLength;

/**
 * Verify a 2.0 store file (path or source). Never throws for bad bytes: every problem is
 * listed. Throws only for caller mistakes and I/O failures.
 * @param [options.maxProblems=100] cap on the listed problems
 */
export async function verifyStore(pathOrSource: string | ByteSource, options?: VerifyOptions): Promise<VerifyResult> {
  const maxProblems = options?.maxProblems ?? 100;
  if (!Number.isInteger(maxProblems) || maxProblems < 1) throw invalidParameterError('options.maxProblems', 'a positive integer', maxProblems);
  const ownsSource = typeof pathOrSource === 'string';
  const source = typeof pathOrSource === 'string' ? await FileSource.open(pathOrSource) : pathOrSource;
  try {
    const limits = validateReaderOptions({ maxRecordBytes: options?.maxRecordBytes, maxAnnotationBytes: options?.maxAnnotationBytes, maxIndexBytes: options?.maxIndexBytes });
    return await verifySource(source, maxProblems, limits, options ?? {});
  } finally {
    if (ownsSource) await source.close();
  }
}

interface ScannedAnnotation {
  recordIndex: number;
  payloadByteLength: number;
  payloadCrc: number;
  live: boolean;
}

async function verifySource(source: ByteSource, maxProblems: number, limits: ValidReaderOptions, options: VerifyOptions): Promise<VerifyResult> {
  const problems: VerifyProblem[] = [];
  const add = (p: VerifyProblem): void => {
    problems.push(p);
  };
  const fromError = (err: unknown, fallback: { byteOffset: number; recordIndex?: number; section: string }): VerifyProblem => {
    if (err instanceof FormatError) return { recordIndex: err.recordIndex ?? fallback.recordIndex, byteOffset: err.byteOffset, section: err.section, message: err.message };
    if (err instanceof PicpacError) return { ...fallback, message: err.message };
    throw err;
  };
  const finish = (recordCount: number, bytesChecked: number): VerifyResult => {
    problems.sort((a, b) => a.byteOffset - b.byteOffset);
    return { ok: problems.length === 0, recordCount, problems: problems.slice(0, maxProblems), problemCount: problems.length, bytesChecked };
  };

  let header: FileHeader;
  try {
    header = await readFileHeader(source);
  } catch (err) {
    add(fromError(err, { byteOffset: 0, section: 'header' }));
    return finish(0, Math.min(source.byteLength, HEADER.byteLength));
  }

  // 1. The index chain and footer, through the strict reader (first: the index numbers the
  // records the walk finds, so damage does not shift the numbering of every later record).
  let reader: PicpacReader | undefined;
  let strictProblem: VerifyProblem | undefined;
  try {
    reader = await PicpacReader.open(source, { strict: true, maxRecordBytes: limits.maxRecordBytes, maxAnnotationBytes: limits.maxAnnotationBytes, maxIndexBytes: limits.maxIndexBytes });
  } catch (err) {
    const p = fromError(err, { byteOffset: source.byteLength, section: 'footer' });
    if (err instanceof PicpacError && err.code === 'UNFINISHED') {
      const holder = options.lockedBy === undefined ? '' : ` — but ${options.lockedBy}: a writer is appending, its commit is not written yet; verify again when it finishes`;
      p.message += holder || ' (the file is unfinished: its writer stopped before committing; `picpac repair FILE OUT` saves every intact record)';
    }
    strictProblem = p;
  }
  const indexOf = new Map<number, number>();
  if (reader) for (let i = 0; i < reader.columns.recordCount; i++) indexOf.set(reader.columns.frameOffset[i], i);

  // 2. Walk every frame.
  const scanned: IndexRecordEntry[] = [];
  const annotationsByOffset = new Map<number, ScannedAnnotation>();
  const newestAnnotation = new Map<number, number>(); // recordIndex → frame offset (0 = removed)
  const skipped: Array<SkippedRange & { recordCountBefore: number }> = [];
  const result: FrameScanResult = { endOffset: 0, tornOffset: undefined, tornReason: undefined, skipped: [] };
  let handledSkips = 0;
  let lastFlagged: { frameOffset: number; end: number; recordIndex: number } | undefined;
  const takeSkips = (): void => {
    for (; handledSkips < result.skipped.length; handledSkips++) skipped.push({ ...result.skipped[handledSkips], recordCountBefore: scanned.length });
  };
  try {
    const maxPayloadBytes = Math.max(limits.maxRecordBytes, limits.maxAnnotationBytes, limits.maxIndexBytes);
    for await (const frame of scanFrames(source, { header, resync: true, result, maxPayloadBytes })) {
      takeSkips();
      const payloadOffset = frame.frameOffset + FRAME_HEADER_BYTES;
      if (frame.kind === FrameKind.record) {
        const recordIndex = indexOf.get(frame.frameOffset) ?? scanned.length;
        // A frame lost to damage before this one still counts: keep the numbering of the index.
        while (scanned.length < recordIndex) scanned.push(placeholderEntry(-1));
        try {
          const record = decodeRecordPayload(frame.payload, payloadOffset, recordIndex);
          scanned.push(indexEntryFromRecord(frame.frameOffset, frame.payload, frame.header.payloadCrc, record));
          if (annotationFollows(frame.payload)) lastFlagged = { frameOffset: frame.frameOffset, end: frame.nextOffset, recordIndex };
        } catch (err) {
          add(fromError(err, { byteOffset: frame.frameOffset, recordIndex, section: 'record' }));
          scanned.push({ frameOffset: frame.frameOffset, payloadByteLength: frame.header.payloadByteLength, payloadCrc: frame.header.payloadCrc, id: NaN, label: NaN, label2: NaN, width: 0, height: 0, fieldCount: 0, firstImageCodec: 0, entryFlags: 0 });
        }
      } else if (frame.kind === FrameKind.annotation) {
        try {
          const a = decodeAnnotationPayload(frame.payload, payloadOffset);
          if (a.recordIndex >= Math.max(scanned.length, lastIndexed(frame.frameOffset, reader))) {
            add({ byteOffset: frame.frameOffset, section: 'annotation', message: `annotation frame names record ${a.recordIndex}, but only ${scanned.length} records precede it` });
          } else {
            const live = a.text.length > 0;
            annotationsByOffset.set(frame.frameOffset, { recordIndex: a.recordIndex, payloadByteLength: frame.header.payloadByteLength, payloadCrc: frame.header.payloadCrc, live });
            newestAnnotation.set(a.recordIndex, live ? frame.frameOffset : 0);
            if (live) {
              try {
                new TextDecoder('utf-8', { fatal: true }).decode(a.text);
              } catch {
                add({ recordIndex: a.recordIndex, byteOffset: payloadOffset + 16, section: 'annotation', message: 'annotation text is not valid UTF-8' });
              }
            }
          }
        } catch (err) {
          add(fromError(err, { byteOffset: frame.frameOffset, section: 'annotation' }));
        }
      }
    }
    takeSkips();
  } catch (err) {
    takeSkips();
    add(fromError(err, { byteOffset: result.endOffset, section: 'frame' }));
  }
  const bytesChecked = Math.min(source.byteLength, Math.max(result.endOffset, result.tornOffset ?? 0));


  // The strict open's failure is the same damage as a skipped range that covers it: one problem per flip.
  if (strictProblem !== undefined) {
    const at = strictProblem.byteOffset;
    if (!skipped.some((r) => at >= r.byteOffset && at < r.byteOffset + r.byteLength)) add(strictProblem);
  }

  // 3. Skipped ranges: name the record the index places there (or the scan position).
  const columns = reader?.columns;
  for (const s of skipped) {
    let recordIndex: number | undefined = s.frameKind === FrameKind.record || s.frameKind === undefined ? s.recordCountBefore : undefined;
    let what = '';
    if (columns) {
      recordIndex = firstEntryIn(columns.frameOffset, columns.recordCount, s.byteOffset, s.byteOffset + s.byteLength);
      const annotated = recordIndex === undefined ? annotationOwner(columns, s.byteOffset) : undefined;
      if (annotated !== undefined) {
        recordIndex = annotated;
        what = `the annotation frame of record ${annotated} is damaged; `;
      } else if (recordIndex !== undefined) {
        what = `record ${recordIndex} is damaged; `;
      }
    }
    if (s.frameKind === FrameKind.index) what = 'an index block is damaged (the records are intact: `picpac repair FILE OUT` rebuilds the index); ';
    if (s.frameKind === FrameKind.footer) what = 'a footer of an earlier commit is damaged; ';
    if (s.frameKind === FrameKind.annotation && what === '') what = 'an annotation frame is damaged; ';
    add({ recordIndex, byteOffset: s.byteOffset, section: 'frame', message: `${what}${s.reason}; ${s.byteLength} bytes skipped (\`picpac repair FILE OUT\` keeps every other record)` });
  }
  if (result.tornOffset !== undefined && lastFlagged !== undefined && lastFlagged.end === result.tornOffset) {
    // [RCV-8]: the record and the annotation written with it are one unit; the unit is torn at the record.
    add({ recordIndex: lastFlagged.recordIndex, byteOffset: lastFlagged.frameOffset, section: 'frame', message: `the annotation frame written with record ${lastFlagged.recordIndex} (at byte ${result.tornOffset}) is incomplete or damaged: ${result.tornReason}; recovery drops the record with it` });
  } else if (result.tornOffset !== undefined) {
    let recordIndex: number | undefined = scanned.length;
    if (columns) recordIndex = firstEntryIn(columns.frameOffset, columns.recordCount, result.tornOffset, Infinity);
    // Reported at the torn offset, the end of the last valid frame [RCV-1]; the failing byte is named in the message.
    const at = result.tornOffset === result.endOffset ? '' : ` at byte ${result.tornOffset}`;
    add({ recordIndex, byteOffset: result.endOffset, section: 'frame', message: `${result.tornReason}${at}; no valid frame after byte ${result.endOffset}` });
  }

  // 4. Index entries against the frames.
  if (columns) {
    const byOffset = new Map<number, IndexRecordEntry>();
    for (const e of scanned) if (e.frameOffset >= 0) byOffset.set(e.frameOffset, e);
    const damaged = (offset: number): boolean => skipped.some((s) => offset >= s.byteOffset && offset < s.byteOffset + s.byteLength) || (result.tornOffset !== undefined && offset >= result.tornOffset);
    for (let i = 0; i < columns.recordCount; i++) {
      const offset = columns.frameOffset[i];
      const frame = byOffset.get(offset);
      if (!frame) {
        if (!damaged(offset)) add({ recordIndex: i, byteOffset: offset, section: 'index', message: 'index entry points at no record frame' });
        continue;
      }
      const entry = columns.entry(i);
      const diffs: string[] = [];
      if (entry.payloadByteLength !== frame.payloadByteLength) diffs.push('payload length');
      if (entry.payloadCrc >>> 0 !== frame.payloadCrc >>> 0) diffs.push('payload CRC');
      if (!Number.isNaN(frame.id)) {
        if (entry.id !== frame.id) diffs.push('id');
        if (!Object.is(entry.label, frame.label)) diffs.push('label');
        if (!Object.is(entry.label2, frame.label2)) diffs.push('label2');
        if (entry.fieldCount !== frame.fieldCount) diffs.push('field count');
        if (entry.width !== frame.width || entry.height !== frame.height) diffs.push('image size');
        if (entry.firstImageCodec !== frame.firstImageCodec) diffs.push('image codec');
      }
      if (diffs.length > 0) add({ recordIndex: i, byteOffset: offset, section: 'index', message: `index entry disagrees with the record frame: ${diffs.join(', ')}` });
      const annotationOffset = columns.annotationOffset[i];
      if (annotationOffset !== 0) {
        const a = annotationsByOffset.get(annotationOffset);
        if (!a) {
          if (!damaged(annotationOffset)) add({ recordIndex: i, byteOffset: annotationOffset, section: 'index', message: 'annotation entry points at no annotation frame' });
        } else if (a.recordIndex !== i || a.payloadCrc >>> 0 !== columns.annotationCrc[i] >>> 0 || a.payloadByteLength !== columns.annotationByteLength[i]) {
          add({ recordIndex: i, byteOffset: annotationOffset, section: 'index', message: 'annotation entry disagrees with its annotation frame' });
        }
      }
      if (skipped.length === 0 && (newestAnnotation.get(i) ?? 0) !== annotationOffset) {
        add({ recordIndex: i, byteOffset: annotationOffset || offset, section: 'index', message: 'index annotation is not the newest annotation frame of the record' });
      }
    }
    if (skipped.length === 0 && result.tornOffset === undefined && columns.recordCount !== scanned.length) {
      add({ byteOffset: source.byteLength - 64, section: 'index', message: `index lists ${columns.recordCount} records, the file holds ${scanned.length} record frames` });
    }
  }
  await reader?.close();
  return finish(scanned.length, bytesChecked);
}

function placeholderEntry(frameOffset: number): IndexRecordEntry {
  return { frameOffset, payloadByteLength: 0, payloadCrc: 0, id: NaN, label: NaN, label2: NaN, width: 0, height: 0, fieldCount: 0, firstImageCodec: 0, entryFlags: 0 };
}

/** Records the index places before `byteOffset` (0 without an index). */
function lastIndexed(byteOffset: number, reader: PicpacReader | undefined): number {
  if (!reader) return 0;
  const c = reader.columns;
  return firstEntryIn(c.frameOffset, c.recordCount, byteOffset, Infinity) ?? c.recordCount;
}

/** The record whose indexed annotation frame starts at `byteOffset`, if any. */
function annotationOwner(columns: PicpacReader['columns'], byteOffset: number): number | undefined {
  for (let i = 0; i < columns.recordCount; i++) if (columns.annotationOffset[i] === byteOffset) return i;
  return undefined;
}

/** The first i with frameOffset[i] in [from, to), by binary search (offsets ascend). */
function firstEntryIn(frameOffset: Float64Array, recordCount: number, from: number, to: number): number | undefined {
  let lo = 0;
  let hi = recordCount;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (frameOffset[mid] < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < recordCount && frameOffset[lo] < to ? lo : undefined;
}
