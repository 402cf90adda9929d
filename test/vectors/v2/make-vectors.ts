// Writes the format 2.0 golden vectors ONCE. Published vectors are never regenerated
// (STYLE §27): this script never overwrites a file. For a case already on disk it only checks
// that it would produce the same bytes (and fails loudly if not); missing cases are written.
// New cases get new names.
// Run: node --import tsx test/vectors/v2/make-vectors.ts [--check]
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FieldKind,
  FrameKind,
  FRAME_FLAG_CRITICAL,
  TensorDType,
  appendFileImage,
  decodeFileImage,
  decodeFrameHeader,
  encodeFooterFrame,
  encodeFrame,
  encodeHeader,
  encodeIndexPayload,
  decodeIndexPayload,
  crc32c,
  encodeRecordPayload,
  encodeTensor,
  fieldTypeName,
  frameExtent,
  indexEntryFromRecord,
  sniffImage,
  alignUp,
  HEADER,
  FRAME,
  decodeFooterFrame,
} from '../../../src/format/index.ts';
import { AnnotationFormat, FEATURE_EXTENDED_HEADER_CRC, FOOTER_FLAG_CRITICAL_FRAMES, FORMAT_MINOR_2_1 } from '../../../src/format/layout.ts';
import { encodeAnnotationPayload } from '../../../src/format/annotation.ts';
import { FormatError, UnfinishedFileError, UnsupportedVersionError } from '../../../src/errors.ts';
import type { DecodedRecord, Field, FileHeader, Footer } from '../../../src/format/index.ts';
import type { RecordWithAnnotation } from '../../../src/format/file-image.ts';
import { encodeFileImage as encodeFileImageLatest } from '../../../src/format/index.ts';

// The cases published as 2.0 are written as 2.0 (minor 0, no record flags); 2.1 cases below use
// encodeFileImageLatest.
const encodeFileImage = (records: RecordWithAnnotation[], options: { alignment: number; metadata?: string }): Uint8Array => encodeFileImageLatest(records, { ...options, minorVersion: 0 });

const here = path.dirname(fileURLToPath(import.meta.url));
const src = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(here, 'src', name)));

function imageField(bytes: Uint8Array, kind: 1 | 2 = FieldKind.image): Field {
  const s = sniffImage(bytes);
  return { kind, codec: s.codec, bytes, width: s.width, height: s.height };
}

const jpegs = ['00000.jpg', '00001.jpg', '00002.jpg'].map(src);
const mask = src('mask-8x6.png');
const utf8 = new TextEncoder();

const basic: RecordWithAnnotation[] = [
  { id: 0, label: 1.5, label2: 0, fields: [imageField(jpegs[0])] },
  { id: 1, label: 0, label2: 1, fields: [imageField(jpegs[1])] },
  { id: 2, label: 2, label2: 0, fields: [imageField(jpegs[2])] },
];

const annotations = [
  '{"shapes": [{"type": "rect", "label": 1, "tag": 3, "geometry": {"x": 0.48125, "y": 0.83529, "width": 0.20533, "height": 0.0809}}]}',
  '{"shapes": [{"type": "polygon", "label": [1, 2, 3], "geometry": {"points": [{"x": 0.62, "y": 0.75}, {"x": 0.7, "y": 0.8}, {"x": 0.6, "y": 0.9}]}}, {"type": "point", "geometry": {"x": 0.5, "y": 0.5}}]}',
  '{"shapes": [{"type": "ellipse", "geometry": {"x": 0.1, "y": 0.2, "width": 0.3, "height": 0.25}}], "note": "unknown keys are kept: \u00e9\u4e2d"}',
];

const annotated: RecordWithAnnotation[] = [
  { ...basic[0], annotation: annotations[0] },
  { ...basic[1], annotation: annotations[1] },
  { ...basic[2] }, // no annotation
  { id: 3, label: 1, label2: 0, fields: [imageField(jpegs[0])], annotation: annotations[2] },
];

