// One small error hierarchy (STYLE §15-19). Every error that bad bytes can cause is a
// PicpacError subclass with a stable `code`; caller mistakes are TypeError/RangeError built by
// `invalidParameterError`. Messages are built by the helpers here, never inline.

/** Every {@link PicpacError} `code`, stable across versions: switch on the code, not on the message. */
export const ERROR_CODES = [
  'FORMAT', // corrupt or malformed bytes
  'UNSUPPORTED_VERSION', // unknown major version, or an unknown critical section
  'LIMIT', // a size or count beyond a configured limit
  'CLOSED', // use after close
  'UNFINISHED', // footer missing: writer died or file is still being written
  'EXISTS', // refusing to overwrite a user's file
  'LOCKED', // another live writer holds the file's lock ([CON-1])
  'IO', // the byte source failed (short read, HTTP status, ...)
  'MISSING_DEPENDENCY', // an optional package a feature needs is not installed (src/optional-import.ts)
] as const;
/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Base class of every error that bad bytes, a failing source or a misused object can cause.
 * `code` says which kind; caller mistakes are TypeError / RangeError instead.
 */
export class PicpacError extends Error {
  readonly code: ErrorCode;
  /** File path or URL the error concerns, added as the error travels up. */
  file?: string;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
  /** Prefix the message with the file name once (webdataset appends the source). */
  withFile(file: string): this {
    if (this.file === undefined) {
      this.file = file;
      this.message = `${file}: ${this.message}`;
    }
    return this;
  }
}

/** Where corrupt bytes are, for {@link FormatError}; also the parts of its message. */
export interface FormatErrorDetails {
  /** Which structure: 'header', 'frame', 'record', 'index', 'footer', 'annotation', 'v1-segment', ... */
  section: string;
  /** Absolute byte offset in the file where the problem is. */
  byteOffset: number;
  recordIndex?: number;
  expected?: string | number;
  actual?: string | number;
}

/** Corrupt bytes. Message template: `<section>: <problem> at byte <offset> (record <i>): expected <x>, got <y>`. */
export class FormatError extends PicpacError {
  readonly section: string;
  readonly byteOffset: number;
  readonly recordIndex?: number;
  readonly expected?: string | number;
  readonly actual?: string | number;
  constructor(problem: string, details: FormatErrorDetails, code: ErrorCode = 'FORMAT', options?: { cause?: unknown }) {
    super(code, formatErrorMessage(problem, details), options);
    this.section = details.section;
    this.byteOffset = details.byteOffset;
    this.recordIndex = details.recordIndex;
    this.expected = details.expected;
    this.actual = details.actual;
  }
}

/** The FormatError message: `<section>: <problem> at byte <offset> (record <i>): expected <x>, got <y>`; the optional parts only when given. */
export function formatErrorMessage(problem: string, d: FormatErrorDetails): string {
  let msg = `${d.section}: ${problem} at byte ${d.byteOffset}`;
  if (d.recordIndex !== undefined) msg += ` (record ${d.recordIndex})`;
  if (d.expected !== undefined || d.actual !== undefined) msg += `: expected ${d.expected}, got ${d.actual}`;
  return msg;
}

/** A file whose footer is missing or torn: the writer died, or is still writing. */
export class UnfinishedFileError extends FormatError {
  constructor(problem: string, details: FormatErrorDetails) {
    super(problem, details, 'UNFINISHED');
  }
}

/** A major version, or a critical feature, frame kind or footer flag, that this reader does not implement (code 'UNSUPPORTED_VERSION'). */
export class UnsupportedVersionError extends FormatError {
  constructor(problem: string, details: FormatErrorDetails) {
    super(problem, details, 'UNSUPPORTED_VERSION');
  }
}

/** A size or count beyond a format limit or a reader's configured limit (code 'LIMIT'). */
export class LimitExceededError extends FormatError {
  constructor(problem: string, details: FormatErrorDetails) {
    super(problem, details, 'LIMIT');
  }
}

