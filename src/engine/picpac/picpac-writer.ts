// Streaming writer of format 2.0 files. Frames are encoded at append() time straight into an
// arena (a large buffer, never reused: no per-record allocation, one copy of the field bytes,
// one CRC call over the contiguous payload); a batch of arena slices is handed to the OS in one
// writev when it reaches bufferBytes or on the next turn of the event loop (group commit, like
// lmdb-js), and each append's promise resolves when its batch is written. close() commits: one index block for this session's records and annotation changes,
// chained to the previous one, then the footer. A fresh file is byte-identical to
// encodeFileImage of the same records; append never touches a byte before the old footer's end.
import { flushWantsFsync } from '../flush-options.ts';
import { writeSync, writevSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ClosedError, FileExistsError, PicpacError, UnfinishedFileError, invalidParameterError, outOfRangeError } from '../../errors.ts';
import { encodeAnnotationPayload } from '../../format/annotation.ts';
import { encodeMetadataPayload, MetadataFormat } from '../../format/metadata.ts';
import { encodeFooterFrame } from '../../format/footer.ts';
import { crc32c } from '../../format/crc32c.ts';
import { encodeFrame, encodeFrameHeader, writeFrameHeaderAt } from '../../format/frame.ts';
import { encodeHeader, isValidAlignment } from '../../format/header.ts';
import { encodeIndexPayload, indexEntryFromRecord } from '../../format/index-block.ts';
import { AnnotationFormat, DEFAULT_LIMITS, FORMAT_MINOR, FRAME, FrameKind, HEADER, MAX_ALIGNMENT, RECORD_FLAG_ANNOTATION_FOLLOWS, alignUp } from '../../format/layout.ts';
import { checkRecordPayload, writeRecordPayload } from '../../format/record.ts';
import type { DecodedRecord, IndexAnnotationEntry } from '../../format/types.ts';
import './crc-native.ts';
import { toDecodedRecord } from '../new-record.ts';
import { PicpacReader } from './picpac-reader.ts';
import { RecordIndex } from './record-index.ts';
import { WriterLock } from './writer-lock.ts';
import { openRegularFile } from '../sources/regular-file.ts';
import type { NewRecord, StoreWriter } from '../store.ts';

/** Options of {@link PicpacWriter.create}. */
export interface PicpacWriterOptions {
  /** 1 = compact (default), or a power of two up to 2^20 (4096 = page aligned frames). */
  alignment?: number;
  /** Replace an existing file (default false: FileExistsError). */
  overwrite?: boolean;
  /** Bytes batched before a write is forced (default 4 MiB; 0 = write every append at once). */
  bufferBytes?: number;
  /** fsync the file on close (default true). */
  fsyncOnClose?: boolean;
}

/** Options of {@link PicpacWriter.append}: the alignment is the file's own, and an existing file is the point. */
export type PicpacAppendOptions = Pick<PicpacWriterOptions, 'bufferBytes' | 'fsyncOnClose'>;

const DEFAULT_BUFFER_BYTES = 4 << 20;
/** Arena size: frames are encoded into arenas of this size (larger frames get their own). */
const ARENA_BYTES = 4 << 20;
/** Bytes above this are queued by reference instead of copied into the arena. */
const COPY_LIMIT_BYTES = 64 << 10;
const FRAME_HEADER_BYTES = FRAME.headerByteLength;
const MAX_IOVECS = 1024;
const utf8 = new TextEncoder();

interface Ack {
  resolve: (value: number) => void;
  reject: (err: unknown) => void;
  value: number;
}

interface CommitState {
  firstRecordIndex: number;
  previousIndexOffset: number;
  generation: number;
}

/**
 * Writes a .picpac 2.0 file: `create` a new one or `append` to a finished one. Appends are
 * batched into few large writes; each resolves once its bytes are handed to the OS, and
 * `close()` commits (index block, then footer). Holds the lock file `<path>.lock` until closed,
 * so a second writer fails with WriterLockedError.
 */
