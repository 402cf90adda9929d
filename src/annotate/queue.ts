// The work queue (REFERENCE §2.1.5) with leases instead of Owl's mark-on-serve. A batch is the
// next `batchSize` images, in id order, that are not done, not viewed and not leased to
// another session; it is leased to the asking session until `expiresAt` (renewed by the
// page's heartbeat). Finishing a batch (asking for the next one) marks its images viewed;
// a lease that runs out returns its images to the queue untouched, so a closed tab no longer
// "consumes" images. VIEWED_AS_DONE exactly as Owl:
//   false — when no unviewed, not-done image is left, every not-done image (not under lease)
//           is reset to unviewed and the pick runs once more: skipped images come back when
//           everything else is done. Done = has a shape (or verified).
//   true  — no reset: a viewed image counts as done.
import type { AnnotationProject, BatchRecord, ImageState } from './project.ts';

export interface QueueOptions {
  /** Images per batch (ROWS × COLS). */
  batchSize: number;
  viewedAsDone: boolean;
  /** Lease length in ms (default 10 minutes). */
  leaseMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

export interface StatusCounts {
  total: number;
  done: number;
  todo: number;
  viewed: number;
  verified: number;
  withShapes: number;
  shapes: number;
  leased: number;
  /** Per annotator (the `user` of logged changes): changes made and images touched. */
  byAnnotator: Record<string, { changes: number; images: number; shapesCreated: number }>;
}

export const DEFAULT_LEASE_MS = 10 * 60_000;

export function isDone(state: ImageState, viewedAsDone: boolean): boolean {
  return state.shapes.length > 0 || state.verified || (viewedAsDone && state.viewed);
}

export class WorkQueue {
  readonly batchSize: number;
  readonly viewedAsDone: boolean;
  readonly leaseMs: number;
  private readonly project: AnnotationProject;
  private readonly now: () => number;
  private readonly batches = new Map<number, BatchRecord>();
  /** imageId → batch id of the live lease. */
  private readonly leases = new Map<number, number>();
  private nextBatchId = 1;

  constructor(project: AnnotationProject, options: QueueOptions) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
    this.project = project;
    this.batchSize = options.batchSize;
    this.viewedAsDone = options.viewedAsDone;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.now = options.now ?? Date.now;
    for (const batch of project.batches()) {
      this.batches.set(batch.id, batch);
      this.nextBatchId = Math.max(this.nextBatchId, batch.id + 1);
    }
    this.rebuildLeases();
  }

  private rebuildLeases(): void {
    this.leases.clear();
    const now = this.now();
    for (const batch of this.batches.values()) {
      if (batch.finishedAt !== undefined || batch.expiresAt <= now) continue;
      for (const id of batch.imageIds) this.leases.set(id, batch.id);
    }
  }

  private leasedToOther(imageId: number, session: string): boolean {
    const batchId = this.leases.get(imageId);
    if (batchId === undefined) return false;
    const batch = this.batches.get(batchId)!;
    if (batch.finishedAt !== undefined || batch.expiresAt <= this.now()) {
      this.leases.delete(imageId);
      return false;
    }
    return batch.session !== session;
  }

  private pick(session: string): number[] {
    const out: number[] = [];
    for (const id of this.project.imageIds()) {
      const state = this.project.state(id);
      if (state.viewed || isDone(state, this.viewedAsDone) || this.leasedToOther(id, session)) continue;
      out.push(id);
      if (out.length === this.batchSize) break;
    }
    return out;
  }

  batch(id: number): BatchRecord | undefined {
    return this.batches.get(id);
  }

