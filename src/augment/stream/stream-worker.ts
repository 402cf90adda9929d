// Worker entry of the training stream (started by worker-pool.ts through ts-worker.ts). It opens
// the store(s) by path itself — record bytes never cross threads; a local .picpac file with the
// caller's index (PicpacReader.fromSnapshot), other stores afresh — and runs SamplePipeline on
// the tasks it is sent, in arrival order, writing pixels into the shared batch buffers named
// in each task. A local .picpac record is read with one synchronous pread when its sample runs
// (SamplePipeline.read returns undefined); other stores' async reads are started as soon as a
// task arrives, so their I/O (libuv threads) overlaps the decode of the previous sample.
//
// A spare (spare-workers.ts: started before its stream is opened, workerData { spare: true })
// loads its decoder and kernels, then waits for { type: 'init', data } with the stream's data.
//
// Messages in:  { type: 'init', data } (spares) | { type: 'tasks', tasks } | { type: 'stats' } | { type: 'close' }
// Messages out: { type: 'ready' } | { type: 'init-error', error } | { type: 'outcomes', outcomes }
//               | { type: 'stats', times, cache }
// Outcomes go back in chunks: when the queue is empty or OUTCOMES_PER_MESSAGE are waiting.
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../../engine/open-store.ts';
import { PicpacReader } from '../../engine/picpac/picpac-reader.ts';
import { installNativeCrc32c } from '../../engine/picpac/crc-native.ts';
import type { PicpacReaderSnapshot } from '../../engine/picpac/picpac-reader.ts';
import type { Store, StoredRecord } from '../../engine/store.ts';
import { batchLayout } from './batch.ts';
import { parseStreamConfig } from '../config.ts';
import { SamplePipeline, errorInfo } from './sample-pipeline.ts';
import { SharedConverter } from '../pixels/convert-simd.ts';
import { loadFirstDecoder } from '../pixels/decode.ts';
import { wasmKernels } from '../pixels/warp-simd.ts';
import { ImageCodec } from '../../format/layout.ts';
import type { SharedWasmMemory } from '../pixels/convert-simd.ts';
import type { SampleOutcome, SampleTask } from './sample-pipeline.ts';

/** Outcomes per message at most (the pool keeps more tasks than this in flight per worker). */
const OUTCOMES_PER_MESSAGE = 8;

export interface StreamWorkerData {
  storePath: string;
  mixinPath: string | undefined;
  /** The caller's reader state for storePath / mixinPath (local .picpac files): no second open of the index. */
  storeSnapshot?: PicpacReaderSnapshot;
  mixinSnapshot?: PicpacReaderSnapshot;
  config: Record<string, unknown>;
  cacheBytes: number;
  /** Leave the conversion of in-place samples to the pool's thread (SamplePipeline stageOutput). */
  stageOutput: boolean;
  /** The batch tensors' shared memory and this worker's slot in it (batch-arena.ts), when the stream has one. */
  arena?: { memory: SharedWasmMemory; slot: number };
  /**
   * Int32 flag shared with the pool: non-zero once the pool is closing. Checked between samples,
   * because a busy worker reads its messages only when its queue is empty.
   */
  control: SharedArrayBuffer;
}

const port = parentPort!;
let data: StreamWorkerData;
let control: Int32Array;
const stores: (Store | undefined)[] = [];
let pipeline: SamplePipeline | undefined;
const queue: { task: SampleTask; record: StoredRecord | Promise<StoredRecord> | undefined }[] = [];
let running = false;
let closing = false;

async function init(streamData: StreamWorkerData): Promise<void> {
  data = streamData;
  control = new Int32Array(data.control);
  try {
    const config = parseStreamConfig(data.config);
    stores.push(await openWorkerStore(data.storePath, data.storeSnapshot));
    if (data.mixinPath !== undefined) stores.push(await openWorkerStore(data.mixinPath, data.mixinSnapshot));
    const shared = data.arena && new SharedConverter(data.arena.memory, data.arena.slot);
    pipeline = new SamplePipeline(stores, config, batchLayout(config), data.cacheBytes, data.stageOutput, shared);
    port.postMessage({ type: 'ready' });
  } catch (error) {
    port.postMessage({ type: 'init-error', error: errorInfo(error, -1, 0) });
  }
}

/** The caller's store again: from its snapshot when the path still names that file, else opened afresh. */
async function openWorkerStore(path: string, snapshot: PicpacReaderSnapshot | undefined): Promise<Store> {
  return (snapshot && await PicpacReader.fromSnapshot(snapshot)) ?? openStore(path);
}

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  let outcomes: SampleOutcome[] = [];
  let transfer: ArrayBuffer[] = [];
  while (queue.length > 0) {
    if (Atomics.load(control, 0) !== 0) {
      queue.length = 0; // closing: the pool no longer waits for these samples
      break;
    }
    const { task, record } = queue.shift()!;
    const outcome = await pipeline!.run(task, record);
    if (outcome.images) transfer.push(outcome.images.buffer as ArrayBuffer);
    if (outcome.labels) transfer.push(outcome.labels.buffer as ArrayBuffer);
    outcomes.push(outcome);
    if (outcomes.length >= OUTCOMES_PER_MESSAGE || queue.length === 0) {
      port.postMessage({ type: 'outcomes', outcomes }, transfer);
      outcomes = [];
      transfer = [];
    }
  }
  running = false;
  if (closing) await shutdown();
}

async function shutdown(): Promise<void> {
  for (const store of stores) await store?.close().catch(() => {});
  stores.length = 0;
  port.close();
}

port.on('message', (message: { type: string; tasks?: SampleTask[]; data?: StreamWorkerData }) => {
  if (message.type === 'init') {
    void init(message.data!);
  } else if (message.type === 'tasks') {
    for (const task of message.tasks!) {
      if (task.record !== undefined) {
        queue.push({ task, record: task.record }); // read by the pool's thread
        continue;
      }
      const record = pipeline!.read(task);
      record?.catch(() => {}); // observed again by run(); avoid an unhandled rejection meanwhile
      queue.push({ task, record });
    }
    void drain();
  } else if (message.type === 'stats') {
    port.postMessage({ type: 'stats', times: pipeline?.times, cache: pipeline?.cacheStats() });
  } else if (message.type === 'close') {
    queue.length = 0; // the pool has failed every outstanding task with ClosedError
    closing = true;
    if (!running) void shutdown();
  }
});

if ((workerData as { spare?: boolean }).spare === true) {
  // What every stream needs, loaded while the caller is still opening its stream.
  loadFirstDecoder(ImageCodec.jpeg);
  wasmKernels();
  installNativeCrc32c(); // the reader's first synchronous read would; here it loads in the spare's idle boot
} else {
  await init(workerData as StreamWorkerData);
}
