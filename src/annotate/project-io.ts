// The two ends of a project (Owl's `import` and `export` commands, REFERENCE §2.1.7-2.1.8):
// build a project from a folder tree or a list of paths (non-images are skipped and
// reported), write its annotations to a .picpac file (image field + annotation JSON with
// normalised shapes, per-shape `label` from the class and `tag`) or to COCO/VOC/YOLO/W3C, and
// load annotations made elsewhere into it (matched by file name).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PicpacWriter } from '../engine/picpac/picpac-writer.ts';
import { writeFileAtomically } from '../engine/rewrite.ts';
import { sniffImage } from '../format/image-sniff.ts';
import { ImageCodec } from '../format/layout.ts';
import { writeAnnotatedSet, type ExchangeFormat } from './dataset-io.ts';
import { toPicpacAnnotation } from './formats/picpac-json.ts';
import { AnnotationProject, type ImageEntry } from './project.ts';
import { classTableToJson } from './class-table.ts';
import { resolveClasses, type AnnotatedSet, type Shape } from './shapes.ts';
import { walkFiles } from './walk-files.ts';

export interface InitOptions {
  /** A folder searched recursively (hidden files skipped). */
  images?: string;
  /** A file with one image path per line (`path` or `path<TAB>anything`); `#` comments. */
  list?: string;
  /** Store the image bytes in the project instead of their paths. */
  copy?: boolean;
  classes?: string[];
}

export interface InitReport {
  project: AnnotationProject;
  added: number;
  /** Inputs that are not images or cannot be read, with the reason. */
  skipped: Array<{ name: string; reason: string }>;
}