export class PicpacWriter implements StoreWriter {
  readonly name: string;
  readonly alignment: number;
  private handle: FileHandle | undefined;
  private readonly index: RecordIndex;
  private readonly commit: CommitState;
  private readonly bufferBytes: number;
  private readonly fsyncOnClose: boolean;
  /** Encoding target; every byte of a frame, and padding (zeros), is written explicitly. */
  private arena: Uint8Array = new Uint8Array(0);
  /** Arenas swapped out, freed once the write that carries their last bytes completes. */
  private retiredArenas: Uint8Array[] = [];
  /** Arenas to reuse: fresh multi-MiB buffers cost a page fault per 4 KiB written. */
  private readonly freeArenas: Uint8Array[] = [];
  private arenaView = new DataView(this.arena.buffer);
  /** Bytes of the arena used; bytes before arenaQueued are already in the batch. */
  private arenaUsed = 0;
  private arenaQueued = 0;
  /** End of the bytes queued so far (bytes written plus bytes batched), where the next frame or padding goes. */
  private byteOffset: number;
  /** Bytes handed to the OS so far. */
  private writtenByteLength: number;
  private batch: Uint8Array[] = [];
  private batchByteLength = 0;
  private acks: Ack[] = [];
  private scheduled = false;
  private writesInFlight = 0;
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown;
  private readonly annotationChanges = new Map<number, IndexAnnotationEntry>();
  private closing = false;
  /** `<path>.lock`, held from create/append until close/abort [CON-1]. */
  private readonly lock: WriterLock;
  /**
   * Set by append() when the file ended in uncommitted bytes of a writer that died: they were
   * copied to this side file before the append continued from the last commit.
   */
  tornTailSavedTo: string | undefined;
  /** Mark a record written with its annotation [REC-11]: files of minor version >= 1 only. */
  private readonly annotationFlags: boolean;

  private constructor(path: string, handle: FileHandle, lock: WriterLock, alignment: number, index: RecordIndex, commit: CommitState, byteLength: number, options: Required<PicpacAppendOptions>, minorVersion: number) {
    this.name = path;
    this.annotationFlags = minorVersion >= 1;
    this.handle = handle;
    this.lock = lock;
    this.alignment = alignment;
    this.index = index;
    this.commit = commit;
    this.bufferBytes = options.bufferBytes;
    this.fsyncOnClose = options.fsyncOnClose;
    this.byteOffset = byteLength;
    this.writtenByteLength = byteLength;
  }

  /**
   * Create a new file (O_EXCL unless overwrite).
   * @param [options.alignment=1] 1 (compact) or a power of two up to 1048576
   * @param [options.overwrite=false] replace an existing file
   * @param [options.bufferBytes=4194304] batch size before a write is forced
   * @param [options.fsyncOnClose=true] fsync on close
   */
  static async create(path: string, options?: PicpacWriterOptions): Promise<PicpacWriter> {
    if (typeof path !== 'string' || path === '') throw invalidParameterError('path', 'a non-empty string', path);
    const o = validateWriterOptions(options);
    // Lock before opening: 'w' truncates, which must not happen under another writer. [CON-1]
    const lock = await WriterLock.acquire(path);
    let handle: FileHandle;
    try {
      handle = await open(path, o.overwrite ? 'w' : 'wx');
    } catch (err) {
      await lock.release();
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new FileExistsError(path);
      throw err;
    }
    const writer = new PicpacWriter(path, handle, lock, o.alignment, new RecordIndex(), { firstRecordIndex: 0, previousIndexOffset: 0, generation: 0 }, 0, o, FORMAT_MINOR);
    const header = encodeHeader({ alignment: o.alignment });
    writer.push(header);
    writer.pushZeros(alignUp(HEADER.byteLength, o.alignment) - HEADER.byteLength);
    return writer;
  }

