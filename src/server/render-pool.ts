// Renders off the HTTP thread: worker_threads that each open the database by path and run
// render.ts, so decoding, rasterising and warping use every core and a large image never stalls
// the event loop that answers other requests. The HTTP thread validates the request first; a
// worker only gets a record index and an already-valid query. A worker opened before records
// were appended refreshes when asked for an index it does not know yet, or when the HTTP
// thread has refreshed since (`refreshes`: annotations of existing records may have changed). Errors come back as
// (status, message): the same replies as inline rendering. If a worker dies, its jobs fail with
// a 500 and the pool starts a replacement.
//
// Deadline (hostile input, docs/hostile-input.md): a render that has not answered within
// `deadlineMs` gets a 503 at once, and its worker — possibly stuck in a loop no message can
// interrupt — is terminated and replaced; the other jobs of that worker get a 503 "retry". The
// HTTP thread never renders these jobs itself, so it keeps answering every other request.
import type { Worker } from 'node:worker_threads';
import { HttpError } from '../engine/sources/http-kit.ts';
import { siblingModule, startTsWorker, terminateWorker } from '../augment/stream/ts-worker.ts';
import type { RenderOptions } from './render.ts';

export type RenderJob =
  | { kind: 'image'; recordIndex: number; query: string; options: RenderOptions; refreshes: number }
  | { kind: 'thumb'; recordIndex: number; refreshes: number };

export interface RenderReply {
  bytes: Uint8Array;
  contentType: string;
  width: number;
  height: number;
  output: 'image' | 'label';
  perturbation: { hflip: boolean; vflip: boolean; color: number[]; angle: number; scale: number };
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'open-failed'; message: string }
  | { type: 'done'; jobId: number; reply: RenderReply }
  | { type: 'failed'; jobId: number; status: number; message: string };

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (reply: RenderReply) => void; reject: (error: unknown) => void }>;
  alive: boolean;
  /** Opened the store: only a worker that once worked is replaced when it dies. */
  ready: boolean;
  /** Terminated by the pool because a render passed its deadline (replaced without counting as a crash). */
  overdue: boolean;
}

/** Default render deadline: far above any sane render (a 4096² image with every augmentation takes < 2 s). */
export const DEFAULT_RENDER_DEADLINE_MS = 10_000;

/** Replacements over the pool's life; beyond it dead workers stay dead (the server renders inline). */
const MAX_RESPAWNS = 16;

const WORKER_ENTRY = siblingModule('./render-worker', import.meta.url);

export class RenderPool {
  private readonly slots: Slot[] = [];
  private nextJobId = 1;
  private closed = false;
  private respawns = 0;
  /** Workers replaced after a render passed its deadline. */
  deadlineKills = 0;

  private constructor(private readonly path: string, readonly deadlineMs: number) {}

