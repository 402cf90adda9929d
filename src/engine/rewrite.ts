// Whole-file rewrites (repair, convert, merge, manifests) never write over a user's file in
// place: the producer writes `<path>.tmp-<pid>-<random>`, which then replaces `path` by rename
// (atomic on POSIX) — or, without overwrite, is linked to `path` so an existing file is never
// clobbered even if it appears meanwhile.
import { randomBytes } from 'node:crypto';
import { link, open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { FileExistsError, invalidParameterError } from '../errors.ts';
import { WriterLock } from './picpac/writer-lock.ts';

/** Options of {@link writeFileAtomically}. */
export interface WriteAtomicallyOptions {
  /**
   * Take the writer lock of `path` for the whole rewrite (default true), so a rewrite never
   * replaces a file another writer is appending to [CON-1]. Pass false when the caller already
   * holds it (repair in place takes it before opening its input).
   */
  lock?: boolean;
  /** Replace `path` if it exists (default false: FileExistsError). */
  overwrite?: boolean;
  /** fsync the directory after the rename (default true). */
  fsyncDirectory?: boolean;
}

/** A fresh temporary name next to `targetPath` (same directory, so rename stays atomic). */
export function temporaryPathFor(targetPath: string): string {
  return `${targetPath}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/**
 * Run `producer(tmpPath)` — it must create and finish the file at tmpPath — then move it to
 * `targetPath`. On any error the temporary file is removed and `targetPath` is untouched.
 * Returns what the producer returned.
 */
export async function writeFileAtomically<T>(targetPath: string, producer: (temporaryPath: string) => Promise<T>, options?: WriteAtomicallyOptions): Promise<T> {
  if (typeof targetPath !== 'string' || targetPath === '') throw invalidParameterError('targetPath', 'a non-empty string', targetPath);
  if (typeof producer !== 'function') throw invalidParameterError('producer', 'a function', producer);
  const overwrite = options?.overwrite ?? false;
  if (typeof overwrite !== 'boolean') throw invalidParameterError('options.overwrite', 'a boolean', overwrite);
  if (!overwrite && (await exists(targetPath))) throw new FileExistsError(targetPath);
  const lock = (options?.lock ?? true) ? await WriterLock.acquire(targetPath) : undefined;
  try {
    return await writeUnderLock(targetPath, producer, overwrite, options);
  } finally {
    await lock?.release();
  }
}

async function writeUnderLock<T>(targetPath: string, producer: (temporaryPath: string) => Promise<T>, overwrite: boolean, options: WriteAtomicallyOptions | undefined): Promise<T> {
  const temporaryPath = temporaryPathFor(targetPath);
  try {
    const result = await producer(temporaryPath);
    if (overwrite) {
      await rename(temporaryPath, targetPath);
    } else {
      try {
        await link(temporaryPath, targetPath); // fails with EEXIST instead of replacing
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new FileExistsError(targetPath);
        throw err;
      }
      await unlink(temporaryPath);
    }
    if (options?.fsyncDirectory ?? true) await fsyncDirectory(path.dirname(targetPath));
    return result;
  } catch (err) {
    await unlink(temporaryPath).catch(() => {});
    throw err;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  try {
    const h = await open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself already happened.
  }
}
