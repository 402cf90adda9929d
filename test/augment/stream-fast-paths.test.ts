// The stream's fast paths give the same bytes as the plain ones: records read synchronously by
// the workers (PicpacReader.getSync) vs get(), annotations moved away from their record (async
// fallback), chunked worker messages, decoding into the pipeline's scratch, uint8 output, the
// float32 conversion left to the calling thread (staged) or done in the workers.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ImageStream } from '../../src/augment/stream/stream.ts';
import type { ImageStreamOptions } from '../../src/augment/stream/stream.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { MemorySource } from '../../src/engine/sources/byte-source.ts';
import { readFile, writeFile } from 'node:fs/promises';
import { SampleError } from '../../src/augment/stream/sample-pipeline.ts';
import { rectAnnotation, tempDir, writeFixture } from './stream-fixtures.ts';

const AUGMENT = { annotate: 'json', perturb: true, pert_angle: 20, pert_min_scale: 0.8, pert_max_scale: 1.2, pert_color1: 20, pert_color2: 20, pert_color3: 20, pert_hflip: true } as const;

let dir: string;
let cleanup: () => Promise<void>;
let plain: string;
let moved: string;
before(async () => {
  ({ dir, cleanup } = await tempDir());
  plain = await writeFixture(`${dir}/plain.picpac`, { count: 20, annotate: true });
  // Same records; the annotations of 0, 5 and 9 rewritten later, so their newest frame is no
  // longer adjacent to the record (getSync declines those, get() reads two places).
  moved = await writeFixture(`${dir}/moved.picpac`, { count: 20, annotate: true });
  const writer = await PicpacWriter.append(moved);
  for (const i of [0, 5, 9]) await writer.setAnnotation(i, rectAnnotation(i + 1));
  await writer.close();
});
after(() => cleanup());

async function digest(path: string, config: Record<string, unknown>, batches = 30, options: ImageStreamOptions = {}): Promise<{ digest: string; images: (Float32Array | Uint8Array)[] }> {
  const stream = await ImageStream.open(path, { batch: 1, loop: true, ...config }, options);
  const hash = createHash('sha256');
  const images: (Float32Array | Uint8Array)[] = [];
  try {
    for (let b = 0; b < batches; b++) {
      const batch = (await stream.next())!;
      hash.update(new Uint8Array(batch.images.buffer, batch.images.byteOffset, batch.images.byteLength));
      hash.update(new Uint8Array(batch.labels.buffer, batch.labels.byteOffset, batch.labels.byteLength));
      images.push(batch.images.slice());
    }
  } finally {
    await stream.close();
  }
  return { digest: hash.digest('hex'), images };
}