  /**
   * Start `threads` workers on the store at `path`; resolves when every worker has opened it.
   * @param [options.deadlineMs=10000] a render not finished by then is answered with a 503 and its worker replaced
   */
  static async start(path: string, threads: number, options: { deadlineMs?: number } = {}): Promise<RenderPool> {
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new RangeError(`Expected an integer between 1 and 64 for threads but received ${threads}`);
    const deadlineMs = options.deadlineMs ?? DEFAULT_RENDER_DEADLINE_MS;
    if (!Number.isInteger(deadlineMs) || deadlineMs < 1 || deadlineMs > 3_600_000) throw new RangeError(`Expected an integer between 1 and 3600000 for deadlineMs but received ${deadlineMs}`);
    const pool = new RenderPool(path, deadlineMs);
    try {
      await Promise.all(Array.from({ length: threads }, (_, k) => pool.spawn(k)));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get threads(): number {
    return this.slots.length;
  }

  /** Workers taking jobs (not counting one being stopped after its render passed the deadline). */
  get liveThreads(): number {
    return this.slots.filter(takesJobs).length;
  }

  /**
   * Workers running or on their way: false only once every worker is dead for good (out of
   * replacements), when the server renders on its own thread. A worker being stopped after a
   * deadline is always replaced, so it counts.
   */
  get hasWorkers(): boolean {
    return this.slots.some((s) => s.alive);
  }

  private spawn(k: number): Promise<void> {
    const worker = startTsWorker(WORKER_ENTRY, { path: this.path }, { name: `picpac-render-${k}` });
    const slot: Slot = { worker, pending: new Map(), alive: true, ready: false, overdue: false };
    this.slots[k] = slot;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          // Idle workers do not keep the process alive; a worker with jobs does (render()).
          worker.unref();
          slot.ready = true;
          resolve();
        }
        else if (message.type === 'open-failed') reject(new Error(message.message));
        else if (message.type === 'done') {
          slot.pending.get(message.jobId)?.resolve(message.reply);
          slot.pending.delete(message.jobId);
        } else if (message.type === 'failed') {
          slot.pending.get(message.jobId)?.reject(new HttpError(message.status, message.message));
          slot.pending.delete(message.jobId);
        }
      });
      const died = (why: string) => {
        if (!slot.alive) return;
        slot.alive = false;
        reject(new Error(why));
        for (const job of slot.pending.values()) {
          job.reject(slot.overdue
            ? new HttpError(503, 'render worker restarted after another render passed its deadline; retry')
            : new HttpError(500, `render worker stopped: ${why}`));
        }
        slot.pending.clear();
        // A deadline kill is the pool's own doing, not a crash loop: always replaced.
        if (!this.closed && slot.ready && (slot.overdue || this.respawns < MAX_RESPAWNS)) {
          if (!slot.overdue) this.respawns++;
          void this.spawn(k).catch(() => {});
        }
      };
      worker.on('error', (error) => died(error.message));
      worker.on('exit', (code) => died(`exit code ${code}`));
    });
  }

  /** Run a job on the least busy live worker. */
  render(job: RenderJob): Promise<RenderReply> {
    const live = this.slots.filter(takesJobs);
    if (this.closed || live.length === 0) return Promise.reject(new HttpError(503, 'no render worker available (restarting after a render passed its deadline, or stopped); retry later'));
    const slot = live.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const jobId = this.nextJobId++;
    let timer: NodeJS.Timeout | undefined;
    return new Promise<RenderReply>((resolve, reject) => {
      slot.pending.set(jobId, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage({ jobId, job });
      timer = setTimeout(() => this.overdue(slot, jobId, job), this.deadlineMs);
    }).finally(() => {
      clearTimeout(timer);
      if (slot.pending.size === 0) slot.worker.unref();
    });
  }

  /**
   * A job passed its deadline: answer it now, stop its worker (a replacement starts on exit).
   * The worker takes no new job meanwhile; terminateWorker waits until it is out of any
   * libjpeg-turbo call (terminating it inside one would abort the server).
   */
  private overdue(slot: Slot, jobId: number, job: RenderJob): void {
    const entry = slot.pending.get(jobId);
    if (entry === undefined || !slot.alive) return;
    slot.pending.delete(jobId);
    const what = job.kind === 'thumb' ? `thumbnail of record ${job.recordIndex}` : `render of record ${job.recordIndex}`;
    entry.reject(new HttpError(503, `${what} did not finish within the ${this.deadlineMs} ms render deadline; its worker was stopped and replaced (lower the sizes or scales asked for)`));
    slot.overdue = true;
    this.deadlineKills++;
    void terminateWorker(slot.worker);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map(async (slot) => {
      if (!slot.alive) return;
      slot.alive = false;
      // Ask the worker to close its store and exit; terminate it if it does not within 2 s.
      const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
      slot.worker.postMessage({ close: true });
      const timer = setTimeout(() => void terminateWorker(slot.worker), 2000);
      await exited;
      clearTimeout(timer);
    }));
  }
}

function takesJobs(slot: Slot): boolean {
  return slot.alive && !slot.overdue;
}

/** Limits running renders; beyond the queue bound a request gets 503 instead of memory. */
export class RenderGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly maxRunning: number, private readonly maxWaiting: number) {}

  get runningCount(): number {
    return this.running;
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxRunning) {
      if (this.waiting.length >= this.maxWaiting) throw new HttpError(503, `busy: ${this.running} renders running and ${this.waiting.length} waiting; retry later`);
      // The finishing job hands its slot over: `running` stays counted across the handover.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
