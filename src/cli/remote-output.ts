// Outputs on s3://: a command writes a local temporary file (the writers need a seekable file
// and a lock), and close() uploads it (multipart) and removes it. S3 makes an object visible
// only when its upload completes, so a stopped command leaves no partial object behind.
import { rmSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isS3Url } from '../engine/sources/s3-client.ts';
import { s3ObjectExists, s3UploadFile, s3WriteText } from '../engine/sources/s3-objects.ts';
import type { NewRecord, StoreWriter } from '../engine/store.ts';

export { isS3Url };

/** Temporary directories still to remove if the process exits early. */
const pending = new Set<string>();
let exitHookInstalled = false;

/** A fresh local directory for files on their way to the object store (PICPAC_TMPDIR or the OS temp dir). */
export async function stagingDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(process.env.PICPAC_TMPDIR || tmpdir(), 'picpac-upload-'));
  pending.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const d of pending) rmSync(d, { recursive: true, force: true });
    });
  }
  return {
    dir,
    remove: async () => {
      pending.delete(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Does the output exist (local file or s3 object)? A missing bucket or refused credentials throw. */
export async function remoteOutputExists(location: string): Promise<boolean> {
  return s3ObjectExists(location);
}

/** Write a small text output next to a store (classes.json, a manifest): local file or s3 object. */
export async function writeRemoteText(location: string, text: string): Promise<void> {
  await s3WriteText(location, text);
}

/**
 * A writer that writes `localPath` through `inner` and uploads it to `url` on close.
 * `byteLength` of the uploaded file is kept for manifests.
 */
export class UploadingWriter implements StoreWriter {
  readonly name: string;
  /** Size of the uploaded file, known after close(). */
  uploadedByteLength = 0;
  constructor(
    private readonly inner: StoreWriter,
    private readonly url: string,
    private readonly localPath: string,
    private readonly staging: { remove: () => Promise<void> },
  ) {
    this.name = url;
  }
  get recordCount(): number {
    return this.inner.recordCount;
  }
  append(record: NewRecord): Promise<number> {
    return this.inner.append(record);
  }
  setAnnotation(recordIndex: number, annotation: string | undefined): Promise<void> {
    return this.inner.setAnnotation(recordIndex, annotation);
  }
  flush(options?: { fsync?: boolean }): Promise<void> {
    return this.inner.flush(options);
  }
  async close(): Promise<void> {
    try {
      await this.inner.close();
      this.uploadedByteLength = (await stat(this.localPath)).size;
      await s3UploadFile(this.localPath, this.url);
    } finally {
      await this.staging.remove();
    }
  }
  /** Give up: nothing is uploaded. */
  async abort(): Promise<void> {
    const abortable = this.inner as StoreWriter & { abort?: () => Promise<void> };
    try {
      if (abortable.abort) await abortable.abort();
      else await this.inner.close();
    } finally {
      await this.staging.remove();
    }
  }
}
