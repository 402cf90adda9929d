// An annotation project: a folder holding one LMDB environment (`PROJECT/db/`) with the images
// (a path relative to the project, or the copied bytes), the current shapes of every image, an
// append-only change log (who, when, from where, what) and the batches handed out. Every
// change is one LMDB write transaction: the promise resolves after the commit, so a change the
// server acknowledged survives a killed process. A read-only mirror of the per-image state is
// kept in memory (one server process owns the project), so the queue and the counters never
// scan the database.
import type { CocoCategoryInfo } from './class-table.ts';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { PicpacError } from '../errors.ts';
import type { Shape } from './shapes.ts';

export const PROJECT_FORMAT_VERSION = 1;
const DB_FOLDER = 'db';

export interface ProjectMeta {
  formatVersion: number;
  createdAt: string;
  classes: string[];
  /** COCO facts about classes (category ids, …) from imports: the rest of the class table. */
  coco?: Record<string, CocoCategoryInfo>;
  /** The VIEWED_AS_DONE mode of the last `serve`, so `status` and `export` count the same way. */
  viewedAsDone?: boolean;
}

export interface ImageEntry {
  /** 1-based, in import order; also the record id on export. */
  id: number;
  /** Display name: the path relative to the imported folder (or as listed). */
  name: string;
  /** File path relative to the project folder, when the image was not copied. */
  path?: string;
  /** The bytes live in the project (blobs database). */
  copied: boolean;
  width: number;
  height: number;
  /** format 2.0 ImageCodec code. */
  codec: number;
  byteLength: number;
}

export interface ImageState {
  shapes: Shape[];
  /** Seen through to the end of a batch (Owl's `viewed`). */
  viewed: boolean;
  verified: boolean;
  /** Number of changes applied to this image. */
  revision: number;
  updatedAt?: string;
  updatedBy?: string;
}

export type ChangeAction = 'create' | 'update' | 'delete' | 'verify';

export interface Change {
  imageId: number;
  action: ChangeAction;
  /** create / update: the whole shape (with its id). */
  shape?: Shape;
  /** delete: the shape id. */
  shapeId?: string;
  /** verify: the new flag. */
  verified?: boolean;
  user: string;
  ip?: string;
}

export interface LogEntry extends Change {
  seq: number;
  time: string;
  /** The shape before an update or delete (so the log alone can replay or undo). */
  previous?: Shape;
  revision: number;
}

export interface BatchRecord {
  id: number;
  session: string;
  user: string;
  imageIds: number[];
  createdAt: number;
  /** Lease end (ms since epoch); unfinished batches past it go back to the queue. */
  expiresAt: number;
  finishedAt?: number;
}

export class ProjectError extends PicpacError {
  constructor(message: string) {
    super('IO', message);
  }
}

/** A change that names an image or shape that does not exist (HTTP 404). */
export class NotFoundError extends PicpacError {
  constructor(message: string) {
    super('IO', message);
  }
}

export function emptyState(): ImageState {
  return { shapes: [], viewed: false, verified: false, revision: 0 };
}

export class AnnotationProject {
  readonly dir: string;
  private readonly root: RootDatabase;
  private readonly metaDb: Database<ProjectMeta, string>;
  private readonly imagesDb: Database<ImageEntry, number>;
  private readonly blobsDb: Database<Uint8Array, number>;
  private readonly statesDb: Database<ImageState, number>;
  private readonly logDb: Database<LogEntry, number>;
  readonly batchesDb: Database<BatchRecord, number>;
  private meta: ProjectMeta;
  private readonly images = new Map<number, ImageEntry>();
  private readonly states = new Map<number, ImageState>();
  private ids: number[] = [];
  private nextLogSeq = 1;
  private closed = false;
  /** Per-user counters from the log, kept up to date by apply(). */
  private readonly annotators = new Map<string, { changes: number; images: Set<number>; shapesCreated: number }>();