const tensorValues = new Float32Array([0, 0.5, 1, 1.5, 2, 2.5]);
const allKinds: RecordWithAnnotation[] = [
  {
    id: 10,
    label: -1.25,
    label2: 7,
    fields: [
      imageField(jpegs[0]),
      imageField(mask, FieldKind.label),
      {
        kind: FieldKind.tensor,
        codec: TensorDType.float32,
        bytes: encodeTensor({ dtype: TensorDType.float32, shape: [2, 3], data: new Uint8Array(tensorValues.buffer) }),
        width: 0,
        height: 0,
      },
      { kind: FieldKind.bytes, codec: 0, bytes: utf8.encode('hello picpac'), width: 0, height: 0 },
      { kind: FieldKind.bytes, codec: 0, bytes: new Uint8Array(0), width: 0, height: 0 },
    ],
  },
  { id: Number.MAX_SAFE_INTEGER, label: 1e300, label2: -0.5, fields: [] }, // no fields, largest id
];

/** A file like encodeFileImage's, with extension frames inserted before given record indices. */
function withExtension(records: DecodedRecord[], before: number, kind: number, flags: number, payload: Uint8Array): Uint8Array {
  const alignment = 1;
  const parts: Uint8Array[] = [encodeHeader({ alignment, minorVersion: 0 })];
  let offset = HEADER.byteLength;
  const entries = [];
  for (let i = 0; i < records.length; i++) {
    if (i === before) {
      const ext = encodeFrame(kind, payload, flags);
      parts.push(ext);
      offset += ext.length;
    }
    const p = encodeRecordPayload(records[i]);
    const frame = encodeFrame(FrameKind.record, p);
    const crc = decodeFrameHeader(frame, offset).payloadCrc;
    entries.push(indexEntryFromRecord(offset, p, crc, records[i]));
    parts.push(frame);
    offset += frame.length;
  }
  const indexOffset = offset;
  const index = encodeFrame(FrameKind.index, encodeIndexPayload({ firstRecordIndex: 0, previousIndexOffset: 0, records: entries, annotations: [] }));
  parts.push(index);
  offset += index.length;
  parts.push(encodeFooterFrame({ indexOffset, recordCount: records.length, annotatedCount: 0, generation: 1, footerOffset: offset }));
  const out = new Uint8Array(offset + 64);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

interface Case {
  name: string;
  description: string;
  bytes: Uint8Array;
  expect: 'ok' | 'UnsupportedVersionError' | 'UnfinishedFileError' | 'FormatError';
  /** The records a conforming reader returns (strict open, or recovery for torn files). */
  records: RecordWithAnnotation[];
  /** FormatError cases: the byte offset the error names [VEC-2]. */
  errorByteOffset?: number;
}

const compactBasic = encodeFileImage(basic, { alignment: 1 });
const appendedBase = encodeFileImage(annotated.slice(0, 2), { alignment: 1 });
const appendedNew: RecordWithAnnotation[] = [
  { id: 20, label: 3, label2: 0, fields: [imageField(jpegs[1])] },
  { id: 21, label: 4, label2: 0, fields: [imageField(jpegs[2])], annotation: annotations[2] },
];
const replaced = '{"shapes": [{"type": "rect", "label": 2, "geometry": {"x": 0.1, "y": 0.1, "width": 0.5, "height": 0.5}}]}';
const appendedChanges = {
  annotations: [
    { recordIndex: 0, text: replaced },
    { recordIndex: 1, text: '' },
  ],
};
const appended = appendFileImage(appendedBase, appendedNew, appendedChanges);
// The same two commits with alignment 4096: padding only before record frames. [ALN-3]
const alignedAppended = appendFileImage(encodeFileImage(annotated.slice(0, 2), { alignment: 4096 }), appendedNew, appendedChanges);

// torn: cut in the middle of the last record's payload.
const lastRecordOffset = (() => {
  let o = alignUp(HEADER.byteLength, 1);
  for (let i = 0; i < basic.length - 1; i++) o += frameExtent(decodeFrameHeader(compactBasic.subarray(o, o + 16), o).payloadByteLength);
  return o;
})();
const lastPayloadLength = decodeFrameHeader(compactBasic.subarray(lastRecordOffset, lastRecordOffset + 16), lastRecordOffset).payloadByteLength;
const torn = compactBasic.slice(0, lastRecordOffset + FRAME.headerByteLength + Math.floor(lastPayloadLength / 2));

/**
 * A file as a future 2.x writer might write it: minor 7, a 96-byte header, an ancillary feature
 * bit, and index entries grown to 80 / 32 bytes. A 2.0 reader reads it unchanged. [VER-2]
 */
function futureMinor(records: RecordWithAnnotation[]): Uint8Array {
  const base = encodeFileImage(records, { alignment: 1 });
  const header = new Uint8Array(96);
  header.set(encodeHeader({ alignment: 1, minorVersion: 7, featureFlags: 1 << 16 }));
  const hv = new DataView(header.buffer);
  hv.setUint16(HEADER.headerByteLength.offset, 96, true);
  hv.setUint32(HEADER.headerCrc.offset, crc32c(header.subarray(0, HEADER.headerCrc.offset)), true);
  // Re-lay every frame of `base` 32 bytes later, growing the index block's entries.
  const parts: Uint8Array[] = [header];
  let offset = 96;
  const shift = 32;
  const entries: { index?: Uint8Array } = {};
  let at = 64;
  let indexOffset = 0;
  while (at < base.length - 64) {
    const h = decodeFrameHeader(base.subarray(at, at + 16), at);
    const payload = base.subarray(at + 16, at + 16 + h.payloadByteLength);
    if (h.kind === FrameKind.index) {
      const block = decodeIndexPayload(payload, at + 16);
      const grown = new Uint8Array(48 + block.records.length * 80 + block.annotations.length * 32);
      const plain = encodeIndexPayload({
        ...block,
        records: block.records.map((e) => ({ ...e, frameOffset: e.frameOffset + shift })),
        annotations: block.annotations.map((e) => ({ ...e, frameOffset: e.frameOffset === 0 ? 0 : e.frameOffset + shift })),
      });
      grown.set(plain.subarray(0, 48));
      new DataView(grown.buffer).setUint32(32, 80, true);
      new DataView(grown.buffer).setUint32(36, 32, true);
      block.records.forEach((_, i) => grown.set(plain.subarray(48 + 64 * i, 48 + 64 * (i + 1)), 48 + 80 * i));
      const annStart = 48 + 64 * block.records.length;
      block.annotations.forEach((_, i) => grown.set(plain.subarray(annStart + 24 * i, annStart + 24 * (i + 1)), 48 + 80 * block.records.length + 32 * i));
      entries.index = grown;
      indexOffset = offset;
      const frame = encodeFrame(FrameKind.index, grown);
      parts.push(frame);
      offset += frame.length;
    } else {
      const frame = base.subarray(at, at + 16 + h.payloadByteLength);
      parts.push(frame);
      offset += frame.length;
    }
    at += 16 + h.payloadByteLength;
  }
  const annotated = records.filter((r) => r.annotation).length;
  parts.push(encodeFooterFrame({ indexOffset, recordCount: records.length, annotatedCount: annotated, generation: 1, footerOffset: offset }));
  const out = new Uint8Array(offset + 64);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}


// ---- 2.1 cases (SPEC §21): built frame by frame so that each can break one rule. ----

type Item = { record: DecodedRecord } | { annotation: { recordIndex: number; text: Uint8Array } } | { extension: { kind: number; flags: number; payload: Uint8Array } };

interface Built {
  bytes: Uint8Array;
  /** Frame offset of each item, in order. */
  offsets: number[];
  indexOffset: number;
  footerOffset: number;
}

/**
 * A compact file of `items` after `header` (headerByteLength = header.length): one commit, the
 * index from the items (annotation entries: newest per record, ascending, unless `entries`
 * rewrites them), then the footer (fields overridable).
 */
function buildCompact(header: Uint8Array, items: Item[], o: { entries?: (e: Array<{ recordIndex: number; frameOffset: number; payloadByteLength: number; payloadCrc: number }>) => typeof e; footer?: Partial<Footer> } = {}): Built {
  const parts: Uint8Array[] = [header];
  let offset = header.length;
  const offsets: number[] = [];
  const records = [];
  const newest = new Map<number, { recordIndex: number; frameOffset: number; payloadByteLength: number; payloadCrc: number }>();
  for (const item of items) {
    offsets.push(offset);
    let frame: Uint8Array;
    if ('record' in item) {
      const p = encodeRecordPayload(item.record);
      frame = encodeFrame(FrameKind.record, p);
      records.push(indexEntryFromRecord(offset, p, decodeFrameHeader(frame, offset).payloadCrc, item.record));
    } else if ('annotation' in item) {
      frame = encodeFrame(FrameKind.annotation, encodeAnnotationPayload({ recordIndex: item.annotation.recordIndex, annotationFormat: AnnotationFormat.json, text: item.annotation.text }));
      const h = decodeFrameHeader(frame, offset);
      newest.set(item.annotation.recordIndex, { recordIndex: item.annotation.recordIndex, frameOffset: offset, payloadByteLength: h.payloadByteLength, payloadCrc: h.payloadCrc });
    } else {
      frame = encodeFrame(item.extension.kind, item.extension.payload, item.extension.flags);
    }
    parts.push(frame);
    offset += frame.length;
  }
  let annotations = [...newest.values()].sort((a, b) => a.recordIndex - b.recordIndex);
  if (o.entries) annotations = o.entries(annotations);
  const indexOffset = offset;
  // encodeIndexPayload checks nothing about order: a rule-breaking block is still encodable.
  const index = encodeFrame(FrameKind.index, encodeIndexPayload({ firstRecordIndex: 0, previousIndexOffset: 0, records, annotations }));
  parts.push(index);
  offset += index.length;
  parts.push(encodeFooterFrame({ indexOffset, recordCount: records.length, annotatedCount: newest.size, generation: 1, footerOffset: offset, ...o.footer }));
  const bytes = new Uint8Array(offset + 64);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, offsets, indexOffset, footerOffset: offset };
}

