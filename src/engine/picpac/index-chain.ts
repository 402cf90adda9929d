// Loading the index chain of a finished file: the footer (last 64 bytes), then index blocks
// from the newest back along previousIndexOffset, validated and applied oldest first into the
// typed-array columns. Shared by strict open and live refresh().
import { FormatError, UnfinishedFileError } from '../../errors.ts';
import { decodeFooterFrame } from '../../format/footer.ts';
import { readMetadataOffset } from '../../format/index-block.ts';
import { checkFramePayload, decodeFrameHeader } from '../../format/frame.ts';
import { FOOTER, FRAME, FrameKind } from '../../format/layout.ts';
import type { Footer } from '../../format/types.ts';
import type { ByteSource } from '../sources/byte-source.ts';
import type { KnownFrame } from './frame-gaps.ts';
import { applyIndexBlock, decodeIndexHead } from './index-columns.ts';
import type { RecordIndex } from './record-index.ts';

const FRAME_HEADER_BYTES = FRAME.headerByteLength;

/** Bytes read once and consulted before going back to the source. */
export class ReadCache {
  constructor(
    private readonly source: ByteSource,
    private readonly bytes: Uint8Array,
    private readonly start: number,
  ) {}
  async read(byteOffset: number, byteLength: number): Promise<Uint8Array> {
    if (byteOffset >= this.start && byteOffset + byteLength <= this.start + this.bytes.length) {
      return this.bytes.subarray(byteOffset - this.start, byteOffset - this.start + byteLength);
    }
    return this.source.read(byteOffset, byteLength);
  }
}

export async function readTail(source: ByteSource, tailStart: number, byteLength: number): Promise<Uint8Array> {
  return byteLength > tailStart ? source.read(tailStart, byteLength - tailStart) : new Uint8Array(0);
}

export async function readFooter(cache: ReadCache, firstFrame: number, byteLength: number): Promise<Footer> {
  const footerOffset = byteLength - FOOTER.frameByteLength;
  if (footerOffset < firstFrame) {
    throw new UnfinishedFileError('no footer: file ends before its first frame could hold one', {
      section: 'footer',
      byteOffset: byteLength,
      expected: `>= ${firstFrame + FOOTER.frameByteLength} bytes`,
      actual: byteLength,
    });
  }
  return decodeFooterFrame(await cache.read(footerOffset, FOOTER.frameByteLength), footerOffset);
}

/** Every record frame takes at least 48 bytes: a larger count is corrupt (and must not size an allocation). */
export function checkFooterCounts(footer: Footer, firstFrame: number): void {
  const most = Math.floor((footer.footerOffset - firstFrame) / (FRAME_HEADER_BYTES + 32));
  if (footer.recordCount > most) {
    throw new FormatError('footer record count larger than the file can hold', { section: 'footer', byteOffset: footer.footerOffset + FRAME_HEADER_BYTES + 8, expected: `<= ${most}`, actual: footer.recordCount });
  }
}

export interface ChainOptions {
  firstFrame: number;
  /** Stop following the chain at this offset (the newest block already applied); 0 = follow to the start. */
  stopAtOffset: number;
  maxIndexBytes: number;
  /** Blocks may restart numbering below index.recordCount (live readers that scanned ahead). */
  truncate?: boolean;
  /** Generation of the footer at stopAtOffset (a refresh): the new footer must add one per block. */
  previousGeneration?: number;
}