  private constructor(dir: string, root: RootDatabase) {
    this.dir = dir;
    this.root = root;
    this.metaDb = root.openDB({ name: 'meta' });
    this.imagesDb = root.openDB({ name: 'images', keyEncoding: 'uint32' });
    this.blobsDb = root.openDB({ name: 'blobs', keyEncoding: 'uint32', encoding: 'binary' });
    this.statesDb = root.openDB({ name: 'states', keyEncoding: 'uint32' });
    this.logDb = root.openDB({ name: 'log', keyEncoding: 'uint32' });
    this.batchesDb = root.openDB({ name: 'batches', keyEncoding: 'uint32' });
    const meta = this.metaDb.get('project');
    this.meta = meta ?? { formatVersion: PROJECT_FORMAT_VERSION, createdAt: new Date().toISOString(), classes: [] };
    for (const { value } of this.imagesDb.getRange({})) this.images.set(value.id, value);
    for (const { key, value } of this.statesDb.getRange({})) this.states.set(key, value);
    this.ids = [...this.images.keys()].sort((a, b) => a - b);
    for (const { value } of this.logDb.getRange({})) {
      this.nextLogSeq = value.seq + 1;
      this.count(value);
    }
  }

  private count(entry: LogEntry): void {
    let a = this.annotators.get(entry.user);
    if (a === undefined) this.annotators.set(entry.user, (a = { changes: 0, images: new Set(), shapesCreated: 0 }));
    a.changes++;
    a.images.add(entry.imageId);
    if (entry.action === 'create' && entry.previous === undefined) a.shapesCreated++;
  }

  /** Changes, images touched and shapes created per user. */
  annotatorCounts(): Record<string, { changes: number; images: number; shapesCreated: number }> {
    const out: Record<string, { changes: number; images: number; shapesCreated: number }> = {};
    for (const [user, a] of this.annotators) out[user] = { changes: a.changes, images: a.images.size, shapesCreated: a.shapesCreated };
    return out;
  }

  /** Create an empty project folder (refuses a folder that already holds one). */
  static async create(dir: string, options: { classes?: string[] } = {}): Promise<AnnotationProject> {
    const dbDir = path.join(dir, DB_FOLDER);
    if (await stat(path.join(dbDir, 'data.mdb')).then(() => true, () => false)) throw new ProjectError(`${dir} already holds an annotation project`);
    await mkdir(dbDir, { recursive: true });
    const project = new AnnotationProject(path.resolve(dir), openRoot(dbDir));
    project.meta = { formatVersion: PROJECT_FORMAT_VERSION, createdAt: new Date().toISOString(), classes: options.classes ?? [] };
    await project.metaDb.put('project', project.meta);
    return project;
  }

  static async open(dir: string): Promise<AnnotationProject> {
    const dbDir = path.join(dir, DB_FOLDER);
    if (!(await stat(path.join(dbDir, 'data.mdb')).then(() => true, () => false))) throw new ProjectError(`${dir} is not an annotation project (no ${DB_FOLDER}/data.mdb; run 'picpac annotate init' first)`);
    const project = new AnnotationProject(path.resolve(dir), openRoot(dbDir));
    const meta = project.metaDb.get('project');
    if (meta === undefined || meta.formatVersion !== PROJECT_FORMAT_VERSION) {
      await project.close();
      throw new ProjectError(`${dir}: unsupported project format ${meta?.formatVersion ?? '(none)'}`);
    }
    return project;
  }

  get classes(): string[] {
    return [...this.meta.classes];
  }

  async setClasses(classes: string[]): Promise<void> {
    this.meta = { ...this.meta, classes: [...classes] };
    await this.metaDb.put('project', this.meta);
  }

  /** COCO category facts by class name (from `annotate import --format coco`). */
  get classCoco(): Record<string, CocoCategoryInfo> {
    return { ...(this.meta.coco ?? {}) };
  }

  async setClassCoco(coco: Record<string, CocoCategoryInfo>): Promise<void> {
    this.meta = { ...this.meta, coco: { ...coco } };
    await this.metaDb.put('project', this.meta);
  }

  get viewedAsDone(): boolean {
    return this.meta.viewedAsDone === true;
  }

  async setViewedAsDone(viewedAsDone: boolean): Promise<void> {
    this.meta = { ...this.meta, viewedAsDone };
    await this.metaDb.put('project', this.meta);
  }

  get imageCount(): number {
    return this.ids.length;
  }

  /** Image ids in order. */
  imageIds(): readonly number[] {
    return this.ids;
  }

  image(id: number): ImageEntry | undefined {
    return this.images.get(id);
  }

  state(id: number): ImageState {
    return this.states.get(id) ?? emptyState();
  }

