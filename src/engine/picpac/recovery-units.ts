// What a recovery scan keeps, decided after the scan (pure; no I/O). Two rules:
//  - Record numbering: annotation frames name records by their original index [REC-10]. When
//    a damaged range was skipped, the original index of later records is known only if the
//    damage was one frame whose header still checks, or from an intact index block listing the
//    record's offset, or (2.1) from the annotation frame written with the record. Otherwise an
//    annotation change that names a record by index cannot be placed and is dropped, not guessed.
//  - One unit [REC-11]: a record frame flagged "annotation follows" is kept only together with
//    the annotation frame written right after it. A record whose annotation is lost is dropped
//    (a plate image must not silently become a negative sample).
import { FrameKind, alignUp } from '../../format/layout.ts';
import type { IndexRecordEntry } from '../../format/types.ts';

/** A byte range a resynchronising scan skipped (recovery.ts fills it in). */
export interface SkippedRange {
  byteOffset: number;
  byteLength: number;
  /** Why the frame at byteOffset was rejected. */
  reason: string;
  /** End of the last accepted frame before the range (the range may start with its padding). */
  afterOffset: number;
  /**
   * The rejected frame's kind and extent when its 16-byte header still checks (only the payload
   * or its placement is bad): then exactly that one frame was lost. Undefined when the header
   * itself is damaged: the range may have held several frames.
   */
  frameKind?: number;
  frameEnd?: number;
}

export interface ScannedRecordFrame {
  type: 'record';
  frameOffset: number;
  /** End of the frame before it (where a live reader resumes if this record is held back). */
  previousEnd: number;
  entry: IndexRecordEntry;
  annotationFollows: boolean;
}

export interface ScannedAnnotationFrame {
  type: 'annotation';
  frameOffset: number;
  payloadByteLength: number;
  payloadCrc: number;
  /** The record index the frame names (its original numbering). */
  recordIndex: number;
  live: boolean;
  /** The frame starts where the record frame just before it ends (no frame or damage between). */
  adjacent: boolean;
}

export type ScanEvent = ScannedRecordFrame | ScannedAnnotationFrame | { type: 'skip'; skip: SkippedRange };

/** Something recovery did not keep, for repair and dump --recover to report. */
export interface DroppedItem {
  byteOffset: number;
  byteLength: number;
  /** Original record index, when known. */
  recordIndex?: number;
  what: string;
}

export interface KeptRecord {
  event: ScannedRecordFrame;
  /** Original record index, when known. */
  originalIndex: number | undefined;
}

export interface AnnotationPlacement {
  /** Index among the kept records (or an existing record below `base`). */
  recordIndex: number;
  frameOffset: number;
  payloadByteLength: number;
  payloadCrc: number;
  live: boolean;
}

export interface ResolvedUnits {
  kept: KeptRecord[];
  annotations: AnnotationPlacement[];
  dropped: DroppedItem[];
  orphanAnnotationFrames: number;
  /** A flagged record at the very end whose annotation frame has not arrived (torn there). */
  heldBack: ScannedRecordFrame | undefined;
}

const KIND_NAMES: Record<number, string> = {
  [FrameKind.record]: 'record frame',
  [FrameKind.annotation]: 'annotation frame',
  [FrameKind.index]: 'index block',
  [FrameKind.footer]: 'footer frame',
};

function kindName(kind: number | undefined): string {
  if (kind === undefined) return 'frame whose header does not check';
  return KIND_NAMES[kind] ?? `extension frame (kind ${kind})`;
}

/** Records known lost in a skipped range: 0 or 1 when only one frame (or padding) was hit, else undefined. */
function recordsLostIn(skip: SkippedRange, alignment: number): number | undefined {
  const end = skip.byteOffset + skip.byteLength;
  if (skip.frameKind !== undefined && skip.frameEnd !== undefined && (end === skip.frameEnd || end === alignUp(skip.frameEnd, alignment))) {
    return skip.frameKind === FrameKind.record ? 1 : 0;
  }
  // Only the zero padding before an aligned record frame was damaged.
  if (skip.byteOffset >= skip.afterOffset && end === alignUp(skip.afterOffset, alignment) && end - skip.afterOffset < alignment) return 0;
  return undefined;
}

/**
 * Decide which scanned records and annotations recovery returns.
 * @param events frames and skipped ranges in file order
 * @param indexOrdinals record frame offset → original record index, from intact index blocks
 * @param base original index of the first record scanned (records below it already exist)
 * @param atEnd the scan reached the end of the bytes (a flagged record there may be held back)
 */