/** Create PROJECT and add the images. The project is returned open. */
export async function initProject(dir: string, options: InitOptions): Promise<InitReport> {
  if ((options.images === undefined) === (options.list === undefined)) throw new TypeError('give exactly one of images (a folder) or list (a file)');
  const inputs: Array<{ name: string; file: string }> = [];
  const skipped: InitReport['skipped'] = [];
  if (options.images !== undefined) {
    const root = path.resolve(options.images);
    for (const rel of await walkFiles(root, { followLinks: true })) inputs.push({ name: rel, file: path.join(root, rel) });
  } else {
    const listFile = path.resolve(options.list!);
    const rows = (await readFile(listFile, 'utf8')).split(/\r?\n/);
    rows.forEach((row) => {
      const p = row.split('\t')[0].trim();
      if (p === '' || p.startsWith('#')) return;
      inputs.push({ name: p, file: path.resolve(path.dirname(listFile), p) });
    });
  }
  const projectDir = path.resolve(dir);
  const entries: Array<Omit<ImageEntry, 'id'> & { bytes?: Uint8Array }> = [];
  for (const input of inputs) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(input.file);
    } catch (error) {
      skipped.push({ name: input.name, reason: `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
      continue;
    }
    const sniffed = sniffImage(bytes);
    if (sniffed.codec === ImageCodec.unknown || sniffed.codec === ImageCodec.v1raw) {
      skipped.push({ name: input.name, reason: 'not a recognised image' });
      continue;
    }
    if (sniffed.width === 0 || sniffed.height === 0) {
      skipped.push({ name: input.name, reason: 'image size unreadable (truncated, or a format without a size in its header)' });
      continue;
    }
    const entry: Omit<ImageEntry, 'id'> & { bytes?: Uint8Array } = {
      name: input.name, copied: options.copy === true, width: sniffed.width, height: sniffed.height, codec: sniffed.codec, byteLength: bytes.byteLength,
    };
    if (options.copy) entry.bytes = bytes;
    else entry.path = path.relative(projectDir, input.file);
    entries.push(entry);
  }
  const project = await AnnotationProject.create(dir, { classes: options.classes ?? [] });
  try {
    // Bounded transactions: copied images can be large.
    for (let i = 0; i < entries.length; i += 256) await project.addImages(entries.slice(i, i + 256));
  } catch (error) {
    await project.close();
    throw error;
  }
  return { project, added: entries.length, skipped };
}

/** Which images an export includes: with shapes; with `all`, also viewed or verified ones without (negatives). */
export function exportedImageIds(project: AnnotationProject, options: { all?: boolean } = {}): number[] {
  return project.imageIds().filter((id) => {
    const s = project.state(id);
    return s.shapes.length > 0 || (options.all === true && (s.viewed || s.verified));
  });
}

/** The project's annotations as a converter input (file names = image names). */
export function projectToSet(project: AnnotationProject, ids: readonly number[]): AnnotatedSet {
  return {
    classes: project.classes,
    coco: project.classCoco,
    images: ids.map((id) => {
      const entry = project.image(id)!;
      const state = project.state(id);
      return { fileName: entry.name, width: entry.width, height: entry.height, shapes: state.shapes, verified: state.verified };
    }),
  };
}

export interface ExportReport {
  recordCount: number;
  shapeCount: number;
  classes: string[];
  /** What the format could not hold, counted per kind (exchange formats). */
  losses?: Record<string, number>;
  notes?: string[];
}

/**
 * Write OUT.picpac: one record per exported image, id = image id, label 0 (Owl), field 0 =
 * the image bytes read now (so a swapped full-resolution folder is what lands), annotation =
 * `{"shapes": [...]}`. Written to a temporary file and renamed. Also writes
 * OUT.shape-classes.json ({class: label}) when there are classes.
 */
export async function exportProjectPicpac(project: AnnotationProject, out: string, options: { all?: boolean; overwrite?: boolean } = {}): Promise<ExportReport> {
  const ids = exportedImageIds(project, options);
  const set = projectToSet(project, ids);
  const classes = resolveClasses(set, { needDefault: false });
  let shapeCount = 0;
  await writeFileAtomically(out, async (tmp) => {
    const writer = await PicpacWriter.create(tmp, { overwrite: true });
    try {
      for (const id of ids) {
        const entry = project.image(id)!;
        const shapes: Shape[] = project.state(id).shapes;
        shapeCount += shapes.length;
        const bytes = await project.imageBytes(id);
        await writer.append({ id, label: 0, fields: [{ kind: 'image', bytes, codec: entry.codec, width: entry.width, height: entry.height }], annotation: toPicpacAnnotation(shapes, classes, set.coco) });
      }
      // The class table, kept in the file (SPEC §9.1): what `picpac export` numbers classes by.
      if (classes.length > 0) await writer.setMetadata(classTableToJson(classes, set.coco));
      await writer.close();
    } catch (error) {
      await writer.abort().catch(() => {});
      throw error;
    }
  }, { overwrite: options.overwrite ?? false });
  if (classes.length > 0) await writeFile(`${out}.shape-classes.json`, JSON.stringify(Object.fromEntries(classes.map((c, k) => [c, k + 1])), null, 2) + '\n');
  return { recordCount: ids.length, shapeCount, classes };
}

/** Write the project in an exchange format (labels + image files) to DIR. */
export async function exportProjectAs(project: AnnotationProject, dir: string, format: ExchangeFormat, options: { all?: boolean; overwrite?: boolean; withImages?: boolean } = {}): Promise<ExportReport> {
  const ids = exportedImageIds(project, options);
  const set = projectToSet(project, ids);
  const written = await writeAnnotatedSet(dir, set, format, {
    overwrite: options.overwrite,
    ...(options.withImages === false ? {} : { imageBytes: (i: number) => project.imageBytes(ids[i]) }),
  });
  return { recordCount: ids.length, shapeCount: set.images.reduce((n, im) => n + im.shapes.length, 0), classes: written.classes, losses: written.losses, notes: written.notes };
}

/**
 * Load a set's shapes into the project, matching images by name (then by base name when that
 * is unique). Each shape is logged as a create by `user`. Existing shapes are kept.
 */
export async function importIntoProject(project: AnnotationProject, set: AnnotatedSet, options: { user?: string } = {}): Promise<{ matched: number; shapes: number; unmatched: string[] }> {
  const byName = new Map<string, number>();
  const byBase = new Map<string, number | null>();
  for (const id of project.imageIds()) {
    const name = project.image(id)!.name;
    byName.set(name, id);
    const base = path.posix.basename(name);
    byBase.set(base, byBase.has(base) ? null : id);
  }
  const classes = project.classes;
  for (const c of set.classes) if (!classes.includes(c)) classes.push(c);
  if (classes.length !== project.classes.length) await project.setClasses(classes);
  // COCO category ids (and keypoint names) of imported classes join the project's class table.
  const coco = project.classCoco;
  let added = false;
  for (const [name, info] of Object.entries(set.coco ?? {})) {
    if (coco[name] === undefined) {
      coco[name] = info;
      added = true;
    }
  }
  if (added) await project.setClassCoco(coco);
  let matched = 0;
  let shapes = 0;
  const unmatched: string[] = [];
  for (const image of set.images) {
    const id = byName.get(image.fileName) ?? byBase.get(path.posix.basename(image.fileName)) ?? undefined;
    if (id === undefined || id === null) {
      unmatched.push(image.fileName);
      continue;
    }
    matched++;
    let k = 0;
    for (const shape of image.shapes) {
      const ok = shape.id !== undefined && /^[A-Za-z0-9_.:-]{1,64}$/.test(shape.id);
      const withId = { ...shape, id: ok ? shape.id : `import-${id}-${Date.now().toString(36)}-${k++}` };
      await project.apply({ imageId: id, action: 'create', shape: withId, user: options.user ?? 'import' });
      shapes++;
    }
    if (image.verified) await project.apply({ imageId: id, action: 'verify', verified: true, user: options.user ?? 'import' });
  }
  return { matched, shapes, unmatched };
}
