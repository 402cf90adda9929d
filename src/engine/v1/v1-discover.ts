// Finding the records of a 1.0 file: the original "ping" (walk the segment chain, one locator per
// record) with typed errors, and the recovery that goes on where the chain breaks.
//
// Recovery heuristic (recover: true). Closed segments are taken whole. Where the walk breaks at a
// segment S: (a) S's header cannot be decoded (truncated, bad magic/version, size > 1020): stop.
// (b) S is closed (size > 0) but its link is wrong or past the end of file: take its records by
// `sizes[]` while each head decodes and fits before EOF, then try to continue the chain right
// after them. (c) S was never closed (link 0, the writer died): scan record heads from S + 8192.
// A head is accepted when plausibleV1RecordLength says so (width <= 6, reserved bytes 0, field
// types 0..3, unused slots 0, not all zero, 64 + sum(sizes) fits before EOF); the next head is
// right after the record (compact) or at the next multiple of 4096 (aligned). The mode is that
// of the closed segments (all sizes multiples of 4096 → aligned); without closed records both
// modes are tried and the one that finds more records wins. After 1020 scanned records a new
// segment header may follow: the walk continues there.
import { FormatError, PicpacError } from '../../errors.ts';
import { alignUp } from '../../format/layout.ts';
import { MAX_SEG_RECORDS, RECORD_ALIGN, RECORD_HEAD_SIZE, SEGMENT_HEADER_SIZE } from '../../format/v1/layout.ts';
import { decodeV1RecordHead, plausibleV1RecordLength } from '../../format/v1/record.ts';
import { checkSegmentLink, decodeSegmentHeader, type V1SegmentHeader } from '../../format/v1/segment.ts';
import type { ByteSource } from '../sources/byte-source.ts';
import { ReadWindow } from './v1-ranges.ts';

export interface V1Locators {
  byteOffset: number[];
  /** On-disk length (sizes[i], padding included), or for scanned records the padded length. */
  diskLength: number[];
  group: number[];
}

export type V1Mode = 'compact' | 'aligned';

export interface V1RecoveryReport {
  /** Records taken from intact closed segments. */
  closedSegmentRecords: number;
  /** Records found after the break (by sizes[] of a damaged segment, or by scanning heads). */
  recoveredRecords: number;
  /** First byte after the last record found (the file length when nothing was lost). */
  tailByteOffset: number;
  /** Layout the scan assumed. */
  mode: V1Mode;
  /** What broke the strict walk, in file order (empty for a clean file). */
  problems: PicpacError[];
}

export interface DiscoverResult {
  locators: V1Locators;
  recovery: V1RecoveryReport | undefined;
}

