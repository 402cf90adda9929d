// The render gate: at most maxRunning jobs at once, at most maxWaiting queued, 503 beyond.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpError } from '../../src/engine/sources/http-kit.ts';
import { RenderGate } from '../../src/server/render-pool.ts';

test('runs at most maxRunning jobs, queues maxWaiting, refuses the rest with 503', async () => {
  const gate = new RenderGate(2, 1);
  const releases: (() => void)[] = [];
  let peak = 0;
  let active = 0;
  const job = () => gate.run(async () => {
    active++;
    peak = Math.max(peak, active);
    await new Promise<void>((resolve) => releases.push(resolve));
    active--;
    return 'done';
  });
  const a = job();
  const b = job();
  const c = job();
  await new Promise((r) => setImmediate(r));
  assert.equal(gate.runningCount, 2);
  assert.equal(gate.waitingCount, 1);
  await assert.rejects(job(), (error: unknown) => error instanceof HttpError && error.status === 503 && /busy: 2 renders running and 1 waiting/.test(error.message));
  releases.shift()!();
  assert.equal(await a, 'done');
  await new Promise((r) => setImmediate(r));
  // The freed slot went to the waiting job, not to a newcomer.
  assert.equal(gate.runningCount, 2);
  assert.equal(gate.waitingCount, 0);
  const d = job();
  await new Promise((r) => setImmediate(r));
  assert.equal(gate.waitingCount, 1);
  while (releases.length > 0 || active > 0) {
    releases.shift()?.();
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(await Promise.all([b, c, d]), ['done', 'done', 'done']);
  assert.equal(peak, 2);
  assert.equal(gate.runningCount, 0);
});

test('a failing job frees its slot', async () => {
  const gate = new RenderGate(1, 0);
  await assert.rejects(gate.run(async () => { throw new Error('boom'); }), /boom/);
  assert.equal(gate.runningCount, 0);
  assert.equal(await gate.run(async () => 7), 7);
});