describe('synchronous record reads', () => {
  test('getSync gives what get gives; declines non-adjacent annotations and in-memory sources', async () => {
    const reader = await PicpacReader.open(moved);
    try {
      for (let i = 0; i < reader.recordCount; i++) {
        const sync = reader.getSync(i);
        const viaGet = await reader.get(i);
        if ([0, 5, 9].includes(i)) {
          assert.equal(sync, undefined, `record ${i}`);
          assert.equal(viaGet.annotation, rectAnnotation(i + 1));
          continue;
        }
        assert.ok(sync !== undefined, `record ${i}`);
        assert.equal(sync.annotation, viaGet.annotation);
        assert.deepEqual(sync.fields.map((f) => Buffer.from(f.bytes).toString('hex')), viaGet.fields.map((f) => Buffer.from(f.bytes).toString('hex')));
        assert.equal(sync.id, viaGet.id);
      }
      assert.throws(() => reader.getSync(reader.recordCount), RangeError);
    } finally {
      await reader.close();
    }
    const inMemory = await PicpacReader.open(new MemorySource(new Uint8Array(await readFile(plain)), 'mem'));
    try {
      assert.equal(inMemory.getSync(0), undefined);
    } finally {
      await inMemory.close();
    }
  });

  test('getSync into a reused buffer: same records, field bytes are views of it, grown when a record does not fit', async () => {
    const reader = await PicpacReader.open(plain);
    try {
      const buffer = { bytes: new Uint8Array(16) }; // smaller than any record: replaced on the first read
      const small = buffer.bytes;
      for (let i = 0; i < reader.recordCount; i++) {
        const viaGet = await reader.get(i);
        const sync = reader.getSync(i, buffer)!;
        assert.notEqual(buffer.bytes, small);
        assert.equal(buffer.bytes.length % 65536, 0, 'grown to whole 64 KiB');
        for (const field of sync.fields) assert.equal(field.bytes.buffer, buffer.bytes.buffer, `record ${i}: field bytes in the buffer`);
        assert.deepEqual(sync.fields.map((f) => Buffer.from(f.bytes).toString('hex')), viaGet.fields.map((f) => Buffer.from(f.bytes).toString('hex')));
        assert.equal(sync.annotation, viaGet.annotation);
      }
      // A buffer that fits is used as it is (no new allocation per record).
      const kept = buffer.bytes;
      reader.getSync(1, buffer);
      assert.equal(buffer.bytes, kept);
    } finally {
      await reader.close();
    }
  });

  test('getSync without the annotation: same fields, no annotation, one read wherever the annotation lives', async () => {
    const reader = await PicpacReader.open(moved);
    try {
      for (let i = 0; i < reader.recordCount; i++) {
        const sync = reader.getSync(i, undefined, { annotation: false });
        const viaGet = await reader.get(i);
        assert.ok(sync !== undefined, `record ${i}: read synchronously even when its annotation moved`);
        assert.equal(sync.annotation, undefined);
        assert.deepEqual(sync.fields.map((f) => Buffer.from(f.bytes).toString('hex')), viaGet.fields.map((f) => Buffer.from(f.bytes).toString('hex')));
        assert.equal(sync.id, viaGet.id);
        assert.equal(reader.getSync(i, undefined, { annotation: true })?.annotation, [0, 5, 9].includes(i) ? undefined : viaGet.annotation);
      }
    } finally {
      await reader.close();
    }
  });

  test('a damaged annotation fails only the streams that draw it', async () => {
    const reader = await PicpacReader.open(plain);
    const offset = reader.columns.annotationOffset[3] + 20;
    await reader.close();
    const bytes = await readFile(plain);
    bytes[offset] ^= 0x10;
    const bad = `${dir}/ann-flip.picpac`;
    await writeFile(bad, bytes);
    for (const threads of [0, 1]) {
      const decodeOnly = { threads, cache: 0, shuffle: false };
      assert.equal((await digest(bad, decodeOnly, 20)).digest, (await digest(plain, decodeOnly, 20)).digest, `threads ${threads}`);
      await assert.rejects(digest(bad, { ...decodeOnly, annotate: 'json' }, 20), (error: unknown) => {
        assert.ok(error instanceof SampleError, String(error));
        assert.equal(error.recordIndex, 3);
        assert.match(error.message, /ann-flip\.picpac: record 3: frame: frame payload CRC mismatch at byte \d+/);
        return true;
      }, `threads ${threads}`);
    }
  });

  test('stream bytes are identical with sync and async reads, 0/1/2 threads, cache on and off', async () => {
    const reference = await digest(moved, { ...AUGMENT, threads: 0, cache: false });
    for (const threads of [0, 1, 2]) {
      for (const cache of [false, true]) {
        assert.equal((await digest(moved, { ...AUGMENT, threads, cache, preload: 5 })).digest, reference.digest, `threads ${threads} cache ${cache}`);
      }
    }
  });
});

describe('uint8 output', () => {
  test('same digest for every thread count, and the float output rounded (mean 0)', async () => {
    const u8 = await digest(plain, { ...AUGMENT, dtype: 'uint8', threads: 0 });
    for (const threads of [1, 2]) assert.equal((await digest(plain, { ...AUGMENT, dtype: 'uint8', threads })).digest, u8.digest, `threads ${threads}`);
    const f32 = await digest(plain, { ...AUGMENT, threads: 2 });
    assert.equal(u8.images.length, f32.images.length);
    u8.images.forEach((images, b) => {
      assert.ok(images instanceof Uint8Array);
      assert.deepEqual(Array.from(images), Array.from(f32.images[b], (v) => Math.round(v)), `batch ${b}`);
    });
  });
});