/** Read the index blocks from footer.indexOffset back to stopAtOffset, apply them oldest first. */
export async function loadIndexChain(source: { read(o: number, l: number): Promise<Uint8Array> }, index: RecordIndex, footer: Footer, options: ChainOptions): Promise<KnownFrame[]> {
  const blocks: Array<{ payload: Uint8Array; payloadOffset: number; endOffset: number }> = [];
  let blockOffset = footer.indexOffset;
  let limitOffset = footer.footerOffset; // a block must end before what follows it
  while (blockOffset !== options.stopAtOffset) {
    if (blockOffset < options.firstFrame || blockOffset + FRAME_HEADER_BYTES > limitOffset) {
      throw new FormatError('index block offset out of range', { section: 'index', byteOffset: blockOffset, expected: `within [${options.firstFrame}, ${limitOffset})`, actual: blockOffset });
    }
    // The newest block sits right before the footer: read it with its header in one go.
    const guess = blocks.length === 0 ? limitOffset - blockOffset : FRAME_HEADER_BYTES;
    let bytes = await source.read(blockOffset, Math.min(guess, options.maxIndexBytes + FRAME_HEADER_BYTES));
    const header = decodeFrameHeader(bytes.subarray(0, FRAME_HEADER_BYTES), blockOffset, { maxPayloadBytes: options.maxIndexBytes });
    if (header.kind !== FrameKind.index) {
      throw new FormatError('index offset does not point at an index frame', { section: 'index', byteOffset: blockOffset, expected: FrameKind.index, actual: header.kind });
    }
    const frameEnd = blockOffset + FRAME_HEADER_BYTES + header.payloadByteLength;
    if (frameEnd > limitOffset) {
      throw new FormatError('index block overruns the next structure', { section: 'index', byteOffset: blockOffset, expected: `<= ${limitOffset}`, actual: frameEnd });
    }
    if (bytes.length < FRAME_HEADER_BYTES + header.payloadByteLength) bytes = await source.read(blockOffset, FRAME_HEADER_BYTES + header.payloadByteLength);
    const payload = bytes.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + header.payloadByteLength);
    checkFramePayload(header, payload, blockOffset);
    const head = decodeIndexHead(payload, blockOffset + FRAME_HEADER_BYTES);
    // The newest block names the file's metadata frame. [EXT-8]
    if (blocks.length === 0) index.metadataOffset = readMetadataOffset(new DataView(payload.buffer, payload.byteOffset, payload.byteLength), blockOffset + FRAME_HEADER_BYTES);
    // Entries of a block describe frames written before it.
    blocks.push({ payload, payloadOffset: blockOffset + FRAME_HEADER_BYTES, endOffset: blockOffset });
    if (head.previousIndexOffset !== 0 && head.previousIndexOffset >= blockOffset) {
      throw new FormatError('previous index offset does not point backwards', { section: 'index', byteOffset: blockOffset + FRAME_HEADER_BYTES + 24, expected: `< ${blockOffset}`, actual: head.previousIndexOffset });
    }
    if (head.previousIndexOffset === 0 && options.stopAtOffset !== 0) {
      throw new FormatError('index chain does not reach the previously committed block', { section: 'index', byteOffset: blockOffset, expected: options.stopAtOffset, actual: 0 });
    }
    limitOffset = blockOffset;
    blockOffset = head.previousIndexOffset;
  }
  for (let k = blocks.length - 1; k >= 0; k--) {
    const b = blocks[k];
    if (options.truncate) {
      const first = decodeIndexHead(b.payload, b.payloadOffset).firstRecordIndex;
      if (first < index.recordCount) index.recordCount = first;
    }
    applyIndexBlock(index, b.payload, b.payloadOffset, { firstFrameOffset: options.firstFrame, endOffset: b.endOffset });
  }
  // A footer that passes its own checks but disagrees with its index chain is corrupt, not
  // unfinished: FormatError naming the footer field. [FTR-3] [FTR-5] [FTR-6]
  const field = (offset: number): number => footer.footerOffset + FRAME_HEADER_BYTES + offset;
  if (index.recordCount !== footer.recordCount) {
    throw new FormatError('index record count does not match the footer', { section: 'footer', byteOffset: field(FOOTER.recordCount.offset), expected: footer.recordCount, actual: index.recordCount });
  }
  if (index.annotatedCount !== footer.annotatedCount) {
    throw new FormatError('annotated record count does not match the footer', { section: 'footer', byteOffset: field(FOOTER.annotatedCount.offset), expected: footer.annotatedCount, actual: index.annotatedCount });
  }
  // One index block per commit: a whole chain has `generation` blocks; a refresh adds one per new commit.
  if (options.stopAtOffset === 0 && blocks.length !== footer.generation) {
    throw new FormatError('footer generation does not match the number of index blocks (one per commit)', { section: 'footer', byteOffset: field(FOOTER.generation.offset), expected: blocks.length, actual: footer.generation });
  }
  if (options.previousGeneration !== undefined && footer.generation !== options.previousGeneration + blocks.length) {
    throw new FormatError('footer generation does not grow by one per commit', { section: 'footer', byteOffset: field(FOOTER.generation.offset), expected: options.previousGeneration + blocks.length, actual: footer.generation });
  }
  return blocks.map((b) => ({ frameOffset: b.payloadOffset - FRAME_HEADER_BYTES, payloadByteLength: b.payload.length }));
}
