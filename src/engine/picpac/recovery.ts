// Frame-by-frame scanning: the recovery path (writer died, footer missing), live readers
// following a growing file, verify and repair. A frame counts only if its header CRC and payload
// CRC pass (SQLite WAL rule); the scan stops at the first frame that does not and reports that
// byte offset as the torn tail. Frames are located by the scan rule [ALN-4]: the next frame
// starts at the end of the previous one, unless zero padding leads to an aligned record frame.
// With `resync`, it instead searches forward for the next valid frame and reports the skipped
// byte ranges (from the first bad byte), so repair can salvage later records.
import { FormatError, LimitExceededError, UnsupportedVersionError } from '../../errors.ts';
import { decodeAnnotationPayload } from '../../format/annotation.ts';
import { checkFramePayload, checkFramePlacement, decodeFrameHeader, isCriticalFrame, nextFrame } from '../../format/frame.ts';
import { checkExtendedHeaderCrc, decodeHeader, firstFrameOffset, headerBytesToCheck } from '../../format/header.ts';
import { decodeIndexPayload, indexEntryFromRecord } from '../../format/index-block.ts';
import { FRAME, FRAME_MAGIC, FrameKind, HEADER, LIMITS, alignUp } from '../../format/layout.ts';
import { annotationFollows, decodeRecordPayload } from '../../format/record.ts';
import { resolveUnits } from './recovery-units.ts';
import type { DroppedItem, ScanEvent, SkippedRange } from './recovery-units.ts';
import type { FileHeader, FrameHeader } from '../../format/types.ts';
import type { ByteSource } from '../sources/byte-source.ts';
import { RecordIndex } from './record-index.ts';

const FRAME_HEADER_BYTES = FRAME.headerByteLength;
const DEFAULT_CHUNK_BYTES = 4 << 20;

/** One valid frame that {@link scanFrames} passed: its kind, offset in bytes, header and payload. */
export interface ScannedFrame {
  kind: number;
  flags: number;
  frameOffset: number;
  header: FrameHeader;
  /** View into a chunk owned by the scan; copy it to keep it past the next iteration. */
  payload: Uint8Array;
  /** End of this frame: where the next frame, or the padding before a record frame, starts. */
  nextOffset: number;
}

/** A byte range a resynchronising scan skipped, from the first bad byte to the next valid frame. */
export type { SkippedRange } from './recovery-units.ts';

/** How a frame scan ended: where the valid frames end, where and why the first bad frame is, and what resync skipped. */
export interface FrameScanResult {
  /** End of the last accepted frame (where appended or later frames continue, [ALN-4]). */
  endOffset: number;
  /**
   * First bad byte: the frame that is incomplete or invalid, or the first non-zero padding byte
   * (the end of the last frame when the file ends inside padding); undefined when the scan
   * reached the end cleanly.
   */
  tornOffset: number | undefined;
  tornReason: string | undefined;
  /** Ranges skipped by `resync` (empty otherwise). */
  skipped: SkippedRange[];
}

/** Options of {@link scanFrames}. */
export interface ScanFramesOptions {
  /** The decoded file header (read from the source when omitted). */
  header?: FileHeader;
  /** First frame offset to scan (default: the first frame of the file). */
  startOffset?: number;
  /** Scan up to this offset (default: source.byteLength). */
  endOffset?: number;
  /** Bytes per read (default 4 MiB). */
  chunkBytes?: number;
  /** Verify payload CRCs (default true). Without it, a torn payload is only caught by length. */
  verifyChecksums?: boolean;
  /** After a bad frame, search forward for the next valid one (default false). */
  resync?: boolean;
  /** Largest payload accepted (default 2^31-1): a larger valid header is a LimitExceededError. */
  maxPayloadBytes?: number;
  /** Filled in when the generator finishes (also its return value). */
  result?: FrameScanResult;
}

/** Read and decode the file header of a 2.0 source. */
export async function readFileHeader(source: ByteSource): Promise<FileHeader> {
  const bytes = await source.read(0, HEADER.byteLength);
  const header = decodeHeader(bytes);
  // A grown header with its own CRC (2.1) is read whole and checked. [HDR-9]
  if (headerBytesToCheck(header) > bytes.length) checkExtendedHeaderCrc(await source.read(0, headerBytesToCheck(header)), header);
  return header;
}

