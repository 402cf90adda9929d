// FetchSource (the browser-safe HTTP Range byte source) against a local http server that
// honours, ignores or refuses Range requests: lengths, reads, the end of file, and every error
// path as a typed error naming the URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClosedError, SourceError } from '../../src/errors.ts';
import { FetchSource } from '../../src/engine/sources/fetch-source.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { readFile } from 'node:fs/promises';
import { tempDir } from './helpers.ts';
import path from 'node:path';

const body = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
let picpacBytes: Uint8Array;
let server: http.Server;
let base = '';

describe('FetchSource', () => {
  before(async () => {
    const tmp = await tempDir('picpac-fetch-');
    const file = path.join(tmp.dir, 'x.picpac');
    const w = await PicpacWriter.create(file);
    for (let i = 0; i < 3; i++) void w.append({ label: i, fields: [{ kind: 'bytes', bytes: new Uint8Array(100 + i) }], annotation: `{"i":${i}}` });
    await w.close();
    picpacBytes = new Uint8Array(await readFile(file));
    await tmp.cleanup();
    server = http.createServer((req, res) => {
      const data = req.url === '/x.picpac' ? picpacBytes : req.url === '/empty' ? new Uint8Array(0) : body;
      if (req.url === '/missing') return void res.writeHead(404).end();
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (req.url === '/norange' || !range) return void res.writeHead(200, { 'content-length': data.length }).end(data);
      const start = Number(range[1]);
      if (start >= data.length) return void res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
      const end = Math.min(Number(range[2]), data.length - 1);
      const slice = req.url === '/short' ? data.subarray(start, end) : data.subarray(start, end + 1);
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${data.length}`, 'content-length': slice.length }).end(slice);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('learns the length and reads ranges; fewer bytes only at the end', async () => {
    const s = await FetchSource.open(`${base}/data`);
    assert.equal(s.byteLength, 1000);
    assert.deepEqual(await s.read(10, 5), body.subarray(10, 15));
    assert.deepEqual(await s.read(995, 100), body.subarray(995));
    assert.equal((await s.read(1000, 10)).length, 0);
    assert.equal(s.counter.reads, 3); // the length probe and two reads
    await s.close();
    await assert.rejects(s.read(0, 1), ClosedError);
  });

  test('an empty file has length 0', async () => {
    assert.equal((await FetchSource.open(`${base}/empty`)).byteLength, 0);
  });

  test('PicpacReader reads a .picpac through it', async () => {
    const reader = await PicpacReader.open(await FetchSource.open(`${base}/x.picpac`));
    assert.equal(reader.recordCount, 3);
    assert.equal((await reader.get(2)).fields[0].bytes.length, 102);
    assert.equal(await reader.getAnnotation(1), '{"i":1}');
    await reader.close();
  });

  test('errors name the URL: 404, a server that ignores Range, a short body, bad arguments', async () => {
    await assert.rejects(FetchSource.open(`${base}/missing`), (e: Error) => e instanceof SourceError && e.message === `${base}/missing: HTTP 404 for bytes 0-0`);
    await assert.rejects(FetchSource.open(`${base}/norange`), (e: Error) => e instanceof SourceError && /norange: the server answered 200 without a Content-Range/.test(e.message));
    const short = await FetchSource.open(`${base}/short`);
    await assert.rejects(short.read(0, 10), (e: Error) => e instanceof SourceError && /short read at byte 0: expected 10 bytes, got 9/.test(e.message));
    await assert.rejects(FetchSource.open('http://127.0.0.1:1/x'), (e: Error) => e instanceof SourceError && /request for bytes 0-0 failed/.test(e.message));
    const s = await FetchSource.open(`${base}/data`);
    await assert.rejects(s.read(-1, 1), TypeError);
    await assert.rejects(FetchSource.open(`${base}/data`, { timeoutMs: 0 }), TypeError);
    await assert.rejects(FetchSource.open(42 as never), TypeError);
  });
});
