// ImageStream.release(): a consumer hands a given-away batch back and the stream writes later
// samples into its memory. Same bytes as without it, batches not handed back never change, and
// a batch cannot be handed back twice (its memory would go to two later batches).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { ImageStream } from '../../src/augment/stream/stream.ts';
import type { Batch } from '../../src/augment/stream/stream.ts';
import { tempDir, writeFixture } from './stream-fixtures.ts';

const AUGMENT = { annotate: 'json', perturb: true, pert_angle: 20, pert_hflip: true, cache: 0 } as const;

let dir: string;
let cleanup: () => Promise<void>;
let plain: string;
before(async () => {
  ({ dir, cleanup } = await tempDir());
  plain = await writeFixture(`${dir}/plain.picpac`, { count: 20, annotate: true });
});
after(() => cleanup());

function bytesOf(batch: Batch): Uint8Array[] {
  return [batch.images, batch.labels].map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/**
 * Run `batches` batches; `release(b)` says whether batch b is handed back right after it is hashed.
 * Returns the digest, how many releases were accepted, how many batches reused a released buffer,
 * and whether every batch kept (not handed back) still holds its bytes at the end.
 */
async function run(config: Record<string, unknown>, batches: number, release: (b: number) => boolean) {
  const stream = await ImageStream.open(plain, { loop: true, ...config });
  const hash = createHash('sha256');
  const releasedBuffers = new Set<ArrayBufferLike>();
  const kept: { batch: Batch; copy: Uint8Array[] }[] = [];
  let accepted = 0;
  let reused = 0;
  try {
    for (let b = 0; b < batches; b++) {
      const batch = (await stream.next())!;
      if (releasedBuffers.has(batch.images.buffer)) reused++;
      const bytes = bytesOf(batch);
      for (const part of bytes) hash.update(part);
      if (release(b)) {
        if (stream.release(batch)) {
          accepted++;
          releasedBuffers.add(batch.images.buffer);
        }
      } else {
        kept.push({ batch, copy: bytes.map((part) => part.slice()) });
      }
    }
  } finally {
    await stream.close();
  }
  const intact = kept.every(({ batch, copy }) => bytesOf(batch).every((part, i) => Buffer.compare(part, copy[i]) === 0));
  return { digest: hash.digest('hex'), accepted, reused, intact };
}

describe('ImageStream.release', () => {
  for (const threads of [0, 1, 2]) {
    for (const batch of [1, 3]) {
      test(`threads ${threads}, batch ${batch}: same bytes, released memory reused, kept batches intact`, async () => {
        const config = { ...AUGMENT, threads, batch, preload: 4 }; // a small window: places come round again soon
        const plainRun = await run(config, 24, () => false);
        assert.equal(plainRun.accepted, 0);
        assert.equal(plainRun.reused, 0);
        const everyOther = await run(config, 24, (b) => b % 2 === 1);
        assert.equal(everyOther.digest, plainRun.digest);
        assert.ok(everyOther.accepted >= 4, `accepted ${everyOther.accepted}`);
        assert.ok(everyOther.reused >= 2, `later batches written into released memory: ${everyOther.reused}`);
        assert.ok(everyOther.intact, 'the batches not handed back kept their bytes');
        const all = await run(config, 24, () => true);
        assert.equal(all.digest, plainRun.digest);
        assert.ok(all.reused >= 4, `reused ${all.reused}`);
      });
    }
  }

  test('property: any pattern of releases gives the same bytes and leaves kept batches intact', async () => {
    const digests = new Map<string, string>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 2), // threads
        fc.integer({ min: 1, max: 3 }), // batch
        fc.array(fc.boolean(), { minLength: 18, maxLength: 18 }), // release batch b?
        async (threads, batch, pattern) => {
          const config = { ...AUGMENT, threads, batch, preload: 4 };
          const key = `${threads}/${batch}`;
          if (!digests.has(key)) digests.set(key, (await run(config, pattern.length, () => false)).digest);
          const got = await run(config, pattern.length, (b) => pattern[b]);
          assert.equal(got.digest, digests.get(key));
          assert.ok(got.intact, 'the batches not handed back kept their bytes');
        },
      ),
      { seed: 7, numRuns: 12 },
    );
  });

  test('false for a batch that cannot be reused; a non-batch is a TypeError', async () => {
    // Batch 2: buffers of exactly one batch, so a later batch in the same buffer views all of it.
    const stream = await ImageStream.open(plain, { batch: 2, threads: 1, cache: 0, loop: true, preload: 4 });
    const other = await ImageStream.open(plain, { batch: 1, threads: 0, cache: 0, loop: true });
    const reusing = await ImageStream.open(plain, { batch: 1, threads: 0, cache: 0, loop: true }, { reuseBuffers: true });
    try {
      // The first sample has no place yet (its output size was unknown): its batch is its own arrays.
      assert.equal(stream.release((await stream.next())!), false, 'first batch: built without a place');
      let placed: Batch | undefined;
      for (let b = 0; b < 8 && placed === undefined; b++) {
        const batch = (await stream.next())!;
        if (stream.release(batch)) placed = batch;
      }
      assert.ok(placed, 'a batch in a place of the stream is accepted');
      assert.equal(stream.release(placed), false, 'a second release of the same batch');
      let landed: Batch | undefined;
      for (let b = 0; b < 20 && landed === undefined; b++) {
        const batch = (await stream.next())!;
        if (batch.images.buffer === placed.images.buffer) landed = batch;
      }
      assert.ok(landed, 'the released memory took a later batch');
      assert.notEqual(landed.images, placed.images, 'each given-away batch has its own views');
      assert.equal(stream.release(placed), false, 'released again once its memory holds a later batch');
      assert.equal(stream.release(landed), true);
      const foreign = (await other.next())!;
      for (let b = 0; b < 3; b++) await other.next();
      assert.equal(stream.release(foreign), false, 'a batch of another stream');
      for (let b = 0; b < 3; b++) assert.equal(reusing.release((await reusing.next())!), false, 'reuseBuffers recycles by itself');
      for (const bad of [null, 3, 'batch', {}, { images: null }] as unknown[]) {
        assert.throws(() => stream.release(bad as Batch), (e: unknown) => e instanceof TypeError && /a batch returned by next\(\) for batch/.test((e as Error).message));
      }
      let last: Batch | undefined;
      for (let b = 0; b < 4; b++) last = (await stream.next())!;
      await stream.close();
      assert.equal(stream.release(last!), false, 'after close()');
    } finally {
      await stream.close();
      await other.close();
      await reusing.close();
    }
  });
});
