// The class table of a dataset: class names in label order (class k has picpac label k+1,
// YOLO id k, VOC name = the name) plus what COCO says about a category (its own id, which
// need not be k+1, its supercategory, keypoint names, skeleton). One table per database, stored
// in the .picpac file's metadata frame (SPEC §9.1) as {"classes": [{"label", "name", "coco"?}]};
// every importer fills it and every exporter numbers classes from it.
import { AnnotationInputError, type CocoCategoryInfo } from './shapes.ts';

export type { CocoCategoryInfo };

export interface ClassEntry {
  name: string;
  coco?: CocoCategoryInfo;
}

/**
 * COCO category id of each class: its own `coco.id` when it has one (the first class to claim an
 * id keeps it), else its label (k+1) when that id is free, else the next free id above every id
 * in use — so ids never collide.
 */
export function cocoCategoryIds(classes: readonly string[], coco: Readonly<Record<string, CocoCategoryInfo>> = {}): number[] {
  const own = classes.map((name) => coco[name]?.id);
  const used = new Set<number>();
  const claimed = own.map((id) => (id !== undefined && !used.has(id) ? (used.add(id), id) : undefined));
  let next = Math.max(0, ...own.filter((id): id is number => id !== undefined), classes.length) + 1;
  return classes.map((_, k) => {
    if (claimed[k] !== undefined) return claimed[k]!;
    const id = used.has(k + 1) ? next++ : k + 1;
    used.add(id);
    return id;
  });
}

export function classTableToJson(classes: readonly string[], coco: Readonly<Record<string, CocoCategoryInfo>> = {}): string {
  return JSON.stringify({ classes: classes.map((name, k) => ({ label: k + 1, name, ...(coco[name] ? { coco: coco[name] } : {}) })) });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Read a class table document (the metadata frame's JSON); `file` is named in errors. */
export function classTableFromJson(text: string, file?: string): { classes: string[]; coco: Record<string, CocoCategoryInfo> } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AnnotationInputError(`class table is not valid JSON (${(error as Error).message})`, { file });
  }
  const list = isObject(json) ? json.classes : undefined;
  if (list === undefined) return { classes: [], coco: {} };
  if (!Array.isArray(list)) throw new AnnotationInputError('"classes" must be a list', { file, path: 'classes' });
  const classes: string[] = [];
  const coco: Record<string, CocoCategoryInfo> = {};
  list.forEach((entry, k) => {
    const path = `classes[${k}]`;
    if (!isObject(entry) || typeof entry.name !== 'string' || entry.name === '') throw new AnnotationInputError('a class needs a non-empty name', { file, path });
    if (entry.label !== k + 1) throw new AnnotationInputError(`class ${JSON.stringify(entry.name)} must have label ${k + 1} (labels are 1, 2, … in order), got ${JSON.stringify(entry.label)}`, { file, path });
    if (classes.includes(entry.name)) throw new AnnotationInputError(`duplicate class name ${JSON.stringify(entry.name)}`, { file, path });
    classes.push(entry.name);
    if (isObject(entry.coco)) {
      if (!Number.isSafeInteger(entry.coco.id)) throw new AnnotationInputError('coco.id must be an integer', { file, path: `${path}.coco.id` });
      coco[entry.name] = entry.coco as unknown as CocoCategoryInfo;
    }
  });
  return { classes, coco };
}
