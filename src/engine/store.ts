// The store interface: what every backend (.picpac 2.0, PicPac 1.0, LMDB) offers the layers
// above. The engine knows no images: a record is labels, typed opaque fields and an optional
// annotation text. Index lookups are sync (the index is in memory); byte I/O is async.

/** What a record field holds: an encoded image, a lossless label image / mask, a raw tensor, or opaque bytes. */
export type FieldKindName = 'image' | 'label' | 'tensor' | 'bytes';

/** A field of a record read from a store; `bytes` may be a view into a larger read buffer. */
export interface StoredField {
  kind: FieldKindName;
  /** MIME-like name: 'image/jpeg', 'image/png', 'label/png', 'tensor/float32', 'bytes', ... */
  type: string;
  /** ImageCodec (image, label) or TensorDType (tensor) code of format 2.0; 0 for bytes. */
  codec: number;
  bytes: Uint8Array;
  /** Pixels, 0 when unknown. */
  width: number;
  height: number;
}

/** What the index says about a record, known without reading its bytes (see {@link Store.meta}). */
export interface RecordMeta {
  recordIndex: number;
  id: number;
  label: number;
  label2: number;
  fieldCount: number;
  /** Size of the first image field in pixels, 0 when unknown. */
  width: number;
  height: number;
  /** ImageCodec code of the first image field, 0 when none/unknown. */
  imageCodec: number;
  hasAnnotation: boolean;
  /** Where the record's bytes are in the file (frame start), -1 when the backend has no offsets. */
  byteOffset: number;
  /** Bytes the record occupies on disk, framing included, padding excluded. */
  byteLength: number;
}

/** A record read from a store: its index metadata, its fields and its newest annotation. */
export interface StoredRecord extends RecordMeta {
  fields: StoredField[];
  /** Annotation JSON text (the newest version), undefined when none. */
  annotation: string | undefined;
  /**
   * PicPac 1.0 keeps the annotation as field 1; this says at which field position it was
   * stored, so `dump` and `convert --to v1` can reproduce the original field order.
   */
  annotationSlot?: number;
}

/** Range and read size of a sequential {@link Store.scan}. */
export interface ScanOptions {
  /** First record index (default 0). */
  start?: number;
  /** One past the last record index (default recordCount). */
  end?: number;
  /** Bytes per sequential read (default 4 MiB). */
  chunkBytes?: number;
  /** Verify payload checksums (default true). */
  verifyChecksums?: boolean;
}

/** A caller's reusable read buffer (Store.getSync): replaced by a larger array when a record does not fit. */
export interface ReadBuffer {
  bytes: Uint8Array;
}

/** Store.getSync options. */
export interface GetSyncOptions {
  /** Read, check and return the record's annotation (default true). */
  annotation?: boolean;
}

/**
 * A read-only record store: a .picpac 2.0 file, a PicPac 1.0 file, an LMDB database or a set
 * of shards, local or remote. Records are addressed by index 0..recordCount-1, in file order.
 * Open one with `openStore`.
 */
export interface Store {
  /** Path or URL. */
  readonly name: string;
  /** 'picpac-2', 'picpac-1', 'lmdb-encoded', 'lmdb-raw'. */
  readonly format: string;
  readonly recordCount: number;
  /** Index lookup, sync. Throws RangeError outside [0, recordCount). */
  meta(recordIndex: number): RecordMeta;
  /**
   * Read one record: fields and annotation.
   * @throws RangeError outside [0, recordCount); ClosedError after close; FormatError when its bytes are corrupt; SourceError when the read fails.
   */
  get(recordIndex: number): Promise<StoredRecord>;
  /**
   * Optional: the record read on the calling thread (local files), or undefined when this record
   * cannot be read synchronously (the caller then uses get()). Same result and errors as get().
   * With `buffer`, the bytes are read into `buffer.bytes` (replaced by a larger array when the
   * record does not fit) and the record's field bytes are views of it: valid until the next read
   * into the same buffer. A stream worker reads every record so — a fresh zeroed array per record
   * cost 20–60 µs in page faults and zeroing, the pread itself ~6 µs (15 KB, page cache).
   * With `options.annotation` false the annotation is neither read nor checked (the record comes
   * back without one): for a stream that does not use it.
   */
  getSync?(recordIndex: number, buffer?: ReadBuffer, options?: GetSyncOptions): StoredRecord | undefined;
  /** The newest annotation text without reading image bytes. */
  getAnnotation(recordIndex: number): Promise<string | undefined>;
  /** File-order iteration with large reads. `return()` releases resources. */
  scan(options?: ScanOptions): AsyncIterableIterator<StoredRecord>;
  /** Release the file handle or connections; later reads throw ClosedError. Calling it twice is harmless. */
  close(): Promise<void>;
  /** The file's metadata JSON (its class table, …; .picpac 2.0 only), undefined when none. */
  getMetadata?(): Promise<string | undefined>;
}

/** A field to write; image sizes are sniffed from the bytes when omitted. */
export interface NewField {
  kind: FieldKindName;
  /** ImageCodec / TensorDType code; sniffed from the bytes for images when omitted. */
  codec?: number;
  bytes: Uint8Array;
  width?: number;
  height?: number;
}

/** A record to append: labels (default 0), fields and an optional annotation. */
export interface NewRecord {
  /** Default: the record index. */
  id?: number;
  label?: number;
  label2?: number;
  fields: NewField[];
  /** Annotation JSON text. */
  annotation?: string;
}

/**
 * Appends records to a store. An acknowledged append (its promise resolved) has reached the OS:
 * a crash of the process after it loses nothing (LMDB has committed it; file readers find it with
 * `recover`). close() finishes the file (.picpac: writes the index block and footer) and releases it.
 */
export interface StoreWriter {
  readonly name: string;
  readonly recordCount: number;
  /** Resolves with the record index once the bytes are handed to the OS (acknowledged). */
  append(record: NewRecord): Promise<number>;
  /** Replace (or with undefined remove) a record's annotation without rewriting its bytes. */
  setAnnotation(recordIndex: number, annotation: string | undefined): Promise<void>;
  /** Hand buffered bytes to the OS; with fsync, also to the device. */
  flush(options?: { fsync?: boolean }): Promise<void>;
  /** Set the file's metadata JSON (.picpac 2.0 only; the newest wins). */
  setMetadata?(text: string): Promise<void>;
  /** Commit: write the index and the footer. The writer cannot be used after. */
  close(): Promise<void>;
}
