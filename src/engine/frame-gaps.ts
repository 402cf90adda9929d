// Strict open reads the index, not every frame. Frames the index does not describe — superseded
// annotation frames, old index blocks and footers of earlier commits, extension frames — sit in
// the gaps between the frames it does describe. Walking just those gaps (frame headers only,
// coalesced reads) finds an unknown critical extension [EXT-2] and proves the frames tile the
// file, at no cost for a freshly written file (it has no gaps).
import { FormatError, UnsupportedVersionError } from '../errors.ts';
import { decodeFrameHeader, isCriticalFrame } from '../format/frame.ts';
import { FRAME, alignUp } from '../format/layout.ts';
import type { RecordIndex } from './record-index.ts';
import { planReads, sliceReads } from './read-plan.ts';
import type { ByteRange } from './read-plan.ts';

const FRAME_HEADER_BYTES = FRAME.headerByteLength;

export interface KnownFrame {
  frameOffset: number;
  payloadByteLength: number;
}

/**
 * The byte ranges between the frames the index knows (records, live annotations, index blocks)
 * from `firstFrame` to `footerOffset`. Pure; throws FormatError when indexed frames overlap.
 */
export function planFrameGaps(index: RecordIndex, alignment: number, firstFrame: number, footerOffset: number, indexBlocks: readonly KnownFrame[]): ByteRange[] {
  const extentEnd = (frameOffset: number, payloadByteLength: number): number => alignUp(frameOffset + FRAME_HEADER_BYTES + payloadByteLength, alignment);
  // Records ascend in file order; an annotation written right after its record joins its extent.
  const others: KnownFrame[] = [...indexBlocks];
  const gaps: ByteRange[] = [];
  let cursor = firstFrame;
  let k = 0;
  const recordStarts = index.frameOffset;
  const n = index.recordCount;
  const detached: KnownFrame[] = [];
  for (let i = 0; i < n; i++) {
    const a = index.annotationOffset[i];
    if (a !== 0 && a !== extentEnd(recordStarts[i], index.payloadByteLength[i])) detached.push({ frameOffset: a, payloadByteLength: index.annotationByteLength[i] });
  }
  others.push(...detached);
  others.sort((x, y) => x.frameOffset - y.frameOffset);
  const visit = (start: number, end: number, what: string): void => {
    if (start < cursor) {
      throw new FormatError(`indexed frames overlap (${what})`, { section: 'index', byteOffset: start, expected: `a frame at or after ${cursor}`, actual: start });
    }
    if (start > cursor) gaps.push({ byteOffset: cursor, byteLength: start - cursor });
    cursor = end;
  };
  for (let i = 0; i < n; i++) {
    const start = recordStarts[i];
    while (k < others.length && others[k].frameOffset < start) {
      visit(others[k].frameOffset, extentEnd(others[k].frameOffset, others[k].payloadByteLength), 'annotation or index frame');
      k++;
    }
    let end = extentEnd(start, index.payloadByteLength[i]);
    const a = index.annotationOffset[i];
    if (a !== 0 && a === end) end = extentEnd(a, index.annotationByteLength[i]);
    visit(start, end, `record ${i}`);
  }
  for (; k < others.length; k++) visit(others[k].frameOffset, extentEnd(others[k].frameOffset, others[k].payloadByteLength), 'annotation or index frame');
  if (cursor > footerOffset) throw new FormatError('indexed frames overrun the footer', { section: 'index', byteOffset: cursor, expected: `<= ${footerOffset}`, actual: cursor });
  if (cursor < footerOffset) gaps.push({ byteOffset: cursor, byteLength: footerOffset - cursor });
  return gaps;
}

/**
 * Walk the frame headers inside each gap: they must tile the gap exactly, and none may be an
 * unknown critical extension. Payloads are not read when a gap is large (headers only).
 */
export async function checkFrameGaps(read: (byteOffset: number, byteLength: number) => Promise<Uint8Array>, gaps: readonly ByteRange[], alignment: number): Promise<void> {
  if (gaps.length === 0) return;
  const small = gaps.filter((g) => g.byteLength <= 1 << 20);
  const large = gaps.filter((g) => g.byteLength > 1 << 20);
  const plan = planReads(small);
  const bytes = await Promise.all(plan.map((p) => read(p.byteOffset, p.byteLength)));
  const sliced = sliceReads(small, plan, bytes);
  await Promise.all(small.map((g, i) => walkGap(g, (at) => sliced[i].subarray(at - g.byteOffset, at - g.byteOffset + FRAME_HEADER_BYTES), alignment)));
  for (const g of large) await walkGap(g, (at) => read(at, FRAME_HEADER_BYTES), alignment);
}

async function walkGap(gap: ByteRange, headerAt: (byteOffset: number) => Promise<Uint8Array> | Uint8Array, alignment: number): Promise<void> {
  const end = gap.byteOffset + gap.byteLength;
  let at = gap.byteOffset;
  while (at < end) {
    const header = decodeFrameHeader(await headerAt(at), at);
    if (isCriticalFrame(header)) {
      throw new UnsupportedVersionError('unknown critical frame kind', { section: 'frame', byteOffset: at + FRAME.kind.offset, expected: 'a known kind or an ancillary extension', actual: header.kind });
    }
    at = alignUp(at + FRAME_HEADER_BYTES + header.payloadByteLength, alignment);
  }
  if (at !== end) {
    throw new FormatError('unindexed frames do not line up with the indexed ones', { section: 'frame', byteOffset: gap.byteOffset, expected: end, actual: at });
  }
}
