// Advisory writer lock [CON-1]: a file has at most one writer at a time. A writer creates
// `<path>.lock` with O_EXCL ('wx'), holding {pid, hostname, createdAt} as JSON, and removes it
// when it closes or aborts. A second writer finds the file and refuses (WriterLockedError)
// while the holder is alive. A holder that died (SIGKILL, crash) leaves its lock behind; a lock
// whose pid no longer exists on this host is stale and is replaced, so a crash never blocks a
// later append or repair. Readers never lock: appends only add bytes after the footer [CON-2].
//
// Limits, accepted for an advisory lock: a lock from another host cannot be checked and is
// always honoured (delete it by hand); a pid reused by an unrelated process keeps a stale lock
// alive until deleted; two processes that take over the same stale lock at the same instant
// can both succeed (the window is narrowed by re-reading the lock just before removing it).
import { hostname as osHostname } from 'node:os';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { WriterLockedError, invalidParameterError } from '../../errors.ts';

export interface WriterLockInfo {
  pid: number;
  hostname: string;
  /** ISO 8601 time the lock was taken. */
  createdAt: string;
}

/** How long an empty or unreadable lock file counts as "being created" rather than stale. */
const CREATING_GRACE_MS = 5_000;
const MAX_ATTEMPTS = 5;

export function lockPathFor(path: string): string {
  return `${path}.lock`;
}

export class WriterLock {
  readonly path: string;
  readonly lockPath: string;
  readonly info: WriterLockInfo;
  private released = false;

  private constructor(path: string, lockPath: string, info: WriterLockInfo) {
    this.path = path;
    this.lockPath = lockPath;
    this.info = info;
  }

  /**
   * Take the lock of `path` (the data file, not the lock file). Throws WriterLockedError when a
   * live writer holds it; replaces a stale lock left by a writer that died.
   */
  static async acquire(path: string): Promise<WriterLock> {
    if (typeof path !== 'string' || path === '') throw invalidParameterError('path', 'a non-empty string', path);
    const lockPath = lockPathFor(path);
    const info: WriterLockInfo = { pid: process.pid, hostname: osHostname(), createdAt: new Date().toISOString() };
    const text = JSON.stringify(info) + '\n';
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        const handle = await open(lockPath, 'wx');
        try {
          await handle.writeFile(text);
        } catch (err) {
          await handle.close().catch(() => {});
          await unlink(lockPath).catch(() => {});
          throw err;
        }
        await handle.close();
        return new WriterLock(path, lockPath, info);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = await readLock(lockPath);
      if (held === 'gone') continue; // removed meanwhile: try again
      if (held === 'creating') throw new WriterLockedError(path, lockPath, {});
      if (held !== 'stale' && isHolderAlive(held)) throw new WriterLockedError(path, lockPath, held);
      // Stale: remove it only if it is still the lock we judged (another process may have
      // replaced it meanwhile), then try to create ours.
      const again = await readLock(lockPath);
      if (again === 'gone' || sameLock(held, again)) await unlink(lockPath).catch(ignoreMissing);
    }
    throw new WriterLockedError(path, lockPath, {});
  }

  /** Remove the lock file if it is still ours. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const held = await readLock(this.lockPath);
    if (typeof held === 'object' && sameLock(held, this.info)) await unlink(this.lockPath).catch(ignoreMissing);
  }
}

/**
 * The live writer holding the lock of `path`, or undefined (no lock, a stale one, or one being
 * created). Readers use it to say "being appended to by pid N" instead of "damaged".
 */
export async function liveLockHolder(path: string): Promise<WriterLockInfo | undefined> {
  const held = await readLock(lockPathFor(path)).catch(() => 'gone' as const);
  return typeof held === 'object' && isHolderAlive(held) ? held : undefined;
}

/** The holder named by a lock file; 'stale' when unparsable and old; 'creating' when unparsable and fresh. */
async function readLock(lockPath: string): Promise<WriterLockInfo | 'gone' | 'creating' | 'stale'> {
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  try {
    const v = JSON.parse(text) as Partial<WriterLockInfo>;
    if (Number.isSafeInteger(v.pid) && (v.pid as number) > 0 && typeof v.hostname === 'string') {
      return { pid: v.pid as number, hostname: v.hostname, createdAt: String(v.createdAt ?? '') };
    }
  } catch {
    // fall through: empty (its writer is between create and write) or garbage
  }
  try {
    const { mtimeMs } = await stat(lockPath);
    return Date.now() - mtimeMs < CREATING_GRACE_MS ? 'creating' : 'stale';
  } catch {
    return 'gone';
  }
}

function sameLock(a: WriterLockInfo | 'stale', b: WriterLockInfo | 'gone' | 'creating' | 'stale'): boolean {
  if (a === 'stale' || b === 'stale') return a === b;
  if (typeof b !== 'object') return false;
  return a.pid === b.pid && a.hostname === b.hostname && a.createdAt === b.createdAt;
}

/** A holder on another host cannot be checked: it counts as alive. */
function isHolderAlive(holder: WriterLockInfo): boolean {
  if (holder.hostname !== osHostname()) return true;
  try {
    process.kill(holder.pid, 0); // signal 0: existence check only
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'; // EPERM: alive, owned by another user
  }
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}