/** A chunked reader: views stay valid (chunks are owned, never reused). */
class ChunkReader {
  private chunk: Uint8Array = new Uint8Array(0);
  private chunkStart = 0;
  constructor(
    private readonly source: ByteSource,
    private readonly endOffset: number,
    private readonly chunkBytes: number,
  ) {}
  /** Up to `byteLength` bytes at `byteOffset` (fewer only at endOffset). */
  async view(byteOffset: number, byteLength: number): Promise<Uint8Array> {
    const want = Math.min(byteLength, this.endOffset - byteOffset);
    if (byteOffset < this.chunkStart || byteOffset + want > this.chunkStart + this.chunk.length) {
      const readLength = Math.min(Math.max(this.chunkBytes, want), this.endOffset - byteOffset);
      this.chunk = await this.source.read(byteOffset, readLength);
      this.chunkStart = byteOffset;
    }
    const at = byteOffset - this.chunkStart;
    return this.chunk.subarray(at, Math.min(at + want, this.chunk.length));
  }
}

type Check = { ok: true; header: FrameHeader; payload: Uint8Array } | { ok: false; reason: string };

/** Is there a complete, valid frame at `at`? Limit errors propagate (they are not damage). */
async function checkFrameAt(
  reader: ChunkReader,
  at: number,
  endOffset: number,
  verifyChecksums: boolean,
  maxPayloadBytes: number,
): Promise<Check> {
  if (endOffset - at < FRAME_HEADER_BYTES) return { ok: false, reason: 'incomplete frame header' };
  const headerBytes = await reader.view(at, FRAME_HEADER_BYTES);
  let header: FrameHeader;
  try {
    header = decodeFrameHeader(headerBytes, at, { maxPayloadBytes: LIMITS.maxFramePayloadBytes });
  } catch (err) {
    if (err instanceof FormatError) return { ok: false, reason: err.message };
    throw err;
  }
  const frameEnd = at + FRAME_HEADER_BYTES + header.payloadByteLength;
  if (frameEnd > endOffset) return { ok: false, reason: 'frame extends past the end of the file' };
  if (header.payloadByteLength > maxPayloadBytes) {
    throw new LimitExceededError('frame payload exceeds the reader limit', {
      section: 'frame',
      byteOffset: at + FRAME.payloadByteLength.offset,
      expected: `<= ${maxPayloadBytes}`,
      actual: header.payloadByteLength,
    });
  }
  const bytes = await reader.view(at, FRAME_HEADER_BYTES + header.payloadByteLength);
  const payload = bytes.subarray(FRAME_HEADER_BYTES);
  if (verifyChecksums) {
    try {
      checkFramePayload(header, payload, at);
    } catch (err) {
      if (err instanceof FormatError) return { ok: false, reason: err.message };
      throw err;
    }
  }
  return { ok: true, header, payload };
}

/**
 * Where the frame after `endOffset` (the end of the previous frame) starts, by the scan rule
 * [ALN-4]: at `endOffset` when it is aligned or its byte is not zero, else after zero padding at
 * alignUp(endOffset). `bad` names the first non-zero padding byte, or `endOffset` when the
 * file ends inside the padding.
 */
async function locateFrame(reader: ChunkReader, endOffset: number, fileEnd: number, alignment: number): Promise<{ at: number; afterPadding: boolean } | { bad: number; reason: string }> {
  if (endOffset % alignment === 0) return { at: endOffset, afterPadding: false };
  const padEnd = alignUp(endOffset, alignment);
  const first = await reader.view(endOffset, 1);
  if (first[0] !== 0) return { at: endOffset, afterPadding: false };
  const padding = await reader.view(endOffset, Math.min(padEnd, fileEnd) - endOffset);
  try {
    nextFrame(padding, endOffset, endOffset, alignment);
  } catch (err) {
    if (err instanceof FormatError) return { bad: err.byteOffset, reason: `${err.message} at byte ${err.byteOffset}` };
    throw err;
  }
  if (padEnd >= fileEnd) return { bad: endOffset, reason: 'file ends inside the padding before a record frame' };
  return { at: padEnd, afterPadding: true };
}

