// Reader of format 2.0 files (Store 'picpac-2'). Opening reads the header and the tail (one read
// each, one in total for small files), then the index chain, into typed-array columns; meta() is
// a sync column lookup; get() is one positional read per record (annotation included when it
// directly follows); scan() reads large sequential chunks and yields views into them.
import { ClosedError, FormatError, LimitExceededError, PicpacError, SourceError, UnfinishedFileError, UnsupportedVersionError, outOfRangeError } from '../../errors.ts';
import { decodeFooterFrame } from '../../format/footer.ts';
import { checkExtendedHeaderCrc, decodeHeader, firstFrameOffset, headerBytesToCheck } from '../../format/header.ts';
import { FOOTER, FRAME, FrameKind, HEADER, SIGNATURE } from '../../format/layout.ts';
import { checkFramePayload, decodeFrameHeader } from '../../format/frame.ts';
import { decodeMetadataPayload, MetadataFormat } from '../../format/metadata.ts';
import type { FileHeader, Footer } from '../../format/types.ts';
import type { ByteSource } from '../sources/byte-source.ts';
import { installNativeCrc32c } from './crc-native.ts';
import { FileSource } from '../sources/file-source.ts';
import { checkFrameGaps, planFrameGaps } from './frame-gaps.ts';
import { ReadCache, checkFooterCounts, loadIndexChain, readFooter, readTail } from './index-chain.ts';
import { RecordIndex } from './record-index.ts';
import type { SharedRecordIndex } from './record-index.ts';
import { decodeAnnotationFrame, decodeScannedRecord, decodeStoredRecord } from './record-decode.ts';
import { planReads, sliceReads } from '../sources/read-plan.ts';
import type { ByteRange } from '../sources/read-plan.ts';
import type { RebuiltIndex } from './recovery.ts';

/**
 * Recovery (scanning the frames when the index cannot be used) loads on first need: it is ~17 KB
 * of code that opening an intact file never runs, and `picpac stat` is meant to start in
 * 150 ms (issue 11).
 */
const rebuildIndex: typeof import('./recovery.ts').rebuildIndex = async (...args) => (await import('./recovery.ts')).rebuildIndex(...args);
import { findLastFooter } from './last-commit.ts';
import type { GetSyncOptions, ReadBuffer, RecordMeta, Store, StoredRecord } from '../store.ts';
import { validateReaderOptions, validateScanOptions } from '../reader-options.ts';
import type { PicpacReaderOptions, PicpacScanOptions, ValidReaderOptions } from '../reader-options.ts';

export type { PicpacReaderOptions, PicpacScanOptions } from '../reader-options.ts';

/**
 * An open local file's reader state for another thread (PicpacReader.snapshot): structured-
 * cloneable, the index columns in shared memory. PicpacReader.fromSnapshot reads the same records
 * from it without reading or checking the index again.
 */
export interface PicpacReaderSnapshot {
  path: string;
  /** FileSource.fileId when the snapshot was taken. */
  fileId: string;
  header: FileHeader;
  index: SharedRecordIndex;
  options: ValidReaderOptions;
  knownEnd: number;
  generation: number;
  committedIndexOffset: number;
  recovered: boolean;
  tornTailOffset: number | undefined;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const FRAME_HEADER_BYTES = FRAME.headerByteLength;
/** Files up to this size are opened with a single read. */
const WHOLE_FILE_BYTES = 256 << 10;
/** Bytes read from the end on open: the footer plus, usually, the newest index block. */
const TAIL_BYTES = 256 << 10;

/**
 * Reads a .picpac 2.0 file (Store format 'picpac-2') from a local path or any {@link ByteSource}.
 * Opening loads the index into memory, so `meta()` is a sync lookup and `get()` is one read per
 * record; a file whose writer died opens at its last commit, or with `recover` past the damage.
 */
export class PicpacReader implements Store {
  readonly format = 'picpac-2';
  readonly header: FileHeader;
  /** True when the index was rebuilt by scanning (the footer was missing or torn). */
  recovered = false;
  /**
   * The torn offset [RCV-1]: where the valid frames end in a recovered or live file (the end of
   * the last valid frame, before any padding), when bytes follow that are not a valid frame.
   */
  tornTailOffset: number | undefined;
  /** Commits the file has seen (footer generation), 0 for a recovered file without a footer. */
  generation = 0;
  /**
   * Bytes after the last valid commit, when the reader opened that commit because the end of the
   * file is not a valid footer (a writer is appending, or died mid-append). Undefined otherwise.
   */
  tornTail: { byteOffset: number; byteLength: number; reason: string } | undefined;
  /** What a recovering open (or a fallback scan of a damaged index) found and did not keep. */
  recovery: RebuiltIndex | undefined;
  /** Things the user should know about this open (torn tail, damaged index): print them. */
  readonly warnings: string[] = [];
  private index: RecordIndex;
  private readonly source: ByteSource;
  private readonly ownsSource: boolean;
  private readonly options: ValidReaderOptions;
  private readonly firstFrame: number;
  /** Offset of the newest index block known (0 = none). */
  private committedIndexOffset = 0;
  /** Bytes covered by the index: frames before this offset are known. */
  private knownEnd: number;
  /** The index columns are another reader's, shared (fromSnapshot): copied before any change. */
  private sharedIndex = false;
  private closed = false;