export async function discoverV1Records(source: ByteSource, options: { recover: boolean }): Promise<DiscoverResult> {
  const fileLength = source.byteLength;
  const locators: V1Locators = { byteOffset: [], diskLength: [], group: [] };
  const problems: PicpacError[] = [];
  const window = new ReadWindow(source);
  let closedRecords = 0;
  let segmentOffset = 0;
  let tail = 0;
  let mode: V1Mode | undefined;
  const add = (byteOffset: number, diskLength: number, group: number): void => {
    locators.byteOffset.push(byteOffset);
    locators.diskLength.push(diskLength);
    locators.group.push(group);
  };
  const noteMode = (header: V1SegmentHeader): void => {
    if (header.recordCount === 0) return;
    const aligned = header.sizes.every((s) => s % RECORD_ALIGN === 0);
    mode ??= aligned ? 'aligned' : 'compact';
  };

  // Zero-length file: the original's loop would accept it as empty; it is not a PicPac file.
  while (segmentOffset < fileLength || (segmentOffset === 0 && !options.recover)) {
    const first = locators.byteOffset.length;
    let header: V1SegmentHeader;
    try {
      header = decodeSegmentHeader(await source.read(segmentOffset, SEGMENT_HEADER_SIZE), { byteOffset: segmentOffset, firstRecordIndex: first });
    } catch (err) {
      if (!options.recover || !(err instanceof PicpacError)) throw err;
      problems.push(err); // (a)
      break;
    }
    try {
      checkSegmentLink(header, segmentOffset, fileLength);
    } catch (err) {
      if (!options.recover || !(err instanceof PicpacError)) throw err;
      problems.push(err);
      noteMode(header);
      const resume = header.recordCount > 0
        ? await takeBySizes(header, segmentOffset) // (b)
        : await scanHeads(segmentOffset + SEGMENT_HEADER_SIZE); // (c)
      tail = Math.max(tail, resume.end);
      if (!resume.mayContinue || resume.end >= fileLength) break;
      segmentOffset = resume.end;
      continue;
    }
    noteMode(header);
    let byteOffset = segmentOffset + SEGMENT_HEADER_SIZE;
    for (let i = 0; i < header.recordCount; i++) {
      add(byteOffset, header.sizes[i], header.groups[i]);
      byteOffset += header.sizes[i];
    }
    closedRecords += header.recordCount;
    segmentOffset = header.link;
    tail = segmentOffset;
  }
  const recovery: V1RecoveryReport | undefined = options.recover
    ? {
        closedSegmentRecords: closedRecords,
        recoveredRecords: locators.byteOffset.length - closedRecords,
        tailByteOffset: tail,
        mode: mode ?? 'compact',
        problems,
      }
    : undefined;
  return { locators, recovery };

  async function takeBySizes(header: V1SegmentHeader, at: number): Promise<{ end: number; mayContinue: boolean }> {
    let byteOffset = at + SEGMENT_HEADER_SIZE;
    for (let i = 0; i < header.recordCount; i++) {
      const available = Math.min(header.sizes[i], fileLength - byteOffset);
      try {
        const head = decodeV1RecordHead(await window.bytesAt(byteOffset, RECORD_HEAD_SIZE), {
          byteOffset,
          recordIndex: locators.byteOffset.length,
          recordByteLength: available,
        });
        add(byteOffset, header.sizes[i], header.groups[i]);
        if (available < header.sizes[i]) return { end: byteOffset + head.byteLength, mayContinue: false };
      } catch (err) {
        if (!(err instanceof FormatError)) throw err;
        problems.push(err);
        return { end: byteOffset, mayContinue: false };
      }
      byteOffset += header.sizes[i];
    }
    return { end: byteOffset, mayContinue: true };
  }

  async function scanHeads(start: number): Promise<{ end: number; mayContinue: boolean }> {
    if (mode) return commit(await scanMode(start, mode), mode);
    // No closed record tells the layout: try both, keep the one that explains more records.
    const compact = await scanMode(start, 'compact');
    const aligned = await scanMode(start, 'aligned');
    mode = aligned.records.length > compact.records.length ? 'aligned' : 'compact';
    return commit(mode === 'aligned' ? aligned : compact, mode);
  }

  function commit(result: ScanResult, scanMode: V1Mode): { end: number; mayContinue: boolean } {
    for (const r of result.records) add(r.byteOffset, r.diskLength, r.label);
    const last = result.records.at(-1);
    const end = last ? last.byteOffset + (scanMode === 'aligned' ? Math.min(last.diskLength, fileLength - last.byteOffset) : last.diskLength) : result.start;
    return { end, mayContinue: result.records.length === MAX_SEG_RECORDS };
  }

  async function scanMode(start: number, scanMode: V1Mode): Promise<ScanResult> {
    const records: ScanResult['records'] = [];
    let byteOffset = start;
    while (records.length < MAX_SEG_RECORDS && byteOffset + RECORD_HEAD_SIZE <= fileLength) {
      const head = await window.bytesAt(byteOffset, RECORD_HEAD_SIZE);
      const byteLength = plausibleV1RecordLength(head, fileLength - byteOffset);
      if (byteLength < 0) break;
      const diskLength = scanMode === 'aligned' ? alignUp(byteLength, RECORD_ALIGN) : byteLength;
      const label = new DataView(head.buffer, head.byteOffset + 4, 4).getFloat32(0, true);
      records.push({ byteOffset, diskLength, label });
      byteOffset += diskLength;
    }
    return { start, records };
  }
}

interface ScanResult {
  start: number;
  records: Array<{ byteOffset: number; diskLength: number; label: number }>;
}
