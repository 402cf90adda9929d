// Project store and work queue: leases (disjoint batches, expiry, renew), finishing a batch
// marks it viewed, VIEWED_AS_DONE both ways exactly as Owl (REFERENCE §2.1.5), history
// (previous / next), the append-only change log, and persistence across reopen.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AnnotationProject, NotFoundError, ProjectError } from '../../src/annotate/project.ts';
import { WorkQueue, projectStatus } from '../../src/annotate/queue.ts';
import type { Shape } from '../../src/annotate/shapes.ts';

let root: string;
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'picpac-annotate-'));
});
after(() => rm(root, { recursive: true, force: true }));

let counter = 0;
async function makeProject(imageCount: number): Promise<AnnotationProject> {
  const project = await AnnotationProject.create(path.join(root, `p${counter++}`), { classes: ['car'] });
  await project.addImages(Array.from({ length: imageCount }, (_, i) => ({ name: `img${i + 1}.png`, copied: true, bytes: Uint8Array.of(i), width: 10, height: 10, codec: 2, byteLength: 1 })));
  return project;
}

const rect = (id: string): Shape => ({ id, type: 'rect', className: 'car', geometry: { x: 0.1, y: 0.1, width: 0.2, height: 0.2 } });

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('work queue', () => {
  test('two sessions get disjoint batches, in id order; a batch is leased, not viewed', async () => {
    const project = await makeProject(7);
    const queue = new WorkQueue(project, { batchSize: 3, viewedAsDone: false });
    const a = await queue.next('A', 'alice');
    const b = await queue.next('B', 'bob');
    assert.deepEqual(a.imageIds, [1, 2, 3]);
    assert.deepEqual(b.imageIds, [4, 5, 6]);
    assert.equal(project.state(1).viewed, false, 'served is not viewed');
    assert.equal(queue.status().leased, 6);
    // Asking again without saying which batch is on screen returns the live lease, not a copy.
    assert.equal((await queue.next('A', 'alice')).id, a.id);
    await project.close();
  });

  test('an expired lease returns its images to the queue unviewed; renew keeps it', async () => {
    const project = await makeProject(4);
    const c = clock();
    const queue = new WorkQueue(project, { batchSize: 2, viewedAsDone: false, leaseMs: 1000, now: c.now });
    const a = await queue.next('A', 'alice');
    c.advance(900);
    assert.equal(await queue.renew('A', a.id), true);
    assert.equal(await queue.renew('B', a.id), false, 'not your batch');
    c.advance(900);
    assert.deepEqual((await queue.next('B', 'bob')).imageIds, [3, 4], 'renewed lease still holds');
    c.advance(1500);
    const again = await queue.next('C', 'carol');
    assert.deepEqual(again.imageIds, [1, 2], 'expired lease: back in the queue');
    assert.equal(project.state(1).viewed, false);
    await project.close();
  });

  test('finishing a batch (asking for the next) marks it viewed; previous and next walk the history', async () => {
    const project = await makeProject(6);
    const queue = new WorkQueue(project, { batchSize: 2, viewedAsDone: false });
    const b1 = await queue.next('A', 'alice');
    const b2 = await queue.next('A', 'alice', { from: b1.id });
    assert.deepEqual(b2.imageIds, [3, 4]);
    assert.equal(project.state(1).viewed, true);
    assert.equal(project.state(3).viewed, false);
    assert.equal(queue.previous('A', b2.id)?.id, b1.id);
    assert.equal(queue.previous('A', b1.id), undefined);
    assert.equal(queue.previous('B'), undefined, 'history is per session');
    // Going forward from an old batch returns the later one, not a new lease.
    assert.equal((await queue.next('A', 'alice', { from: b1.id })).id, b2.id);
    // Another session's batch id as `from` finishes nothing.
    await queue.next('B', 'bob', { from: b2.id });
    assert.equal(project.state(3).viewed, false);
    await project.close();
  });

  test('VIEWED_AS_DONE = false: skipped images come back when everything else is done', async () => {
    const project = await makeProject(4);
    const queue = new WorkQueue(project, { batchSize: 2, viewedAsDone: false });
    const b1 = await queue.next('A', 'alice');
    await project.apply({ imageId: 1, action: 'create', shape: rect('s1'), user: 'alice' }); // 1 done, 2 skipped
    const b2 = await queue.next('A', 'alice', { from: b1.id });
    assert.deepEqual(b2.imageIds, [3, 4]);
    await project.apply({ imageId: 3, action: 'create', shape: rect('s3'), user: 'alice' });
    const b3 = await queue.next('A', 'alice', { from: b2.id });
    assert.deepEqual(b3.imageIds, [2, 4], 'the reset brings back every not-done image');
    assert.equal(project.state(2).viewed, false);
    const s = projectStatus(project, { viewedAsDone: false });
    assert.deepEqual([s.total, s.done, s.todo, s.viewed], [4, 2, 2, 2], "done images stay viewed");
    await project.close();
  });

  test('VIEWED_AS_DONE = true: a viewed image counts as done and never comes back', async () => {
    const project = await makeProject(4);
    const queue = new WorkQueue(project, { batchSize: 2, viewedAsDone: true });
    const b1 = await queue.next('A', 'alice');
    const b2 = await queue.next('A', 'alice', { from: b1.id });
    const b3 = await queue.next('A', 'alice', { from: b2.id });
    assert.deepEqual(b3.imageIds, [], 'nothing left: no reset');
    const s = queue.status();
    assert.deepEqual([s.done, s.todo, s.viewed], [4, 0, 4]);
    await project.close();
  });

  test('verified images count as done (confirmed negatives) and are not handed out', async () => {
    const project = await makeProject(3);
    await project.apply({ imageId: 1, action: 'verify', verified: true, user: 'rev' });
    const queue = new WorkQueue(project, { batchSize: 5, viewedAsDone: false });
    assert.deepEqual((await queue.next('A', 'a')).imageIds, [2, 3]);
    assert.equal(queue.status().verified, 1);
    await project.close();
  });

  test('batches and leases survive a reopen', async () => {
    const project = await makeProject(4);
    const dir = project.dir;
    const q1 = new WorkQueue(project, { batchSize: 2, viewedAsDone: false });
    const a = await q1.next('A', 'alice');
    await project.close();
    const reopened = await AnnotationProject.open(dir);
    const q2 = new WorkQueue(reopened, { batchSize: 2, viewedAsDone: false });
    assert.deepEqual((await q2.next('B', 'bob')).imageIds, [3, 4], 'A still holds 1, 2');
    assert.equal(q2.previous('A')?.id, a.id);
    await reopened.close();
  });

  test('batch size is validated', async () => {
    const project = await makeProject(1);
    assert.throws(() => new WorkQueue(project, { batchSize: 0, viewedAsDone: false }), RangeError);
    await project.close();
  });
});

