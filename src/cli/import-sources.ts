// What `picpac import` can read from: a directory tree (class subfolders give labels), a list
// file (`path<TAB>label` or `path<TAB>annotation-json`), or another database (anything
// openStore opens). Each source yields items whose `load()` does the I/O, so the importer can
// run loads in parallel and append in order. A load that fails throws; the importer counts it
// as skipped (or stops, with --strict).
import { open, readFile, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { sniffImage } from '../format/image-sniff.ts';
import { ImageCodec, SIGNATURE } from '../format/layout.ts';
import { openStore } from '../engine/open-store.ts';
import type { NewRecord, Store } from '../engine/store.ts';
import { toNewRecord } from './store-output.ts';

export interface ImportItem {
  /** What a warning names: a file path, or `<db>#<recordIndex>`. */
  name: string;
  load(): Promise<NewRecord>;
}

export interface ImportSource {
  kind: 'dir' | 'list' | 'db';
  /** Items expected (files found, list lines, records), for the progress bar. */
  total: number;
  /** Directory mode with non-integer folder names: folder name for each label. */
  classNames?: string[];
  /** Problems found while enumerating (bad list lines), reported as skipped inputs. */
  enumerationProblems: string[];
  items(): AsyncIterable<ImportItem>;
  close(): Promise<void>;
}

/** An input that is not an image or cannot be read. */
export class SkippedInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SkippedInputError';
  }
}

export async function openImportSource(src: string): Promise<ImportSource> {
  if (/^https?:\/\//i.test(src)) return dbSource(src);
  const info = await stat(src);
  if (info.isDirectory()) return dirSource(src);
  return (await looksLikeListFile(src)) ? listSource(src) : dbSource(src);
}

/** Text without NUL bytes whose first non-blank character is not `{` (a shard manifest is JSON). */
async function looksLikeListFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const probe = new Uint8Array(4096);
    const { bytesRead } = await handle.read(probe, 0, probe.length, 0);
    const head = probe.subarray(0, bytesRead);
    if (head.length >= SIGNATURE.length && SIGNATURE.every((b, i) => head[i] === b)) return false;
    if (head.includes(0)) return false;
    const text = new TextDecoder().decode(head).trimStart();
    return !text.startsWith('{');
  } finally {
    await handle.close();
  }
}

/** Read a file and check it is an image; the record carries the image as field 0. */
async function loadImageFile(path: string, record: Omit<NewRecord, 'fields'>): Promise<NewRecord> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new SkippedInputError(`cannot read: ${(error as Error).message}`);
  }
  const sniffed = sniffImage(bytes);
  if (sniffed.codec === ImageCodec.unknown) throw new SkippedInputError('not a recognised image');
  const needsSize = sniffed.codec !== ImageCodec.tiff && sniffed.codec !== ImageCodec.v1raw;
  if (needsSize && (sniffed.width === 0 || sniffed.height === 0)) {
    throw new SkippedInputError('image header unreadable (truncated file?)');
  }
  return {
    ...record,
    fields: [{ kind: 'image', codec: sniffed.codec, bytes, width: sniffed.width, height: sniffed.height }],
  };
}

// ---- directory tree ----

async function listFilesRecursive(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue; // .DS_Store, .git, editor files
    const path = join(dir, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      const s = await stat(path).catch(() => undefined);
      isDir = s?.isDirectory() ?? false;
      isFile = s?.isFile() ?? false;
    }
    if (isDir) out.push(...(await listFilesRecursive(path)));
    else if (isFile) out.push(path);
  }
  return out;
}