  private constructor(source: ByteSource, ownsSource: boolean, header: FileHeader, index: RecordIndex, options: PicpacReader['options'], knownEnd: number) {
    this.source = source;
    this.ownsSource = ownsSource;
    this.header = header;
    this.index = index;
    this.options = options;
    this.firstFrame = firstFrameOffset(header);
    this.knownEnd = knownEnd;
  }

  /**
   * Open a .picpac 2.0 file or source.
   * By default a file whose end is not a valid footer opens at its last valid commit (see
   * `tornTail`, `warnings`), and a damaged index falls back to a scan of the frames.
   * @param [options.strict=false] refuse both instead (UnfinishedFileError / FormatError)
   * @param [options.recover=false] rebuild the index by scanning every frame, past damage
   * @param [options.verifyChecksums=true] verify payload CRCs on every read
   * @param [options.maxRecordBytes=1 GiB] larger record frames are a LimitExceededError
   * @param [options.maxAnnotationBytes=64 MiB] larger annotation frames are a LimitExceededError
   * @param [options.maxIndexBytes=1 GiB] larger index blocks are a LimitExceededError
   */
  static async open(source: ByteSource | string, options?: PicpacReaderOptions): Promise<PicpacReader> {
    const opts = validateReaderOptions(options);
    const ownsSource = typeof source === 'string';
    const src = typeof source === 'string' ? await FileSource.open(source) : source;
    try {
      return await PicpacReader.openSource(src, ownsSource, opts);
    } catch (err) {
      if (ownsSource) await src.close().catch(() => {});
      throw tagError(err, src.name);
    }
  }

  /**
   * This reader's state for a worker thread reading the same local file (a stream's workers):
   * the index is copied once into shared memory, so the workers neither read and check it again
   * nor hold a copy each. Undefined when the source is not a local file.
   */
  snapshot(): PicpacReaderSnapshot | undefined {
    this.checkOpen();
    if (!(this.source instanceof FileSource)) return undefined;
    return {
      path: this.source.name, fileId: this.source.fileId, header: this.header, index: this.index.share(), options: this.options,
      knownEnd: this.knownEnd, generation: this.generation, committedIndexOffset: this.committedIndexOffset,
      recovered: this.recovered, tornTailOffset: this.tornTailOffset,
    };
  }

  /**
   * A reader of the file a {@link PicpacReader.snapshot | snapshot} describes, with its index (shared, not copied), or
   * undefined when the path now names another file (replaced through a rename) or a shorter one:
   * open it afresh then. A file appended to since is read as it was at the snapshot (refresh()
   * picks up the rest).
   * @throws SourceError / NotRegularFileError when the path cannot be opened
   */
  static async fromSnapshot(snapshot: PicpacReaderSnapshot): Promise<PicpacReader | undefined> {
    const source = await FileSource.open(snapshot.path);
    if (source.fileId !== snapshot.fileId || source.byteLength < snapshot.knownEnd) {
      await source.close();
      return undefined;
    }
    const reader = new PicpacReader(source, true, snapshot.header, RecordIndex.fromShared(snapshot.index), snapshot.options, snapshot.knownEnd);
    reader.sharedIndex = true;
    reader.generation = snapshot.generation;
    reader.committedIndexOffset = snapshot.committedIndexOffset;
    reader.recovered = snapshot.recovered;
    reader.tornTailOffset = snapshot.tornTailOffset;
    return reader;
  }

