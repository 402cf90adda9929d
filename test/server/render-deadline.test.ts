// Issue 12 item 7 (server half): a render that passes its deadline is answered with a 503 at
// once, its worker is terminated and replaced, and the server keeps answering everything else,
// /api/params included. The deadline is set to 1 ms so every render of a 1024×768 photo-sized
// JPEG (decode + augment + encode: far more than 1 ms on any machine) passes it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import sharp from 'sharp';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { RenderPool } from '../../src/server/render-pool.ts';
import type { ViewerServer } from '../../src/server/server.ts';
import { startViewer, tempDir } from './helpers.ts';

let tmp: { dir: string; cleanup: () => Promise<void> };
let db: string;

before(async () => {
  tmp = await tempDir();
  db = path.join(tmp.dir, 'big.picpac');
  const width = 1024;
  const height = 768;
  const raw = new Uint8Array(width * height * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 31 + (i >> 9)) & 0xff;
  const bytes = new Uint8Array(await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
  const writer = await PicpacWriter.create(db, { fsyncOnClose: false });
  await writer.append({ label: 1, fields: [{ kind: 'image', bytes }], annotation: '{"shapes":[{"type":"rect","geometry":{"x":0.1,"y":0.1,"width":0.5,"height":0.5}}]}' });
  await writer.close();
});
after(() => tmp.cleanup());

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600 && !condition(); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(condition(), what);
}

test('an overdue render gets a 503 naming the deadline; its worker is replaced; /api/params keeps answering', { timeout: 120_000 }, async () => {
  let viewer: ViewerServer | undefined;
  try {
    viewer = await startViewer(db, { renderThreads: 1, renderDeadlineMs: 1 });
    const reply = await fetch(`${viewer.url}/api/image?id=0&perturb=1&pert_angle=20&annotate=json`);
    assert.equal(reply.status, 503);
    assert.match(await reply.text(), /render of record 0 did not finish within the 1 ms render deadline; its worker was stopped and replaced/);
    assert.equal(viewer.pool!.deadlineKills, 1);
    const params = await fetch(`${viewer.url}/api/params`);
    assert.equal(params.status, 200);
    await params.arrayBuffer();
    await waitFor(() => viewer!.pool!.liveThreads === 1, 'a replacement worker starts');
    // The replacement works like the first (and passes the deadline again: replaced again).
    const again = await fetch(`${viewer.url}/api/image?id=0`);
    assert.equal(again.status, 503);
    await again.arrayBuffer();
    assert.equal(viewer.pool!.deadlineKills, 2);
  } finally {
    await viewer?.close();
  }
});

test('the deadline option is validated', async () => {
  await assert.rejects(RenderPool.start(db, 1, { deadlineMs: 0 }), /Expected an integer between 1 and 3600000 for deadlineMs but received 0/);
});
