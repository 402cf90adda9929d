// Format checks written from each format's own documentation, for what picpac exports:
//   VOC: a DTD of the VOC devkit's documented annotation fields (devkit_doc §"Annotation"),
//        plus picpac's documented extensions, validated by xmllint; then the box semantics the
//        devkit assumes (1-based integer pixels, xmin ≤ xmax inside the image);
//   YOLO: docs.ultralytics.com/datasets/detect (`class xc yc w h`, normalised) and
//        /datasets/segment (`class x1 y1 … xn yn`), one kind per dataset, data.yaml lists.
import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const MAX_POLYGON_VERTICES = 400;

/** DTD of a VOC annotation (elements in any order, as VOC tools write them). */
export function vocDtd(): string {
  const xy = Array.from({ length: MAX_POLYGON_VERTICES }, (_, i) => `x${i + 1}|y${i + 1}`).join('|');
  const pcdata = ['folder', 'filename', 'path', 'database', 'annotation_', 'image', 'width', 'height', 'depth', 'segmented', 'name', 'pose', 'truncated', 'difficult', 'occluded', 'xmin', 'ymin', 'xmax', 'ymax', 'id', 'tag', 'shape', 'x', 'y', 'counts'];
  return [
    '<!ELEMENT annotation (folder|filename|path|source|owner|size|segmented|object)*>',
    '<!ATTLIST annotation verified (yes|no) #IMPLIED>',
    '<!ELEMENT source (database|annotation_|image)*>',
    '<!ELEMENT owner ANY>',
    '<!ELEMENT size (width, height, depth)>',
    '<!ELEMENT object (name|pose|truncated|difficult|occluded|bndbox|part|id|tag|shape|polygon|point|rle)*>',
    '<!ELEMENT bndbox (xmin, ymin, xmax, ymax)>',
    '<!ELEMENT part (name, bndbox)>',
    `<!ELEMENT polygon (${xy})*>`,
    '<!ELEMENT point (x, y)>',
    '<!ELEMENT rle (height, width, counts)>',
    ...pcdata.map((n) => `<!ELEMENT ${n} (#PCDATA)>`),
    ...Array.from({ length: MAX_POLYGON_VERTICES }, (_, i) => `<!ELEMENT x${i + 1} (#PCDATA)>\n<!ELEMENT y${i + 1} (#PCDATA)>`),
    '',
  ].join('\n');
}

export async function hasXmllint(): Promise<boolean> {
  return run('xmllint', ['--version']).then(() => true, () => false);
}

/** xmllint --dtdvalid on every file; returns xmllint's complaints (empty: all valid). */
export async function xmllintVoc(files: string[], dtdFile: string): Promise<string> {
  await writeFile(dtdFile, vocDtd());
  try {
    await run('xmllint', ['--noout', '--dtdvalid', dtdFile, ...files]);
    return '';
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
}

/** The devkit's box semantics: integers, 1 ≤ xmin ≤ xmax ≤ width (same for y). */
export function vocBoxProblems(xml: string): string[] {
  const width = Number(/<width>(\d+)<\/width>/.exec(xml)?.[1]);
  const height = Number(/<height>(\d+)<\/height>/.exec(xml)?.[1]);
  const problems: string[] = [];
  for (const m of xml.matchAll(/<bndbox><xmin>([^<]*)<\/xmin><ymin>([^<]*)<\/ymin><xmax>([^<]*)<\/xmax><ymax>([^<]*)<\/ymax><\/bndbox>/g)) {
    const [xmin, ymin, xmax, ymax] = m.slice(1).map(Number);
    if (![xmin, ymin, xmax, ymax].every(Number.isInteger)) problems.push(`not integers: ${m[0]}`);
    if (!(1 <= xmin && xmin <= xmax && xmax <= width)) problems.push(`x outside 1 ≤ xmin ≤ xmax ≤ ${width}: ${m[0]}`);
    if (!(1 <= ymin && ymin <= ymax && ymax <= height)) problems.push(`y outside 1 ≤ ymin ≤ ymax ≤ ${height}: ${m[0]}`);
  }
  return problems;
}

/**
 * Ultralytics' documented label format over a whole exported folder: every row `c` + numbers
 * in [0, 1]; box rows have 4 numbers, segment rows ≥ 6 (even); ONE kind across the dataset
 * (its loader turns a file with any segment row into all segments); data.yaml train/val name
 * lists whose lines exist. Returns the kind and problems.
 */
export async function checkYoloFolder(dir: string, classCount: number): Promise<{ kind: 'boxes' | 'segments' | 'empty'; problems: string[] }> {
  const problems: string[] = [];
  const kinds = new Set<'boxes' | 'segments'>();
  for (const name of await readdir(path.join(dir, 'labels'))) {
    const text = await readFile(path.join(dir, 'labels', name), 'utf8');
    text.split('\n').filter((l) => l !== '').forEach((row, i) => {
      const f = row.split(' ');
      const c = Number(f[0]);
      if (!Number.isInteger(c) || c < 0 || c >= classCount) problems.push(`${name}:${i + 1}: class ${f[0]}`);
      const v = f.slice(1).map(Number);
      if (!v.every((x) => x >= 0 && x <= 1)) problems.push(`${name}:${i + 1}: values outside [0, 1]`);
      if (v.length === 4) kinds.add('boxes');
      else if (v.length >= 6 && v.length % 2 === 0) kinds.add('segments');
      else problems.push(`${name}:${i + 1}: ${v.length} numbers`);
    });
  }
  if (kinds.size > 1) problems.push('box rows and segment rows in one dataset');
  const yaml = await readFile(path.join(dir, 'data.yaml'), 'utf8');
  for (const key of ['train', 'val']) {
    const value = new RegExp(`^${key}: (.*)$`, 'm').exec(yaml)?.[1];
    if (value === undefined) problems.push(`data.yaml has no ${key}`);
    else if (value.endsWith('.txt')) {
      for (const line of (await readFile(path.join(dir, value), 'utf8')).split('\n').filter((l) => l !== '')) {
        if (!line.startsWith('./')) problems.push(`${value}: ${line} is not ./-relative`);
        await readFile(path.join(dir, line)).catch(() => problems.push(`${value}: ${line} does not exist`));
      }
    }
  }
  return { kind: kinds.size === 0 ? 'empty' : [...kinds][0], problems };
}