  private static async openSource(source: ByteSource, ownsSource: boolean, opts: PicpacReader['options']): Promise<PicpacReader> {
    const byteLength = source.byteLength;
    const whole = byteLength <= WHOLE_FILE_BYTES ? await source.read(0, byteLength) : undefined;
    const headerBytes = whole ? whole.subarray(0, HEADER.byteLength) : await source.read(0, HEADER.byteLength);
    if (headerBytes.length < HEADER.byteLength && isSignaturePrefix(headerBytes)) {
      if (opts.recover) {
        // The writer died before its header reached the disk: an empty recovered store.
        const empty = new PicpacReader(source, ownsSource, emptyHeader(), new RecordIndex(), opts, 0);
        empty.recovered = true;
        empty.tornTailOffset = byteLength > 0 ? 0 : undefined;
        return empty;
      }
      throw new UnfinishedFileError('file shorter than its header', { section: 'header', byteOffset: byteLength, expected: `>= ${HEADER.byteLength} bytes`, actual: byteLength });
    }
    const header = decodeHeader(headerBytes);
    // A grown header with its own CRC (2.1) is read whole and checked. [HDR-9]
    if (headerBytesToCheck(header) > headerBytes.length) {
      const grown = headerBytesToCheck(header);
      checkExtendedHeaderCrc(whole && whole.length >= grown ? whole : await source.read(0, grown), header);
    }
    const first = firstFrameOffset(header);
    const maxPayloadBytes = Math.max(opts.maxRecordBytes, opts.maxAnnotationBytes, opts.maxIndexBytes);
    if (opts.recover) {
      // Every valid frame, past damaged ranges (resync), a record with the annotation written with it or not at all.
      const rebuilt = await rebuildIndex(source, { header, resync: true, maxPayloadBytes });
      const reader = new PicpacReader(source, ownsSource, header, rebuilt.index, opts, rebuilt.endOffset);
      reader.recovered = true;
      reader.tornTailOffset = tornOffsetOf(rebuilt);
      reader.recovery = rebuilt;
      return reader;
    }
    let strictError: FormatError;
    try {
      return await PicpacReader.openCommit(source, ownsSource, header, opts, byteLength, whole);
    } catch (err) {
      // A critical extension or a limit is not damage: no fallback reads around it.
      if (!(err instanceof FormatError) || err instanceof UnsupportedVersionError || err instanceof LimitExceededError) throw err;
      strictError = err;
    }
    if (opts.strict) throw strictError;
    if (strictError instanceof UnfinishedFileError) {
      // The end is not a valid footer: open the last valid commit, warn about the bytes after it.
      const footerOffset = await findLastFooter(source, first, byteLength - 1); // a footer ending before the file does
      if (footerOffset !== undefined) {
        const commitEnd = footerOffset + FOOTER.frameByteLength;
        try {
          const reader = await PicpacReader.openCommit(source, ownsSource, header, opts, commitEnd, whole?.subarray(0, commitEnd));
          reader.tornTail = { byteOffset: commitEnd, byteLength: byteLength - commitEnd, reason: strictError.message };
          reader.tornTailOffset = commitEnd;
          reader.warnings.push(
            `reading the last commit (generation ${reader.generation}, ${reader.recordCount} records, bytes 0..${commitEnd}); ` +
              `the ${byteLength - commitEnd} bytes after it (bytes ${commitEnd}..${byteLength}) are not committed (${strictError.message}): ` +
              'a writer is appending, or one stopped before its commit',
          );
          return reader;
        } catch (err) {
          if (!(err instanceof FormatError) || err instanceof UnsupportedVersionError || err instanceof LimitExceededError) throw err;
        }
      }
      throw new UnfinishedFileError(
        `no committed data to read: ${strictError.message.replace(/^footer: /, '')}; the file has no valid commit ` +
          '(its first writer has not committed yet, or stopped before committing, or the end of the file is damaged). ' +
          'If no writer is running, `picpac repair FILE OUT` saves every intact record, and `--recover` reads them',
        { section: strictError.section, byteOffset: strictError.byteOffset },
      );
    }
    // The footer is valid but the index (or the frames between indexed ones) is damaged: the
    // index is redundant [IDX-9], so the records are found by scanning the frames.
    const rebuilt = await rebuildIndex(source, { header, resync: true, maxPayloadBytes });
    const reader = new PicpacReader(source, ownsSource, header, rebuilt.index, opts, rebuilt.endOffset);
    reader.recovered = true;
    reader.tornTailOffset = tornOffsetOf(rebuilt);
    reader.recovery = rebuilt;
    reader.warnings.push(`the index is damaged (${strictError.message}); read ${reader.recordCount} records by scanning the frames instead (\`picpac repair\` writes a file with a sound index)`);
    return reader;
  }

  /** Strict open of the commit whose footer ends at `byteLength` [RCV-1]. */
  private static async openCommit(source: ByteSource, ownsSource: boolean, header: FileHeader, opts: ValidReaderOptions, byteLength: number, whole: Uint8Array | undefined): Promise<PicpacReader> {
    const first = firstFrameOffset(header);
    const tailStart = Math.max(first, byteLength - (whole ? TAIL_BYTES : (source.openTailBytes ?? TAIL_BYTES)));
    const cache = new ReadCache(source, whole ? whole.subarray(tailStart, byteLength) : await readTail(source, tailStart, byteLength), tailStart);
    const footer = await readFooter(cache, first, byteLength);
    checkFooterCounts(footer, first);
    const index = new RecordIndex(footer.recordCount);
    const blocks = await loadIndexChain(cache, index, footer, { firstFrame: first, stopAtOffset: 0, maxIndexBytes: opts.maxIndexBytes });
    await checkFrameGaps((o, l) => cache.read(o, l), planFrameGaps(index, header.alignment, first, footer.footerOffset, blocks), header.alignment);
    // Frames appended later start right after the footer (a record after padding). [ALN-3]
    const reader = new PicpacReader(source, ownsSource, header, index, opts, byteLength);
    reader.committedIndexOffset = footer.indexOffset;
    reader.generation = footer.generation;
    return reader;
  }

  get name(): string {
    return this.source.name;
  }

  get recordCount(): number {
    return this.index.recordCount;
  }

  get annotatedCount(): number {
    return this.index.annotatedCount;
  }

  /** Alignment of frames in this file (1 = compact). */
  get alignment(): number {
    return this.header.alignment;
  }

  /** The typed-array index columns (read-only use: stratification, stats). */
  get columns(): Readonly<RecordIndex> {
    return this.index;
  }

