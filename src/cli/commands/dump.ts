// picpac dump DB: one JSON line per record, in file order, with each field's type, size and
// SHA-256, so two files can be compared with diff. For PicPac 1.0 files every field is listed
// exactly as stored (the annotation at its original position); for 2.0 the annotation (which
// is not a field there) is listed last.
import { createHash } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore } from '../../engine/open-store.ts';
import type { Store, StoredRecord } from '../../engine/store.ts';
import { fieldTypeName } from '../../format/field-type.ts';
import { sniffImage } from '../../format/image-sniff.ts';
import { FieldKind } from '../../format/layout.ts';
import { describeDropped, recoveryInfo } from '../store-output.ts';
import { printOpenWarnings } from '../open-warnings.ts';
import { PicpacError } from '../../errors.ts';
import { flagOption, stringOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';

export const dumpCommand: CommandSpec = {
  name: 'dump',
  summary: 'one JSON line per record: id, labels, and each field\'s type, size and sha256',
  synopsis: 'DB',
  description:
    'Print {"index","id","label","label2","fields":[{"type","size","sha256"}]} per record, in file\n' +
    'order. The annotation appears as a field of type annotation/json: at its stored position\n' +
    'for PicPac 1.0 files (where it is field 1), last for .picpac 2.0 files. Works on 2.0 and 1.0.',
  options: {
    recover: { type: 'boolean', description: 'scan every frame, past damaged ones (damaged or unfinished file): dump every record that survives, with the annotation written with it, and list what was dropped on stderr' },
    strict: { type: 'boolean', description: 'refuse a file whose end is not a valid commit or whose index is damaged (default: read the last valid commit, or scan the frames, with a warning)' },
    extract: { type: 'string', valueName: 'DIR', description: 'also write every field to DIR/<index>.<k>.<ext> (jpg, png, json, bin, ...)' },
  },
  minPositionals: 1,
  maxPositionals: 1,
  examples: ['picpac dump plates.picpac | head', 'picpac dump crashed.picpac --recover > survivors.jsonl', 'picpac dump plates.picpac --strict > all.jsonl', 'picpac dump legacy.db --extract out/'],
  run: runDump,
};

export interface DumpField {
  type: string;
  bytes: Uint8Array;
}

const ANNOTATION_TYPE = 'annotation/json';
const utf8 = new TextEncoder();

/** The fields of a record as `dump` lists them (also used by convert's round-trip checks). */
export async function dumpFields(store: Store, record: StoredRecord): Promise<DumpField[]> {
  const rawReader = store as Store & { readRawFields?: (recordIndex: number) => Promise<Uint8Array[]> };
  if (store.format === 'picpac-1' && typeof rawReader.readRawFields === 'function') {
    const raw = await rawReader.readRawFields(record.recordIndex);
    const slot = record.annotation !== undefined ? record.annotationSlot : undefined;
    const mapped = raw.length === record.fields.length + (slot !== undefined ? 1 : 0);
    return raw.map((bytes, k) => {
      if (k === slot) return { type: ANNOTATION_TYPE, bytes };
      if (mapped) return { type: record.fields[slot !== undefined && k > slot ? k - 1 : k].type, bytes };
      const sniffed = sniffImage(bytes);
      return { type: sniffed.codec !== 0 ? fieldTypeName(FieldKind.image, sniffed.codec) : 'bytes', bytes };
    });
  }
  const fields: DumpField[] = record.fields.map((f) => ({ type: f.type, bytes: f.bytes }));
  if (record.annotation !== undefined) {
    const annotation = { type: ANNOTATION_TYPE, bytes: utf8.encode(record.annotation) };
    const slot = record.annotationSlot;
    if (slot !== undefined && slot >= 0 && slot <= fields.length) fields.splice(slot, 0, annotation);
    else fields.push(annotation);
  }
  return fields;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Exactly one line, keys in a fixed order, no spaces. */
export function dumpLine(record: StoredRecord, fields: DumpField[]): string {
  const fieldText = fields
    .map((f) => `{"type":${JSON.stringify(f.type)},"size":${f.bytes.byteLength},"sha256":"${sha256Hex(f.bytes)}"}`)
    .join(',');
  return (
    `{"index":${record.recordIndex},"id":${record.id},"label":${JSON.stringify(record.label)},` +
    `"label2":${JSON.stringify(record.label2)},"fields":[${fieldText}]}`
  );
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'label/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/bmp': 'bmp',
  'image/tiff': 'tif',
  'image/avif': 'avif',
  [ANNOTATION_TYPE]: 'json',
};

export function extensionOf(type: string): string {
  return EXTENSIONS[type] ?? 'bin';
}

async function runDump(args: ParsedCommand, io: CliIo): Promise<number> {
  const path = args.positionals[0];
  const recover = flagOption(args, 'recover');
  const extractDir = stringOption(args, 'extract');
  const store = await openStore(path, recover ? { recover: true } : flagOption(args, 'strict') ? { strict: true } : undefined);
  try {
    await printOpenWarnings(store, path, io);
    if (recover) {
      const fileByteLength = await stat(path).then((s) => s.size, () => undefined);
      const info = recoveryInfo(store, fileByteLength);
      const tail = info.tornTailOffset !== undefined ? `torn tail at byte ${info.tornTailOffset}${info.tornReason ? ` (${info.tornReason})` : ''}` : 'no torn tail';
      const dropped = info.dropped.length > 0 ? `; dropped ${info.dropped.length} damaged item${info.dropped.length === 1 ? '' : 's'}` : '';
      io.stderr.write(`${path}: recovered ${store.recordCount} records; ${tail}${dropped}\n`);
      for (const d of info.dropped) io.stderr.write(`dropped: ${describeDropped(d)}\n`);
    }
    if (extractDir !== undefined) await mkdir(extractDir, { recursive: true });
    let pending: string[] = [];
    let next = 0;
    try {
      for await (const record of store.scan()) {
        const fields = await dumpFields(store, record);
        pending.push(dumpLine(record, fields));
        next = record.recordIndex + 1;
        if (extractDir !== undefined) {
          await Promise.all(
            fields.map((f, k) => writeFile(join(extractDir, `${record.recordIndex}.${k}.${extensionOf(f.type)}`), f.bytes)),
          );
        }
        if (pending.length >= 512) {
          io.stdout.write(pending.join('\n') + '\n');
          pending = [];
        }
      }
    } catch (err) {
      // The lines of every record before the bad one are printed before the error. [item 10]
      if (pending.length > 0) io.stdout.write(pending.join('\n') + '\n');
      pending = [];
      if (err instanceof PicpacError && !recover) {
        err.message += ` — ${next} records were dumped before it; \`picpac dump ${path} --recover\` skips damaged records and dumps the rest, \`picpac repair ${path} OUT\` writes them to a new file`;
      }
      throw err;
    }
    if (pending.length > 0) io.stdout.write(pending.join('\n') + '\n');
  } finally {
    await store.close();
  }
  return 0;
}
