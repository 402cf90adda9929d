// Test-side reader that opens a file image the way SPEC.md §8 describes: header, footer (last
// 64 bytes), then the index chain — without reading any record or annotation frame.
import assert from 'node:assert/strict';
import { decodeHeader } from '../../src/format/header.ts';
import { checkFramePayload, decodeFrameHeader } from '../../src/format/frame.ts';
import { decodeFooterFrame } from '../../src/format/footer.ts';
import { decodeIndexPayload } from '../../src/format/index-block.ts';
import { FrameKind } from '../../src/format/layout.ts';
import type { Footer, IndexAnnotationEntry, IndexBlock, IndexRecordEntry } from '../../src/format/types.ts';

export interface OpenedIndex {
  footer: Footer;
  /** Oldest first. */
  blocks: Array<IndexBlock & { frameOffset: number }>;
  records: IndexRecordEntry[];
  /** recordIndex → newest live entry (removals deleted). */
  annotations: Map<number, IndexAnnotationEntry>;
}

export function openIndex(bytes: Uint8Array): OpenedIndex {
  decodeHeader(bytes);
  const footer = decodeFooterFrame(bytes.subarray(bytes.length - 64), bytes.length - 64);
  const blocks: Array<IndexBlock & { frameOffset: number }> = [];
  let at = footer.indexOffset;
  for (;;) {
    const h = decodeFrameHeader(bytes.subarray(at, at + 16), at);
    assert.equal(h.kind, FrameKind.index, `index frame kind at ${at}`);
    const payload = bytes.subarray(at + 16, at + 16 + h.payloadByteLength);
    checkFramePayload(h, payload, at);
    const block = decodeIndexPayload(payload, at + 16);
    blocks.unshift({ ...block, frameOffset: at });
    if (block.previousIndexOffset === 0) break;
    assert.ok(block.previousIndexOffset < at, 'chain goes backwards [IDX-8]');
    at = block.previousIndexOffset;
  }
  const records: IndexRecordEntry[] = [];
  const annotations = new Map<number, IndexAnnotationEntry>();
  for (const b of blocks) {
    assert.equal(b.firstRecordIndex, records.length, 'blocks cover contiguous record ranges [IDX-4]');
    records.push(...b.records);
    for (const a of b.annotations) {
      if (a.frameOffset === 0) annotations.delete(a.recordIndex);
      else annotations.set(a.recordIndex, a);
    }
  }
  assert.equal(records.length, footer.recordCount, 'footer recordCount [FTR-6]');
  assert.equal(annotations.size, footer.annotatedCount, 'footer annotatedCount [FTR-6]');
  return { footer, blocks, records, annotations };
}
