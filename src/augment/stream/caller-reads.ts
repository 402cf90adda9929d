// "Caller reads": when the pool's thread has a core to spare (fewer workers than cores: the same
// condition as the staged conversion), it reads each record of a local .picpac itself — one
// pread, checksums verified (Store.getSync) — into a buffer of shared memory and sends the record
// with its task, so the worker only decodes. The worker is the stream's bottleneck then, and the
// read cost it 15–30 µs of its ~330 µs per 256² sample. A buffer is held until the sample's
// outcome arrives, then reused. Only without a cache: a worker's cache hit needs no bytes.
import type { GetSyncOptions, ReadBuffer, Store, StoredRecord } from '../../engine/store.ts';

/** First size of a shared read buffer; grown to the largest record met. */
const FIRST_BUFFER_BYTES = 64 * 1024;

export class CallerReads {
  private bufferBytes = FIRST_BUFFER_BYTES;
  private readonly free: ReadBuffer[] = [];
  /** Buffers holding the record of a dispatched sample, by the sample's seq. */
  private readonly held = new Map<number, ReadBuffer>();
  /** Records read here so far. */
  count = 0;

  /**
   * @param stores by sourceIndex (main store, mixin); those without getSync are left to the workers
   * @param options what to read of each record (the annotation only when the samples use it)
   */
  constructor(private readonly stores: readonly (Store | undefined)[], private readonly options: GetSyncOptions) {}

  /**
   * Sample `seq`'s record, read now into shared memory held for it; undefined when its worker
   * must read it itself: no synchronous read for this record, or the read failed (the worker
   * meets the same error and reports it as for any sample).
   */
  read(seq: number, sourceIndex: number, recordIndex: number): StoredRecord | undefined {
    const store = this.stores[sourceIndex];
    if (store?.getSync === undefined) return undefined;
    const buffer = this.free.pop() ?? { bytes: new Uint8Array(new SharedArrayBuffer(this.bufferBytes)) };
    let record: StoredRecord | undefined;
    try {
      record = store.getSync(recordIndex, buffer, this.options);
    } catch {
      record = undefined;
    }
    if (record === undefined) {
      this.free.push(buffer);
      return undefined;
    }
    this.count++;
    if (buffer.bytes.buffer instanceof SharedArrayBuffer) {
      this.held.set(seq, buffer);
    } else {
      // Too large for the buffer: the reader read it into a private array (the message copies
      // it); the next buffers are made that large.
      this.bufferBytes = buffer.bytes.length;
    }
    return record;
  }

  /** Sample `seq` has its outcome: its buffer may take another record. */
  release(seq: number): void {
    const buffer = this.held.get(seq);
    if (buffer === undefined) return;
    this.held.delete(seq);
    if (buffer.bytes.length >= this.bufferBytes) this.free.push(buffer);
  }
}
