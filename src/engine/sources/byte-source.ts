// The single I/O seam (STYLE §9, hyparquet AsyncBuffer): everything the engine reads comes
// through a ByteSource. Adapters: memory (here), file and HTTP(S) Range (node-sources.ts).

/**
 * Random-access bytes: the one interface through which every store reads (local file, memory,
 * HTTP Range, S3). Implement it to read stores from anywhere else.
 */
export interface ByteSource {
  /** Path or URL, used in error messages. */
  readonly name: string;
  /** Current length in bytes (files being appended to grow: call refresh()). */
  readonly byteLength: number;
  /**
   * Read exactly `byteLength` bytes at `byteOffset`, or fewer only at the end of the source.
   * The result may be a view into a shared buffer that stays valid until the next read when
   * `options.reuse` is true; otherwise it is owned by the caller.
   */
  read(byteOffset: number, byteLength: number): Promise<Uint8Array>;
  /** Re-read the length (a file being written grows). Returns the new length. */
  refresh(): Promise<number>;
  /** Release the file handle or connections; reads after it throw ClosedError. Calling it twice is harmless. */
  close(): Promise<void>;
  /**
   * Bytes a reader fetches from the end of the file when it opens (footer, then the index from
   * the same read when it fits; a larger index costs one more read). Sources billed per byte
   * (object stores) use less than the 256 KiB default.
   */
  readonly openTailBytes?: number;
}

/** Counts reads and bytes: a machine-independent metric for tests and benches (STYLE §36). */
export interface ReadCounter {
  reads: number;
  bytesRead: number;
}

/** A {@link ByteSource} over bytes already in memory (tests, small files, browser uploads); reads return views, not copies. */
export class MemorySource implements ByteSource {
  readonly name: string;
  private bytes: Uint8Array;
  readonly counter: ReadCounter = { reads: 0, bytesRead: 0 };
  constructor(bytes: Uint8Array, name = 'memory') {
    this.bytes = bytes;
    this.name = name;
  }
  get byteLength(): number {
    return this.bytes.length;
  }
  async read(byteOffset: number, byteLength: number): Promise<Uint8Array> {
    return this.readSync(byteOffset, byteLength);
  }
  /** Memory sources are the one place a sync read exists (STYLE §22). */
  readSync(byteOffset: number, byteLength: number): Uint8Array {
    const end = Math.min(this.bytes.length, byteOffset + byteLength);
    this.counter.reads++;
    const out = byteOffset >= end ? new Uint8Array(0) : this.bytes.subarray(byteOffset, end);
    this.counter.bytesRead += out.length;
    return out;
  }
  /** Replace the contents (tests simulate a growing file with this). */
  setBytes(bytes: Uint8Array): void {
    this.bytes = bytes;
  }
  async refresh(): Promise<number> {
    return this.bytes.length;
  }
  /** Nothing to release: the bytes stay readable after close. */
  async close(): Promise<void> {}
}