  /** Frame offset of the newest committed index block (0 = none: a recovered file). */
  get indexOffset(): number {
    return this.committedIndexOffset;
  }

  /** End of the known frames: where the next frame (or the padding before a record) starts. */
  get knownByteLength(): number {
    return this.knownEnd;
  }

  meta(recordIndex: number): RecordMeta {
    this.checkRecordIndex(recordIndex);
    return this.index.meta(recordIndex);
  }

  async get(recordIndex: number): Promise<StoredRecord> {
    this.checkOpen();
    this.checkRecordIndex(recordIndex);
    const ix = this.index;
    const frameOffset = ix.frameOffset[recordIndex];
    const payloadByteLength = ix.payloadByteLength[recordIndex];
    this.checkRecordLimit(recordIndex);
    const frameEnd = frameOffset + FRAME_HEADER_BYTES + payloadByteLength;
    const annotationOffset = ix.annotationOffset[recordIndex];
    // Coalesce: the annotation frame written right after its record comes in the same read.
    const adjacent = annotationOffset === frameEnd && ix.annotationByteLength[recordIndex] <= this.options.maxAnnotationBytes;
    const readEnd = adjacent ? annotationOffset + FRAME_HEADER_BYTES + ix.annotationByteLength[recordIndex] : frameEnd;
    try {
      const bytes = await this.source.read(frameOffset, readEnd - frameOffset);
      const record = decodeStoredRecord(bytes, ix, recordIndex, this.options.verifyChecksums, this.options.maxRecordBytes);
      if (adjacent) {
        record.annotation = decodeAnnotationFrame(bytes.subarray(annotationOffset - frameOffset), ix, recordIndex, this.options.verifyChecksums, this.options.maxAnnotationBytes);
      } else if (annotationOffset !== 0) {
        record.annotation = await this.readAnnotation(recordIndex);
      }
      return record;
    } catch (err) {
      throw tagError(err, this.name);
    }
  }

  /**
   * get() on the calling thread, for a local file whose record has no annotation or has it right
   * after the record (one pread); undefined otherwise (use get()). Stream workers use it, with a
   * reused `buffer` (Store.getSync: the field bytes are then views of buffer.bytes). With
   * `options.annotation` false, the annotation is skipped wherever it is (one pread of the frame).
   */
  getSync(recordIndex: number, buffer?: ReadBuffer, options?: GetSyncOptions): StoredRecord | undefined {
    if (!(this.source instanceof FileSource)) return undefined;
    // Synchronous reads are a stream's, which checks every record: the hardware CRC-32C from the
    // first one, not after 4 MiB hashed in JS (crc-native.ts; a no-op once installed).
    if (this.options.verifyChecksums) installNativeCrc32c();
    this.checkOpen();
    this.checkRecordIndex(recordIndex);
    const ix = this.index;
    const frameOffset = ix.frameOffset[recordIndex];
    const frameEnd = frameOffset + FRAME_HEADER_BYTES + ix.payloadByteLength[recordIndex];
    const annotationOffset = options?.annotation === false ? 0 : ix.annotationOffset[recordIndex];
    const adjacent = annotationOffset === frameEnd && ix.annotationByteLength[recordIndex] <= this.options.maxAnnotationBytes;
    if (annotationOffset !== 0 && !adjacent) return undefined;
    this.checkRecordLimit(recordIndex);
    const readEnd = adjacent ? annotationOffset + FRAME_HEADER_BYTES + ix.annotationByteLength[recordIndex] : frameEnd;
    try {
      const byteLength = readEnd - frameOffset;
      // Grown to whole 64 KiB so a few larger records do not reallocate it each time.
      if (buffer !== undefined && buffer.bytes.length < byteLength) buffer.bytes = new Uint8Array(Math.ceil(byteLength / 65536) * 65536);
      const bytes = this.source.readSync(frameOffset, byteLength, buffer?.bytes);
      const record = decodeStoredRecord(bytes, ix, recordIndex, this.options.verifyChecksums, this.options.maxRecordBytes);
      if (adjacent) {
        record.annotation = decodeAnnotationFrame(bytes.subarray(annotationOffset - frameOffset), ix, recordIndex, this.options.verifyChecksums, this.options.maxAnnotationBytes);
      }
      return record;
    } catch (err) {
      throw tagError(err, this.name);
    }
  }

  async getAnnotation(recordIndex: number): Promise<string | undefined> {
    this.checkOpen();
    this.checkRecordIndex(recordIndex);
    try {
      return await this.readAnnotation(recordIndex);
    } catch (err) {
      throw tagError(err, this.name);
    }
  }