async function dirSource(root: string): Promise<ImportSource> {
  const entries = await readdir(root, { withFileTypes: true });
  const topFiles: string[] = [];
  const classDirs: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const path = join(root, e.name);
    const s = e.isSymbolicLink() ? await stat(path).catch(() => undefined) : undefined;
    if (e.isDirectory() || s?.isDirectory()) classDirs.push(e.name);
    else if (e.isFile() || s?.isFile()) topFiles.push(path);
  }
  classDirs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  topFiles.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // Folders all named by integers keep their numbers; otherwise names sort to 0..K-1.
  const numeric = classDirs.length > 0 && classDirs.every((name) => /^\d+$/.test(name));
  const labelOf = new Map<string, number>(classDirs.map((name, k) => [name, numeric ? Number(name) : k]));
  const files: Array<{ path: string; label: number }> = topFiles.map((path) => ({ path, label: 0 }));
  for (const name of classDirs) {
    for (const path of await listFilesRecursive(join(root, name))) files.push({ path, label: labelOf.get(name)! });
  }
  return {
    kind: 'dir',
    total: files.length,
    classNames: numeric || classDirs.length === 0 ? undefined : classDirs,
    enumerationProblems: [],
    async *items() {
      for (const { path, label } of files) {
        yield { name: relative(process.cwd(), path) || path, load: () => loadImageFile(path, { label }) };
      }
    },
    close: async () => {},
  };
}

// ---- list file ----

interface ListLine {
  /** 1-based line number in the list file (named in warnings). */
  line: number;
  path: string;
  label: number;
  annotation?: string;
}

/** Parse a list file: `path<TAB>label` or `path<TAB>{json}` per line; `#` comments and blank lines skipped. */
export function parseListFile(text: string, baseDir: string): { lines: ListLine[]; problems: string[] } {
  const lines: ListLine[] = [];
  const problems: string[] = [];
  const rows = text.split(/\r?\n/);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (row.trim() === '' || row.startsWith('#')) continue;
    const tab = row.indexOf('\t');
    const rawPath = (tab < 0 ? row : row.slice(0, tab)).trim();
    const rest = tab < 0 ? '' : row.slice(tab + 1).trim();
    const path = resolve(baseDir, rawPath);
    if (rest.startsWith('{')) {
      try {
        const parsed: unknown = JSON.parse(rest);
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      } catch (error) {
        problems.push(`line ${i + 1} (${rawPath}): invalid annotation JSON: ${(error as Error).message}`);
        continue;
      }
      lines.push({ line: i + 1, path, label: 0, annotation: rest });
    } else if (rest === '') {
      lines.push({ line: i + 1, path, label: 0 });
    } else {
      const label = Number(rest);
      if (!Number.isFinite(label)) {
        problems.push(`line ${i + 1} (${rawPath}): label is not a number: '${rest}'`);
        continue;
      }
      lines.push({ line: i + 1, path, label });
    }
  }
  return { lines, problems };
}

async function listSource(listPath: string): Promise<ImportSource> {
  const { lines, problems } = parseListFile(await readFile(listPath, 'utf8'), dirname(resolve(listPath)));
  return {
    kind: 'list',
    total: lines.length + problems.length, // bad lines count as skipped inputs
    enumerationProblems: problems,
    async *items() {
      for (const line of lines) {
        const record: Omit<NewRecord, 'fields'> = { label: line.label };
        if (line.annotation !== undefined) record.annotation = line.annotation;
        // Named as enumeration problems are: `list.tsv: line 3 (imgs/a.jpg)`.
        yield { name: `${listPath}: line ${line.line} (${relative(process.cwd(), line.path) || line.path})`, load: () => loadImageFile(line.path, record) };
      }
    },
    close: async () => {},
  };
}

// ---- another database ----

async function dbSource(src: string): Promise<ImportSource> {
  const store: Store = await openStore(src);
  return {
    kind: 'db',
    total: store.recordCount,
    enumerationProblems: [],
    async *items() {
      // One sequential scan (large reads); records are handed to the pool already loaded.
      for await (const r of store.scan()) {
        const record = toNewRecord(r); // copies: the scan's buffer is reused at the next step
        yield { name: `${src}#${r.recordIndex}`, load: async () => record };
      }
    },
    close: () => store.close(),
  };
}