describe('records read by the calling thread for its worker (caller-reads.ts)', () => {
  const DECODE = { cache: 0, mean_color1: 104, mean_color2: 117, mean_color3: 123 };
  /** Records the caller read in one whole epoch (every record once). */
  async function callerReads(path: string, config: Record<string, unknown>, options: ImageStreamOptions): Promise<number> {
    const stream = await ImageStream.open(path, { batch: 1, threads: 1, loop: false, ...config }, options);
    try {
      const reads = stream.describe().includes('(reads and conversion on the caller)');
      while (await stream.next() !== null);
      assert.equal((await stream.stats()).times.callerReads > 0, reads, stream.describe());
      return (await stream.stats()).times.callerReads;
    } finally {
      await stream.close();
    }
  }

  test('without a cache a converting caller reads the records; same bytes, also for records larger than its buffers', async () => {
    // 400×300 PNG noise: ~360 KB records, larger than the first 64 KB shared buffers.
    const large = await writeFixture(`${dir}/large.picpac`, { count: 6, width: 400, height: 300, format: 'png' });
    for (const [path, config] of [[plain, DECODE], [plain, { ...AUGMENT, cache: 0 }], [moved, { ...AUGMENT, cache: 0 }], [large, DECODE]] as const) {
      const reference = await digest(path, { ...config, threads: 0 }, 12);
      for (const reuseBuffers of [false, true]) {
        const got = await digest(path, { ...config, threads: 1, preload: 6 }, 12, { conversionThread: 'caller', reuseBuffers });
        assert.equal(got.digest, reference.digest, `${path} ${JSON.stringify(config)} reuseBuffers ${reuseBuffers}`);
      }
    }
    assert.equal(await callerReads(plain, DECODE, { conversionThread: 'caller' }), 20);
    assert.equal(await callerReads(large, DECODE, { conversionThread: 'caller' }), 6);
    // Records whose annotation moved away (0, 5, 9) cannot be read in one pread: their worker reads them.
    assert.equal(await callerReads(moved, { cache: 0, annotate: 'json' }, { conversionThread: 'caller' }), 17);
    // Not with a cache (a cache hit needs no bytes), nor when the workers convert.
    assert.equal(await callerReads(plain, { cache: 1 }, { conversionThread: 'caller' }), 0);
    assert.equal(await callerReads(plain, DECODE, { conversionThread: 'worker' }), 0);
  });

  test('a record whose checksum fails is reported by its worker as for any read: named, or skipped the same way', async () => {
    const damaged = `${dir}/damaged.picpac`;
    const bytes = new Uint8Array(await readFile(plain));
    const reader = await PicpacReader.open(plain);
    const payload = (await reader.get(2)).fields[0].bytes;
    await reader.close();
    const at = Buffer.from(bytes).indexOf(Buffer.from(payload));
    assert.ok(at > 0);
    bytes[at + (payload.length >> 1)] ^= 0xff;
    await writeFile(damaged, bytes);
    const config = { ...DECODE, batch: 2, loop: false, shuffle: false };
    const stream = await ImageStream.open(damaged, { ...config, threads: 1 }, { conversionThread: 'caller' });
    try {
      await stream.next();
      await assert.rejects(stream.next(), (e: unknown) => e instanceof SampleError && e.recordIndex === 2 && e.message.includes(damaged) && /checksum|crc/i.test(e.message));
    } finally {
      await stream.close();
    }
    const inline = await digest(damaged, { ...config, threads: 0 }, 9, { onError: 'skip' });
    const caller = await digest(damaged, { ...config, threads: 1 }, 9, { onError: 'skip', conversionThread: 'caller' });
    assert.equal(caller.digest, inline.digest);
  });
});

