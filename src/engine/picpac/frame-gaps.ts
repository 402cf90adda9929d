// Strict open reads the index, not every frame. Frames the index does not describe — superseded
// annotation frames, old index blocks and footers of earlier commits, extension frames — sit in
// the gaps between the frames it does describe. Walking just those gaps (frame headers only,
// coalesced reads) finds an unknown critical extension [EXT-2] and proves the frames tile the
// file, at no cost for a freshly written file. Padding before a record frame is not a gap: a gap
// shorter than the alignment that ends at the next aligned record frame is skipped unread
// [ALN-5] (an aligned file has one after almost every record).
import { FormatError, UnsupportedVersionError } from '../../errors.ts';
import { checkFramePlacement, decodeFrameHeader, isCriticalFrame } from '../../format/frame.ts';
import { FRAME, FrameKind, alignUp } from '../../format/layout.ts';
import type { RecordIndex } from './record-index.ts';
import { planReads, sliceReads } from '../sources/read-plan.ts';
import type { ByteRange } from '../sources/read-plan.ts';

const FRAME_HEADER_BYTES = FRAME.headerByteLength;

export interface KnownFrame {
  frameOffset: number;
  payloadByteLength: number;
}

/** Bytes between indexed frames; `endsAtRecord` when a record frame follows (padding allowed). */
export interface FrameGap extends ByteRange {
  endsAtRecord: boolean;
}

/**
 * The byte ranges between the frames the index knows (records, live annotations, index blocks)
 * from `firstFrame` to `footerOffset`. Pure; throws FormatError when indexed frames overlap.
 */
export function planFrameGaps(index: RecordIndex, alignment: number, firstFrame: number, footerOffset: number, indexBlocks: readonly KnownFrame[]): FrameGap[] {
  // Records ascend in file order; an annotation written right after its record joins its extent.
  // Plain loops over the columns: this runs on every open of a million-record file.
  const recordStarts = index.frameOffset;
  const payloadByteLength = index.payloadByteLength;
  const annotationOffset = index.annotationOffset;
  const annotationByteLength = index.annotationByteLength;
  const n = index.recordCount;
  const others: KnownFrame[] = indexBlocks.slice();
  for (let i = 0; i < n; i++) {
    const a = annotationOffset[i];
    if (a !== 0 && a !== recordStarts[i] + FRAME_HEADER_BYTES + payloadByteLength[i]) others.push({ frameOffset: a, payloadByteLength: annotationByteLength[i] });
  }
  others.sort((x, y) => x.frameOffset - y.frameOffset);
  const gaps: FrameGap[] = [];
  let cursor = firstFrame;
  let k = 0;
  for (let i = 0; i <= n; i++) {
    const start = i < n ? recordStarts[i] : Infinity;
    for (; k < others.length && others[k].frameOffset < start; k++) {
      const o = others[k];
      cursor = visitKnown(gaps, cursor, o.frameOffset, o.frameOffset + FRAME_HEADER_BYTES + o.payloadByteLength, false, alignment, -1);
    }
    if (i === n) break;
    let end = start + FRAME_HEADER_BYTES + payloadByteLength[i];
    if (annotationOffset[i] === end) end += FRAME_HEADER_BYTES + annotationByteLength[i];
    cursor = visitKnown(gaps, cursor, start, end, true, alignment, i);
  }
  if (cursor > footerOffset) throw new FormatError('indexed frames overrun the footer', { section: 'index', byteOffset: cursor, expected: `<= ${footerOffset}`, actual: cursor });
  if (cursor < footerOffset) gaps.push({ byteOffset: cursor, byteLength: footerOffset - cursor, endsAtRecord: false });
  return gaps;
}

/** Account for a known frame [start, end) after `cursor`: record the gap before it; returns the new cursor. */
function visitKnown(gaps: FrameGap[], cursor: number, start: number, end: number, isRecord: boolean, alignment: number, recordIndex: number): number {
  if (start < cursor) {
    const what = recordIndex >= 0 ? `record ${recordIndex}` : 'annotation or index frame';
    throw new FormatError(`indexed frames overlap (${what})`, { section: 'index', byteOffset: start, expected: `a frame at or after ${cursor}`, actual: start });
  }
  // Only padding fits before an aligned record frame at alignUp(cursor): not read. [ALN-5]
  if (start > cursor && !(isRecord && start === alignUp(cursor, alignment))) gaps.push({ byteOffset: cursor, byteLength: start - cursor, endsAtRecord: isRecord });
  return end;
}

/**
 * Walk the frame headers inside each gap by the scan rule [ALN-4]: they must tile the gap
 * exactly (padding only before a record frame), and none may be an unknown critical extension.
 * Payloads are not read when a gap is large (headers only).
 */
export async function checkFrameGaps(read: (byteOffset: number, byteLength: number) => Promise<Uint8Array>, gaps: readonly FrameGap[], alignment: number): Promise<void> {
  if (gaps.length === 0) return;
  const small = gaps.filter((g) => g.byteLength <= 1 << 20);
  const large = gaps.filter((g) => g.byteLength > 1 << 20);
  const plan = planReads(small);
  const bytes = await Promise.all(plan.map((p) => read(p.byteOffset, p.byteLength)));
  const sliced = sliceReads(small, plan, bytes);
  await Promise.all(small.map((g, i) => walkGap(g, (at) => sliced[i].subarray(at - g.byteOffset, at - g.byteOffset + FRAME_HEADER_BYTES), alignment)));
  for (const g of large) await walkGap(g, (at) => read(at, Math.min(FRAME_HEADER_BYTES, g.byteOffset + g.byteLength - at)), alignment);
}

async function walkGap(gap: FrameGap, headerAt: (byteOffset: number) => Promise<Uint8Array> | Uint8Array, alignment: number): Promise<void> {
  const end = gap.byteOffset + gap.byteLength;
  let at = gap.byteOffset;
  while (at < end) {
    const bytes = await headerAt(at);
    if (at % alignment !== 0 && bytes[0] === 0) {
      // Padding: it must run to the record frame that ends the gap (its bytes are not read).
      const padEnd = alignUp(at, alignment);
      if (padEnd !== end || !gap.endsAtRecord) {
        throw new FormatError('padding before a frame that is not a record frame', { section: 'frame', byteOffset: at, expected: 'a frame header', actual: 'zero padding' });
      }
      return;
    }
    const header = decodeFrameHeader(bytes, at);
    checkFramePlacement(header.kind, at, false, alignment);
    if (isCriticalFrame(header)) {
      throw new UnsupportedVersionError('unknown critical frame kind', { section: 'frame', byteOffset: at + FRAME.kind.offset, expected: 'a known kind or an ancillary extension', actual: header.kind });
    }
    at += FRAME_HEADER_BYTES + header.payloadByteLength;
  }
  if (at !== end) {
    throw new FormatError('unindexed frames do not line up with the indexed ones', { section: 'frame', byteOffset: gap.byteOffset, expected: end, actual: at });
  }
}
