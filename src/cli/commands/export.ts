// picpac export DB DIR --format coco|voc|yolo|w3c: a store's images and annotation JSON as an
// exchange-format dataset (the converters of the annotator, outside it). Class names come from
// --classes, else from DB.shape-classes.json ({name: label}, written by `annotate export`), else from
// each shape's `class` key, else the numeric `label` itself.
import { readFile } from 'node:fs/promises';
import { writeAnnotatedSet, CODEC_EXTENSIONS, EXCHANGE_FORMATS } from '../../annotate/dataset-io.ts';
import { fromPicpacAnnotation } from '../../annotate/formats/picpac-json.ts';
import type { AnnotatedSet, ImageAnnotation } from '../../annotate/shapes.ts';
import { openStore } from '../../engine/open-store.ts';
import { sniffImage } from '../../format/image-sniff.ts';
import { UsageError, choiceOption, flagOption, intOption, stringOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';
import { classTableFromJson, type CocoCategoryInfo } from '../../annotate/class-table.ts';
import { DEFAULT_SEED, MAX_SPLIT, kfoldSelect } from '../../engine/kfold.ts';
import type { Store } from '../../engine/store.ts';
import { readClassList } from './annotate.ts';

export const exportCommand: CommandSpec = {
  name: 'export',
  summary: 'write a store as a COCO, Pascal VOC, YOLO or W3C/Annotorious dataset folder',
  synopsis: 'DB DIR',
  description: [
    'Each record with an image becomes DIR/images/<id>.<ext> (VOC: DIR/JPEGImages/) plus its shapes:',
    '  coco  DIR/annotations.json          voc  DIR/Annotations/<id>.xml',
    '  yolo  DIR/labels/<id>.txt, classes.txt, data.yaml   w3c  DIR/annotations.w3c.json',
    'Shapes are read from the annotation JSON (rect, ellipse, polygon, polygons, point, rle).',
    'Records without an annotation are exported as negatives unless --annotated. Classes are',
    'numbered from DB.shape-classes.json (written by import --format) unless --classes.',
    'What a format cannot hold is counted in a warning (see docs/exchange-formats.md).',
  ].join('\n'),
  options: {
    format: { type: 'string', valueName: 'coco|voc|yolo|w3c', description: 'the dataset format (required)' },
    classes: { type: 'string', valueName: 'A,B,...|FILE', description: 'class names for labels 1, 2, ... (comma list or a file with one per line)' },
    annotated: { type: 'boolean', description: 'skip records without an annotation' },
    'labels-only': { type: 'boolean', description: 'write the labels without copying images' },
    overwrite: { type: 'boolean', description: 'write into a folder that already has files' },
    split: { type: 'string', valueName: 'K', description: 'yolo: K-fold split of data.yaml into train.txt / val.txt (the stream\'s K-fold)' },
    fold: { type: 'string', valueName: 'F', description: 'with --split: the fold held out as val (default 0)' },
    seed: { type: 'string', valueName: 'N', description: 'with --split: seed of the K-fold shuffle (default 2016, as the stream)' },
    stratify: { type: 'boolean', description: 'with --split: split each label separately' },
  },
  minPositionals: 2,
  maxPositionals: 2,
  examples: ['picpac export cars.picpac cars-yolo --format yolo', 'picpac export cars.picpac cars-coco --format coco --classes car,plate', 'picpac export cars.picpac cars-yolo --format yolo --split 5 --fold 0'],
  run: runExport,
};

async function runExport(args: ParsedCommand, io: CliIo): Promise<number> {
  const cmd = 'export';
  const [db, dir] = args.positionals;
  const format = choiceOption(args, 'format', EXCHANGE_FORMATS, cmd);
  if (format === undefined) throw new UsageError(`--format is required: ${EXCHANGE_FORMATS.join(', ')}`, cmd);
  const classOption = stringOption(args, 'classes');
  let classes: string[] = [];
  let coco: Record<string, CocoCategoryInfo> = {};
  const split = yoloSplitOptions(args, format);
  if (classOption !== undefined) classes = await readClassList(classOption);
  const store = await openStore(db);
  // The class table: --classes, else the one kept in the file (import --format writes it), else
  // DB.shape-classes.json (annotate export; v1 files).
  const inFile = classOption !== undefined ? undefined : await store.getMetadata?.().catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  if (classOption !== undefined) {
    // given on the command line
  } else if (inFile !== undefined) ({ classes, coco } = classTableFromJson(inFile, `${db} (metadata)`));
  else {
    const sidecar = await readFile(`${db}.shape-classes.json`, 'utf8').catch(() => undefined);
    if (sidecar !== undefined) ({ classes, coco } = readClassTableFile(sidecar, `${db}.shape-classes.json`));
  }
  const images: ImageAnnotation[] = [];
  const recordIndexes: number[] = [];
  const labelsOnly = flagOption(args, 'labels-only');
  let skipped = 0;
  let written: Awaited<ReturnType<typeof writeAnnotatedSet>>;
  // COCO ids carried by the shapes themselves (`category`): used for classes the table does not describe.
  const shapeCategories: Record<string, CocoCategoryInfo> = {};
  try {
    // The index gives sizes and codecs; annotations are read without the image bytes.
    for (let recordIndex = 0; recordIndex < store.recordCount; recordIndex++) {
      const meta = store.meta(recordIndex);
      if (meta.imageCodec === 0) {
        skipped++;
        continue;
      }
      const annotation = await store.getAnnotation(recordIndex);
      if (flagOption(args, 'annotated') && annotation === undefined) continue;
      let { width, height } = meta;
      if (!(width > 0 && height > 0)) {
        const image = (await store.get(recordIndex)).fields.find((f) => f.kind === 'image');
        ({ width, height } = image ? sniffImage(image.bytes) : { width: 0, height: 0 });
      }
      if (!(width > 0 && height > 0)) {
        io.stderr.write(`warning: ${db}#${recordIndex}: image size unknown; skipped\n`);
        skipped++;
        continue;
      }
      const shapes = annotation === undefined ? [] : fromPicpacAnnotation(annotation, { classes, file: db, recordIndex, nameUnknownLabels: true, categories: shapeCategories });
      const ext = CODEC_EXTENSIONS[meta.imageCodec] ?? 'bin';
      images.push({ fileName: `${String(meta.id).padStart(6, '0')}.${ext}`, width, height, shapes, id: meta.id });
      recordIndexes.push(recordIndex);
    }
    if (classes.length === 0) {
      // Only numeric labels: keep label k as class k-1 (YOLO id), k (COCO category).
      const names = new Set(images.flatMap((im) => im.shapes.map((sh) => sh.className ?? '')));
      if (names.size > 0 && [...names].every((n) => /^[1-9]\d{0,3}$/.test(n))) {
        classes = Array.from({ length: Math.max(...[...names].map(Number)) }, (_, k) => String(k + 1));
      }
    }
    // Image bytes are read again one at a time while writing (memory stays flat).
    const imageBytes = async (i: number): Promise<Uint8Array> => (await store.get(recordIndexes[i])).fields.find((f) => f.kind === 'image')!.bytes;
    const set: AnnotatedSet = { classes, images, coco: { ...shapeCategories, ...coco } };
    const sides = split === undefined ? undefined : splitSides(store, recordIndexes, split);
    written = await writeAnnotatedSet(dir, set, format, { overwrite: flagOption(args, 'overwrite'), ...(labelsOnly ? {} : { imageBytes }), ...(sides ? { split: sides } : {}) });
  } finally {
    await store.close();
  }
  const shapeCount = images.reduce((n, im) => n + im.shapes.length, 0);
  io.stdout.write(`exported ${images.length} images, ${shapeCount} shapes to ${dir} as ${format} (${written.classes.length} classes${skipped > 0 ? `, ${skipped} records skipped` : ''})\n`);
  for (const note of written.notes) io.stdout.write(`${note}\n`);
  for (const [what, count] of Object.entries(written.losses)) io.stderr.write(`warning: ${count} ${what}\n`);
  return 0;
}

/** The class table next to a .picpac (`{"classes": [...]}`, or the older `{name: label}` map). */
export function readClassTableFile(text: string, file: string): { classes: string[]; coco: Record<string, CocoCategoryInfo> } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not valid JSON`, 'export');
  }
  if (json !== null && typeof json === 'object' && !Array.isArray(json) && !('classes' in json)) {
    const classes: string[] = [];
    for (const [name, label] of Object.entries(json as Record<string, unknown>)) if (Number.isInteger(label) && (label as number) >= 1) classes[(label as number) - 1] = name;
    return { classes: Array.from(classes, (c, k) => c ?? String(k + 1)), coco: {} };
  }
  return classTableFromJson(text, file);
}

interface SplitChoice {
  split: number;
  fold: number;
  seed: number;
  stratify: boolean;
}

function yoloSplitOptions(args: ParsedCommand, format: string): SplitChoice | undefined {
  const cmd = 'export';
  const split = intOption(args, 'split', { min: 2, max: MAX_SPLIT }, cmd);
  const foldGiven = args.values.fold !== undefined || args.values.seed !== undefined || flagOption(args, 'stratify');
  if (split === undefined) {
    if (foldGiven) throw new UsageError('--fold, --seed and --stratify go with --split K', cmd);
    return undefined;
  }
  if (format !== 'yolo') throw new UsageError('--split writes the train/val lists of a YOLO data.yaml: use it with --format yolo', cmd);
  const fold = intOption(args, 'fold', { min: 0 }, cmd) ?? 0;
  if (fold >= split) throw new UsageError(`invalid value for --fold: expected an integer in 0..${split - 1}, got '${fold}'`, cmd);
  return { split, fold, seed: intOption(args, 'seed', { min: 0 }, cmd) ?? DEFAULT_SEED, stratify: flagOption(args, 'stratify') };
}

/**
 * Train/val sides of the exported images with the stream's K-fold (engine/kfold.ts) over ALL
 * records of the store, grouped by label: the validation side is exactly what
 * `--split K --split_fold F --split_negate` streams, whatever records the export skipped.
 */
function splitSides(store: Store, recordIndexes: number[], choice: SplitChoice): { train: number[]; val: number[]; comment: string } {
  const groups = new Float64Array(store.recordCount);
  for (let i = 0; i < groups.length; i++) groups[i] = store.meta(i).label;
  const options = { split: choice.split, fold: choice.fold, seed: choice.seed, stratify: choice.stratify };
  const held = new Set(kfoldSelect(groups, { ...options, negate: true }));
  const train: number[] = [];
  const val: number[] = [];
  recordIndexes.forEach((recordIndex, i) => (held.has(recordIndex) ? val : train).push(i));
  return { train, val, comment: `K-fold split ${choice.split}, fold ${choice.fold} held out for val, seed ${choice.seed}${choice.stratify ? ', stratified by label' : ''} (picpac stream --split ${choice.split} --split_fold ${choice.fold})` };
}