  /**
   * Every live annotation of records [start, end) without reading record frames: the index names
   * each annotation frame [ANN-7], and frames within `maxGapBytes` of each other share one read
   * (annotations appended together sit back to back). For `stat` over HTTP, which needs only
   * these. Reads run `concurrency` at a time.
   * @param [options.maxGapBytes=4096] merge frames this close (bytes read in between are wasted)
   */
  async readAnnotations(options?: { start?: number; end?: number; maxGapBytes?: number; concurrency?: number }): Promise<Map<number, string>> {
    this.checkOpen();
    const ix = this.index;
    const start = options?.start ?? 0;
    const end = options?.end ?? ix.recordCount;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > ix.recordCount || start > end) throw outOfRangeError('range', `0 <= start <= end <= ${ix.recordCount}`, `${start}..${end}`);
    const records: number[] = [];
    const ranges: ByteRange[] = [];
    for (let i = start; i < end; i++) {
      if (ix.annotationOffset[i] === 0) continue;
      if (ix.annotationByteLength[i] > this.options.maxAnnotationBytes) {
        throw tagError(new LimitExceededError('annotation frame exceeds the reader limit', { section: 'index', byteOffset: ix.annotationOffset[i], recordIndex: i, expected: `<= ${this.options.maxAnnotationBytes}`, actual: ix.annotationByteLength[i] }), this.name);
      }
      records.push(i);
      ranges.push({ byteOffset: ix.annotationOffset[i], byteLength: FRAME_HEADER_BYTES + ix.annotationByteLength[i] });
    }
    const plan = planReads(ranges, { maxGapBytes: options?.maxGapBytes ?? 4096 });
    const concurrency = options?.concurrency ?? 8;
    const bytes: Uint8Array[] = new Array(plan.length);
    try {
      for (let k = 0; k < plan.length; k += concurrency) {
        const batch = plan.slice(k, k + concurrency);
        const got = await Promise.all(batch.map((r) => this.source.read(r.byteOffset, r.byteLength)));
        got.forEach((b, j) => (bytes[k + j] = b));
      }
      const out = new Map<number, string>();
      sliceReads(ranges, plan, bytes).forEach((frame, k) => {
        const text = decodeAnnotationFrame(frame, ix, records[k], this.options.verifyChecksums, this.options.maxAnnotationBytes);
        if (text !== undefined) out.set(records[k], text);
      });
      return out;
    } catch (err) {
      throw tagError(err, this.name);
    }
  }

  /** Frame offset of the file's metadata frame (0 = none). [EXT-8] */
  get metadataOffset(): number {
    return this.index.metadataOffset;
  }

  /** The file's metadata JSON text (class table, …), undefined when it has none. [EXT-7] */
  async getMetadata(): Promise<string | undefined> {
    this.checkOpen();
    const offset = this.index.metadataOffset;
    if (offset === 0) return undefined;
    try {
      const header = decodeFrameHeader(await this.source.read(offset, FRAME_HEADER_BYTES), offset, { maxPayloadBytes: this.options.maxAnnotationBytes });
      if (header.kind !== FrameKind.metadata) throw new FormatError('metadata offset does not point at a metadata frame', { section: 'metadata', byteOffset: offset, expected: FrameKind.metadata, actual: header.kind });
      const payload = await this.source.read(offset + FRAME_HEADER_BYTES, header.payloadByteLength);
      checkFramePayload(header, payload, offset);
      const m = decodeMetadataPayload(payload, offset + FRAME_HEADER_BYTES);
      return m.metadataFormat === MetadataFormat.json ? utf8Decoder.decode(m.text) : undefined;
    } catch (err) {
      throw tagError(err, this.name);
    }
  }

  private async readAnnotation(recordIndex: number): Promise<string | undefined> {
    const ix = this.index;
    const annotationOffset = ix.annotationOffset[recordIndex];
    if (annotationOffset === 0) return undefined;
    const payloadByteLength = ix.annotationByteLength[recordIndex];
    if (payloadByteLength > this.options.maxAnnotationBytes) {
      throw new LimitExceededError('annotation frame exceeds the reader limit', {
        section: 'index',
        byteOffset: annotationOffset,
        recordIndex,
        expected: `<= ${this.options.maxAnnotationBytes}`,
        actual: payloadByteLength,
      });
    }
    const bytes = await this.source.read(annotationOffset, FRAME_HEADER_BYTES + payloadByteLength);
    return decodeAnnotationFrame(bytes, ix, recordIndex, this.options.verifyChecksums, this.options.maxAnnotationBytes);
  }

  /**
   * Records in file order, read with large sequential reads. Without `copy`, field bytes are
   * views into a reused chunk buffer: valid until the next iteration step only.
   * @param [options.start=0] first record index
   * @param [options.end=recordCount] one past the last record index
   * @param [options.chunkBytes=4 MiB] bytes per read
   * @param [options.verifyChecksums] default: the reader's setting
   * @param [options.copy=false] give every record its own field bytes
   */
  scan(options?: PicpacScanOptions): AsyncIterableIterator<StoredRecord> {
    return new RecordsOfBatches(this.scanBatches(options));
  }

  /**
   * Like scan(), one array per sequential read (one await per chunk instead of per record).
   * Without `copy`, field bytes are views valid until the next batch is requested.
   */
  scanBatches(options?: PicpacScanOptions): AsyncIterableIterator<StoredRecord[]> {
    this.checkOpen();
    const o = validateScanOptions(options, this.recordCount, this.options.verifyChecksums);
    return this.scanChunks(o.start, o.end, o.chunkBytes, o.verifyChecksums, o.copy);
  }