  /**
   * The session's next batch. `from` is the batch on screen: when the session has a later
   * batch (it went back with `previous`), that one is returned; otherwise `from` is finished
   * (its images marked viewed) and a new batch is leased. An empty batch means nothing is left.
   */
  async next(session: string, user: string, options: { from?: number } = {}): Promise<BatchRecord> {
    if (options.from === undefined) {
      // A page that lost track of its batch (new tab state) gets its live lease back, not a duplicate.
      const live = this.sessionBatches(session).filter((b) => b.finishedAt === undefined && b.expiresAt > this.now() && b.imageIds.length > 0).at(-1);
      if (live !== undefined) {
        await this.renew(session, live.id);
        return live;
      }
    }
    const from = options.from === undefined ? undefined : this.batches.get(options.from);
    if (from !== undefined && from.session === session) {
      const later = this.sessionBatches(session).find((b) => b.id > from.id);
      if (later !== undefined) return later;
      if (from.finishedAt === undefined) await this.finish(from);
    }
    let imageIds = this.pick(session);
    if (imageIds.length === 0 && !this.viewedAsDone) {
      // Owl: when the unviewed pool is empty, every not-done image becomes unviewed again.
      const reset = this.project.imageIds().filter((id) => !isDone(this.project.state(id), false) && this.project.state(id).viewed && !this.leasedToOther(id, session));
      if (reset.length > 0) {
        await this.project.setViewed(reset, false);
        imageIds = this.pick(session);
      }
    }
    const now = this.now();
    const batch: BatchRecord = { id: this.nextBatchId++, session, user, imageIds, createdAt: now, expiresAt: now + this.leaseMs };
    // Lease synchronously (before any await) so two concurrent requests never share an image.
    this.batches.set(batch.id, batch);
    for (const id of imageIds) this.leases.set(id, batch.id);
    await this.project.putBatch(batch);
    return batch;
  }

  /** The session's batch before `before` (default: its latest), or undefined. Not re-leased. */
  previous(session: string, before?: number): BatchRecord | undefined {
    const mine = this.sessionBatches(session).filter((b) => b.imageIds.length > 0);
    if (before === undefined) return mine.at(-1);
    return mine.filter((b) => b.id < before).at(-1);
  }

  /** Extend a live lease (page heartbeat). False when the batch is not this session's or is finished. */
  async renew(session: string, batchId: number): Promise<boolean> {
    const batch = this.batches.get(batchId);
    if (batch === undefined || batch.session !== session || batch.finishedAt !== undefined) return false;
    const now = this.now();
    if (batch.expiresAt <= now && batch.imageIds.some((id) => this.leasedToOther(id, session))) return false;
    batch.expiresAt = now + this.leaseMs;
    for (const id of batch.imageIds) this.leases.set(id, batch.id);
    await this.project.putBatch(batch);
    return true;
  }

  private async finish(batch: BatchRecord): Promise<void> {
    batch.finishedAt = this.now();
    for (const id of batch.imageIds) if (this.leases.get(id) === batch.id) this.leases.delete(id);
    await this.project.setViewed(batch.imageIds, true);
    await this.project.putBatch(batch);
  }

  private sessionBatches(session: string): BatchRecord[] {
    return [...this.batches.values()].filter((b) => b.session === session).sort((a, b) => a.id - b.id);
  }

  status(): StatusCounts {
    return projectStatus(this.project, { viewedAsDone: this.viewedAsDone, leased: [...this.leases.keys()].filter((id) => this.leasedToOther(id, '')).length });
  }
}

/** Counters for the page header and `annotate status`. */
export function projectStatus(project: AnnotationProject, options: { viewedAsDone: boolean; leased?: number }): StatusCounts {
  let done = 0, viewed = 0, verified = 0, withShapes = 0, shapes = 0;
  for (const id of project.imageIds()) {
    const s = project.state(id);
    if (isDone(s, options.viewedAsDone)) done++;
    if (s.viewed) viewed++;
    if (s.verified) verified++;
    if (s.shapes.length > 0) withShapes++;
    shapes += s.shapes.length;
  }
  const byAnnotator = project.annotatorCounts();
  const total = project.imageCount;
  return { total, done, todo: total - done, viewed, verified, withShapes, shapes, leased: options.leased ?? 0, byAnnotator };
}
