// Folder layouts of the exchange formats, on disk: write an AnnotatedSet (labels plus image
// files) to a folder, and read one back from the files a tool produced. The converters in
// formats/ are pure; this file owns the paths.
//   coco  DIR/annotations.json (+ DIR/keypoints.json for lone points) + DIR/images/<file>
//   voc   DIR/Annotations/<stem>.xml + DIR/JPEGImages/<file>
//   yolo  DIR/images/<file> + DIR/labels/<stem>.txt + DIR/classes.txt + DIR/data.yaml
//         (+ DIR/train.txt, DIR/val.txt with a split)
//   w3c   DIR/annotations.w3c.json + DIR/images/<file>
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sniffImage } from '../format/image-sniff.ts';
import { ImageCodec } from '../format/layout.ts';
import { fromCoco, mergeCocoSets, toCoco } from './formats/coco.ts';
import { fromVoc, toVoc } from './formats/voc.ts';
import { fromW3c, toW3c } from './formats/w3c.ts';
import { emptyLosses, fromClassesTxt, fromDataYaml, fromYolo, toClassesTxt, toDataYaml, toYolo, yoloTaskOf } from './formats/yolo.ts';
import { AnnotationInputError, resolveClasses, type AnnotatedSet, type ImageAnnotation } from './shapes.ts';
import { walkFiles } from './walk-files.ts';

export type ExchangeFormat = 'coco' | 'voc' | 'yolo' | 'w3c';
export const EXCHANGE_FORMATS: readonly ExchangeFormat[] = ['coco', 'voc', 'yolo', 'w3c'];

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff', '.avif']);

export const CODEC_EXTENSIONS: Record<number, string> = {
  [ImageCodec.jpeg]: 'jpg', [ImageCodec.png]: 'png', [ImageCodec.webp]: 'webp', [ImageCodec.gif]: 'gif',
  [ImageCodec.tiff]: 'tif', [ImageCodec.bmp]: 'bmp', [ImageCodec.avif]: 'avif',
};

