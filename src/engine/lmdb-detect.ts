// Is this path an LMDB environment directory (data.mdb inside)? Sync, for sniff-and-dispatch.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function isLmdbDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory() && existsSync(join(path, 'data.mdb'));
  } catch {
    return false;
  }
}
