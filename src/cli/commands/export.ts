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
import { UsageError, choiceOption, flagOption, stringOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';
import { readClassList } from './annotate.ts';

export const exportCommand: CommandSpec = {
  name: 'export',
  summary: 'write a store as a COCO, Pascal VOC, YOLO or W3C/Annotorious dataset folder',
  synopsis: 'DB DIR',
  description: [
    'Each record with an image becomes DIR/images/<id>.<ext> (VOC: DIR/JPEGImages/) plus its shapes:',
    '  coco  DIR/annotations.json          voc  DIR/Annotations/<id>.xml',
    '  yolo  DIR/labels/<id>.txt, classes.txt, data.yaml   w3c  DIR/annotations.w3c.json',
    'Shapes are read from the annotation JSON (normalised rect, polygon, point). Records without',
    'an annotation are exported as negatives unless --annotated.',
  ].join('\n'),
  options: {
    format: { type: 'string', valueName: 'coco|voc|yolo|w3c', description: 'the dataset format (required)' },
    classes: { type: 'string', valueName: 'A,B,...|FILE', description: 'class names for labels 1, 2, ... (comma list or a file with one per line)' },
    annotated: { type: 'boolean', description: 'skip records without an annotation' },
    'labels-only': { type: 'boolean', description: 'write the labels without copying images' },
    overwrite: { type: 'boolean', description: 'write into a folder that already has files' },
  },
  minPositionals: 2,
  maxPositionals: 2,
  examples: ['picpac export cars.picpac cars-yolo --format yolo', 'picpac export cars.picpac cars-coco --format coco --classes car,plate'],
  run: runExport,
};

async function runExport(args: ParsedCommand, io: CliIo): Promise<number> {
  const cmd = 'export';
  const [db, dir] = args.positionals;
  const format = choiceOption(args, 'format', EXCHANGE_FORMATS, cmd);
  if (format === undefined) throw new UsageError(`--format is required: ${EXCHANGE_FORMATS.join(', ')}`, cmd);
  const classOption = stringOption(args, 'classes');
  let classes: string[] = [];
  if (classOption !== undefined) classes = await readClassList(classOption);
  else {
    const sidecar = await readFile(`${db}.shape-classes.json`, 'utf8').catch(() => undefined);
    if (sidecar !== undefined) {
      try {
        const mapping = JSON.parse(sidecar) as Record<string, number>;
        for (const [name, label] of Object.entries(mapping)) if (Number.isInteger(label) && label >= 1) classes[label - 1] = name;
        classes = Array.from(classes, (c, k) => c ?? String(k + 1));
      } catch {
        io.stderr.write(`warning: ${db}.shape-classes.json is not valid JSON; ignored\n`);
      }
    }
  }
  const store = await openStore(db);
  const images: ImageAnnotation[] = [];
  const recordIndexes: number[] = [];
  const labelsOnly = flagOption(args, 'labels-only');
  let skipped = 0;
  let written: { classes: string[] };
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
      const shapes = annotation === undefined ? [] : fromPicpacAnnotation(annotation, { classes, file: db, recordIndex, nameUnknownLabels: true });
      const ext = CODEC_EXTENSIONS[meta.imageCodec] ?? 'bin';
      images.push({ fileName: `${String(meta.id).padStart(6, '0')}.${ext}`, width, height, shapes });
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
    const set: AnnotatedSet = { classes, images };
    written = await writeAnnotatedSet(dir, set, format, { overwrite: flagOption(args, 'overwrite'), ...(labelsOnly ? {} : { imageBytes }) });
  } finally {
    await store.close();
  }
  const shapeCount = images.reduce((n, im) => n + im.shapes.length, 0);
  io.stdout.write(`exported ${images.length} images, ${shapeCount} shapes to ${dir} as ${format} (${written.classes.length} classes${skipped > 0 ? `, ${skipped} records skipped` : ''})\n`);
  return 0;
}