/** A relative name that cannot leave the folder it is joined to: no `..`, no root, no drive. */
export function safeRelativeName(name: string): string {
  const parts = name.split(/[\\/]+/).filter((p) => p !== '' && p !== '.' && p !== '..').map((p) => p.replace(/[\u0000-\u001f:*?"<>|]/g, '_'));
  return parts.join('/') || 'image';
}

function stemOf(fileName: string): string {
  const ext = path.posix.extname(fileName);
  return ext === '' ? fileName : fileName.slice(0, -ext.length);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

export interface WriteSetOptions {
  /** Bytes of image i of the set (undefined: labels only). */
  imageBytes?: (imageIndex: number) => Promise<Uint8Array>;
  /** Write into a folder that already has files (default false: refuse). */
  overwrite?: boolean;
  /** YOLO: image indexes of the training and validation sides (train.txt / val.txt in data.yaml). */
  split?: { train: ArrayLike<number>; val: ArrayLike<number>; comment?: string };
}

/** What the chosen format could not hold exactly, counted per kind (empty: nothing). */
export type ExportLosses = Record<string, number>;

/** Write `set` to `dir` in `format`; returns the files written (labels and images). */
export async function writeAnnotatedSet(dir: string, set: AnnotatedSet, format: ExchangeFormat, options: WriteSetOptions = {}): Promise<{ fileCount: number; classes: string[]; losses: ExportLosses; notes: string[] }> {
  if (!options.overwrite && (await exists(dir)) && (await readdir(dir)).length > 0) {
    throw new AnnotationInputError(`refusing to write into ${dir}: the folder is not empty (pass --overwrite)`);
  }
  await mkdir(dir, { recursive: true });
  // Unique, safe file names (two images may share a name after cleaning).
  const used = new Set<string>();
  const images: ImageAnnotation[] = set.images.map((image, i) => {
    let name = safeRelativeName(image.fileName);
    if (used.has(name)) name = `${i + 1}-${name.split('/').pop()}`;
    used.add(name);
    return { ...image, fileName: name };
  });
  const safeSet: AnnotatedSet = { ...set, images };
  const losses: ExportLosses = {};
  const notes: string[] = [];
  const imageFolder = format === 'voc' ? 'JPEGImages' : 'images';
  let fileCount = 0;
  const put = async (rel: string, data: string | Uint8Array): Promise<void> => {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, data);
    fileCount++;
  };
  let classes = resolveClasses(safeSet, { needDefault: format !== 'w3c' });
  if (format === 'coco') {
    const coco = toCoco(safeSet);
    await put('annotations.json', JSON.stringify(coco.instances, null, 1) + '\n');
    if (coco.keypoints) {
      await put('keypoints.json', JSON.stringify(coco.keypoints, null, 1) + '\n');
      notes.push(`${coco.pointCount} points written as keypoints to keypoints.json (a point has no area: not an instance)`);
    }
  } else if (format === 'w3c') {
    classes = resolveClasses(safeSet, { needDefault: false });
    const skipped = { masks: 0 };
    await put('annotations.w3c.json', JSON.stringify(toW3c(safeSet, skipped), null, 1) + '\n');
    if (skipped.masks > 0) losses['masks left out (no W3C selector for a COCO mask)'] = skipped.masks;
  } else if (format === 'voc') {
    for (const image of images) await put(path.join('Annotations', `${stemOf(image.fileName)}.xml`), toVoc(image, { folder: imageFolder }));
  } else {
    const task = yoloTaskOf(images);
    const yoloLosses = emptyLosses();
    for (const image of images) await put(path.join('labels', `${stemOf(image.fileName)}.txt`), toYolo(image, classes, task, yoloLosses));
    await put('classes.txt', toClassesTxt(classes));
    let lists: { train?: string; val?: string; comment?: string } = {};
    if (options.split) {
      const list = (indexes: ArrayLike<number>): string => Array.from(indexes, (i) => `./${imageFolder}/${images[i].fileName}\n`).join('');
      await put('train.txt', list(options.split.train));
      await put('val.txt', list(options.split.val));
      lists = { train: 'train.txt', val: 'val.txt', comment: options.split.comment };
    }
    await put('data.yaml', toDataYaml(classes, lists));
    notes.push(`YOLO ${task === 'segments' ? 'segment' : 'box'} labels (one kind per dataset)`);
    if (yoloLosses.pointsDropped > 0) losses['points left out (a segment dataset has no points)'] = yoloLosses.pointsDropped;
    if (yoloLosses.masksAsBoxes > 0) losses['masks written as their box'] = yoloLosses.masksAsBoxes;
    if (yoloLosses.ellipsesAsBoxes > 0) losses['ellipses written as their box'] = yoloLosses.ellipsesAsBoxes;
    if (yoloLosses.partsJoined > 0) losses['multi-part shapes joined into one outline'] = yoloLosses.partsJoined;
  }
  if (options.imageBytes) {
    for (let i = 0; i < images.length; i++) await put(path.join(imageFolder, images[i].fileName), await options.imageBytes(i));
  }
  return { fileCount, classes, losses, notes };
}

export interface ReadSetResult {
  set: AnnotatedSet;
  /** Absolute path of an image named in the set. */
  imagePath(fileName: string): string;
}

async function listImages(root: string): Promise<string[]> {
  return (await walkFiles(root)).filter((rel) => IMAGE_EXTENSIONS.has(path.extname(rel).toLowerCase()));
}

/** Pixel size from the file header (undefined when the file is missing or not an image). */
async function sizeOfFile(file: string): Promise<{ width: number; height: number } | undefined> {
  const bytes = await readFile(file).catch(() => undefined);
  if (bytes === undefined) return undefined;
  const s = sniffImage(bytes);
  return s.width > 0 && s.height > 0 ? { width: s.width, height: s.height } : undefined;
}

/**
 * Read a dataset in `format` from `src` (a JSON file for coco/w3c; a folder for voc/yolo).
 * `imagesDir` is where image file names resolve (default: `images/` or `JPEGImages/` next to
 * the labels when it exists, else the labels' folder).
 */
export async function readAnnotatedSet(src: string, format: ExchangeFormat, options: { imagesDir?: string } = {}): Promise<ReadSetResult> {
  const info = await stat(src);
  const base = info.isDirectory() ? src : path.dirname(src);
  const defaultImages = async (candidates: string[]): Promise<string> => {
    for (const c of candidates) if (await exists(path.join(base, c))) return path.join(base, c);
    return base;
  };
  if (format === 'coco' || format === 'w3c') {
    if (info.isDirectory()) throw new AnnotationInputError(`${src} is a folder; give the ${format === 'coco' ? 'COCO' : 'W3C'} JSON file`);
    const imagesDir = path.resolve(options.imagesDir ?? (await defaultImages(['images'])));
    const text = await readFile(src, 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new AnnotationInputError(`not valid JSON (${(error as Error).message})`, { file: src });
    }
    const imagePath = (fileName: string): string => path.resolve(imagesDir, fileName);
    if (format === 'coco') {
      let set = fromCoco(json, { file: src });
      // Lone points exported next to the instances (toCoco's keypoints.json) come back with them.
      const keypointsFile = path.join(path.dirname(src), 'keypoints.json');
      if (path.basename(src) === 'annotations.json' && (await exists(keypointsFile))) {
        let extra: unknown;
        try {
          extra = JSON.parse(await readFile(keypointsFile, 'utf8'));
        } catch (error) {
          throw new AnnotationInputError(`not valid JSON (${(error as Error).message})`, { file: keypointsFile });
        }
        set = mergeCocoSets(set, fromCoco(extra, { file: keypointsFile }));
      }
      return { set, imagePath };
    }
    const sizes = new Map<string, { width: number; height: number } | undefined>();
    const record = json !== null && typeof json === 'object' ? (json as Record<string, unknown>) : {};
    const sources = Array.isArray(json) ? json : Array.isArray(record.items) ? record.items : Array.isArray(record.annotations) ? record.annotations : [];
    for (const a of sources) {
      const source = (a as { target?: { source?: unknown } })?.target?.source;
      if (typeof source === 'string' && !sizes.has(source)) sizes.set(source, await sizeOfFile(imagePath(source)));
    }
    return { set: fromW3c(json, { file: src, sizeOf: (s) => sizes.get(s) }), imagePath };
  }
  if (!info.isDirectory()) throw new AnnotationInputError(`${src} must be a folder for ${format}`);
  if (format === 'voc') {
    const xmlDir = (await exists(path.join(src, 'Annotations'))) ? path.join(src, 'Annotations') : src;
    const imagesDir = path.resolve(options.imagesDir ?? ((await exists(path.join(src, 'JPEGImages'))) ? path.join(src, 'JPEGImages') : xmlDir));
    const names = (await readdir(xmlDir)).filter((n) => n.toLowerCase().endsWith('.xml')).sort();
    const images: ImageAnnotation[] = [];
    const classes: string[] = [];
    for (const name of names) {
      const file = path.join(xmlDir, name);
      const image = fromVoc(await readFile(file, 'utf8'), { file });
      for (const s of image.shapes) if (s.className !== undefined && !classes.includes(s.className)) classes.push(s.className);
      images.push(image);
    }
    return { set: { classes, images }, imagePath: (fileName) => path.resolve(imagesDir, fileName) };
  }
  // yolo
  const imagesDir = path.resolve(options.imagesDir ?? (await defaultImages(['images'])));
  const labelsDir = (await exists(path.join(src, 'labels'))) ? path.join(src, 'labels') : imagesDir;
  let classes: string[] | undefined;
  for (const candidate of [path.join(src, 'classes.txt'), path.join(labelsDir, 'classes.txt')]) {
    if (classes === undefined && (await exists(candidate))) classes = fromClassesTxt(await readFile(candidate, 'utf8'));
  }
  for (const candidate of [path.join(src, 'data.yaml'), path.join(src, 'dataset.yaml')]) {
    if (classes === undefined && (await exists(candidate))) classes = fromDataYaml(await readFile(candidate, 'utf8'), candidate);
  }
  if (classes === undefined) throw new AnnotationInputError(`no class list: put classes.txt or data.yaml (names:) in ${src}`);
  const images: ImageAnnotation[] = [];
  for (const rel of await listImages(imagesDir)) {
    const size = await sizeOfFile(path.join(imagesDir, rel));
    if (size === undefined) continue; // not an image: reported by the importer when it loads it
    const labelFile = path.join(labelsDir, `${stemOf(rel)}.txt`);
    const text = await readFile(labelFile, 'utf8').catch(() => '');
    images.push({ fileName: rel, ...size, shapes: fromYolo(text, { classes, file: labelFile }) });
  }
  return { set: { classes, images }, imagePath: (fileName) => path.resolve(imagesDir, fileName) };
}