  /** End of the bytes record `i` needs: its frame, plus its annotation frame when adjacent. */
  private scanNeedEnd(i: number): number {
    const ix = this.index;
    const frameEnd = ix.frameOffset[i] + FRAME_HEADER_BYTES + ix.payloadByteLength[i];
    if (ix.annotationOffset[i] === frameEnd && ix.annotationByteLength[i] <= this.options.maxAnnotationBytes) {
      return frameEnd + FRAME_HEADER_BYTES + ix.annotationByteLength[i];
    }
    return frameEnd;
  }

  /** Plan one sequential read from record `first`: as many whole records as fit in chunkBytes (at least one). */
  private planScanChunk(first: number, end: number, chunkBytes: number): ScanChunk {
    const byteOffset = this.index.frameOffset[first];
    this.checkRecordLimit(first);
    let last = this.scanNeedEnd(first);
    let next = first + 1;
    const maxRecordBytes = this.options.maxRecordBytes;
    const payloadByteLength = this.index.payloadByteLength;
    while (next < end) {
      const needEnd = this.scanNeedEnd(next);
      if (needEnd - byteOffset > chunkBytes || payloadByteLength[next] > maxRecordBytes) break;
      last = needEnd;
      next++;
    }
    return { first, next, byteOffset, byteLength: last - byteOffset };
  }

  /**
   * Annotation frames of records [first, next) that do not sit right after their record (set in
   * a later session): read together, neighbours coalesced (plan, then fetch). Undefined when none.
   */
  private readDetachedAnnotations(first: number, next: number): Promise<Map<number, Uint8Array>> | undefined {
    const ix = this.index;
    let records: number[] | undefined;
    const ranges: ByteRange[] = [];
    for (let i = first; i < next; i++) {
      const annotationOffset = ix.annotationOffset[i];
      // Adjacent annotations come with the chunk; any other one (later, or misplaced before its
      // record, [ANN-5]) is read on its own.
      if (annotationOffset === 0 || annotationOffset === ix.frameOffset[i] + FRAME_HEADER_BYTES + ix.payloadByteLength[i]) continue;
      if (ix.annotationByteLength[i] > this.options.maxAnnotationBytes) {
        throw new LimitExceededError('annotation frame exceeds the reader limit', { section: 'index', byteOffset: annotationOffset, recordIndex: i, expected: `<= ${this.options.maxAnnotationBytes}`, actual: ix.annotationByteLength[i] });
      }
      (records ??= []).push(i);
      ranges.push({ byteOffset: annotationOffset, byteLength: FRAME_HEADER_BYTES + ix.annotationByteLength[i] });
    }
    if (records === undefined) return undefined;
    const found = records;
    const plan = planReads(ranges);
    return Promise.all(plan.map((r) => this.source.read(r.byteOffset, r.byteLength))).then((bytes) => {
      const out = new Map<number, Uint8Array>();
      sliceReads(ranges, plan, bytes).forEach((b, k) => out.set(found[k], b));
      return out;
    });
  }

  private async *scanChunks(start: number, end: number, chunkBytes: number, verifyChecksums: boolean, copy: boolean): AsyncGenerator<StoredRecord[]> {
    if (start >= end) return;
    const fileSource = this.source instanceof FileSource ? this.source : undefined;
    // Local files: two reads in flight (thread pool) while a third buffer is decoded and held
    // by the consumer; one read in flight alone leaves the disk/page-cache copy idle between
    // completions. Pooled: fresh multi-MiB buffers cost a page fault per 4 KiB on every scan.
    const depth = fileSource ? 2 : 1;
    const buffers: Uint8Array[] = fileSource ? [takeScanBuffer(chunkBytes), takeScanBuffer(chunkBytes), takeScanBuffer(chunkBytes)] : [];
    let turn = 0;
    const fetch = (chunk: ScanChunk): Promise<Uint8Array> => {
      if (!fileSource) return this.source.read(chunk.byteOffset, chunk.byteLength);
      const k = turn;
      turn = (turn + 1) % buffers.length;
      if (buffers[k].length < chunk.byteLength) buffers[k] = new Uint8Array(chunk.byteLength);
      const target = buffers[k].subarray(0, chunk.byteLength);
      return fileSource.readInto(target, chunk.byteOffset).then((n) => target.subarray(0, n));
    };
    const queue: Array<{ chunk: ScanChunk; bytes: Promise<Uint8Array> }> = [];
    let planned = start;
    // A chunk that cannot be planned (record over the limit) fails where it would be read next:
    // the chunks before it are still delivered.
    let planFailure: { error: unknown } | undefined;
    const refill = (): void => {
      while (planFailure === undefined && queue.length < depth && planned < end) {
        let chunk: ScanChunk;
        try {
          chunk = this.planScanChunk(planned, end, chunkBytes);
        } catch (err) {
          planFailure = { error: err };
          return;
        }
        planned = chunk.next;
        const bytes = fetch(chunk);
        bytes.catch(() => {}); // observed when awaited; a consumer may stop before that
        queue.push({ chunk, bytes });
      }
    };
    try {
      refill();
      for (;;) {
        const head = queue.shift();
        if (head === undefined) {
          if (planFailure !== undefined) throw planFailure.error;
          return;
        }
        const { chunk } = head;
        const bytes = await head.bytes;
        this.checkOpen();
        refill();
        if (queue.length === 0 && planFailure !== undefined) throw planFailure.error;
        const detachedRead = this.readDetachedAnnotations(chunk.first, chunk.next);
        const detached = detachedRead === undefined ? undefined : await detachedRead;
        // Records before a bad one are still delivered, then the error. [FRM-6]
        const failure: { error?: unknown } = {};
        const batch = this.decodeChunk(bytes, chunk, verifyChecksums, copy, detached, failure);
        if (batch.length > 0) yield batch;
        if ('error' in failure) throw failure.error;
      }
    } catch (err) {
      throw tagError(err, this.name);
    } finally {
      // Reads may still be filling buffers (consumer stopped early): release after they settle.
      if (buffers.length > 0) {
        const release = (): void => buffers.forEach(releaseScanBuffer);
        if (queue.length > 0) void Promise.allSettled(queue.map((q) => q.bytes)).then(release);
        else release();
      }
    }
  }