const plainHeader = encodeHeader({ alignment: 1, minorVersion: 0 });
const recordsOf = (rs: DecodedRecord[]): Item[] => rs.map((record) => ({ record }));
const annotationItem = (recordIndex: number, text: string | Uint8Array): Item => ({ annotation: { recordIndex, text: typeof text === 'string' ? utf8.encode(text) : text } });
/** Byte offset of footer payload field `fieldOffset`. */
const footerField = (b: Built, fieldOffset: number): number => b.footerOffset + FRAME.headerByteLength + fieldOffset;
/** Byte offset of annotation entry k of the (only) index block. */
const annotationEntryAt = (b: Built, recordEntries: number, k: number): number => b.indexOffset + FRAME.headerByteLength + 48 + 64 * recordEntries + 24 * k;

// [RCV-1] aligned torn files: cut inside the last record, and inside the padding before it.
const alignedBasic = encodeFileImage(basic, { alignment: 4096 });
const alignedIndex = (() => {
  const footer = decodeFooterFrame(alignedBasic.subarray(alignedBasic.length - 64), alignedBasic.length - 64);
  const h = decodeFrameHeader(alignedBasic.subarray(footer.indexOffset, footer.indexOffset + 16), footer.indexOffset);
  return decodeIndexPayload(alignedBasic.subarray(footer.indexOffset + 16, footer.indexOffset + 16 + h.payloadByteLength), footer.indexOffset + 16);
})();
const lastAligned = alignedIndex.records[2];
const record1End = alignedIndex.records[1].frameOffset + FRAME.headerByteLength + alignedIndex.records[1].payloadByteLength;
const alignedTorn = alignedBasic.slice(0, lastAligned.frameOffset + FRAME.headerByteLength + Math.floor(lastAligned.payloadByteLength / 2));
const alignedTornInPadding = alignedBasic.slice(0, record1End + 100);

