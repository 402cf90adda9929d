// picpac on a store served over HTTP (Range requests), and the ordered pool under import.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { orderedMap } from '../../src/cli/ordered-pool.ts';
import { cli, makeImageTree, tempDir } from './helpers.ts';

describe('picpac over http(s)', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let server: http.Server;
  let baseUrl: string;
  let local: string;

  before(async () => {
    tmp = await tempDir();
    const tree = await makeImageTree(path.join(tmp.dir, 'tree'));
    local = path.join(tmp.dir, 'served.picpac');
    assert.equal((await cli('import', tree.root, local, '-q')).code, 0);
    const bytes = await readFile(local);
    server = http.createServer((req, res) => {
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (req.method === 'HEAD' || !range) {
        res.writeHead(200, { 'content-length': bytes.length, 'accept-ranges': 'bytes' });
        res.end(req.method === 'HEAD' ? undefined : bytes);
        return;
      }
      const start = Number(range[1]);
      const end = Math.min(Number(range[2]), bytes.length - 1);
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${bytes.length}`, 'content-length': end - start + 1 });
      res.end(bytes.subarray(start, end + 1));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await tmp.cleanup();
  });

  test('stat, dump and import read a URL like a file', async () => {
    const url = `${baseUrl}/served.picpac`;
    const remote = await cli('stat', url, '--json');
    assert.equal(remote.code, 0, remote.stderr);
    const report = JSON.parse(remote.stdout);
    assert.equal(report.recordCount, 30);
    assert.equal(report.fileByteLength, null);
    assert.equal((await cli('dump', url)).stdout, (await cli('dump', local)).stdout);
    const copy = path.join(tmp.dir, 'copy.picpac');
    const imported = await cli('import', url, copy, '-q');
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal((await cli('dump', copy)).stdout, (await cli('dump', local)).stdout);
  });
});

describe('orderedMap', () => {
  test('results come back in input order whatever the completion order; failures are returned', async () => {
    const delays = [30, 5, 20, 1, 10, 0, 25, 3];
    let running = 0;
    let peak = 0;
    const out: Array<number | string> = [];
    for await (const r of orderedMap(delays, 3, async (ms, index) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, ms));
      running--;
      if (index === 4) throw new Error('bad item');
      return ms * 2;
    })) {
      out.push(r.ok ? r.value : `error ${r.index}: ${(r.error as Error).message}`);
    }
    assert.deepEqual(out, [60, 10, 40, 2, 'error 4: bad item', 0, 50, 6]);
    assert.equal(peak, 3, 'at most `concurrency` in flight');
  });

  test('an async source is pulled lazily and closed when the consumer stops early', async () => {
    let pulled = 0;
    let closed = false;
    async function* source(): AsyncGenerator<number> {
      try {
        for (let i = 0; i < 100; i++) {
          pulled++;
          yield i;
        }
      } finally {
        closed = true;
      }
    }
    for await (const r of orderedMap(source(), 4, async (x) => x)) {
      if (r.ok && r.value === 2) break;
    }
    assert.ok(pulled <= 7, `pulled ${pulled}`);
    assert.equal(closed, true);
  });
});
