// picpac split-region IN OUT --width W --height H: the seed's picpac-split-region (object mode).
// For every annotated shape, the image is rescaled so the object is about --size pixels and a
// W × H region centred on it becomes one output record (JPEG image, the record's labels, the
// shapes re-normalised to the region; a label-image field is cut the same way, as PNG).
// Prints min/mean/max of the scales applied.
import sharp from 'sharp';
import { parseAnnotation } from '../../augment/annotation.ts';
import type { Image } from '../../augment/pixels/image.ts';
import { decodeField } from '../../augment/stream/sample-pipeline.ts';
import { annotationToJson, scaleStatistics, splitRegions } from '../../augment/split-region.ts';
import { openStore } from '../../engine/open-store.ts';
import type { NewField } from '../../engine/store.ts';
import { UsageError, choiceOption, flagOption, intOption, stringOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';
import { AppendQueue, OUTPUT_FORMATS, checkNotSameFile, openOutput, alignOption, refuseExisting } from '../store-output.ts';

export const splitRegionCommand: CommandSpec = {
  name: 'split-region',
  summary: 'cut a region around every annotated shape (object ≈ --size px) into a new store',
  synopsis: 'IN OUT',
  description:
    'For each shape of each annotated record, rescale the image so the shape\'s longer side is\n' +
    '--size pixels (unless --no-scale 1) and cut a --width x --height region centred on it, so\n' +
    'positive and negative pixels stay balanced. Shapes intersecting the region are kept,\n' +
    're-normalised to it. Pixels beyond the image get --bg. Records without shapes are skipped.\n' +
    'Prints the number of regions and min/mean/max of the scale applied.',
  options: {
    width: { type: 'string', valueName: 'W', description: 'region width in pixels (required)' },
    height: { type: 'string', valueName: 'H', description: 'region height in pixels (required)' },
    size: { type: 'string', valueName: 'S', description: 'target object size in pixels, longer side (default 50)' },
    bg: { type: 'string', valueName: 'B', description: 'value of pixels outside the image, 0..255 (default 0)' },
    'no-scale': { type: 'string', valueName: '0|1', description: '1: cut at the original scale (default 0)' },
    quality: { type: 'string', valueName: 'Q', description: 'JPEG quality of the regions (default 90)' },
    format: { type: 'string', valueName: 'v2|v1', description: 'output format (default v2)' },
    align: { type: 'string', valueName: 'N', description: 'alignment of the output (default 1, compact)' },
    overwrite: { type: 'boolean', description: 'replace OUT if it exists' },
  },
  minPositionals: 2,
  maxPositionals: 2,
  examples: ['picpac split-region plates.picpac regions.picpac --width 100 --height 100 --size 50'],
  run: runSplitRegion,
};

async function runSplitRegion(args: ParsedCommand, io: CliIo): Promise<number> {
  const cmd = 'split-region';
  const [input, output] = args.positionals;
  const width = intOption(args, 'width', { min: 1, max: 65535 }, cmd);
  const height = intOption(args, 'height', { min: 1, max: 65535 }, cmd);
  if (width === undefined || height === undefined) throw new UsageError('--width and --height are required', cmd);
  const sizeText = stringOption(args, 'size');
  const size = sizeText === undefined ? 50 : Number(sizeText);
  if (!(size > 0) || !Number.isFinite(size)) throw new UsageError(`invalid value for --size: expected a positive number, got '${sizeText}'`, cmd);
  const background = intOption(args, 'bg', { min: 0, max: 255 }, cmd) ?? 0;
  const noScale = (choiceOption(args, 'no-scale', ['0', '1'] as const, cmd) ?? '0') === '1';
  const quality = intOption(args, 'quality', { min: 1, max: 100 }, cmd) ?? 90;
  const format = choiceOption(args, 'format', OUTPUT_FORMATS, cmd) ?? 'v2';
  const alignment = alignOption(args, cmd);
  const overwrite = flagOption(args, 'overwrite');
  checkNotSameFile(output, [input], cmd);
  await refuseExisting(output, overwrite);
  const store = await openStore(input);
  const scales: number[] = [];
  let skipped = 0;
  try {
    const writer = await openOutput(output, { format, alignment, overwrite });
    const queue = new AppendQueue(writer);
    try {
      for await (const record of store.scan()) {
        const annotation = record.annotation === undefined ? undefined : parseAnnotation(record.annotation, { recordIndex: record.recordIndex });
        const imageField = record.fields.find((f) => f.kind === 'image' || f.kind === 'tensor');
        if (annotation === undefined || annotation.shapes.length === 0 || imageField === undefined) {
          skipped++;
          continue;
        }
        const image = await decodeField(imageField, record.recordIndex, -1, 0);
        const labelField = record.fields.find((f) => f.kind === 'label');
        const label = labelField && labelField.bytes.length > 0 ? await decodeField(labelField, record.recordIndex, -1, 0) : undefined;
        const regions = splitRegions(image, annotation, { width, height, size, noScale, background, label: label && label.width === image.width && label.height === image.height ? label : undefined });
        for (const region of regions) {
          scales.push(region.scale);
          const fields: NewField[] = [{ kind: 'image', bytes: await encodeImage(region.image, 'jpeg', quality) }];
          if (region.label) fields.push({ kind: 'label', bytes: await encodeImage(region.label, 'png', quality) });
          await queue.add({ label: record.label, label2: record.label2, fields, annotation: annotationToJson(region.annotation) });
        }
      }
      await queue.drain();
    } finally {
      await writer.close();
    }
  } finally {
    await store.close();
  }
  const s = scaleStatistics(scales);
  io.stdout.write(`${s.count} regions of ${width}x${height} → ${output} (${skipped} records without shapes skipped)\n`);
  io.stdout.write(`scale: min ${s.min.toFixed(3)} mean ${s.mean.toFixed(3)} max ${s.max.toFixed(3)}\n`);
  return 0;
}

async function encodeImage(image: Image, codec: 'jpeg' | 'png', quality: number): Promise<Uint8Array> {
  const data = image.data instanceof Uint8Array ? image.data : Uint8Array.from(image.data, (v) => Math.max(0, Math.min(255, Math.round(v))));
  const channels = image.channels as 1 | 2 | 3 | 4;
  const pipeline = sharp(data, { raw: { width: image.width, height: image.height, channels } });
  return new Uint8Array(codec === 'jpeg' ? await pipeline.jpeg({ quality }).toBuffer() : await pipeline.png().toBuffer());
}