// [EXT-6] [FTR-8] a critical extension frame announced by footer flag bit 0.
const flagged = buildCompact(
  encodeHeader({ alignment: 1, minorVersion: FORMAT_MINOR_2_1 }),
  [{ record: basic[0] }, { extension: { kind: 201, flags: FRAME_FLAG_CRITICAL, payload: utf8.encode('critical extension payload') } }, ...recordsOf(basic.slice(1))],
  { footer: { footerFlags: FOOTER_FLAG_CRITICAL_FRAMES } },
);

// [HDR-9] a 96-byte header whose grown part is covered by extendedHeaderCrc.
const grownHeader = (() => {
  const header = new Uint8Array(96);
  header.set(encodeHeader({ alignment: 1, minorVersion: FORMAT_MINOR_2_1, featureFlags: FEATURE_EXTENDED_HEADER_CRC }));
  header.set(utf8.encode('grown header bytes of a 2.1 file'), 64);
  const hv = new DataView(header.buffer);
  hv.setUint16(HEADER.headerByteLength.offset, 96, true);
  hv.setUint32(HEADER.extendedHeaderCrc.offset, crc32c(header.subarray(64, 96)), true);
  hv.setUint32(HEADER.headerCrc.offset, crc32c(header.subarray(0, HEADER.headerCrc.offset)), true);
  return header;
})();
const extendedCrc = buildCompact(grownHeader, recordsOf(basic));

