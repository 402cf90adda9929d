// A render worker (render-pool.ts): opens the database once, then renders images and
// thumbnails on request and posts the encoded bytes back (transferred, not copied).
import { parentPort, workerData } from 'node:worker_threads';
import { HttpError } from '../engine/sources/http-kit.ts';
import { PicpacError } from '../errors.ts';
import { LiveStore } from './live-store.ts';
import { streamConfigFromQuery } from './params.ts';
import { renderRecord } from './render.ts';
import type { RenderJob, RenderReply, WorkerMessage } from './render-pool.ts';
import { renderThumbnail } from './thumbs.ts';
import { loadSharp } from '../augment/pixels/sharp-module.ts';

const port = parentPort!;
const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

let live: LiveStore;
try {
  live = await LiveStore.open((workerData as { path: string }).path, { refreshMs: -1 });
  await loadSharp(); // every job encodes: load the encoder before the first job's deadline runs
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'open-failed', message: (error as Error).message });
  process.exit(1);
}

/** The same status mapping as the HTTP thread's (server.ts fail()). */
function statusOf(error: unknown): { status: number; message: string } {
  if (error instanceof HttpError) return { status: error.status, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof PicpacError) return { status: 500, message };
  if ((error instanceof TypeError || error instanceof RangeError) && message.startsWith('Expected ')) return { status: 400, message };
  return { status: 500, message: `internal error: ${message}` };
}

let refreshesSeen = 0;

async function run(job: RenderJob): Promise<RenderReply> {
  if (job.recordIndex >= live.recordCount || job.refreshes > refreshesSeen) {
    refreshesSeen = Math.max(refreshesSeen, job.refreshes);
    await live.refresh();
  }
  if (job.kind === 'thumb') {
    const bytes = await renderThumbnail(live, job.recordIndex);
    return { bytes, contentType: 'image/jpeg', width: 0, height: 0, output: 'image', perturbation: { hflip: false, vflip: false, color: [0, 0, 0], angle: 0, scale: 1 } };
  }
  const record = await live.get(job.recordIndex);
  const rendered = await renderRecord(record, streamConfigFromQuery(new URLSearchParams(job.query)), job.options);
  return { ...rendered, perturbation: { ...rendered.perturbation, color: [...rendered.perturbation.color] } };
}

port.on('message', (message: { jobId: number; job: RenderJob } | { close: true }) => {
  if ('close' in message) {
    // Release the file (or LMDB environment) before the thread ends.
    void live.close().catch(() => {}).finally(() => process.exit(0));
    return;
  }
  const { jobId, job } = message;
  run(job).then(
    (reply) => {
      // A private copy that can be transferred (sharp's Buffer may share a pooled ArrayBuffer).
      const bytes = new Uint8Array(reply.bytes);
      post({ type: 'done', jobId, reply: { ...reply, bytes } }, [bytes.buffer as ArrayBuffer]);
    },
    (error) => post({ type: 'failed', jobId, ...statusOf(error) }),
  );
});
