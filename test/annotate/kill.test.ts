// Durability: the server runs as a child process (`picpac annotate serve`); clients save shapes
// concurrently and record every acknowledgement; the server is SIGKILLed mid-session; after a
// reopen, the export holds every acknowledged save (issue 6, "Proof").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { fromPicpacAnnotation } from '../../src/annotate/formats/picpac-json.ts';
import { openStore } from '../../src/engine/open-store.ts';
import { cli, repoRoot } from '../cli/helpers.ts';
import { makeImageFolder, postJson, tempRoot } from './helpers.ts';

/** Start `picpac annotate serve PROJECT --port 0`; resolves with the child and its port. */
async function startServe(projectDir: string, extra: string[] = []): Promise<{ child: ChildProcessWithoutNullStreams; port: number; output: () => string }> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/picpac.js'), 'annotate', 'serve', projectDir, '--port', '0', ...extra]);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => void (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => void (out += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    child.stdout.on('data', () => {
      const m = /http:\/\/127\.0\.0\.1:(\d+)\/annotate\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (${code}): ${out}`));
    });
  });
  return { child, port, output: () => out };
}

test('SIGTERM stops the server cleanly (exit 0) and the project reopens', { timeout: 30_000 }, async () => {
  const tmp = await tempRoot();
  try {
    await makeImageFolder(path.join(tmp.dir, 'photos'), 2, { width: 32, height: 32 });
    const projectDir = path.join(tmp.dir, 'proj');
    assert.equal((await cli('annotate', 'init', projectDir, '--images', path.join(tmp.dir, 'photos'))).code, 0);
    const { child, port, output } = await startServe(projectDir, ['--rows', '1', '--cols', '1']);
    const res = await postJson(port, '/api/batch/next', { session: 's1', user: 'u' });
    assert.equal(res.status, 200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(output(), /annotating 2 images at .*\nstopped\n/);
    assert.equal((await cli('annotate', 'status', projectDir)).code, 0);
  } finally {
    await tmp.cleanup();
  }
});

test('SIGKILL mid-session: every acknowledged save is in the export', { timeout: 60_000 }, async () => {
  const tmp = await tempRoot();
  try {
    await makeImageFolder(path.join(tmp.dir, 'photos'), 6, { width: 64, height: 48 });
    const projectDir = path.join(tmp.dir, 'proj');
    assert.equal((await cli('annotate', 'init', projectDir, '--images', path.join(tmp.dir, 'photos'), '--classes', 'a,b')).code, 0);
    const { child, port } = await startServe(projectDir);

    const acked = new Map<string, { imageId: number; x: number; deleted?: boolean; deleting?: boolean }>();
    let stop = false;
    let killed = false;
    const client = async (worker: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const id = `w${worker}-s${i}`;
        const imageId = 1 + ((worker + i) % 6);
        const x = ((i * 37 + worker * 11) % 90) / 100;
        try {
          const res = await postJson(port, '/api/save', { user: `user${worker}`, imageId, action: 'create', shape: { id, type: 'rect', class: i % 2 ? 'a' : 'b', geometry: { x, y: 0.1, width: 0.05, height: 0.2 } } });
          if (res.status === 200 && (res.json() as { ok: boolean }).ok) acked.set(id, { imageId, x });
          // Every 5th shape is deleted again: an acknowledged delete must stay deleted.
          if (i % 5 === 4 && acked.has(id)) {
            acked.get(id)!.deleting = true; // in flight at the kill: either outcome is allowed
            const del = await postJson(port, '/api/save', { user: `user${worker}`, imageId, action: 'delete', shapeId: id });
            if (del.status === 200) acked.get(id)!.deleted = true;
          }
        } catch {
          if (killed) return; // connection refused / reset after the kill
          throw new Error('request failed before the kill');
        }
      }
    };
    const clients = [0, 1, 2, 3].map(client);
    // Kill while requests are in flight, once enough saves were acknowledged.
    while (acked.size < 60) await new Promise((r) => setTimeout(r, 5));
    killed = true;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    stop = true;
    await Promise.all(clients);
    assert.ok(acked.size >= 60);

    const out = path.join(tmp.dir, 'after-kill.picpac');
    const exported = await cli('annotate', 'export', projectDir, out);
    assert.equal(exported.code, 0, exported.stderr);
    const store = await openStore(out);
    const found = new Map<string, { imageId: number; x: number }>();
    try {
      for (let i = 0; i < store.recordCount; i++) {
        const meta = store.meta(i);
        for (const shape of fromPicpacAnnotation((await store.getAnnotation(i)) ?? '{}')) found.set(shape.id!, { imageId: meta.id, x: (shape.geometry as { x: number }).x });
      }
    } finally {
      await store.close();
    }
    let checked = 0;
    for (const [id, save] of acked) {
      if (save.deleting && !save.deleted) continue;
      if (save.deleted) {
        assert.equal(found.has(id), false, `${id} was deleted (acknowledged) but is in the export`);
        continue;
      }
      assert.deepEqual(found.get(id), { imageId: save.imageId, x: save.x }, `acknowledged ${id} missing or wrong`);
      checked++;
    }
    assert.ok(checked > 40, `${checked} shapes checked`);
    // The log still opens and counts every acknowledged change.
    const status = await cli('annotate', 'status', projectDir, '--json');
    const json = JSON.parse(status.stdout) as { shapes: number; byAnnotator: Record<string, unknown> };
    assert.ok(json.shapes >= checked);
    assert.equal(Object.keys(json.byAnnotator).length, 4);
  } finally {
    await tmp.cleanup();
  }
});