/** [ALN-1] [ALN-4] as a check result: a record frame must be aligned, padding precedes only records. */
function placementProblem(header: FrameHeader, at: number, afterPadding: boolean, alignment: number): string | undefined {
  try {
    checkFramePlacement(header.kind, at, afterPadding, alignment);
    return undefined;
  } catch (err) {
    if (err instanceof FormatError) return err.message;
    throw err;
  }
}

/**
 * Yield every valid frame from `startOffset` (the first frame, or the end of a known frame), in
 * file order, following the scan rule [ALN-4]. Stops at the first incomplete or invalid frame or
 * non-zero padding (the torn offset is in the return value and `options.result`), or with
 * `resync` skips to the next valid frame. An unknown critical extension frame throws
 * UnsupportedVersionError; unknown ancillary ones are yielded (callers skip them).
 */
export async function* scanFrames(source: ByteSource, options: ScanFramesOptions = {}): AsyncGenerator<ScannedFrame, FrameScanResult> {
  const header = options.header ?? (await readFileHeader(source));
  const alignment = header.alignment;
  const endOffset = options.endOffset ?? source.byteLength;
  const verifyChecksums = options.verifyChecksums ?? true;
  const maxPayloadBytes = options.maxPayloadBytes ?? LIMITS.maxFramePayloadBytes;
  const reader = new ChunkReader(source, endOffset, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  const result: FrameScanResult = options.result ?? { endOffset: 0, tornOffset: undefined, tornReason: undefined, skipped: [] };
  result.skipped.length = 0;
  result.tornOffset = undefined;
  result.tornReason = undefined;
  // `end` is the end of the last accepted frame: the next frame is located from there.
  let end = options.startOffset ?? firstFrameOffset(header);
  while (end < endOffset) {
    const located = await locateFrame(reader, end, endOffset, alignment);
    let at = 'at' in located ? located.at : located.bad;
    let check: Check = 'at' in located ? await checkFrameAt(reader, at, endOffset, verifyChecksums, maxPayloadBytes) : { ok: false, reason: located.reason };
    if (check.ok && 'at' in located) {
      const problem = placementProblem(check.header, at, located.afterPadding, alignment);
      if (problem) check = { ok: false, reason: problem };
    }
    if (!check.ok) {
      const next = options.resync ? await findNextFrame(reader, at, endOffset, alignment, verifyChecksums, maxPayloadBytes) : undefined;
      if (next === undefined) {
        result.tornOffset = at;
        result.tornReason = check.reason;
        break;
      }
      result.skipped.push({ byteOffset: at, byteLength: next - at, reason: check.reason, afterOffset: end, ...(await badFrameExtent(reader, at, endOffset)) });
      at = next;
      check = await checkFrameAt(reader, at, endOffset, verifyChecksums, maxPayloadBytes);
      if (!check.ok) throw new Error('unreachable: resync found a frame that does not check');
    }
    const { header: frameHeader, payload } = check;
    if (isCriticalFrame(frameHeader)) {
      throw new UnsupportedVersionError('unknown critical frame kind', {
        section: 'frame',
        byteOffset: at + FRAME.kind.offset,
        expected: 'a known kind or an ancillary extension',
        actual: frameHeader.kind,
      });
    }
    const nextOffset = at + FRAME_HEADER_BYTES + frameHeader.payloadByteLength;
    yield { kind: frameHeader.kind, flags: frameHeader.flags, frameOffset: at, header: frameHeader, payload, nextOffset };
    end = nextOffset;
  }
  result.endOffset = end;
  return result;
}

/** Kind and end of a rejected frame whose header still checks (its payload is what is bad). */
async function badFrameExtent(reader: ChunkReader, at: number, endOffset: number): Promise<{ frameKind?: number; frameEnd?: number }> {
  if (endOffset - at < FRAME_HEADER_BYTES) return {};
  try {
    const header = decodeFrameHeader(await reader.view(at, FRAME_HEADER_BYTES), at, { maxPayloadBytes: LIMITS.maxFramePayloadBytes });
    return { frameKind: header.kind, frameEnd: at + FRAME_HEADER_BYTES + header.payloadByteLength };
  } catch (err) {
    if (err instanceof FormatError) return {};
    throw err;
  }
}

/**
 * The first offset after `badOffset` holding a fully valid frame that may sit there (a record
 * frame only at a multiple of the alignment), or undefined. Frames other than records start at
 * any offset [ALN-1], so the search looks at every byte, jumping between magic candidates.
 */
async function findNextFrame(
  reader: ChunkReader,
  badOffset: number,
  endOffset: number,
  alignment: number,
  verifyChecksums: boolean,
  maxPayloadBytes: number,
): Promise<number | undefined> {
  const magicLow = FRAME_MAGIC & 0xff;
  const magicHigh = FRAME_MAGIC >> 8;
  let from = badOffset + 1;
  while (from + FRAME_HEADER_BYTES <= endOffset) {
    const window = await reader.view(from, Math.min(1 << 20, endOffset - from));
    if (window.length === 0) break;
    for (let i = window.indexOf(magicLow); i >= 0 && from + i + FRAME_HEADER_BYTES <= endOffset; i = window.indexOf(magicLow, i + 1)) {
      if (i + 1 < window.length && window[i + 1] !== magicHigh) continue;
      const at = from + i;
      try {
        const check = await checkFrameAt(reader, at, endOffset, verifyChecksums, maxPayloadBytes);
        if (check.ok && (check.header.kind !== FrameKind.record || at % alignment === 0)) return at;
      } catch (err) {
        if (!(err instanceof LimitExceededError)) throw err;
      }
    }
    from += window.length;
  }
  return undefined;
}

/** Options of {@link rebuildIndex}: those of {@link ScanFramesOptions}, plus an index to continue. */
export interface RebuildIndexOptions {
  header?: FileHeader;
  resync?: boolean;
  verifyChecksums?: boolean;
  chunkBytes?: number;
  maxPayloadBytes?: number;
  /** Continue an existing index from `startOffset` (live readers); default: a new index from the first frame. */
  index?: RecordIndex;
  startOffset?: number;
  endOffset?: number;
}

/** The index {@link rebuildIndex} built by scanning, with where the valid frames end and everything it did not keep. */
export interface RebuiltIndex {
  index: RecordIndex;
  header: FileHeader;
  /** End of the last valid frame (the next frame, or padding before a record, starts there). */
  endOffset: number;
  tornOffset: number | undefined;
  tornReason: string | undefined;
  skipped: SkippedRange[];
  /** What was not kept: damaged ranges, records whose annotation was lost, unplaceable annotation changes. */
  dropped: DroppedItem[];
  /** Annotation frames naming a record that does not (yet) exist: ignored. */
  orphanAnnotationFrames: number;
  /** Footer frames passed (a finished file, or older generations of an appended one). */
  footerFrames: number;
  /**
   * The last valid frame is a footer and nothing after it was torn: every frame was committed
   * (a finished, intact file), as against a writer that stopped after intact frames but before
   * its commit.
   */
  endsCommitted: boolean;
}

/**
 * Rebuild the in-memory index by scanning frames: records numbered in file order, the newest
 * annotation frame per record wins, index and footer frames skipped, ancillary extensions
 * skipped, critical unknown frames refused. Gives the same index a strict open would. With
 * `resync`, damaged ranges are skipped and every valid frame after them is still used; a record
 * and the annotation written with it are kept or dropped together (recovery-units.ts).
 */
export async function rebuildIndex(source: ByteSource, options: RebuildIndexOptions = {}): Promise<RebuiltIndex> {
  const header = options.header ?? (await readFileHeader(source));
  const index = options.index ?? new RecordIndex();
  const base = index.recordCount;
  const result: FrameScanResult = { endOffset: 0, tornOffset: undefined, tornReason: undefined, skipped: [] };
  let footerFrames = 0;
  const events: ScanEvent[] = [];
  const indexOrdinals = new Map<number, number>();
  const frames = scanFrames(source, {
    header,
    startOffset: options.startOffset,
    endOffset: options.endOffset,
    chunkBytes: options.chunkBytes,
    resync: options.resync,
    verifyChecksums: options.verifyChecksums,
    maxPayloadBytes: options.maxPayloadBytes,
    result,
  });
  let skipsSeen = 0;
  let previousEnd = options.startOffset ?? firstFrameOffset(header);
  let lastRecordEnd = -1;
  let recordFrames = 0;
  let lastKind = -1;
  for await (const frame of frames) {
    lastKind = frame.kind;
    for (; skipsSeen < result.skipped.length; skipsSeen++) {
      events.push({ type: 'skip', skip: result.skipped[skipsSeen] });
      lastRecordEnd = -1;
    }
    const payloadOffset = frame.frameOffset + FRAME_HEADER_BYTES;
    if (frame.kind === FrameKind.record) {
      let record;
      try {
        record = decodeRecordPayload(frame.payload, payloadOffset, base + recordFrames);
      } catch (err) {
        // Checksums pass but the structure does not: with resync, one lost record frame.
        if (!(err instanceof FormatError) || !options.resync) throw err;
        const end = frame.nextOffset;
        events.push({ type: 'skip', skip: { byteOffset: frame.frameOffset, byteLength: end - frame.frameOffset, reason: err.message, afterOffset: previousEnd, frameKind: FrameKind.record, frameEnd: end } });
        previousEnd = end;
        lastRecordEnd = -1;
        continue;
      }
      recordFrames++;
      const entry = indexEntryFromRecord(frame.frameOffset, frame.payload, frame.header.payloadCrc, record);
      events.push({ type: 'record', frameOffset: frame.frameOffset, previousEnd, entry, annotationFollows: annotationFollows(frame.payload) });
      lastRecordEnd = frame.nextOffset;
    } else if (frame.kind === FrameKind.annotation) {
      const annotation = decodeAnnotationPayload(frame.payload, payloadOffset);
      events.push({
        type: 'annotation',
        frameOffset: frame.frameOffset,
        payloadByteLength: frame.header.payloadByteLength,
        payloadCrc: frame.header.payloadCrc,
        recordIndex: annotation.recordIndex,
        live: annotation.text.length > 0,
        adjacent: frame.frameOffset === lastRecordEnd,
      });
      lastRecordEnd = -1;
    } else {
      if (frame.kind === FrameKind.footer) footerFrames++;
      if (frame.kind === FrameKind.metadata) index.metadataOffset = frame.frameOffset; // the newest in file order wins [EXT-9]
      if (frame.kind === FrameKind.index && options.resync) {
        // An intact index block names the original index of its records: numbering after damage.
        try {
          const block = decodeIndexPayload(frame.payload, payloadOffset);
          block.records.forEach((e, k) => indexOrdinals.set(e.frameOffset, block.firstRecordIndex + k));
        } catch (err) {
          if (!(err instanceof FormatError)) throw err;
        }
      }
      lastRecordEnd = -1;
    }
    previousEnd = frame.nextOffset;
  }
  for (; skipsSeen < result.skipped.length; skipsSeen++) events.push({ type: 'skip', skip: result.skipped[skipsSeen] });
  const units = resolveUnits(events, indexOrdinals, base, header.alignment, true);
  for (const { event, originalIndex } of units.kept) {
    const recordIndex = index.recordCount;
    if (originalIndex !== undefined && originalIndex !== recordIndex) (index.originalIndex ??= new Map()).set(recordIndex, originalIndex);
    index.setRecord(recordIndex, event.entry);
    // A fresh slot may hold stale annotation columns from a truncated refresh.
    index.setAnnotation(recordIndex, 0, 0, 0, false);
  }
  for (const a of units.annotations) index.setAnnotation(a.recordIndex, a.frameOffset, a.payloadByteLength, a.payloadCrc, a.live);
  let { endOffset, tornOffset, tornReason } = result;
  if (units.heldBack !== undefined) {
    // The unit is incomplete: the torn tail starts at the record, and a live reader resumes before it.
    endOffset = units.heldBack.previousEnd;
    tornOffset = units.heldBack.frameOffset;
    tornReason = tornReason ?? 'record frame whose annotation frame (written with it) is not complete yet';
    if (result.tornOffset !== undefined) tornReason = `record frame whose annotation frame is incomplete (${result.tornReason})`;
  }
  return {
    index,
    header,
    endOffset,
    tornOffset,
    tornReason,
    skipped: result.skipped,
    dropped: units.dropped,
    orphanAnnotationFrames: units.orphanAnnotationFrames,
    footerFrames,
    endsCommitted: lastKind === FrameKind.footer && tornOffset === undefined && result.skipped.length === 0,
  };
}