  /** Decode the records of one chunk: a lean path for the common case, the checked decoder otherwise. */
  private decodeChunk(bytes: Uint8Array, chunk: ScanChunk, verifyChecksums: boolean, copy: boolean, detached: Map<number, Uint8Array> | undefined, failure: { error?: unknown }): StoredRecord[] {
    const ix = this.index;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const maxRecordBytes = this.options.maxRecordBytes;
    const maxAnnotationBytes = this.options.maxAnnotationBytes;
    const out: StoredRecord[] = new Array(chunk.next - chunk.first);
    for (let i = chunk.first; i < chunk.next; i++) {
      try {
        out[i - chunk.first] = this.decodeChunkRecord(bytes, view, chunk, i, verifyChecksums, copy, detached, maxRecordBytes, maxAnnotationBytes);
      } catch (err) {
        failure.error = err;
        out.length = i - chunk.first;
        break;
      }
    }
    return out;
  }

  private decodeChunkRecord(bytes: Uint8Array, view: DataView, chunk: ScanChunk, i: number, verifyChecksums: boolean, copy: boolean, detached: Map<number, Uint8Array> | undefined, maxRecordBytes: number, maxAnnotationBytes: number): StoredRecord {
    const ix = this.index;
    {
      const frameOffset = ix.frameOffset[i];
      const at = frameOffset - chunk.byteOffset;
      let record = decodeScannedRecord(bytes, view, at, ix, i, verifyChecksums, maxRecordBytes);
      if (record === undefined) {
        // Anything unusual (a tensor field, damage): the checked decoder validates or throws precisely.
        const needEnd = this.scanNeedEnd(i);
        record = decodeStoredRecord(bytes.subarray(at, Math.min(bytes.length, needEnd - chunk.byteOffset)), ix, i, verifyChecksums, maxRecordBytes);
      }
      const annotationOffset = ix.annotationOffset[i];
      if (annotationOffset !== 0) {
        const adjacent = detached?.get(i) === undefined;
        const frame = adjacent ? bytes.subarray(annotationOffset - chunk.byteOffset) : (detached?.get(i) as Uint8Array);
        record.annotation = decodeAnnotationFrame(frame, ix, i, verifyChecksums, maxAnnotationBytes);
      }
      if (copy) for (const field of record.fields) field.bytes = field.bytes.slice();
      return record;
    }
  }

  /**
   * Pick up what a writer added since open (or the last refresh): a new commit (valid footer at
   * the new end) reloads the new index blocks; otherwise complete frames after the known end
   * are scanned in. Readers always see a consistent prefix. Returns the new record count.
   */
  async refresh(): Promise<number> {
    this.checkOpen();
    if (this.sharedIndex) {
      this.index = this.index.copy(); // the columns are other threads' too
      this.sharedIndex = false;
    }
    try {
      const byteLength = await this.source.refresh();
      // A file cut inside its header padding has knownEnd = firstFrame beyond its length.
      if (byteLength === this.knownEnd || (byteLength < this.knownEnd && this.knownEnd <= this.firstFrame)) return this.recordCount;
      if (byteLength < this.knownEnd) {
        throw new SourceError(`${this.name} shrank from ${this.knownEnd} to ${byteLength} bytes while open`);
      }
      const footer = await this.tryReadFooter(byteLength);
      if (footer && footer.generation > this.generation) {
        checkFooterCounts(footer, this.firstFrame);
        const stopAtOffset = this.committedIndexOffset;
        const index = stopAtOffset === 0 ? new RecordIndex(footer.recordCount) : this.index;
        await loadIndexChain(this.source, index, footer, { firstFrame: this.firstFrame, stopAtOffset, maxIndexBytes: this.options.maxIndexBytes, truncate: true, previousGeneration: stopAtOffset === 0 ? undefined : this.generation });
        this.index = index;
        this.committedIndexOffset = footer.indexOffset;
        this.generation = footer.generation;
        this.knownEnd = byteLength;
        this.tornTailOffset = undefined;
        return this.recordCount;
      }
      const rebuilt = await rebuildIndex(this.source, {
        header: this.header,
        index: this.index,
        startOffset: this.knownEnd,
        endOffset: byteLength,
        maxPayloadBytes: Math.max(this.options.maxRecordBytes, this.options.maxAnnotationBytes, this.options.maxIndexBytes),
      });
      this.knownEnd = rebuilt.endOffset;
      this.tornTailOffset = tornOffsetOf(rebuilt);
      return this.recordCount;
    } catch (err) {
      throw tagError(err, this.name);
    }
  }

