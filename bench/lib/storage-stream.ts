// The stream's throughput per backend (src/augment/stream/stream.ts ImageStream): decode-only
// configuration (no augmentation), uint8 batches of 32, one epoch in file order, inline (one
// core) and with 2 worker threads (workers reopen the store by path through openStore).
import type { BenchBackend } from './storage-backends.ts';

export interface StreamResult {
  /** Inline (threads 0: the calling thread decodes). */
  imagesPerSecond?: number;
  /** threads 2. */
  imagesPerSecondThreads2?: number;
  images?: number;
  error?: string;
}

interface StreamLike {
  [Symbol.asyncIterator](): AsyncIterator<{ count: number }>;
  close(): Promise<void>;
}

async function epoch(path: string, threads: number, maxImages: number): Promise<{ images: number; seconds: number }> {
  const { ImageStream } = (await import('../../src/augment/stream/stream.ts')) as { ImageStream: { open(source: string, config: object): Promise<StreamLike> } };
  const stream = await ImageStream.open(path, { batch: 32, loop: false, shuffle: false, channels: 3, dtype: 'uint8', threads, pad: false });
  let images = 0;
  const t0 = performance.now();
  try {
    for await (const batch of stream) {
      images += batch.count;
      if (images >= maxImages) break;
    }
  } finally {
    await stream.close();
  }
  return { images, seconds: (performance.now() - t0) / 1000 };
}

export async function streamThroughput(backend: BenchBackend, options: { quick: boolean }): Promise<StreamResult> {
  const maxImages = options.quick ? 200 : 2000;
  try {
    await epoch(backend.path, 0, 64); // warm-up
    const inline = await epoch(backend.path, 0, maxImages);
    const result: StreamResult = { imagesPerSecond: inline.images / inline.seconds, images: inline.images };
    try {
      const pooled = await epoch(backend.path, 2, maxImages);
      result.imagesPerSecondThreads2 = pooled.images / pooled.seconds;
    } catch (err) {
      result.error = `threads 2: ${(err as Error).message}`;
    }
    return result;
  } catch (err) {
    return { error: (err as Error).message };
  }
}
