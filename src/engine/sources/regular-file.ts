// Only regular files are opened as databases (issue 12 item 8): open(2) on a FIFO blocks until a
// writer appears, and a character device (/dev/zero, /dev/urandom) reads forever. The path is
// checked with stat() before any open, and opened with O_NONBLOCK so that a FIFO swapped in
// between the two calls still cannot block; fstat() of the open handle is checked again.
import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { NotRegularFileError, SourceError } from '../../errors.ts';

/** What a non-regular path is, in words, for the message. */
function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Throw NotRegularFileError unless `path` is a regular file (ENOENT and friends propagate as SourceError). */
export async function checkRegularFile(path: string): Promise<Stats> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (err) {
    throw new SourceError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!info.isFile()) throw new NotRegularFileError(path, kindOf(info));
  return info;
}

/**
 * Open a regular file without ever blocking on a FIFO or device: 'r' (read) or 'r+' (append
 * writers). The handle's fstat is checked too (the path may have been replaced meanwhile).
 */
export async function openRegularFile(path: string, mode: 'r' | 'r+'): Promise<{ handle: FileHandle; info: Stats }> {
  await checkRegularFile(path);
  const flags = (mode === 'r' ? constants.O_RDONLY : constants.O_RDWR) | constants.O_NONBLOCK;
  let handle: FileHandle;
  try {
    handle = await open(path, flags);
  } catch (err) {
    throw new SourceError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw new NotRegularFileError(path, kindOf(info));
  }
  return { handle, info };
}
