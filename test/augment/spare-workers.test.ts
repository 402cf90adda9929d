// Stream workers started ahead of ImageStream.open (spare-workers.ts): a stream takes the spares
// it needs and starts only the missing workers, the bytes are those of a stream without spares,
// a spare that dies before it is taken is dropped, and stopSpareWorkers ends the rest.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { after, afterEach, before, describe, test } from 'node:test';
import { ImageStream } from '../../src/augment/stream/stream.ts';
import { prestartStreamWorkers, spareWorkers, stopSpareWorkers } from '../../src/augment/stream/spare-workers.ts';
import { terminateWorker } from '../../src/augment/stream/ts-worker.ts';
import { tempDir, writeFixture } from './stream-fixtures.ts';

let cleanup: () => Promise<void>;
let db: string;
before(async () => {
  let dir: string;
  ({ dir, cleanup } = await tempDir());
  db = await writeFixture(`${dir}/plain.picpac`, { count: 12, annotate: true });
});
after(() => cleanup());
afterEach(() => stopSpareWorkers());

const CONFIG = { batch: 2, loop: true, cache: 0, annotate: 'json', perturb: true, pert_angle: 15 } as const;

async function digest(threads: number, batches = 8): Promise<string> {
  const stream = await ImageStream.open(db, { ...CONFIG, threads }, { reuseBuffers: true });
  const hash = createHash('sha256');
  try {
    for (let b = 0; b < batches; b++) {
      const batch = (await stream.next())!;
      hash.update(new Uint8Array(batch.images.buffer, batch.images.byteOffset, batch.images.byteLength));
      hash.update(new Uint8Array(batch.labels.buffer, batch.labels.byteOffset, batch.labels.byteLength));
    }
  } finally {
    await stream.close();
  }
  return hash.digest('hex');
}

describe('spare stream workers', () => {
  test('streams take the spares they need, start the missing ones, and give the same bytes', async () => {
    const reference = await digest(0);
    prestartStreamWorkers(2);
    assert.equal(spareWorkers().length, 2);
    prestartStreamWorkers(1); // already waiting: nothing more starts
    assert.equal(spareWorkers().length, 2);
    assert.equal(await digest(1), reference);
    assert.equal(spareWorkers().length, 1, 'one thread took one spare');
    assert.equal(await digest(3), reference);
    assert.equal(spareWorkers().length, 0, 'three threads took the last spare and started two');
  });

  test('a spare that dies before it is taken is dropped; the stream starts a fresh worker', async () => {
    prestartStreamWorkers(1);
    const [spare] = spareWorkers();
    const exited = once(spare, 'exit');
    await terminateWorker(spare);
    await exited;
    assert.equal(spareWorkers().length, 0);
    assert.equal(await digest(1, 3), await digest(0, 3));
  });

  test('stopSpareWorkers ends the spares nobody took; bad counts are refused', async () => {
    prestartStreamWorkers(2);
    const exits = spareWorkers().map((w) => once(w, 'exit'));
    await stopSpareWorkers();
    await Promise.all(exits);
    assert.equal(spareWorkers().length, 0);
    prestartStreamWorkers(0);
    assert.equal(spareWorkers().length, 0);
    for (const bad of [-1, 1.5, Number.NaN]) assert.throws(() => prestartStreamWorkers(bad), RangeError);
  });
});
