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
} from '../../../src/format/index.ts';
import type { DecodedRecord, Field, FileHeader, Footer } from '../../../src/format/index.ts';
import type { RecordWithAnnotation } from '../../../src/format/file-image.ts';
import { encodeFileImage as encodeFileImageLatest } from '../../../src/format/index.ts';

// The cases published as 2.0 are written as 2.0 (minor 0, no record flags); 2.1 cases below use
// encodeFileImageLatest.
const encodeFileImage = (records: RecordWithAnnotation[], options: { alignment: number }): Uint8Array => encodeFileImageLatest(records, { ...options, minorVersion: 0 });

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
  expect: 'ok' | 'UnsupportedVersionError' | 'UnfinishedFileError';
  /** The records a conforming reader returns (strict open, or recovery for torn files). */
  records: RecordWithAnnotation[];
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
  { name: 'torn', description: 'compact-basic truncated in the middle of the last record payload: strict open fails, recovery returns the first two records', bytes: torn, expect: 'UnfinishedFileError', records: basic.slice(0, 2) },
  { name: 'unit-annotated', description: 'format 2.1: the annotated records, compact, minor version 1; records 0, 1 and 3 have recordFlags bit 0 (annotation follows) [REC-11]', bytes: unitAnnotated, expect: 'ok', records: annotated },
  { name: 'unit-torn-annotation', description: 'unit-annotated cut inside the annotation frame of record 3: recovery returns records 0-2 only (record 3 is not returned without its annotation) [REC-11]', bytes: cutInsideLastAnnotation(unitAnnotated), expect: 'UnfinishedFileError', records: annotated.slice(0, 3) },
];

function dumpHeader(h: FileHeader) {
  return { majorVersion: h.majorVersion, minorVersion: h.minorVersion, headerByteLength: h.headerByteLength, alignment: h.alignment, featureFlags: h.featureFlags };
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function dump(c: Case): object {
  const recover = c.expect === 'UnfinishedFileError';
  let footer: Footer | null = null;
  let header: FileHeader;
  let recovery: object | undefined;
  if (c.expect === 'UnsupportedVersionError') {
    header = decodeFileImage(c.bytes.subarray(0, 64), { recover: true }).header;
  } else {
    const d = decodeFileImage(c.bytes, { recover });
    header = d.header;
    footer = d.footer;
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
