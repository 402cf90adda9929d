// Listing the files of an image folder: recursive, sorted by name at each level, dot-files and
// dot-folders skipped, paths relative to the root with '/' separators.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

export interface WalkOptions {
  /** Descend into symbolic links that point at folders (default false: a link is listed as a file). */
  followLinks?: boolean;
}

export async function walkFiles(root: string, options: WalkOptions = {}, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(path.join(root, prefix), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    let isDir = e.isDirectory();
    if (options.followLinks && e.isSymbolicLink()) isDir = (await stat(path.join(root, rel)).catch(() => undefined))?.isDirectory() ?? false;
    if (isDir) out.push(...(await walkFiles(root, options, rel)));
    else out.push(rel);
  }
  return out;
}