// [FTR-3] [FTR-5] [FTR-6] footers that pass their own checks but disagree with the index.
const generationWrong = buildCompact(plainHeader, recordsOf(basic), { footer: { generation: 2 } });
const annotatedItems: Item[] = [{ record: annotated[0] }, annotationItem(0, annotations[0]), { record: annotated[1] }, annotationItem(1, annotations[1])];
const annotatedCountWrong = buildCompact(plainHeader, annotatedItems, { footer: { annotatedCount: 1 } });

// [ANN-5] an annotation frame before its record, named by the index.
const beforeRecord = buildCompact(plainHeader, [annotationItem(0, annotations[0]), ...recordsOf(basic.slice(0, 2))]);

// [IDX-10] annotation entries out of order, and naming a record not written.
const unsorted = buildCompact(plainHeader, annotatedItems, { entries: (e) => [...e].reverse() });
const outOfRange = buildCompact(plainHeader, annotatedItems, { entries: (e) => [e[0], { ...e[1], recordIndex: 5 }] });

// [ANN-8] annotation text that is not UTF-8 (a lone 0xFF and a UTF-16 surrogate).
const badUtf8 = buildCompact(plainHeader, [{ record: basic[0] }, annotationItem(0, Uint8Array.of(...utf8.encode('{"note": "'), 0xff, 0xed, 0xa0, 0x80, ...utf8.encode('"}')))]);
// File metadata [EXT-7]: a class table in a metadata frame named by the index block; an append
// that does not change it names the same frame again [EXT-8].
const classTable = '{"classes":[{"label":1,"name":"car","coco":{"id":3,"supercategory":"vehicle"}},{"label":2,"name":"plate","coco":{"id":7}},{"label":3,"name":"person","coco":{"id":90,"keypoints":["nose","eye"],"skeleton":[[1,2]]}}]}';
const withMetadata = appendFileImage(encodeFileImage(annotated.slice(0, 2), { alignment: 1, metadata: classTable }), annotated.slice(2));