  /**
   * Reopen a finished file to add records and annotation changes. The file must open strictly;
   * an unfinished file (writer died) is refused with UnfinishedFileError naming the torn offset,
   * never modified: `picpac repair` writes the recovered records to a new file [RCV-5].
   */
  static async append(path: string, options?: PicpacAppendOptions): Promise<PicpacWriter> {
    if (typeof path !== 'string' || path === '') throw invalidParameterError('path', 'a non-empty string', path);
    const o = validateWriterOptions(options, true);
    // Lock before reading the footer, so no other writer commits between that read and ours. [CON-1]
    const lock = await WriterLock.acquire(path);
    try {
      return await PicpacWriter.reopen(path, lock, o);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  private static async reopen(path: string, lock: WriterLock, o: Required<PicpacAppendOptions>): Promise<PicpacWriter> {
    // Under the lock: the file's end can only be a commit or what a dead writer left.
    let reader: PicpacReader;
    try {
      reader = await PicpacReader.open(path);
    } catch (err) {
      if (err instanceof UnfinishedFileError) throw await unfinishedAppendError(path, err);
      throw err;
    }
    if (reader.recovered) {
      await reader.close();
      throw new UnfinishedFileError(`cannot append: the index of the file is damaged (run \`picpac repair ${path} OUT\` to write the records to a new file with a sound index; ${path} is not modified)`, { section: 'index', byteOffset: reader.knownByteLength });
    }
    const alignment = reader.alignment;
    const index = reader.columns as RecordIndex;
    const commit = { firstRecordIndex: reader.recordCount, previousIndexOffset: reader.indexOffset, generation: reader.generation };
    const commitEnd = reader.knownByteLength;
    const tornTail = reader.tornTail;
    const minorVersion = reader.header.minorVersion;
    await reader.close();
    const { handle } = await openRegularFile(path, 'r+');
    let savedTailTo: string | undefined;
    try {
      const byteLength = (await handle.stat()).size;
      if (tornTail !== undefined && byteLength > commitEnd) {
        // A writer died after its last commit (we hold the lock: no live writer). Its uncommitted
        // bytes were never acknowledged, but they are kept in a side file before the append
        // continues from the last commit. [RCV-6]
        savedTailTo = await saveTornTail(path, handle, commitEnd, byteLength);
        await handle.truncate(commitEnd);
        await handle.sync();
      } else if (byteLength !== commitEnd) {
        throw new PicpacError('IO', `${path} changed while being reopened for append`);
      }
    } catch (err) {
      await handle.close();
      throw err;
    }
    // New frames start right after the old footer; a record frame gets its padding first. [WRT-3]
    const writer = new PicpacWriter(path, handle, lock, alignment, index, commit, commitEnd, o, minorVersion);
    writer.tornTailSavedTo = savedTailTo;
    return writer;
  }

  get recordCount(): number {
    return this.index.recordCount;
  }

  /** Generation the next commit will write. */
  get generation(): number {
    return this.commit.generation + 1;
  }

  /**
   * Add a record. Resolves with its record index once its frame was handed to the OS. Frames are
   * batched: call append without awaiting each one to batch, then await flush() or close().
   */
  append(record: NewRecord): Promise<number> {
    try {
      this.checkWritable();
      const recordIndex = this.index.recordCount;
      const decoded = toDecodedRecord(record, recordIndex);
      const payloadByteLength = checkRecordPayload(decoded);
      if (payloadByteLength > DEFAULT_LIMITS.maxRecordBytes) throw outOfRangeError('record', `a record of at most ${DEFAULT_LIMITS.maxRecordBytes} payload bytes`, payloadByteLength);
      let annotationText: Uint8Array | undefined;
      if (record.annotation !== undefined) {
        if (typeof record.annotation !== 'string') throw invalidParameterError('record.annotation', 'a string or undefined', record.annotation);
        if (record.annotation !== '') annotationText = utf8.encode(record.annotation);
      }
      // Padding, frame header and payload encoded in place in the arena. [ALN-1] [ALN-3]
      const frameOffset = alignUp(this.byteOffset, this.alignment);
      const padding = frameOffset - this.byteOffset;
      const at = this.reserve(padding + FRAME_HEADER_BYTES + payloadByteLength) + padding;
      const arena = this.arena;
      if (padding > 0) arena.fill(0, at - padding, at);
      writeRecordPayload(decoded, arena, at + FRAME_HEADER_BYTES, this.arenaView, annotationText && this.annotationFlags ? RECORD_FLAG_ANNOTATION_FOLLOWS : 0);
      const payload = arena.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + payloadByteLength);
      const payloadCrc = crc32c(payload);
      writeFrameHeaderAt(arena, at, FrameKind.record, payloadByteLength, payloadCrc);
      this.index.setRecord(recordIndex, indexEntryFromRecord(frameOffset, payload, payloadCrc, decoded));
      this.index.setAnnotation(recordIndex, 0, 0, 0, false);
      if (annotationText) this.pushAnnotation(recordIndex, annotationText);
      return this.enqueueAck(recordIndex);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Replace (or with undefined or '' remove) the annotation of a record, appended so far in
   * this file. Resolves when the annotation frame was handed to the OS.
   */
  setAnnotation(recordIndex: number, annotation: string | undefined): Promise<void> {
    try {
      this.checkWritable();
      if (typeof recordIndex !== 'number' || !Number.isInteger(recordIndex)) {
        throw invalidParameterError('recordIndex', `an integer between 0 and ${this.recordCount - 1}`, recordIndex);
      }
      if (recordIndex < 0 || recordIndex >= this.recordCount) {
        throw outOfRangeError('recordIndex', `an integer between 0 and ${this.recordCount - 1}`, recordIndex);
      }
      if (annotation !== undefined && typeof annotation !== 'string') throw invalidParameterError('annotation', 'a string or undefined', annotation);
      this.pushAnnotation(recordIndex, utf8.encode(annotation ?? ''));
      return this.enqueueAck(recordIndex).then(() => undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Set the file's metadata (a JSON object: the class table, …): a metadata frame written now
   * and named by this commit's index block; the newest one wins. [EXT-7] [EXT-8]
   */
  setMetadata(text: string): Promise<void> {
    try {
      this.checkWritable();
      if (typeof text !== 'string') throw invalidParameterError('metadata', 'a string', text);
      const payload = encodeMetadataPayload({ metadataFormat: MetadataFormat.json, text: utf8.encode(text) });
      if (payload.length > DEFAULT_LIMITS.maxAnnotationBytes) throw outOfRangeError('metadata', `text of at most ${DEFAULT_LIMITS.maxAnnotationBytes - 8} bytes`, text.length);
      this.index.metadataOffset = this.byteOffset;
      this.pushFrame(FrameKind.metadata, payload);
      return this.enqueueAck(this.index.recordCount).then(() => undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Hand batched frames to the OS; with fsync, to the device too. */
  async flush(options?: { fsync?: boolean }): Promise<void> {
    const fsync = flushWantsFsync(options);
    if (!this.handle) throw new ClosedError(`writer of ${this.name}`);
    this.startWrite();
    await this.writing;
    if (this.failure) throw this.failure;
    if (fsync) await this.handle.sync();
  }

  /** Commit (index block + footer), fsync unless disabled, close. A second close is a no-op. */
  async close(): Promise<void> {
    if (!this.handle || this.closing) return;
    this.checkWritable();
    this.closing = true;
    const handle = this.handle;
    try {
      const records = [];
      for (let i = this.commit.firstRecordIndex; i < this.index.recordCount; i++) records.push(this.index.entry(i));
      const annotations = [...this.annotationChanges.values()].sort((a, b) => a.recordIndex - b.recordIndex);
      const indexPayload = encodeIndexPayload({ firstRecordIndex: this.commit.firstRecordIndex, previousIndexOffset: this.commit.previousIndexOffset, metadataOffset: this.index.metadataOffset, records, annotations });
      const indexOffset = this.byteOffset;
      this.push(encodeFrame(FrameKind.index, indexPayload));
      const footerOffset = this.byteOffset;
      this.push(encodeFooterFrame({ indexOffset, recordCount: this.index.recordCount, annotatedCount: this.index.annotatedCount, generation: this.commit.generation + 1, footerOffset }));
      this.startWrite();
      await this.writing;
      if (this.failure) throw this.failure;
      if (this.fsyncOnClose) await handle.sync();
    } finally {
      this.handle = undefined;
      try {
        await handle.close();
      } finally {
        await this.lock.release();
      }
    }
  }

  /**
   * Stop without committing: batched frames are dropped and the file is left unfinished, as if
   * the process had died (tests, and callers that must not publish a partial file).
   */
  async abort(): Promise<void> {
    const handle = this.handle;
    if (!handle) return;
    this.handle = undefined;
    this.failure ??= new ClosedError(`writer of ${this.name}`);
    const acks = this.acks;
    this.acks = [];
    this.batch = [];
    this.arenaQueued = this.arenaUsed;
    for (const a of acks) a.reject(this.failure);
    await this.writing.catch(() => {});
    try {
      await handle.close();
    } finally {
      await this.lock.release();
    }
  }

  private checkWritable(): void {
    if (!this.handle || this.closing) throw new ClosedError(`writer of ${this.name}`);
    if (this.failure) throw this.failure;
  }

  /**
   * Claim `byteLength` bytes at the end of the queue, in the arena (another arena when the
   * current one is full); returns their arena offset. The caller writes every byte (a reused
   * arena holds old bytes).
   */
  private reserve(byteLength: number): number {
    if (this.arenaUsed + byteLength > this.arena.length) {
      this.queueArena();
      if (this.arena.length > 0) this.retiredArenas.push(this.arena);
      const free = this.freeArenas.pop();
      this.arena = free !== undefined && free.length >= byteLength ? free : new Uint8Array(Math.max(ARENA_BYTES, byteLength));
      this.arenaView = new DataView(this.arena.buffer);
      this.arenaUsed = 0;
      this.arenaQueued = 0;
    }
    const at = this.arenaUsed;
    this.arenaUsed += byteLength;
    this.batchByteLength += byteLength;
    this.byteOffset += byteLength;
    return at;
  }

  /** Move the arena bytes claimed since the last call into the batch. */
  private queueArena(): void {
    if (this.arenaUsed > this.arenaQueued) {
      this.batch.push(this.arena.subarray(this.arenaQueued, this.arenaUsed));
      this.arenaQueued = this.arenaUsed;
    }
  }

  /** Queue bytes: small ones copied into the arena, large ones by reference (after the arena bytes). */
  private push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (bytes.length <= COPY_LIMIT_BYTES) {
      const at = this.reserve(bytes.length); // may switch arenas: read this.arena after it
      this.arena.set(bytes, at);
      return;
    }
    this.queueArena();
    this.batch.push(bytes);
    this.batchByteLength += bytes.length;
    this.byteOffset += bytes.length;
  }

  private pushZeros(byteLength: number): void {
    if (byteLength > 0) {
      const at = this.reserve(byteLength);
      this.arena.fill(0, at, at + byteLength);
    }
  }

  /** Queue padding (record frames only) + header + payload; returns the payload CRC. [ALN-3] */
  private pushFrame(kind: number, payload: Uint8Array): number {
    if (kind === FrameKind.record) this.pushZeros(alignUp(this.byteOffset, this.alignment) - this.byteOffset);
    const header = encodeFrameHeader(kind, payload);
    this.push(header);
    this.push(payload);
    return new DataView(header.buffer, header.byteOffset).getUint32(FRAME.payloadCrc.offset, true);
  }

  private pushAnnotation(recordIndex: number, text: Uint8Array): void {
    const payload = encodeAnnotationPayload({ recordIndex, annotationFormat: AnnotationFormat.json, text });
    if (payload.length > DEFAULT_LIMITS.maxAnnotationBytes) throw outOfRangeError('annotation', `text of at most ${DEFAULT_LIMITS.maxAnnotationBytes - 16} bytes`, text.length);
    const frameOffset = this.byteOffset;
    const payloadCrc = this.pushFrame(FrameKind.annotation, payload);
    const live = text.length > 0;
    this.index.setAnnotation(recordIndex, frameOffset, payload.length, payloadCrc, live);
    this.annotationChanges.set(recordIndex, live ? { recordIndex, frameOffset, payloadByteLength: payload.length, payloadCrc } : { recordIndex, frameOffset: 0, payloadByteLength: 0, payloadCrc: 0 });
  }

  private enqueueAck(value: number): Promise<number> {
    const promise = new Promise<number>((resolve, reject) => this.acks.push({ resolve, reject, value }));
    if (this.batchByteLength >= this.bufferBytes) {
      // A full batch with no write in flight is written right away, synchronously: a caller
      // appending in a loop without awaiting then reuses two arenas (bounded memory, no page
      // faults on fresh buffers) instead of holding the whole dataset in memory.
      if (this.writesInFlight === 0 && this.bufferBytes > 0) this.writeBatchNow();
      else this.startWrite();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.startWrite();
      });
    }
    return promise;
  }

  /** Write the current batch with one writev syscall, on this thread (no write may be in flight). */
  private writeBatchNow(): void {
    this.queueArena();
    const handle = this.handle as FileHandle;
    const batch = this.batch;
    const acks = this.acks;
    const retired = this.retiredArenas;
    const position = this.writtenByteLength;
    this.writtenByteLength += this.batchByteLength;
    this.batch = [];
    this.acks = [];
    this.retiredArenas = [];
    this.batchByteLength = 0;
    try {
      writeAllSync(handle.fd, batch, position);
    } catch (err) {
      this.failure ??= err;
      for (const a of acks) a.reject(this.failure);
      return;
    }
    for (const r of retired) if (this.freeArenas.length < 2) this.freeArenas.push(r);
    for (const a of acks) a.resolve(a.value);
  }

  /** Move the current batch into the write chain (writes stay in order). */
  private startWrite(): void {
    this.queueArena();
    if (this.batch.length === 0 && this.acks.length === 0) return;
    const batch = this.batch;
    const acks = this.acks;
    const byteLength = this.batchByteLength;
    const position = this.writtenByteLength;
    const retired = this.retiredArenas;
    this.retiredArenas = [];
    this.batch = [];
    this.acks = [];
    this.batchByteLength = 0;
    this.writtenByteLength += byteLength;
    this.writesInFlight++;
    this.writing = this.writing.then(async () => {
      if (this.failure) throw this.failure;
      const handle = this.handle;
      if (!handle) throw new ClosedError(`writer of ${this.name}`);
      await writeAll(handle, batch, position);
    }).then(
      () => {
        this.writesInFlight--;
        for (const r of retired) if (this.freeArenas.length < 2) this.freeArenas.push(r);
        for (const a of acks) a.resolve(a.value);
      },
      (err) => {
        this.writesInFlight--;
        this.failure ??= err;
        for (const a of acks) a.reject(this.failure);
      },
    );
  }
}

/**
 * The refusal to append to an unfinished file [RCV-5]: a recovery scan finds where the valid
 * frames end and the torn tail starts, and the message names both. The file is never touched:
 * repair writes what recovery returns to a new file.
 */
async function unfinishedAppendError(path: string, strictError: UnfinishedFileError): Promise<UnfinishedFileError> {
  let recovered: PicpacReader | undefined;
  try {
    recovered = await PicpacReader.open(path, { recover: true });
  } catch {
    // Not even recoverable: report what the strict open found.
    return new UnfinishedFileError(`cannot append to an unfinished file (run \`picpac repair ${path} OUT\` to save what can be recovered): ${strictError.message}`, {
      section: strictError.section,
      byteOffset: strictError.byteOffset,
    });
  }
  const torn = recovered.tornTailOffset !== undefined;
  const tornOffset = recovered.tornTailOffset ?? recovered.knownByteLength;
  const recordCount = recovered.recordCount;
  await recovered.close();
  return new UnfinishedFileError(
    `cannot append to an unfinished file: its writer stopped before committing; ${recordCount} records are recoverable ` +
      `(run \`picpac repair ${path} OUT\` to write them to a new file; ${path} is not modified); ${torn ? 'torn tail' : 'no footer'}`,
    { section: 'footer', byteOffset: tornOffset },
  );
}

/**
 * Copy bytes [from, to) of the file to `<path>.torn-<from>` (fsynced) so that nothing is lost
 * when the append truncates them; returns the side file's path.
 */
async function saveTornTail(path: string, handle: FileHandle, from: number, to: number): Promise<string> {
  const sidePath = `${path}.torn-${from}`;
  const side = await open(sidePath, 'w');
  try {
    const chunk = new Uint8Array(Math.min(4 << 20, to - from));
    for (let at = from; at < to; ) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, to - at), at);
      if (bytesRead === 0) break;
      await side.write(chunk, 0, bytesRead);
      at += bytesRead;
    }
    await side.sync();
  } finally {
    await side.close();
  }
  return sidePath;
}

/** What a short write of `bytesWritten` bytes left of `group`: the unwritten end of each buffer. */
function unwrittenParts(group: Uint8Array[], bytesWritten: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (const b of group) {
    if (bytesWritten >= b.length) {
      bytesWritten -= b.length;
      continue;
    }
    parts.push(b.subarray(bytesWritten));
    bytesWritten = 0;
  }
  return parts;
}

/** writevSync the buffers at `position`, coping with short writes and the iovec limit. */
function writeAllSync(fd: number, buffers: Uint8Array[], position: number): void {
  for (let i = 0; i < buffers.length; i += MAX_IOVECS) {
    const group = buffers.slice(i, i + MAX_IOVECS);
    let total = 0;
    for (const b of group) total += b.length;
    const bytesWritten = writevSync(fd, group, position);
    position += bytesWritten;
    if (bytesWritten < total) {
      for (let rest of unwrittenParts(group, bytesWritten)) {
        while (rest.length > 0) {
          const n = writeSync(fd, rest, 0, rest.length, position);
          position += n;
          rest = rest.subarray(n);
        }
      }
    }
  }
}

/** writev the buffers at `position`, coping with short writes and the iovec limit. */
async function writeAll(handle: FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  let i = 0;
  while (i < buffers.length) {
    const group = buffers.slice(i, i + MAX_IOVECS);
    let total = 0;
    for (const b of group) total += b.length;
    const { bytesWritten } = await handle.writev(group, position);
    position += bytesWritten;
    if (bytesWritten < total) {
      // Short write: finish the group buffer by buffer.
      for (let rest of unwrittenParts(group, bytesWritten)) {
        while (rest.length > 0) {
          const r = await handle.write(rest, 0, rest.length, position);
          position += r.bytesWritten;
          rest = rest.subarray(r.bytesWritten);
        }
      }
    }
    i += MAX_IOVECS;
  }
}

function validateWriterOptions(options: PicpacWriterOptions | undefined, appendMode = false): Required<PicpacWriterOptions> {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object', options);
  const alignment = options.alignment ?? 1;
  if (appendMode && options.alignment !== undefined) throw invalidParameterError('options.alignment', 'undefined (append keeps the file alignment)', options.alignment);
  if (!isValidAlignment(alignment)) throw invalidParameterError('options.alignment', `1 or a power of two up to ${MAX_ALIGNMENT}`, alignment);
  const overwrite = options.overwrite ?? false;
  if (typeof overwrite !== 'boolean') throw invalidParameterError('options.overwrite', 'a boolean', overwrite);
  const bufferBytes = options.bufferBytes ?? DEFAULT_BUFFER_BYTES;
  if (typeof bufferBytes !== 'number' || !Number.isInteger(bufferBytes) || bufferBytes < 0 || bufferBytes > 1 << 30) {
    throw invalidParameterError('options.bufferBytes', 'an integer between 0 and 1073741824', bufferBytes);
  }
  const fsyncOnClose = options.fsyncOnClose ?? true;
  if (typeof fsyncOnClose !== 'boolean') throw invalidParameterError('options.fsyncOnClose', 'a boolean', fsyncOnClose);
  return Object.freeze({ alignment, overwrite, bufferBytes, fsyncOnClose });
}

