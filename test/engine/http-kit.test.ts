// http-kit: static files never leave their folder (symlinks included), bounded JSON bodies,
// query and path-id validation, listen on a free port.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HttpError, listen, pathId, queryChoice, queryInt, readJsonObject, sendJson, sendThrown, serveStaticFile } from '../../src/engine/sources/http-kit.ts';

describe('http-kit', () => {
  let root: string;
  let server: Server;
  let port: number;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'picpac-http-kit-'));
    await mkdir(path.join(root, 'pub', 'sub'), { recursive: true });
    await writeFile(path.join(root, 'pub', 'a.js'), 'ok()');
    await writeFile(path.join(root, 'pub', 'sub', 'b.css'), 'b{}');
    await writeFile(path.join(root, 'pub', 'c.ts'), 'secret');
    await writeFile(path.join(root, 'secret.txt'), 'secret');
    await symlink(path.join(root, 'secret.txt'), path.join(root, 'pub', 'link.txt'));
    server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const run = async () => {
        if (url.pathname === '/json') return sendJson(res, 200, await readJsonObject(req, { maxBytes: 64 }));
        if (url.pathname === '/q') return sendJson(res, 200, { n: queryInt(url.searchParams, 'n', { min: 1, max: 9 }, 5), c: queryChoice(url.searchParams, 'c', ['a', 'b'] as const, 'a') });
        return serveStaticFile(res, path.join(root, 'pub'), decodeURIComponent(url.pathname.slice(1)));
      };
      run().catch((e) => sendThrown(res, e));
    });
    port = await listen(server, { host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    server.close();
    await rm(root, { recursive: true, force: true });
  });
  const get = (p: string) => fetch(`http://127.0.0.1:${port}${p}`);

  test('serves files of known types from the folder, with their content type', async () => {
    const a = await get('/a.js');
    assert.equal(a.status, 200);
    assert.equal(await a.text(), 'ok()');
    assert.match(a.headers.get('content-type')!, /text\/javascript/);
    assert.equal((await get('/sub/b.css')).status, 200);
  });

  test('never anything outside: .., encoded .., symlinks out, unknown extensions, hidden names', async () => {
    for (const p of ['/%2e%2e/secret.txt', '/sub/%2e%2e%2f%2e%2e%2fsecret.txt', '/link.txt', '/c.ts', '/.x.js', '/sub//b.css', '/%00a.js', '/sub', '/missing.js']) {
      const res = await get(p);
      assert.equal(res.status, 404, p);
      assert.doesNotMatch(await res.text(), /secret/, p);
    }
  });

  test('JSON bodies: type, size and syntax are checked', async () => {
    const post = (body: string, type = 'application/json') => fetch(`http://127.0.0.1:${port}/json`, { method: 'POST', body, headers: { 'content-type': type } });
    assert.deepEqual(await (await post('{"a":1}')).json(), { a: 1 });
    assert.equal((await post('{"a":1}', 'application/vnd.api+json')).status, 200);
    assert.equal((await post('{"a":1}', 'text/plain')).status, 415);
    assert.equal((await post(JSON.stringify({ a: 'x'.repeat(100) }))).status, 413);
    const bad = await post('{a:1}');
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /^malformed JSON: /);
    assert.equal((await post('"text"')).status, 400);
  });

  test('query and path validation', async () => {
    assert.deepEqual(await (await get('/q')).json(), { n: 5, c: 'a' });
    assert.deepEqual(await (await get('/q?n=9&c=b')).json(), { n: 9, c: 'b' });
    for (const q of ['n=0', 'n=10', 'n=1.5', 'n=abc', 'c=z']) assert.equal((await get(`/q?${q}`)).status, 400, q);
    assert.equal(pathId('12'), 12);
    for (const bad of [undefined, '', '0', '012', '-1', '1e3', '9'.repeat(17)]) assert.throws(() => pathId(bad), (e: unknown) => e instanceof HttpError && e.status === 404, String(bad));
  });
});