// 2.1 [REC-11]: annotated records carry recordFlags bit 0, their annotation frame follows.
const unitAnnotated = encodeFileImageLatest(annotated, { alignment: 1 });
/** unit-annotated cut inside the annotation frame of its last record (record 3). */
function cutInsideLastAnnotation(bytes: Uint8Array): Uint8Array {
  const d = decodeFileImage(bytes);
  let at = 64;
  let lastAnnotation = 0;
  while (at < d.footer!.footerOffset) {
    const h = decodeFrameHeader(bytes.subarray(at, at + 16), at);
    if (h.kind === FrameKind.annotation) lastAnnotation = at;
    at += 16 + h.payloadByteLength;
  }
  return bytes.slice(0, lastAnnotation + 16 + 20);
}

const cases: Case[] = [
  { name: 'empty', description: 'no records, compact: header, empty index block, footer', bytes: encodeFileImage([], { alignment: 1 }), expect: 'ok', records: [] },
  { name: 'compact-basic', description: 'three JPEG records, compact (alignment 1)', bytes: compactBasic, expect: 'ok', records: basic },
  { name: 'aligned-4096', description: 'the compact-basic records with alignment 4096', bytes: encodeFileImage(basic, { alignment: 4096 }), expect: 'ok', records: basic },
  { name: 'annotated', description: 'four JPEG records, three with annotation JSON (rect, polygon+point, ellipse with unicode text), compact', bytes: encodeFileImage(annotated, { alignment: 1 }), expect: 'ok', records: annotated },
  { name: 'all-field-kinds', description: 'image (JPEG), label (PNG), tensor float32 [2,3], bytes, zero-length bytes; then a record with no fields and id 2^53-1', bytes: encodeFileImage(allKinds, { alignment: 1 }), expect: 'ok', records: allKinds },
  {
    name: 'appended',
    description: 'two commits: annotated records 0-1, then an append of records 2-3 (3 annotated), annotation of record 0 replaced and of record 1 removed; index chain of two blocks, footer generation 2',
    bytes: appended,
    expect: 'ok',
    records: [{ ...annotated[0], annotation: replaced }, { ...annotated[1], annotation: undefined }, ...appendedNew],
  },
  { name: 'extension-ancillary', description: 'compact-basic records with an ancillary extension frame (kind 200, flags 0) before record 1: readers skip it', bytes: withExtension(basic, 1, 200, 0, utf8.encode('ancillary extension payload')), expect: 'ok', records: basic },
  { name: 'extension-critical', description: 'compact-basic records with a critical extension frame (kind 201, flags 1) before record 1: readers refuse the file', bytes: withExtension(basic, 1, 201, FRAME_FLAG_CRITICAL, utf8.encode('critical extension payload')), expect: 'UnsupportedVersionError', records: basic },
  { name: 'future-minor', description: 'minor version 7 with a 96-byte header, ancillary feature bit 16 and index entries grown to 80/32 bytes: a 2.0 reader reads it', bytes: futureMinor(annotated.slice(0, 3)), expect: 'ok', records: annotated.slice(0, 3) },
  { name: 'aligned-annotated', description: 'the annotated records with alignment 4096: each record frame starts at a multiple of 4096, its annotation frame directly after it; index and footer unpadded', bytes: encodeFileImage(annotated, { alignment: 4096 }), expect: 'ok', records: annotated },
  {
    name: 'aligned-appended',
    description: 'the appended case with alignment 4096: the second commit starts right after the first footer; padding only before record frames',
    bytes: alignedAppended,
    expect: 'ok',
    records: [{ ...annotated[0], annotation: replaced }, { ...annotated[1], annotation: undefined }, ...appendedNew],
  },
  {
    name: 'metadata-class-table',
    description: 'annotated records 0-1 with a metadata frame (kind 5: a class table) named by the index block, then an append of records 2-3 whose index block names the same metadata frame',
    bytes: withMetadata,
    expect: 'ok',
    records: annotated,
  },
  { name: 'torn', description: 'compact-basic truncated in the middle of the last record payload: strict open fails, recovery returns the first two records', bytes: torn, expect: 'UnfinishedFileError', records: basic.slice(0, 2) },
  { name: 'aligned-torn', description: 'aligned-4096 cut in the middle of the last record payload: the torn offset is the end of record 1, before the padding, not the aligned start of record 2 [RCV-1]', bytes: alignedTorn, expect: 'UnfinishedFileError', records: basic.slice(0, 2) },
  { name: 'aligned-torn-in-padding', description: 'aligned-4096 cut 100 bytes into the padding after record 1: torn at the end of record 1 [RCV-1]', bytes: alignedTornInPadding, expect: 'UnfinishedFileError', records: basic.slice(0, 2) },
  { name: 'extension-critical-flagged', description: 'minor 1: compact-basic records with a critical extension frame (kind 201) before record 1 and footer flag bit 0 set: readers that open through the index refuse it from the footer [EXT-6] [FTR-8]', bytes: flagged.bytes, expect: 'UnsupportedVersionError', records: basic },
  { name: 'header-extended-crc', description: 'minor 1: compact-basic records after a 96-byte header, feature bit 17 set and bytes 64..95 covered by extendedHeaderCrc [HDR-9]', bytes: extendedCrc.bytes, expect: 'ok', records: basic },
  { name: 'footer-generation-wrong', description: 'compact-basic with footer generation 2 and one index block: a format error at the generation field, not unfinished [FTR-3] [FTR-5]', bytes: generationWrong.bytes, expect: 'FormatError', records: [], errorByteOffset: footerField(generationWrong, 24) },
  { name: 'footer-annotated-count-wrong', description: 'two annotated records, footer annotatedCount 1: a format error at the annotatedCount field [FTR-3] [FTR-6]', bytes: annotatedCountWrong.bytes, expect: 'FormatError', records: [], errorByteOffset: footerField(annotatedCountWrong, 16) },
  { name: 'annotation-before-record', description: 'an annotation frame for record 0 at byte 64, before record 0, named by the index: a format error at byte 64 [ANN-5]', bytes: beforeRecord.bytes, expect: 'FormatError', records: [], errorByteOffset: beforeRecord.offsets[0] },
  { name: 'annotation-entries-unsorted', description: 'two annotated records, index annotation entries in descending record order: a format error at the second entry [IDX-10]', bytes: unsorted.bytes, expect: 'FormatError', records: [], errorByteOffset: annotationEntryAt(unsorted, 2, 1) },
  { name: 'annotation-entry-out-of-range', description: 'two records, an annotation entry naming record 5: a format error at that entry [IDX-10]', bytes: outOfRange.bytes, expect: 'FormatError', records: [], errorByteOffset: annotationEntryAt(outOfRange, 2, 1) },
  { name: 'annotation-invalid-utf8', description: 'one record whose annotation text holds 0xFF and an encoded surrogate: a format error at the text when the annotation is read [ANN-8]', bytes: badUtf8.bytes, expect: 'FormatError', records: [], errorByteOffset: badUtf8.offsets[1] + 32 },
  { name: 'unit-annotated', description: 'format 2.1: the annotated records, compact, minor version 1; records 0, 1 and 3 have recordFlags bit 0 (annotation follows) [REC-11]', bytes: unitAnnotated, expect: 'ok', records: annotated },
  { name: 'unit-torn-annotation', description: 'unit-annotated cut inside the annotation frame of record 3: recovery returns records 0-2 only (record 3 is not returned without its annotation) [REC-11]', bytes: cutInsideLastAnnotation(unitAnnotated), expect: 'UnfinishedFileError', records: annotated.slice(0, 3) },
];