/** A reader, writer, store or source was used after `close()` (code 'CLOSED'). */
export class ClosedError extends PicpacError {
  constructor(what: string) {
    super('CLOSED', `${what} is closed`);
  }
}

/** Refusing to overwrite an existing file without `overwrite: true` (code 'EXISTS'); `file` names it. */
export class FileExistsError extends PicpacError {
  constructor(path: string) {
    super('EXISTS', `refusing to overwrite existing file ${path} (pass overwrite to replace it)`);
    this.file = path;
  }
}

/** Another writer, still running, holds the lock file `<file>.lock` ([CON-1]). */
export class WriterLockedError extends PicpacError {
  readonly lockPath: string;
  /** Process id and host of the holder; undefined when the lock file is still being written. */
  readonly pid?: number;
  readonly hostname?: string;
  constructor(path: string, lockPath: string, holder: { pid?: number; hostname?: string; createdAt?: string }) {
    const who = holder.pid === undefined ? 'a writer that is creating its lock' : `process ${holder.pid}${holder.hostname ? ` on ${holder.hostname}` : ''}${holder.createdAt ? ` since ${holder.createdAt}` : ''}`;
    const lockedBy = holder.pid === undefined ? 'locked by a writer that is creating its lock' : `locked by pid ${holder.pid}`;
    super('LOCKED', `${path} is ${lockedBy}: it is being written by ${who} (lock file ${lockPath}); wait for that writer to finish, or delete the lock file if that process is gone`);
    this.file = path;
    this.lockPath = lockPath;
    this.pid = holder.pid;
    this.hostname = holder.hostname;
  }
}

/** A byte source failed: short read, I/O error, HTTP status, network error (code 'IO'). The cause is kept in `cause`. */
export class SourceError extends PicpacError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('IO', message, options);
  }
}

/** A FIFO, device, socket or directory given where a database file is expected (never opened: it could block). */
export class NotRegularFileError extends SourceError {
  constructor(path: string, what: string) {
    super(`${path} is ${what}, not a regular file: a picpac database must be a regular file (copy the data to a file first)`);
    this.file = path;
  }
}

/** sharp's sentence shape: "Expected <constraint> for <name> but received <value> of type <type>". */
export function invalidParameterError(name: string, constraint: string, value: unknown): TypeError {
  return new TypeError(
    `Expected ${constraint} for ${name} but received ${describeValue(value)} of type ${typeof value}`,
  );
}

/** The same sentence as a RangeError, for numbers of the right type out of range. */
export function outOfRangeError(name: string, constraint: string, value: unknown): RangeError {
  return new RangeError(
    `Expected ${constraint} for ${name} but received ${describeValue(value)} of type ${typeof value}`,
  );
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  try {
    const s = JSON.stringify(value);
    return s === undefined ? String(value) : s.length > 60 ? s.slice(0, 57) + '...' : s;
  } catch {
    return String(value);
  }
}

/** An optional package a feature needs is not installed (src/optional-import.ts). */
export class MissingDependencyError extends PicpacError {
  /** The packages to install, as `npm install` arguments. */
  readonly packages: readonly string[];
  constructor(feature: string, packages: readonly string[], options?: { cause?: unknown }) {
    const plural = packages.length > 1;
    super('MISSING_DEPENDENCY', `${feature} needs the optional package${plural ? 's' : ''} ${packages.join(', ')}, which ${plural ? 'are' : 'is'} not installed; run: npm install ${packages.join(' ')}`, options);
    this.packages = packages;
  }
}

/** Why an object store refused a request (s3:// locations). */
export type ObjectStoreProblem = 'credentials' | 'access-denied' | 'no-bucket' | 'no-object' | 'region' | 'unavailable' | 'no-client';

/**
 * An s3:// request failed for a reason retrying cannot fix (bad credentials, missing bucket or
 * object), or kept failing after the retries. `problem` tells which; the message says what to do.
 */
export class ObjectStoreError extends SourceError {
  readonly problem: ObjectStoreProblem;
  constructor(problem: ObjectStoreProblem, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.problem = problem;
  }
}