  private async tryReadFooter(byteLength: number): Promise<Footer | undefined> {
    if (byteLength - FOOTER.frameByteLength < this.firstFrame) return undefined;
    const bytes = await this.source.read(byteLength - FOOTER.frameByteLength, FOOTER.frameByteLength);
    try {
      return decodeFooterFrame(bytes, byteLength - FOOTER.frameByteLength);
    } catch (err) {
      if (err instanceof UnfinishedFileError) return undefined;
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsSource) await this.source.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedReaderError(this.name);
  }

  private checkRecordIndex(recordIndex: number): void {
    if (!Number.isInteger(recordIndex) || recordIndex < 0 || recordIndex >= this.index.recordCount) {
      throw outOfRangeError('recordIndex', `an integer between 0 and ${this.index.recordCount - 1}`, recordIndex);
    }
  }

  private checkRecordLimit(recordIndex: number): void {
    const payloadByteLength = this.index.payloadByteLength[recordIndex];
    if (payloadByteLength > this.options.maxRecordBytes) {
      throw new LimitExceededError('record frame exceeds the reader limit', {
        section: 'index',
        byteOffset: this.index.frameOffset[recordIndex],
        recordIndex,
        expected: `<= ${this.options.maxRecordBytes}`,
        actual: payloadByteLength,
      }).withFile(this.name);
    }
  }
}

/** Free scan buffers (at most 6: two scans' worth): reused so a scan does not page-fault fresh memory. */
const scanBufferPool: Uint8Array[] = [];

function takeScanBuffer(byteLength: number): Uint8Array {
  for (let k = 0; k < scanBufferPool.length; k++) {
    if (scanBufferPool[k].length === byteLength) return scanBufferPool.splice(k, 1)[0];
  }
  return new Uint8Array(byteLength);
}

function releaseScanBuffer(buffer: Uint8Array): void {
  if (scanBufferPool.length < 6 && !scanBufferPool.includes(buffer)) scanBufferPool.push(buffer);
}

interface ScanChunk {
  first: number;
  next: number;
  byteOffset: number;
  byteLength: number;
}

/** scan() as one record per step over scanBatches(): no generator machinery per record. */
class RecordsOfBatches implements AsyncIterableIterator<StoredRecord> {
  private batch: StoredRecord[] = [];
  private at = 0;
  constructor(private readonly batches: AsyncIterableIterator<StoredRecord[]>) {}
  [Symbol.asyncIterator](): AsyncIterableIterator<StoredRecord> {
    return this;
  }
  next(): Promise<IteratorResult<StoredRecord>> {
    if (this.at < this.batch.length) return Promise.resolve({ done: false, value: this.batch[this.at++] });
    return this.refill();
  }
  private async refill(): Promise<IteratorResult<StoredRecord>> {
    for (;;) {
      const r = await this.batches.next();
      if (r.done === true) {
        this.batch = [];
        this.at = 0;
        return { done: true, value: undefined };
      }
      this.batch = r.value;
      this.at = 0;
      if (this.batch.length > 0) return { done: false, value: this.batch[this.at++] };
    }
  }
  async return(): Promise<IteratorResult<StoredRecord>> {
    this.batch = [];
    await this.batches.return?.();
    return { done: true, value: undefined };
  }
  async throw(err?: unknown): Promise<IteratorResult<StoredRecord>> {
    this.batch = [];
    await this.batches.return?.();
    throw err;
  }
}

class ClosedReaderError extends ClosedError {
  constructor(name: string) {
    super(`reader of ${name}`);
  }
}

/** [RCV-1] The torn offset is the end of the last valid frame, not where the bad bytes start. */
function tornOffsetOf(rebuilt: { endOffset: number; tornOffset: number | undefined }): number | undefined {
  return rebuilt.tornOffset === undefined ? undefined : rebuilt.endOffset;
}

function tagError(err: unknown, name: string): unknown {
  if (err instanceof PicpacError) err.withFile(name);
  return err;
}

function isSignaturePrefix(bytes: Uint8Array): boolean {
  for (let i = 0; i < Math.min(bytes.length, SIGNATURE.length); i++) if (bytes[i] !== SIGNATURE[i]) return false;
  return true;
}

function emptyHeader(): FileHeader {
  return { majorVersion: 2, minorVersion: 0, headerByteLength: HEADER.byteLength, alignment: 1, featureFlags: 0 };
}