function dumpHeader(h: FileHeader) {
  return { majorVersion: h.majorVersion, minorVersion: h.minorVersion, headerByteLength: h.headerByteLength, alignment: h.alignment, featureFlags: h.featureFlags };
}

/** The reference reader must fail the case exactly as its manifest says. */
function expectThrows(c: Case, kind: typeof FormatError, byteOffset: number | undefined): void {
  try {
    decodeFileImage(c.bytes);
  } catch (e) {
    const exact = e instanceof kind && !(kind === FormatError && (e instanceof UnfinishedFileError || e instanceof UnsupportedVersionError));
    if (!exact) throw new Error(`${c.name}: expected ${kind.name}, got ${String(e)}`);
    if (byteOffset !== undefined && (e as FormatError).byteOffset !== byteOffset) throw new Error(`${c.name}: error at byte ${(e as FormatError).byteOffset}, expected ${byteOffset}: ${String(e)}`);
    return;
  }
  throw new Error(`${c.name}: decoded without error, expected ${kind.name}`);
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function dump(c: Case): object {
  const recover = c.expect === 'UnfinishedFileError';
  let footer: Footer | null = null;
  let header: FileHeader;
  let recovery: object | undefined;
  let metadata: string | undefined;
  if (c.expect === 'UnsupportedVersionError') {
    header = decodeFileImage(c.bytes.subarray(0, 64), { recover: true }).header;
    expectThrows(c, UnsupportedVersionError, undefined);
  } else if (c.expect === 'FormatError') {
    header = decodeFileImage(c.bytes.subarray(0, 64), { recover: true }).header;
    expectThrows(c, FormatError, c.errorByteOffset);
  } else {
    const d = decodeFileImage(c.bytes, { recover });
    header = d.header;
    footer = d.footer;
    if (d.metadata) metadata = new TextDecoder().decode(d.metadata);
    if (recover) recovery = { recordCount: d.records.length, validByteLength: d.validByteLength, tornAt: d.tornAt };
    if (d.records.length !== c.records.length) throw new Error(`${c.name}: decoded ${d.records.length} records, expected ${c.records.length}`);
  }
  return {
    case: c.name,
    description: c.description,
    byteLength: c.bytes.length,
    expect: c.expect,
    header: dumpHeader(header),
    footer,
    ...(recovery ? { recovery } : {}),
    ...(c.expect === 'FormatError' ? { error: { name: 'FormatError', byteOffset: c.errorByteOffset } } : {}),
    ...(metadata !== undefined ? { metadata } : {}),
    records: c.records.map((r, index) => ({
      index,
      id: r.id,
      label: r.label,
      label2: r.label2,
      fields: r.fields.map((f) => ({ type: fieldTypeName(f.kind, f.codec), kind: f.kind, codec: f.codec, size: f.bytes.length, sha256: sha256(f.bytes), width: f.width, height: f.height })),
      annotation: r.annotation === undefined || r.annotation === '' ? null : r.annotation,
    })),
  };
}

const checkOnly = process.argv.includes('--check'); // tests: verify, never write
let failed = false;
for (const c of cases) {
  const picpac = path.join(here, `${c.name}.picpac`);
  const jsonPath = path.join(here, `${c.name}.json`);
  const json = JSON.stringify(dump(c), null, 2) + '\n';
  if (existsSync(picpac) || existsSync(jsonPath)) {
    // Published: never overwrite. Only report whether this script still reproduces it.
    const same = existsSync(picpac) && existsSync(jsonPath) && sha256(new Uint8Array(readFileSync(picpac))) === sha256(c.bytes) && readFileSync(jsonPath, 'utf8') === json;
    if (!same) {
      console.error(`refusing to overwrite published vector ${c.name} (this script now produces different bytes; add a new case instead)`);
      failed = true;
    }
    continue;
  }
  if (checkOnly) {
    console.error(`vector ${c.name} is not written yet (run without --check)`);
    failed = true;
    continue;
  }
  writeFileSync(picpac, c.bytes, { flag: 'wx' });
  writeFileSync(jsonPath, json, { flag: 'wx' });
  console.log(`| \`${c.name}.picpac\` | ${c.description} | ${c.bytes.length} | \`${sha256(c.bytes)}\` |`);
}
if (failed) process.exit(1);
