// ByteSource over a local file (positional reads, no shared file position, so many readers
// and one writer can use a file at once).
import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { ClosedError, SourceError } from '../../errors.ts';
import { openRegularFile } from './regular-file.ts';
import type { ByteSource, ReadCounter } from './byte-source.ts';

/**
 * A {@link ByteSource} over a local file, by positional reads: many readers and one writer can
 * use the file at once, and `refresh()` picks up bytes a writer appended.
 */
export class FileSource implements ByteSource {
  readonly name: string;
  readonly counter: ReadCounter = { reads: 0, bytesRead: 0 };
  /**
   * Which file the path named when it was opened (device and inode): a file replaced through a
   * rename has another, one appended to keeps it.
   */
  readonly fileId: string;
  private handle: FileHandle | undefined;
  private length: number;

  private constructor(path: string, handle: FileHandle, byteLength: number, fileId: string) {
    this.name = path;
    this.handle = handle;
    this.length = byteLength;
    this.fileId = fileId;
  }

  /**
   * Open a regular file for reading.
   * @throws NotRegularFileError for a directory, FIFO, device or socket (never opened: it could block); SourceError when the file cannot be opened.
   */
  static async open(path: string): Promise<FileSource> {
    // A FIFO or device is refused before open(2) could block on it. [issue 12 item 8]
    const { handle, info } = await openRegularFile(path, 'r');
    return new FileSource(path, handle, info.size, `${info.dev}:${info.ino}`);
  }

  get byteLength(): number {
    return this.length;
  }

  async read(byteOffset: number, byteLength: number): Promise<Uint8Array> {
    if (!this.handle) throw new ClosedError(`file source ${this.name}`);
    const want = Math.max(0, Math.min(byteLength, this.length - byteOffset));
    const out = new Uint8Array(want);
    let done = 0;
    while (done < want) {
      const { bytesRead } = await this.handle.read(out, done, want - done, byteOffset + done);
      if (bytesRead === 0) break; // file shrank underneath us: return what exists
      done += bytesRead;
    }
    this.counter.reads++;
    this.counter.bytesRead += done;
    return done === want ? out : out.subarray(0, done);
  }

  /**
   * Like read(), on the calling thread: one pread(2), no thread-pool hop. For small reads from
   * the page cache (a stream worker's records) this costs a fraction of an async read.
   */
  readSync(byteOffset: number, byteLength: number, into?: Uint8Array): Uint8Array {
    if (!this.handle) throw new ClosedError(`file source ${this.name}`);
    const want = Math.max(0, Math.min(byteLength, this.length - byteOffset));
    const out = into !== undefined && into.length >= want ? into.subarray(0, want) : new Uint8Array(want);
    let done = 0;
    while (done < want) {
      const bytesRead = readSync(this.handle.fd, out, done, want - done, byteOffset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    this.counter.reads++;
    this.counter.bytesRead += done;
    return done === want ? out : out.subarray(0, done);
  }

  /** Read into a caller-owned buffer (sequential scans reuse one large buffer). */
  async readInto(target: Uint8Array, byteOffset: number): Promise<number> {
    if (!this.handle) throw new ClosedError(`file source ${this.name}`);
    let done = 0;
    while (done < target.length) {
      const { bytesRead } = await this.handle.read(target, done, target.length - done, byteOffset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    this.counter.reads++;
    this.counter.bytesRead += done;
    return done;
  }

  async refresh(): Promise<number> {
    if (!this.handle) throw new ClosedError(`file source ${this.name}`);
    this.length = (await this.handle.stat()).size;
    return this.length;
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }
}