export function resolveUnits(events: readonly ScanEvent[], indexOrdinals: ReadonlyMap<number, number>, base: number, alignment: number, atEnd: boolean): ResolvedUnits {
  const dropped: DroppedItem[] = [];
  // Pass 1: original indices, and each record's own annotation frame (the adjacent one).
  const ordinals = new Map<ScannedRecordFrame, number | undefined>();
  const own = new Map<ScannedRecordFrame, ScannedAnnotationFrame>();
  let previous: number | undefined = base - 1;
  let lostSincePrevious: number | undefined = 0;
  let lastRecord: ScannedRecordFrame | undefined;
  for (let k = 0; k < events.length; k++) {
    const e = events[k];
    if (e.type === 'skip') {
      const lost = recordsLostIn(e.skip, alignment);
      const end = e.skip.byteOffset + e.skip.byteLength;
      const listed = [...indexOrdinals].filter(([offset]) => offset >= e.skip.byteOffset && offset < end).map(([, ordinal]) => ordinal);
      let what = `damaged ${kindName(e.skip.frameKind)} (${e.skip.reason})`;
      let recordIndex: number | undefined;
      if (lost === 1 && previous !== undefined && lostSincePrevious !== undefined) recordIndex = previous + lostSincePrevious + 1;
      if (listed.length === 1) recordIndex = listed[0];
      if (listed.length > 1) what += `; it held records ${listed[0]}..${listed[listed.length - 1]}`;
      else if (lost === undefined && listed.length === 0) what += '; the records it held, if any, are unknown';
      dropped.push({ byteOffset: e.skip.byteOffset, byteLength: e.skip.byteLength, recordIndex, what });
      lostSincePrevious = lost === undefined || lostSincePrevious === undefined ? undefined : lostSincePrevious + lost;
      lastRecord = undefined;
      continue;
    }
    if (e.type === 'annotation') {
      if (e.adjacent && lastRecord !== undefined && !own.has(lastRecord)) {
        const ordinal = ordinals.get(lastRecord);
        if (ordinal === e.recordIndex || (ordinal === undefined && lastRecord.annotationFollows)) {
          own.set(lastRecord, e);
          // The annotation written with a record names it: numbering is known again. [REC-11]
          if (ordinal === undefined) {
            ordinals.set(lastRecord, e.recordIndex);
            previous = e.recordIndex;
            lostSincePrevious = 0;
          }
        }
      }
      lastRecord = undefined;
      continue;
    }
    let ordinal = indexOrdinals.get(e.frameOffset);
    if (ordinal === undefined && previous !== undefined && lostSincePrevious !== undefined) ordinal = previous + lostSincePrevious + 1;
    ordinals.set(e, ordinal);
    previous = ordinal;
    lostSincePrevious = 0;
    lastRecord = e;
  }

  // Pass 2: keep records (a flagged one only with its annotation), then place annotations.
  const kept: KeptRecord[] = [];
  const keptIndexOf = new Map<ScannedRecordFrame, number>();
  const byOriginal = new Map<number, { recordIndex: number; frameOffset: number }>();
  let heldBack: ScannedRecordFrame | undefined;
  const lastEvent = events[events.length - 1];
  for (const e of events) {
    if (e.type !== 'record') continue;
    const originalIndex = ordinals.get(e);
    const annotation = own.get(e);
    if (e.annotationFollows && (annotation === undefined || !annotation.live)) {
      if (atEnd && e === lastEvent) {
        heldBack = e; // its annotation frame is still being written, or was cut off: the torn tail starts here
        continue;
      }
      dropped.push({
        byteOffset: e.frameOffset,
        byteLength: e.entry.payloadByteLength + 16,
        recordIndex: originalIndex,
        what: `record frame (id ${e.entry.id}) whose annotation frame is missing or damaged: dropped with it, so it does not become an unannotated sample`,
      });
      continue;
    }
    const recordIndex = base + kept.length;
    keptIndexOf.set(e, recordIndex);
    if (originalIndex !== undefined) byOriginal.set(originalIndex, { recordIndex, frameOffset: e.frameOffset });
    kept.push({ event: e, originalIndex });
  }
  const ownerOf = new Map<ScannedAnnotationFrame, ScannedRecordFrame>();
  for (const [record, annotation] of own) ownerOf.set(annotation, record);
  const annotations: AnnotationPlacement[] = [];
  let orphanAnnotationFrames = 0;
  for (const e of events) {
    if (e.type !== 'annotation') continue;
    const owner = ownerOf.get(e);
    let recordIndex: number | undefined;
    if (owner !== undefined) {
      recordIndex = keptIndexOf.get(owner);
      if (recordIndex === undefined) continue; // dropped with its record (reported there)
    } else if (e.recordIndex < base) {
      recordIndex = e.recordIndex; // a record read before this scan started
    } else {
      const target = byOriginal.get(e.recordIndex);
      if (target !== undefined && target.frameOffset < e.frameOffset) recordIndex = target.recordIndex; // [ANN-5]
    }
    if (recordIndex === undefined) {
      orphanAnnotationFrames++;
      dropped.push({ byteOffset: e.frameOffset, byteLength: e.payloadByteLength + 16, recordIndex: e.recordIndex, what: `annotation change for record ${e.recordIndex}, whose record frame was not recovered` });
      continue;
    }
    annotations.push({ recordIndex, frameOffset: e.frameOffset, payloadByteLength: e.payloadByteLength, payloadCrc: e.payloadCrc, live: e.live });
  }
  return { kept, annotations, dropped, orphanAnnotationFrames, heldBack };
}
