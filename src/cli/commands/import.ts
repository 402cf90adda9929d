// picpac import SRC OUT: images from a directory tree, a list file or another database.
import { unlink } from 'node:fs/promises';
import type { NewRecord, StoreWriter } from '../../engine/store.ts';
import { PicpacError } from '../../errors.ts';
import { UsageError, choiceOption, flagOption, intOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';
import { openImportSource } from '../import-sources.ts';
import { openExchangeImportSource } from '../exchange-import-source.ts';
import { EXCHANGE_FORMATS, type ExchangeFormat } from '../../annotate/dataset-io.ts';
import { orderedMap } from '../ordered-pool.ts';
import { Progress } from '../progress.ts';
import { shrinkImage } from '../reencode.ts';
import { AppendQueue, checkNotSameFile, OUTPUT_FORMATS, openOutput, alignOption, writeOutputText } from '../store-output.ts';
import { ShardedWriter, shardSizeOption } from '../sharded-output.ts';

/** --strict: the first bad input stops the import (exit 1). */
export class StrictInputError extends PicpacError {
  constructor(name: string, reason: string) {
    super('IO', `${name}: ${reason} (stopped by --strict)`);
    this.file = name;
  }
}

export const importCommand: CommandSpec = {
  name: 'import',
  summary: 'build a .picpac file from a folder tree, a list file or another database',
  synopsis: 'SRC OUT.picpac',
  description: [
    'SRC is one of:',
    '  a directory    class subfolders give labels: folders named by integers use that number,',
    '                 otherwise the sorted folder names map to 0..K-1 (printed and written to',
    '                 OUT.classes.json); images directly in SRC get label 0',
    '  a list file    one `path<TAB>label` or `path<TAB>{annotation json}` per line; relative',
    '                 paths resolve against the list file\'s folder; # starts a comment',
    '  a database     a .picpac (2.0), a PicPac 1.0 file, a shard manifest or an http(s) URL:',
    '                 records are copied with labels and annotations',
    'With --format coco|voc|yolo|w3c SRC is an annotated dataset (a COCO or W3C JSON file, a VOC',
    'folder of XML, a YOLO folder with images/, labels/ and classes.txt or data.yaml): each image',
    'becomes a record whose annotation JSON holds its shapes (normalised, label = class number).',
    '--format list forces SRC to be read as a list file.',
    'Inputs that are not images or cannot be read are skipped with a warning and counted.',
    'Files are read in parallel but appended in input order, so the output is deterministic.',
    'OUT may be an s3:// URL (written locally, then uploaded). With --shard-size, OUT is a folder',
    'or s3:// prefix that receives part-00000.picpac, part-00001.picpac, ... and the manifest',
    'index.picpac.json (SPEC §16), which stat, dump, stream and serve open as one dataset.',
  ].join('\n'),
  options: {
    'max-size': { type: 'string', valueName: 'N', description: 're-encode images whose long side exceeds N pixels (aspect kept)' },
    quality: { type: 'string', valueName: 'Q', description: 'JPEG/WebP quality for re-encoded images, 1..100 (default 90)' },
    format: { type: 'string', valueName: 'F', description: 'v2 (default) or v1: the output format; coco, voc, yolo, w3c or list: how to read SRC' },
    to: { type: 'string', valueName: 'v2|v1', description: 'output format when --format names the input (default v2)' },
    images: { type: 'string', valueName: 'DIR', description: 'with --format coco|voc|yolo|w3c: where image file names resolve (default: images/ or JPEGImages/ next to SRC)' },
    align: { type: 'string', valueName: 'N', description: 'frame alignment in bytes: 1 (compact, default) or a power of two, e.g. 4096' },
    strict: { type: 'boolean', description: 'stop with exit 1 at the first unreadable or non-image input' },
    overwrite: { type: 'boolean', description: 'replace OUT if it exists' },
    append: { type: 'boolean', description: 'add the records to an existing OUT' },
    'shard-size': { type: 'string', valueName: 'SIZE', description: 'split the output into shards of about SIZE (512MB, 1GiB, ...) plus a manifest; OUT is a folder or s3:// prefix' },
    jobs: { type: 'string', valueName: 'N', description: 'inputs read (and re-encoded) in parallel (default 16)' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress bar' },
  },
  minPositionals: 2,
  maxPositionals: 2,
  examples: [
    'picpac import photos/ photos.picpac',
    'picpac import list.tsv plates.picpac --max-size 512 --quality 85',
    'picpac import old-v1.db new.picpac --align 4096',
    'picpac import more/ photos.picpac --append',
    'picpac import instances.json cars.picpac --format coco --images train2017/',
    'picpac import yolo-dataset/ cars.picpac --format yolo',
    'picpac import photos/ s3://bucket/photos.picpac',
    'picpac import photos/ s3://bucket/photos/ --shard-size 512MB',
  ],
  run: runImport,
};

async function runImport(args: ParsedCommand, io: CliIo): Promise<number> {
  const [src] = args.positionals;
  let [, out] = args.positionals;
  const cmd = 'import';
  const maxSize = intOption(args, 'max-size', { min: 1 }, cmd);
  const quality = intOption(args, 'quality', { min: 1, max: 100 }, cmd);
  const formatChoice = choiceOption(args, 'format', [...OUTPUT_FORMATS, ...EXCHANGE_FORMATS, 'list'] as const, cmd);
  const inputFormat = formatChoice === undefined || formatChoice === 'v1' || formatChoice === 'v2' ? undefined : formatChoice;
  if (inputFormat === undefined && (args.values.to !== undefined || args.values.images !== undefined)) {
    throw new UsageError('--to and --images go with --format coco|voc|yolo|w3c|list', cmd);
  }
  const format = inputFormat === undefined ? (formatChoice as 'v2' | 'v1' | undefined) ?? 'v2' : choiceOption(args, 'to', OUTPUT_FORMATS, cmd) ?? 'v2';
  const alignment = alignOption(args, cmd);
  const jobs = intOption(args, 'jobs', { min: 1, max: 1024 }, cmd) ?? 16;
  const strict = flagOption(args, 'strict');
  const append = flagOption(args, 'append');
  const overwrite = flagOption(args, 'overwrite');
  checkNotSameFile(out, [src], cmd, { allowAppend: append });
  const shardBytes = shardSizeOption(args, cmd);
  if (shardBytes !== undefined && append) throw new UsageError('--shard-size cannot be combined with --append', cmd);

  const imagesDir = typeof args.values.images === 'string' ? args.values.images : undefined;
  const source =
    inputFormat === undefined || inputFormat === 'list'
      ? await openImportSource(src)
      : await openExchangeImportSource(src, inputFormat as ExchangeFormat, { imagesDir });
  if (inputFormat === 'list' && source.kind !== 'list') {
    await source.close();
    throw new UsageError(`${src} is not a list file (text, one path per line)`, cmd);
  }
  let writer: StoreWriter | undefined;
  let created = false;
  const progress = flagOption(args, 'quiet') ? undefined : new Progress(io.stderr, 'import', source.total, { unit: 'images' });
  const warn = (text: string): void => {
    if (progress) progress.log(`warning: ${text}`);
    else io.stderr.write(`warning: ${text}\n`);
  };
  const startMs = performance.now();
  let imported = 0;
  let reencoded = 0;
  let skipped = 0;
  try {
    for (const problem of source.enumerationProblems) {
      if (strict) throw new StrictInputError(src, problem);
      warn(`${src}: ${problem}; skipped`);
      skipped++;
    }
    writer = shardBytes === undefined ? await openOutput(out, { format, alignment, overwrite, append }) : await ShardedWriter.create(out, shardBytes, { format, alignment, overwrite });
    created = !append;
    if (source.classNames) {
      const mapping = Object.fromEntries(source.classNames.map((name, label) => [name, label]));
      io.stdout.write(`classes: ${source.classNames.map((name, label) => `${label}=${name}`).join(' ')}\n`);
      const classesPath = writer instanceof ShardedWriter ? writer.name.replace(/\.picpac\.json$/, '.classes.json') : `${out}.classes.json`;
      await writeOutputText(classesPath, JSON.stringify(mapping, null, 2) + '\n');
    }
    const load = async (item: { load(): Promise<NewRecord> }): Promise<NewRecord> => {
      const record = await item.load();
      if (maxSize === undefined) return record;
      for (const field of record.fields) {
        // Label images (masks) shrink with their image, so they stay aligned pixel for pixel.
        if (field.kind !== 'image' && field.kind !== 'label') continue;
        const sniffed = { codec: field.codec ?? 0, width: field.width ?? 0, height: field.height ?? 0 };
        const shrunk = await shrinkImage(field.bytes, sniffed, { maxSize, quality, nearest: field.kind === 'label' });
        if (shrunk.changed) {
          reencoded++;
          Object.assign(field, { bytes: shrunk.bytes, codec: shrunk.codec, width: shrunk.width, height: shrunk.height });
        }
      }
      return record;
    };
    const queue = new AppendQueue(writer);
    for await (const result of orderedMap(source.items(), jobs, load)) {
      if (result.ok) {
        await queue.add(result.value);
        imported++;
      } else {
        const reason = (result.error as Error)?.message ?? String(result.error);
        if (strict) throw new StrictInputError(result.item.name, reason);
        warn(`${result.item.name}: ${reason}; skipped`);
        skipped++;
      }
      progress?.update(imported + skipped, skipped > 0 ? `${skipped} skipped` : '');
    }
    await queue.drain();
    await writer.close();
    if (writer instanceof ShardedWriter) out = writer.name;
    writer = undefined;
  } catch (error) {
    progress?.finish();
    if (writer) {
      // A stop leaves no half-built new file behind; an append keeps what was committed before.
      const abortable = writer as StoreWriter & { abort?: () => Promise<void> };
      if (created && abortable.abort) await abortable.abort().catch(() => {});
      else await writer.close().catch(() => {});
      if (created) await unlink(out).catch(() => {});
      if (created && source.classNames) await unlink(`${out}.classes.json`).catch(() => {});
    }
    throw error;
  } finally {
    await source.close();
  }
  progress?.finish(skipped > 0 ? `${skipped} skipped` : '');
  const seconds = (performance.now() - startMs) / 1000;
  const rate = imported / Math.max(seconds, 1e-9);
  io.stdout.write(
    `imported ${imported} records into ${out} (${skipped} skipped${maxSize !== undefined ? `, ${reencoded} re-encoded` : ''}) ` +
      `in ${seconds.toFixed(2)} s, ${rate.toFixed(0)} images/s\n`,
  );
  return 0;
}
