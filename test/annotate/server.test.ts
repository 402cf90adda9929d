// The annotator's HTTP server over real sockets on 127.0.0.1: malformed bodies get 400 with a
// message, unknown ids 404, path traversal gets nothing outside the page folder and the
// project's images, saves are acknowledged after the commit, batches are leased per session;
// `annotate init` skips and reports non-image files.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AnnotationProject } from '../../src/annotate/project.ts';
import { startAnnotateServer, type AnnotateServer } from '../../src/annotate/server.ts';
import { cli } from '../cli/helpers.ts';
import { makeImageFolder, postJson, rawRequest, tempRoot } from './helpers.ts';

describe('annotate server', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let project: AnnotationProject;
  let server: AnnotateServer;
  let port: number;
  let imagesDir: string;

  before(async () => {
    tmp = await tempRoot();
    imagesDir = path.join(tmp.dir, 'photos');
    await makeImageFolder(imagesDir, 8);
    const init = await cli('annotate', 'init', path.join(tmp.dir, 'proj'), '--images', imagesDir, '--classes', 'car,plate');
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /created .*proj: 8 images, 2 skipped/);
    assert.match(init.stderr, /warning: broken\.jpg: (not a recognised image|image size unreadable)[^\n]*; skipped/);
    assert.match(init.stderr, /warning: notes\.txt: not a recognised image; skipped/);
    project = await AnnotationProject.open(path.join(tmp.dir, 'proj'));
    server = await startAnnotateServer(project, { port: 0, rows: 1, cols: 3, maxBodyBytes: 4096 });
    port = server.port;
  });
  after(async () => {
    await server.close();
    await project.close();
    await tmp.cleanup();
  });

  test('binds 127.0.0.1 by default; / redirects to the page; the page and its files are served', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/annotate\/$/);
    const root = await rawRequest(port, 'GET', '/');
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, '/annotate/');
    const page = await rawRequest(port, 'GET', '/annotate/');
    assert.equal(page.status, 200);
    assert.match(page.text, /<script type="module" src="\/annotate\/static\/app\.js">/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    for (const module of ['state', 'saves', 'render', 'geometry', 'input']) assert.equal((await rawRequest(port, 'GET', `/annotate/static/${module}.js`)).status, 200, module);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    for (const route of ['/annotate/review/', '/annotate/review/3']) assert.equal((await rawRequest(port, 'GET', route)).status, 200, route);
    const js = await rawRequest(port, 'GET', '/annotate/static/app.js');
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /text\/javascript/);
    const config = (await rawRequest(port, 'GET', '/api/config')).json() as Record<string, unknown>;
    assert.deepEqual(config.classes, ['car', 'plate']);
    assert.equal(config.rows, 1);
  });

  test('image bytes come from the project records, byte for byte, with the codec content type', async () => {
    const res = await rawRequest(port, 'GET', '/api/image/1');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'image/jpeg');
    assert.deepEqual(res.body, await readFile(path.join(imagesDir, 'img001.jpg')));
  });

  test('path traversal and odd paths get 404 and nothing from outside', async () => {
    const attempts = [
      '/annotate/static/../server.ts', '/annotate/static/%2e%2e/server.ts', '/annotate/static/..%2f..%2f..%2fpackage.json',
      '/annotate/static/%2e%2e%2f%2e%2e%2f%2e%2e%2f..%2fetc%2fpasswd', '/annotate/static/....//....//package.json',
      '/annotate/static/.hidden.js', '/annotate/static//etc/passwd', '/annotate/static/..\\..\\package.json',
      '/annotate/static/app.js%00.png', '/annotate/static/server.ts', '/annotate/static/', '/annotate/../package.json',
      '/api/image/../../../etc/passwd', '/api/image/1/../../package.json', '/api/image/%2e%2e%2fpackage.json', '/api/image/0', '/api/image/-1',
      '/api/image/1.png', '/api/image/99', '/api/image/' + '9'.repeat(30), '/etc/passwd', '/package.json', '/../../../../etc/passwd',
      '/annotate/review/../../package.json', '/annotate/review/1/../../../etc/passwd',
    ];
    for (const attempt of attempts) {
      const res = await rawRequest(port, 'GET', attempt);
      assert.ok(res.status === 404 || res.status === 400, `${attempt}: ${res.status}`);
      assert.doesNotMatch(res.text, /root:|"name": "picpac"|import |export /, attempt);
    }
  });

  test('malformed POST bodies get 400 (or 413/415) with a message', async () => {
    const cases: Array<[string, string | Buffer, Record<string, string>, number, RegExp]> = [
      ['/api/save', '{"user": "a", ', { 'content-type': 'application/json' }, 400, /malformed JSON/],
      ['/api/save', '', { 'content-type': 'application/json' }, 400, /empty body/],
      ['/api/save', '[1,2]', { 'content-type': 'application/json' }, 400, /must be a JSON object/],
      ['/api/save', '{}', { 'content-type': 'text/plain' }, 415, /expected a JSON body/],
      ['/api/save', JSON.stringify({ user: 'a', imageId: 1, pad: 'x'.repeat(5000) }), { 'content-type': 'application/json' }, 413, /exceeds the limit of 4096 bytes/],
      ['/api/save', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { 'content-type': 'application/json' }, 400, /malformed JSON/],
      ['/api/batch/next', '{"session": "../x", "user": "a"}', { 'content-type': 'application/json' }, 400, /"session" must be a session id/],
    ];
    for (const [route, body, headers, status, message] of cases) {
      const res = await rawRequest(port, 'POST', route, { body, headers });
      assert.equal(res.status, status, `${route} ${String(body).slice(0, 30)}: ${res.text}`);
      assert.match((res.json() as { error: string }).error, message);
    }
    const bad: Array<[unknown, RegExp]> = [
      [{ imageId: 1, action: 'create', shape: {} }, /"user" must be a user name/],
      [{ user: 'a\u0000b', imageId: 1, action: 'create' }, /"user" must be a user name/],
      [{ user: 'a', imageId: '1', action: 'create' }, /"imageId" must be a positive integer/],
      [{ user: 'a', imageId: 1.5, action: 'create' }, /"imageId" must be a positive integer/],
      [{ user: 'a', imageId: 1, action: 'move' }, /"action" must be create, update or delete, got "move"/],
      [{ user: 'a', imageId: 1, action: 'create', shape: { type: 'rect', id: 'x', geometry: { x: 0.5, y: 0.5, width: 0.9, height: 0.1 } } }, /shape\.geometry: the rect extends past the image/],
      [{ user: 'a', imageId: 1, action: 'create', shape: { type: 'polygon', id: 'x', geometry: { points: [] } } }, /a polygon needs 3\.\.10000 points, got 0/],
      [{ user: 'a', imageId: 1, action: 'create', shape: { type: 'point', geometry: { x: 0.5, y: 0.5 } } }, /shape\.id is required/],
      [{ user: 'a', imageId: 1, action: 'create', shape: { type: 'point', id: 'x', geometry: { x: NaN, y: 0.5 } } }, /x must be a finite number/],
      [{ user: 'a', imageId: 1, action: 'delete', shapeId: '../../x' }, /"shapeId" must be a shape id/],
    ];
    for (const [body, message] of bad) {
      const res = await postJson(port, '/api/save', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match((res.json() as { error: string }).error, message);
    }
    const verify = await postJson(port, '/api/verify', { user: 'a', imageId: 1, verified: 'yes' });
    assert.equal(verify.status, 400);
    assert.match((verify.json() as { error: string }).error, /"verified" must be true or false/);
    assert.equal(project.logLength, 0, 'nothing was applied');
  });

  test('a Host other than a loopback name is refused (DNS rebinding); cross-site form posts are not JSON', async () => {
    const rebound = await rawRequest(port, 'GET', '/api/status', { headers: { host: 'evil.example:18000' } });
    assert.equal(rebound.status, 421);
    assert.match((rebound.json() as { error: string }).error, /answers to 127\.0\.0\.1 or localhost/);
    assert.equal((await rawRequest(port, 'GET', '/api/status', { headers: { host: `localhost:${port}` } })).status, 200);
    const form = await rawRequest(port, 'POST', '/api/save', { body: 'user=a&imageId=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.status, 415);
    assert.equal((await rawRequest(port, 'OPTIONS', '/api/save')).status, 405, 'no CORS preflight is granted');
  });

  test('unknown ids and routes get 404, wrong methods 405, bad queries 400', async () => {
    const notFound = await postJson(port, '/api/save', { user: 'a', imageId: 999, action: 'delete', shapeId: 'x' });
    assert.equal(notFound.status, 404);
    assert.match((notFound.json() as { error: string }).error, /image 999 does not exist/);
    assert.equal((await rawRequest(port, 'GET', '/api/images/999')).status, 404);
    assert.equal((await rawRequest(port, 'GET', '/api/images/abc')).status, 404);
    assert.equal((await rawRequest(port, 'GET', '/api/nothing')).status, 404);
    assert.equal((await rawRequest(port, 'GET', '/api/save')).status, 405);
    assert.equal((await rawRequest(port, 'DELETE', '/annotate/')).status, 405);
    assert.equal((await postJson(port, '/api/verify', { user: 'a', imageId: 12345, verified: true })).status, 404);
    const filter = await rawRequest(port, 'GET', '/api/review?filter=evil');
    assert.equal(filter.status, 400);
    assert.match((filter.json() as { error: string }).error, /filter must be one of/);
    assert.equal((await rawRequest(port, 'GET', '/api/review?limit=100000')).status, 400);
    assert.equal((await rawRequest(port, 'GET', '/api/review?offset=-3')).status, 400);
    assert.equal((await rawRequest(port, 'GET', '/api/%E0%A4%A')).status, 400);
  });

  test('a save is acknowledged after the commit and shows in the image, the log, the review list and the counters', async () => {
    const shape = { id: 'shape-1', type: 'rect', class: 'plate', geometry: { x: 0.25, y: 0.5, width: 0.5, height: 0.25 } };
    const res = await postJson(port, '/api/save', { user: 'alice', imageId: 2, action: 'create', shape });
    assert.equal(res.status, 200);
    const ack = res.json() as { ok: boolean; revision: number; shapeCount: number; status: { done: number; byAnnotator: Record<string, unknown> } };
    assert.deepEqual([ack.ok, ack.revision, ack.shapeCount, ack.status.done], [true, 1, 1, 1]);
    assert.deepEqual(ack.status.byAnnotator.alice, { changes: 1, images: 1, shapesCreated: 1 });
    const detail = (await rawRequest(port, 'GET', '/api/images/2')).json() as { image: { shapes: unknown[] }; log: Array<{ user: string; ip: string }> };
    assert.deepEqual(detail.image.shapes, [{ id: 'shape-1', className: 'plate', type: 'rect', geometry: shape.geometry }]);
    assert.equal(detail.log[0].user, 'alice');
    assert.match(detail.log[0].ip, /127\.0\.0\.1/);
    const review = (await rawRequest(port, 'GET', '/api/review?filter=done')).json() as { total: number; items: Array<{ id: number; shapeCount: number }> };
    assert.deepEqual(review.items.map((i) => [i.id, i.shapeCount]), [[2, 1]]);
    await postJson(port, '/api/verify', { user: 'bob', imageId: 2, verified: true });
    const unverified = (await rawRequest(port, 'GET', '/api/review?filter=unverified')).json() as { total: number };
    assert.equal(unverified.total, 0);
    const status = (await rawRequest(port, 'GET', '/api/status')).json() as { verified: number; total: number };
    assert.deepEqual([status.total, status.verified], [8, 1]);
  });

  test('two sessions get different batches; prev returns the earlier batch; renew only for the owner', async () => {
    const a = (await postJson(port, '/api/batch/next', { session: 'sessA', user: 'alice' })).json() as { batch: { id: number; images: Array<{ id: number; width: number }> } };
    const b = (await postJson(port, '/api/batch/next', { session: 'sessB', user: 'bob' })).json() as { batch: { id: number; images: Array<{ id: number }> } };
    const idsA = a.batch.images.map((i) => i.id);
    const idsB = b.batch.images.map((i) => i.id);
    assert.equal(idsA.length, 3);
    assert.equal(idsA.filter((id) => idsB.includes(id)).length, 0, `${idsA} vs ${idsB}`);
    assert.ok(a.batch.images[0].width > 0);
    const a2 = (await postJson(port, '/api/batch/next', { session: 'sessA', user: 'alice', from: a.batch.id })).json() as { batch: { id: number } };
    const prev = (await postJson(port, '/api/batch/prev', { session: 'sessA', before: a2.batch.id })).json() as { batch: { id: number } };
    assert.equal(prev.batch.id, a.batch.id);
    assert.equal(((await postJson(port, '/api/batch/renew', { session: 'sessB', batchId: a2.batch.id })).json() as { ok: boolean }).ok, false);
    assert.equal(((await postJson(port, '/api/batch/renew', { session: 'sessA', batchId: a2.batch.id })).json() as { ok: boolean }).ok, true);
    assert.equal((await postJson(port, '/api/batch/prev', { session: 'nobody' })).json() && ((await postJson(port, '/api/batch/prev', { session: 'nobody' })).json() as { batch: null }).batch, null);
  });
});
