// `picpac import --format coco|voc|yolo|w3c SRC OUT`: a dataset in an exchange format as an
// import source. Each image becomes a record (label 0, the image as field 0; the record id is
// the source's image id when it has one) whose annotation JSON holds the shapes, normalised,
// with a 1-based `label` per class and the class name; the class table goes to OUT's
// class-table file (classTableToJson).
import { readFile } from 'node:fs/promises';
import { readAnnotatedSet, type ExchangeFormat } from '../annotate/dataset-io.ts';
import { toPicpacAnnotation } from '../annotate/formats/picpac-json.ts';
import type { CocoCategoryInfo } from '../annotate/class-table.ts';
import { resolveClasses } from '../annotate/shapes.ts';
import { sniffImage } from '../format/image-sniff.ts';
import { ImageCodec } from '../format/layout.ts';
import { SkippedInputError, type ImportSource } from './import-sources.ts';

export type ExchangeImportSource = Omit<ImportSource, 'kind'> & { kind: 'exchange'; shapeClasses: string[]; coco: Record<string, CocoCategoryInfo> };

/**
 * `base`: the class table of the file appended to — its classes keep their labels, the source's
 * new classes follow, so one file keeps one class table.
 */
export async function openExchangeImportSource(src: string, format: ExchangeFormat, options: { imagesDir?: string; base?: { classes: string[]; coco: Record<string, CocoCategoryInfo> } } = {}): Promise<ExchangeImportSource> {
  const read = await readAnnotatedSet(src, format, options);
  const { imagePath } = read;
  const base = options.base ?? { classes: [], coco: {} };
  const set = { ...read.set, classes: [...base.classes, ...read.set.classes.filter((c) => !base.classes.includes(c))], coco: { ...(read.set.coco ?? {}), ...base.coco } };
  const classes = resolveClasses(set, { needDefault: false });
  return {
    kind: 'exchange',
    total: set.images.length,
    enumerationProblems: [],
    shapeClasses: classes,
    coco: set.coco ?? {},
    async *items() {
      for (const image of set.images) {
        const file = imagePath(image.fileName);
        yield {
          name: file,
          load: async () => {
            let bytes: Uint8Array;
            try {
              bytes = await readFile(file);
            } catch (error) {
              throw new SkippedInputError(`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
            }
            const sniffed = sniffImage(bytes);
            if (sniffed.codec === ImageCodec.unknown) throw new SkippedInputError('not a recognised image');
            return {
              // The source's image id (COCO images[].id) is the record id, so it survives export.
              ...(image.id !== undefined ? { id: image.id } : {}),
              label: 0,
              fields: [{ kind: 'image' as const, codec: sniffed.codec, bytes, width: sniffed.width || image.width, height: sniffed.height || image.height }],
              annotation: toPicpacAnnotation(image.shapes, classes, set.coco),
            };
          },
        };
      }
    },
    close: async () => {},
  };
}