describe('project store', () => {
  test('changes: create is an upsert, update keeps the previous shape in the log, delete of an absent shape is a logged no-op', async () => {
    const project = await makeProject(2);
    await project.apply({ imageId: 1, action: 'create', shape: rect('a'), user: 'u', ip: '127.0.0.1' });
    await project.apply({ imageId: 1, action: 'create', shape: rect('a'), user: 'u' }); // a retried create
    assert.equal(project.state(1).shapes.length, 1);
    const moved: Shape = { id: 'a', type: 'rect', className: 'car', geometry: { x: 0.5, y: 0.5, width: 0.1, height: 0.1 } };
    await project.apply({ imageId: 1, action: 'update', shape: moved, user: 'v' });
    await project.apply({ imageId: 1, action: 'delete', shapeId: 'zzz', user: 'v' });
    assert.deepEqual(project.state(1).shapes, [moved]);
    await project.apply({ imageId: 1, action: 'delete', shapeId: 'a', user: 'v' });
    assert.deepEqual(project.state(1).shapes, []);
    assert.equal(project.state(1).revision, 5);
    const log = [...project.log()];
    assert.deepEqual(log.map((e) => [e.seq, e.action, e.user]), [[1, 'create', 'u'], [2, 'create', 'u'], [3, 'update', 'v'], [4, 'delete', 'v'], [5, 'delete', 'v']]);
    assert.equal(log[0].ip, '127.0.0.1');
    assert.deepEqual(log[2].previous, rect('a'));
    assert.equal(log[3].previous, undefined);
    assert.deepEqual(log[4].previous, moved);
    assert.match(log[0].time, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(project.annotatorCounts(), { u: { changes: 2, images: 1, shapesCreated: 1 }, v: { changes: 3, images: 1, shapesCreated: 0 } });
    await assert.rejects(project.apply({ imageId: 99, action: 'delete', shapeId: 'a', user: 'u' }), NotFoundError);
    await project.close();
  });

  test('the log is append-only: earlier entries never change, numbering continues after reopen', async () => {
    const project = await makeProject(1);
    const dir = project.dir;
    for (let i = 0; i < 5; i++) await project.apply({ imageId: 1, action: 'create', shape: rect(`s${i}`), user: 'u' });
    const snapshot = JSON.stringify([...project.log()]);
    await project.apply({ imageId: 1, action: 'delete', shapeId: 's0', user: 'u' });
    await project.close();
    const reopened = await AnnotationProject.open(dir);
    await reopened.apply({ imageId: 1, action: 'verify', verified: true, user: 'w' });
    const log = [...reopened.log()];
    assert.equal(JSON.stringify(log.slice(0, 5)), snapshot);
    assert.deepEqual(log.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(reopened.logLength, 7);
    assert.deepEqual([...reopened.log({ imageId: 1, start: 6 })].map((e) => e.action), ['delete', 'verify']);
    assert.equal(reopened.state(1).shapes.length, 4);
    assert.equal(reopened.state(1).verified, true);
    await reopened.close();
  });

  test('image bytes come from the record (copied) or its stored path; open refuses non-projects', async () => {
    const project = await makeProject(1);
    assert.deepEqual(await project.imageBytes(1), Uint8Array.of(0));
    await assert.rejects(project.imageBytes(2), NotFoundError);
    await assert.rejects(AnnotationProject.create(project.dir), /already holds an annotation project/);
    await project.close();
    await assert.rejects(AnnotationProject.open(path.join(root, 'nothing')), ProjectError);
    await assert.rejects(project.apply({ imageId: 1, action: 'verify', verified: true, user: 'u' }), /closed/);
  });
});
