// HttpSource against Debian's nginx on loopback: Range reads, coalescing, the block cache,
// status errors, and the 2.0 reader over HTTP returning exactly what it returns over a file
// with few requests (counted in nginx's access log).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HttpSource } from '../../src/engine/sources/http-source.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { openStore } from '../../src/engine/open-store.ts';
import { SourceError } from '../../src/errors.ts';
import type { Store } from '../../src/engine/store.ts';
import { expectedRecord } from './fixtures/deterministic-records.ts';
import { collectStats } from '../../src/cli/commands/stat.ts';
import { plainStored, tempDir } from './helpers.ts';
import { NGINX, serveFolder, type ServedFolder } from '../nginx.ts';

const skip = NGINX ? false : 'nginx is not installed (apt-get install nginx-light); HTTP tests skipped';

let dir: string;
let cleanup: () => Promise<void>;
let served: ServedFolder | undefined;
let base = '';
let accessLog = '';

async function requestCount(): Promise<number> {
  const text = await readFile(accessLog, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).length;
}

/** Requests and body bytes nginx sent since `since` requests (combined log: `"GET ..." status bytes`). */
async function trafficSince(since: number): Promise<{ requests: number; bytes: number }> {
  await new Promise((r) => setTimeout(r, 100)); // nginx logs a request after its response is sent
  const lines = (await readFile(accessLog, 'utf8').catch(() => '')).split('\n').filter(Boolean).slice(since);
  const bytes = lines.reduce((sum, l) => sum + Number(/" \d{3} (\d+) /.exec(l)?.[1] ?? 0), 0);
  return { requests: lines.length, bytes };
}

async function writeSample(file: string, recordCount: number, alignment: number): Promise<void> {
  const w = await PicpacWriter.create(file, { alignment });
  for (let i = 0; i < recordCount; i++) void w.append(expectedRecord(i));
  await w.close();
  const a = await PicpacWriter.append(file);
  await a.append(expectedRecord(recordCount));
  await a.setAnnotation(1, JSON.stringify({ updated: 1 }));
  await a.close();
}

async function dump(store: Store): Promise<unknown[]> {
  const out = [];
  for (let i = 0; i < store.recordCount; i++) out.push({ meta: store.meta(i), record: plainStored(await store.get(i)), annotation: await store.getAnnotation(i) });
  const scanned = [];
  for await (const r of store.scan({ chunkBytes: 64 << 10 })) scanned.push(plainStored(r));
  out.push(scanned);
  return out;
}

describe('HttpSource over nginx', { skip }, () => {
  before(async () => {
    ({ dir, cleanup } = await tempDir('picpac-http-'));
    const www = path.join(dir, 'www');
    await mkdir(www);
    await writeSample(path.join(www, 'small.picpac'), 20, 1);
    await writeSample(path.join(www, 'big.picpac'), 1500, 4096); // ~6 MB: more than one tail read
    await writeFile(path.join(www, 'bytes.bin'), Uint8Array.from({ length: 200_000 }, (_, i) => i % 251));
    // Records of 20 KB whose every third record has an annotation right after it.
    const w = await PicpacWriter.create(path.join(www, 'annotated.picpac'), { alignment: 4096 });
    for (let i = 0; i < 300; i++) void w.append({ ...expectedRecord(i), fields: [{ kind: 'bytes', bytes: new Uint8Array(20_000).fill(i & 0xff) }] });
    await w.close();
    accessLog = path.join(dir, 'access.log');
    served = await serveFolder(www, dir, { accessLog });
    base = served.base;
  });

  after(async () => {
    await served?.stop();
    await cleanup?.();
  });

  test('length, ranges, short read at the end, readMany coalesces, cache', async () => {
    const src = await HttpSource.open(`${base}/bytes.bin`);
    assert.equal(src.byteLength, 200_000);
    const bytes = await src.read(1000, 10);
    assert.deepEqual(Array.from(bytes), Array.from({ length: 10 }, (_, i) => (1000 + i) % 251));
    assert.equal((await src.read(199_995, 100)).length, 5);
    assert.equal((await src.read(300_000, 10)).length, 0);
    const before = src.counter.reads;
    const many = await src.readMany([
      { byteOffset: 0, byteLength: 4 },
      { byteOffset: 100, byteLength: 4 },
      { byteOffset: 150_000, byteLength: 4 },
    ]);
    assert.equal(src.counter.reads - before, 2);
    assert.deepEqual(Array.from(many[1]), [100, 101, 102, 103]);
    assert.deepEqual(Array.from(many[2]), Array.from({ length: 4 }, (_, i) => (150_000 + i) % 251));
    await src.close();
    const cached = await HttpSource.open(`${base}/bytes.bin`, { cacheBlocks: 4, cacheBlockBytes: 4096 });
    const a = await cached.read(5000, 100);
    const b = await cached.read(5050, 100);
    assert.equal(cached.counter.reads, 1);
    assert.deepEqual(Array.from(b.subarray(0, 50)), Array.from(a.subarray(50)));
    await cached.read(4000, 9000); // spans a cached block: fetches only the missing runs
    assert.deepEqual(Array.from(await cached.read(12_000, 3)), [12_000 % 251, 12_001 % 251, 12_002 % 251]);
    await cached.close();
  });

  test('HTTP 404 is a SourceError naming URL and status', async () => {
    await assert.rejects(HttpSource.open(`${base}/missing.picpac`), (err: unknown) => {
      assert.ok(err instanceof SourceError);
      assert.equal((err as Error).message, `HEAD ${base}/missing.picpac failed with HTTP status 404`);
      return true;
    });
    await assert.rejects(openStore(`${base}/missing.picpac`), SourceError);
  });

  test('stat over HTTP reads header, footer, index and annotation frames only, and agrees with stat of the file', async (t) => {
    const file = path.join(dir, 'www', 'annotated.picpac');
    const fileBytes = (await readFile(file)).length;
    const local = await collectStats(file);
    const before = await requestCount();
    const remote = await collectStats(`${base}/annotated.picpac`);
    const traffic = await trafficSince(before);
    t.diagnostic(`stat over HTTP: ${traffic.requests} requests, ${traffic.bytes} bytes of a ${fileBytes}-byte file`);
    assert.deepEqual(remote.annotations, local.annotations);
    assert.equal(remote.annotations.records, 100);
    assert.equal(remote.fieldByteLength, local.fieldByteLength);
    assert.equal(remote.imageByteLength, local.imageByteLength); // both from the index alone
    // The tail read (footer + index, 256 KiB at most) plus 100 annotation frames of ~40 bytes.
    assert.ok(traffic.bytes < 256 * 1024 + 100 * 4096, `${traffic.bytes} bytes read`);
    assert.ok(traffic.bytes < fileBytes / 10, `${traffic.bytes} of ${fileBytes} bytes`);
    const scanned = await collectStats(`${base}/annotated.picpac`, { scan: true });
    assert.equal(scanned.imageByteLength, (await collectStats(file, { scan: true })).imageByteLength);
  });

  test('a record and the annotation written right after it are one request [IDX-7]', async () => {
    const remote = (await openStore(`${base}/annotated.picpac`)) as PicpacReader;
    for (const i of [150, 201, 297]) { // past the first 256 KiB, which openStore keeps from its sniff read
      const before = await requestCount();
      const r = await remote.get(i);
      assert.equal(r.annotation, JSON.stringify({ i }));
      assert.equal((await trafficSince(before)).requests, 1);
    }
    await remote.close();
  });

  for (const name of ['small.picpac', 'big.picpac']) {
    test(`${name}: the reader over HTTP returns exactly what it returns over a file, with few requests to open`, async (t) => {
      const local = await PicpacReader.open(path.join(dir, 'www', name));
      const beforeOpen = await requestCount();
      const remote = await openStore(`${base}/${name}`);
      const openRequests = (await requestCount()) - beforeOpen;
      t.diagnostic(`${openRequests} HTTP requests to open ${name}`);
      assert.ok(openRequests <= (name === 'small.picpac' ? 2 : 3), `${openRequests} requests to open`);
      assert.equal(remote.recordCount, local.recordCount);
      assert.deepEqual(await dump(remote), await dump(local));
      await remote.close();
      await local.close();
    });
  }
});
