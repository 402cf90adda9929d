// picpac import SRC OUT: images from a directory tree, a list file or another database.
import { unlink } from 'node:fs/promises';
import type { NewRecord, StoreWriter } from '../../engine/store.ts';
import { PicpacError } from '../../errors.ts';
import { UsageError, choiceOption, flagOption, intOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';
import { openImportSource } from '../import-sources.ts';
import { checkImportRecord, type ImportCheckMode } from '../import-checks.ts';
import { openExchangeImportSource, type ExchangeImportSource } from '../exchange-import-source.ts';
import { openStore } from '../../engine/open-store.ts';
import { classTableFromJson, classTableToJson, type CocoCategoryInfo } from '../../annotate/class-table.ts';
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
    'Images are checked before they are stored (--check): a JPEG must reach its end-of-image marker',
    'through valid data, a PNG its IEND chunk; truncated or damaged images are skipped and counted.',
    'GIFs are converted to PNG (the training stream does not decode GIF). Annotation shapes must be',
    'finite fractions of the image (the annotator\'s rules): shapes outside are dropped and counted',
    'by line; an annotation larger than one frame holds skips its input. See docs/hostile-input.md.',
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
    strict: { type: 'boolean', description: 'stop with exit 1 at the first unreadable, non-image or damaged input, or shape out of range' },
    check: { type: 'string', valueName: 'structure|decode', description: 'image check before storing: structure walk (default; a full decode only for suspicious files) or a full decode of every image' },
    'no-check': { type: 'boolean', description: 'store image bytes unchecked (GIFs are not converted; annotations are still checked)' },
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
  const checkChoice = choiceOption(args, 'check', ['structure', 'decode'] as const, cmd);
  if (checkChoice !== undefined && flagOption(args, 'no-check')) throw new UsageError('--check and --no-check exclude each other', cmd);
  const checkMode: ImportCheckMode = flagOption(args, 'no-check') ? 'none' : checkChoice ?? 'structure';
  checkNotSameFile(out, [src], cmd, { allowAppend: append });
  const shardBytes = shardSizeOption(args, cmd);
  if (shardBytes !== undefined && append) throw new UsageError('--shard-size cannot be combined with --append', cmd);

  const imagesDir = typeof args.values.images === 'string' ? args.values.images : undefined;
  const source =
    inputFormat === undefined || inputFormat === 'list'
      ? await openImportSource(src)
      : await openExchangeImportSource(src, inputFormat as ExchangeFormat, { imagesDir, ...(append ? { base: await classTableOf(out) } : {}) });
  if (inputFormat === 'list' && source.kind !== 'list') {
    await source.close();
    throw new UsageError(`${src} is not a list file (text, one path per line)`, cmd);
  }
  let writer: StoreWriter | undefined;
  let created = false;
  let interrupted = false;
  const onInterrupt = (): void => {
    interrupted = true;
  };
  const progress = flagOption(args, 'quiet') ? undefined : new Progress(io.stderr, 'import', source.total, { unit: 'images' });
  const warn = (text: string): void => {
    if (progress) progress.log(`warning: ${text}`);
    else io.stderr.write(`warning: ${text}\n`);
  };
  const startMs = performance.now();
  let imported = 0;
  let reencoded = 0;
  let skipped = 0;
  let converted = 0;
  let droppedShapes = 0;
  let linesWithDroppedShapes = 0;
  /** Appends acknowledged by the writer (handed to the OS): what the progress bar counts. */
  let acknowledged = 0;
  const progressExtra = (): string => [skipped > 0 ? `${skipped} skipped` : '', droppedShapes > 0 ? `${droppedShapes} shapes dropped` : ''].filter(Boolean).join(', ');
  try {
    for (const problem of source.enumerationProblems) {
      if (strict) throw new StrictInputError(src, problem);
      warn(`${src}: ${problem}; skipped`);
      skipped++;
    }
    writer = shardBytes === undefined ? await openOutput(out, { format, alignment, overwrite, append }) : await ShardedWriter.create(out, shardBytes, { format, alignment, overwrite });
    const savedTail = (writer as { tornTailSavedTo?: string }).tornTailSavedTo;
    if (savedTail !== undefined) io.stderr.write(`warning: ${out}: a writer had stopped after the last commit; its uncommitted bytes were moved to ${savedTail} and the append continues from the last commit\n`);
    created = !append;
    if (source.classNames) {
      const mapping = Object.fromEntries(source.classNames.map((name, label) => [name, label]));
      io.stdout.write(`classes: ${source.classNames.map((name, label) => `${label}=${name}`).join(' ')}\n`);
      const classesPath = writer instanceof ShardedWriter ? writer.name.replace(/\.picpac\.json$/, '.classes.json') : `${out}.classes.json`;
      await writeOutputText(classesPath, JSON.stringify(mapping, null, 2) + '\n');
    }
    const load = async (item: { load(): Promise<NewRecord> }): Promise<{ record: NewRecord; dropped: string[] }> => {
      const checked = await checkImportRecord(await item.load(), checkMode);
      const record = checked.record;
      converted += checked.converted;
      const dropped = checked.droppedShapes.map((p) => `${p.path}: ${p.problem}`);
      if (maxSize === undefined) return { record, dropped };
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
      return { record, dropped };
    };
    const queue = new AppendQueue(writer, undefined, () => {
      acknowledged++;
      progress?.update(acknowledged + skipped, progressExtra());
    });
    // Ctrl+C: stop at the next record; an append then commits what it wrote (catch below). [item 3]
    process.once('SIGINT', onInterrupt);
    for await (const result of orderedMap(source.items(), jobs, load)) {
      if (interrupted) throw new ImportInterrupted();
      if (result.ok) {
        const { record, dropped } = result.value;
        if (dropped.length > 0) {
          if (strict) throw new StrictInputError(result.item.name, `${dropped[0]}`);
          for (const text of dropped) warn(`${result.item.name}: ${text}; shape dropped`);
          droppedShapes += dropped.length;
          linesWithDroppedShapes++;
        }
        await queue.add(record);
        imported++;
      } else {
        const reason = (result.error as Error)?.message ?? String(result.error);
        if (strict) throw new StrictInputError(result.item.name, reason);
        warn(`${result.item.name}: ${reason}; skipped`);
        skipped++;
        progress?.update(acknowledged + skipped, progressExtra());
      }
    }
    await queue.drain();
    // The class table (names in label order, COCO ids) is kept in the file: what every exporter
    // numbers classes by. A v1 output cannot hold it: it goes next to the file instead.
    const exchange = source.kind === 'exchange' ? (source as ExchangeImportSource) : undefined;
    const table = exchange && exchange.shapeClasses.length > 0 ? classTableToJson(exchange.shapeClasses, exchange.coco) : undefined;
    if (table !== undefined && writer.setMetadata) await writer.setMetadata(table);
    await writer.close();
    if (writer instanceof ShardedWriter) out = writer.name;
    writer = undefined;
    if (table !== undefined && format !== 'v2') await writeOutputText(`${out}.shape-classes.json`, table + "\n");
  } catch (error) {
    progress?.finish();
    process.off('SIGINT', onInterrupt);
    if (error instanceof ImportInterrupted && writer && !created) {
      await writer.close(); // commit: every record appended so far becomes durable
      io.stderr.write(`picpac import: interrupted: ${out}: committed ${imported} records of this append; rerun with --append to add the rest\n`);
      return 130;
    }
    if (writer) {
      // A stop leaves no half-built new file behind; an append keeps what was committed before.
      const abortable = writer as StoreWriter & { abort?: () => Promise<void> };
      if (created && abortable.abort) await abortable.abort().catch(() => {});
      else await writer.close().catch(() => {});
      if (created) await unlink(out).catch(() => {});
      if (created && source.classNames) await unlink(`${out}.classes.json`).catch(() => {});
    }
    if (error instanceof ImportInterrupted) {
      io.stderr.write(`picpac import: interrupted: ${out} was not created (a new file is only kept once complete)\n`);
      return 130;
    }
    throw error;
  } finally {
    await source.close();
  }
  process.off('SIGINT', onInterrupt);
  progress?.finish(progressExtra());
  const seconds = (performance.now() - startMs) / 1000;
  const rate = imported / Math.max(seconds, 1e-9);
  const notes = [
    `${skipped} skipped`,
    ...(maxSize !== undefined ? [`${reencoded} re-encoded`] : []),
    ...(converted > 0 ? [`${converted} converted to PNG`] : []),
    ...(droppedShapes > 0 ? [`${droppedShapes} shapes out of range dropped on ${linesWithDroppedShapes} inputs`] : []),
  ];
  io.stdout.write(`imported ${imported} records into ${out} (${notes.join(', ')}) in ${seconds.toFixed(2)} s, ${rate.toFixed(0)} images/s\n`);
  return 0;
}

/** The class table kept in an existing file (appending keeps its labels), empty when none. */
async function classTableOf(file: string): Promise<{ classes: string[]; coco: Record<string, CocoCategoryInfo> }> {
  const store = await openStore(file).catch(() => undefined);
  if (store === undefined) return { classes: [], coco: {} }; // a new file: openOutput reports real problems
  try {
    const text = await store.getMetadata?.();
    return text === undefined ? { classes: [], coco: {} } : classTableFromJson(text, file);
  } finally {
    await store.close();
  }
}

/** Ctrl+C during an import (exit 130 after an append commits what it wrote). */
class ImportInterrupted extends Error {
  constructor() {
    super('interrupted');
  }
}