  /** Add images (init). `bytes` is stored when given (copy mode); otherwise `path` must be set. */
  async addImages(entries: Array<Omit<ImageEntry, 'id'> & { bytes?: Uint8Array }>): Promise<ImageEntry[]> {
    this.checkOpen();
    let nextId = (this.ids.at(-1) ?? 0) + 1;
    const added: ImageEntry[] = entries.map(({ bytes: _bytes, ...entry }) => ({ ...entry, id: nextId++ }));
    await this.root.transaction(() => {
      added.forEach((entry, i) => {
        void this.imagesDb.put(entry.id, entry);
        const bytes = entries[i].bytes;
        if (bytes !== undefined) void this.blobsDb.put(entry.id, bytes);
      });
    });
    for (const entry of added) {
      this.images.set(entry.id, entry);
      this.ids.push(entry.id);
    }
    return added;
  }

  /** The image file's bytes: from the project (copied) or from its recorded path — never from a caller's path. */
  async imageBytes(id: number): Promise<Uint8Array> {
    const entry = this.images.get(id);
    if (entry === undefined) throw new NotFoundError(`image ${id} does not exist`);
    if (entry.copied) {
      const bytes = this.blobsDb.get(id);
      if (bytes === undefined) throw new ProjectError(`image ${id}: copied bytes are missing from the project`);
      return Uint8Array.from(bytes);
    }
    return readFile(path.resolve(this.dir, entry.path!));
  }

  /**
   * Apply one change in a write transaction together with its log entry; resolves (after the
   * commit) with the image's new state. create/update replace a shape with the same id or add
   * it (so a retried create is harmless); deleting an absent shape is a no-op that is logged.
   */
  async apply(change: Change): Promise<ImageState> {
    this.checkOpen();
    if (!this.images.has(change.imageId)) throw new NotFoundError(`image ${change.imageId} does not exist`);
    const time = new Date().toISOString();
    const result = await this.root.transaction(() => {
      const current = this.statesDb.get(change.imageId) ?? emptyState();
      const shapes = [...current.shapes];
      let previous: Shape | undefined;
      let verified = current.verified;
      if (change.action === 'create' || change.action === 'update') {
        const shape = change.shape!;
        const at = shapes.findIndex((s) => s.id === shape.id);
        if (at >= 0) {
          previous = shapes[at];
          shapes[at] = shape;
        } else shapes.push(shape);
      } else if (change.action === 'delete') {
        const at = shapes.findIndex((s) => s.id === change.shapeId);
        if (at >= 0) previous = shapes.splice(at, 1)[0];
      } else {
        verified = change.verified === true;
      }
      const next: ImageState = { shapes, viewed: current.viewed, verified, revision: current.revision + 1, updatedAt: time, updatedBy: change.user };
      const entry: LogEntry = { ...change, seq: this.nextLogSeq++, time, revision: next.revision };
      if (previous !== undefined) entry.previous = previous;
      void this.statesDb.put(change.imageId, next);
      void this.logDb.put(entry.seq, entry);
      return { next, entry };
    });
    this.states.set(change.imageId, result.next);
    this.count(result.entry);
    return result.next;
  }

  /** Set `viewed` on images (batch finished, or the queue's reset); not logged, like Owl. */
  async setViewed(imageIds: number[], viewed: boolean): Promise<void> {
    this.checkOpen();
    const updated = await this.root.transaction(() => {
      const out: Array<[number, ImageState]> = [];
      for (const id of imageIds) {
        const current = this.statesDb.get(id) ?? emptyState();
        if (current.viewed === viewed) continue;
        const next = { ...current, viewed };
        void this.statesDb.put(id, next);
        out.push([id, next]);
      }
      return out;
    });
    for (const [id, state] of updated) this.states.set(id, state);
  }

  /** Log entries in order, optionally for one image. */
  *log(options: { imageId?: number; start?: number } = {}): Generator<LogEntry> {
    for (const { value } of this.logDb.getRange({ start: options.start ?? 1 })) {
      if (options.imageId === undefined || value.imageId === options.imageId) yield value;
    }
  }

  get logLength(): number {
    return this.nextLogSeq - 1;
  }

  async putBatch(batch: BatchRecord): Promise<void> {
    this.checkOpen();
    await this.batchesDb.put(batch.id, batch);
  }

  batches(): BatchRecord[] {
    return [...this.batchesDb.getRange({})].map((e) => e.value);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.root.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new ProjectError(`project ${this.dir} is closed`);
  }
}

function openRoot(dbDir: string): RootDatabase {
  try {
    // Default sync mode: a commit is on disk before the transaction promise resolves.
    return open({ path: dbDir, maxDbs: 8 });
  } catch (error) {
    throw new ProjectError(`cannot open the project database ${dbDir}: ${(error as Error).message}`);
  }
}