describe('float32 conversion on the calling thread (staged) or in the workers', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['decode only, batch 1', { mean_color1: 104, mean_color2: 117, mean_color3: 123 }],
    // Without a cache a decode-only sample is decoded straight into its batch place and converted
    // there: by the caller (staged) or, with shared-memory batches, by the worker itself.
    ['decode only, no cache, batch 2 (decoded in place)', { cache: 0, batch: 2, mean_color1: 104, mean_color2: 117, mean_color3: 123 }],
    ['dtype uint8, decode only, no cache, batch 3 (decoded in place)', { cache: 0, dtype: 'uint8', batch: 3 }],
    ['full augmentation, batch 1', { ...AUGMENT, mean_color2: 0.1 }],
    ['full augmentation, batch 3, crop', { ...AUGMENT, batch: 3, crop_width: 40, crop_height: 30, bgr2rgb: true }],
    ['image labels kept as floats, NCHW (not staged)', { ...AUGMENT, order: 'NCHW', anno_type: 5 }],
    ['dtype uint8, decode only and full augmentation', { dtype: 'uint8' }],
    ['dtype uint8, full augmentation, batch 2, crop', { ...AUGMENT, dtype: 'uint8', batch: 2, crop_width: 33, crop_height: 21 }],
  ];
  for (const [name, config] of cases) {
    test(`${name}: same bytes inline, caller and worker, 1 and 2 threads`, async () => {
      const reference = await digest(plain, { ...config, threads: 0 }, 12);
      // Inline with reused batches: they live in the shared memory too, written by wasm.
      const inlineReused = await digest(plain, { ...config, threads: 0 }, 12, { reuseBuffers: true });
      assert.equal(inlineReused.digest, reference.digest, 'threads 0, reuseBuffers true');
      for (const threads of [1, 2]) {
        for (const conversionThread of ['caller', 'worker'] as const) {
          // reuseBuffers: batch tensors in the shared WebAssembly memory, written by wasm (batch-arena.ts).
          for (const reuseBuffers of [false, true]) {
            const got = await digest(plain, { ...config, threads, preload: 6 }, 12, { conversionThread, reuseBuffers });
            assert.equal(got.digest, reference.digest, `threads ${threads}, ${conversionThread}, reuseBuffers ${reuseBuffers}`);
          }
        }
      }
    });
  }

  test('"caller" converts on the calling thread, "worker" in the workers; bad values are refused', async () => {
    for (const conversionThread of ['caller', 'worker'] as const) {
      const stream = await ImageStream.open(plain, { batch: 1, threads: 1, ...AUGMENT }, { conversionThread, reuseBuffers: true });
      try {
        for (let b = 0; b < 8; b++) await stream.next();
        const { times, arenaBuffers } = await stream.stats();
        assert.ok(arenaBuffers > 0, 'reused float32 batches live in the shared memory');
        // The first sample has no place yet (its size is unknown): it comes back converted.
        if (conversionThread === 'caller') assert.ok(times.stagedSamples >= 6, `staged ${times.stagedSamples}`);
        else assert.equal(times.stagedSamples, 0);
      } finally {
        await stream.close();
      }
    }
    await assert.rejects(ImageStream.open(plain, {}, { conversionThread: 'main' as never }), /"auto", "worker", "caller" for conversionThread/);
  });

  test('inline: reused batches in the shared memory, given-away batches in private memory (workers: shared)', async () => {
    const reused = await ImageStream.open(plain, { batch: 1, threads: 0, cache: 0 }, { reuseBuffers: true });
    try {
      for (let b = 0; b < 4; b++) await reused.next();
      assert.ok((await reused.stats()).arenaBuffers > 0, 'the inline stream carves reused batches out of its shared memory');
    } finally {
      await reused.close();
    }
    for (const threads of [0, 1]) {
      const given = await ImageStream.open(plain, { batch: 1, threads, cache: 0 }, { reuseBuffers: false });
      try {
        for (let b = 0; b < 5; b++) {
          const batch = (await given.next())!;
          // Inline, nothing but this thread writes a batch: a private buffer (JS fills it several
          // times faster than a SharedArrayBuffer); a worker writes its place in shared memory
          // (once the output size is known: the first batches come back by copy).
          if (threads === 0 || b === 4) assert.equal(batch.images.buffer instanceof SharedArrayBuffer, threads > 0, `threads ${threads}, batch ${b}`);
        }
        assert.equal((await given.stats()).arenaBuffers, 0);
      } finally {
        await given.close();
      }
    }
  });
});
