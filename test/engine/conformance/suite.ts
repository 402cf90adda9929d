// One conformance suite run against every store backend (STYLE §29, lmdb-js `basicTests`):
// .picpac 2.0 compact and aligned, PicPac 1.0, LMDB encoded and raw. Each backend says what it
// cannot express; those tests are skipped with the reason in their name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import { ClosedError } from '../../../src/errors.ts';
import { encodeTensor } from '../../../src/format/tensor.ts';
import { ImageCodec, TensorDType } from '../../../src/format/layout.ts';
import type { NewField, NewRecord, Store, StoredRecord, StoreWriter } from '../../../src/engine/store.ts';
import { tempDir } from '../helpers.ts';

export interface StoreBackend {
  /** Store.format the backend reports. */
  format: string;
  /** Path of a store named `name` under `dir` (a file, or a directory for LMDB). */
  pathFor(dir: string, name: string): string;
  create(path: string): Promise<StoreWriter>;
  open(path: string): Promise<Store>;
  /** Reopen for appending; absent when the backend cannot. */
  append?: (path: string) => Promise<StoreWriter>;
  /** 'raw': field 0 holds decoded pixels as a uint8 [H, W, C] tensor instead of a JPEG. */
  image: 'encoded' | 'raw';
  /** Reasons the backend cannot run a test (the test is skipped with this text). */
  cannot?: {
    setAnnotation?: string;
    append?: string;
  };
}

export interface TestImage {
  jpeg: Uint8Array;
  width: number;
  height: number;
  /** RGB pixels of the same size (the raw backends' field 0). */
  pixels: Uint8Array;
}

/** Small real images (sharp-made), different sizes so meta() width/height are checked. */
export async function makeTestImages(count: number): Promise<TestImage[]> {
  const images: TestImage[] = [];
  for (let i = 0; i < count; i++) {
    const width = 8 + 3 * i;
    const height = 6 + 2 * i;
    const pixels = new Uint8Array(width * height * 3);
    for (let k = 0; k < pixels.length; k++) pixels[k] = (k * 7 + i * 31) & 0xff;
    const jpeg = new Uint8Array(await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
    images.push({ jpeg, width, height, pixels });
  }
  return images;
}

export function imageField(backend: StoreBackend, image: TestImage): NewField {
  if (backend.image === 'encoded') return { kind: 'image', bytes: image.jpeg };
  return { kind: 'tensor', codec: TensorDType.uint8, bytes: encodeTensor({ dtype: TensorDType.uint8, shape: [image.height, image.width, 3], data: image.pixels }) };
}

const RECORD_COUNT = 7;

/** Record i: labels that survive float32/int16 (PicPac 1.0), a bytes field, an annotation on odd i. */
export function conformanceRecord(backend: StoreBackend, images: TestImage[], i: number): NewRecord {
  const record: NewRecord = {
    id: 100 + i,
    label: i + 0.5,
    label2: i - 3,
    fields: i % 3 === 2 ? [imageField(backend, images[i % images.length])] : [imageField(backend, images[i % images.length]), { kind: 'bytes', bytes: Uint8Array.of(i, 1, 2, 3) }],
  };
  if (i % 2 === 1) record.annotation = `{"shapes":[{"type":"rect","n":${i}}]}`;
  return record;
}

function copyRecord(r: StoredRecord): StoredRecord {
  return { ...r, fields: r.fields.map((f) => ({ ...f, bytes: f.bytes.slice() })) };
}

async function writeAll(writer: StoreWriter, records: NewRecord[]): Promise<number[]> {
  const acks = records.map((r) => writer.append(r));
  const indexes = await Promise.all(acks);
  await writer.close();
  return indexes;
}

function assertRecord(backend: StoreBackend, actual: StoredRecord, expected: NewRecord, images: TestImage[], i: number): void {
  assert.equal(actual.recordIndex, i, 'recordIndex');
  assert.equal(actual.id, expected.id, 'id');
  assert.equal(actual.label, expected.label, 'label');
  assert.equal(actual.label2, expected.label2, 'label2');
  assert.equal(actual.annotation, expected.annotation, 'annotation');
  assert.equal(actual.hasAnnotation, expected.annotation !== undefined, 'hasAnnotation');
  assert.equal(actual.fields.length, expected.fields.length, 'field count');
  assert.equal(actual.fieldCount, expected.fields.length, 'fieldCount');
  const image = images[i % images.length];
  assert.equal(actual.width, image.width, 'width');
  assert.equal(actual.height, image.height, 'height');
  assert.equal(actual.imageCodec, backend.image === 'encoded' ? ImageCodec.jpeg : ImageCodec.unknown, 'imageCodec');
  for (const [k, f] of expected.fields.entries()) {
    const got = actual.fields[k];
    assert.equal(got.kind, f.kind, `field ${k} kind`);
    assert.deepEqual(Buffer.from(got.bytes), Buffer.from(f.bytes), `field ${k} bytes`);
  }
  if (backend.image === 'raw') assert.equal(actual.fields[0].type, 'tensor/uint8');
  else assert.equal(actual.fields[0].type, 'image/jpeg');
}

export function runStoreConformance(name: string, backend: StoreBackend): void {
  describe(`store conformance: ${name}`, () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    let images: TestImage[];
    let records: NewRecord[];
    let path: string;
    let serial = 0;
    const fresh = (label: string) => backend.pathFor(dir, `${label}-${serial++}`);

    before(async () => {
      ({ dir, cleanup } = await tempDir('picpac-conformance-'));
      images = await makeTestImages(4);
      records = Array.from({ length: RECORD_COUNT }, (_, i) => conformanceRecord(backend, images, i));
      path = fresh('main');
      assert.deepEqual(await writeAll(await backend.create(path), records), records.map((_, i) => i), 'append resolves with the record index');
    });
    after(() => cleanup());

    test(`format is ${backend.format} and recordCount = ${RECORD_COUNT}`, async () => {
      const store = await backend.open(path);
      try {
        assert.equal(store.format, backend.format);
        assert.equal(store.recordCount, RECORD_COUNT);
      } finally {
        await store.close();
      }
    });

    test('meta(i) answers labels, ids, sizes and annotation presence from the index', async () => {
      const store = await backend.open(path);
      try {
        for (let i = 0; i < RECORD_COUNT; i++) {
          const m = store.meta(i);
          const image = images[i % images.length];
          assert.deepEqual(
            { recordIndex: m.recordIndex, id: m.id, label: m.label, label2: m.label2, fieldCount: m.fieldCount, hasAnnotation: m.hasAnnotation, width: m.width, height: m.height },
            { recordIndex: i, id: records[i].id, label: records[i].label, label2: records[i].label2, fieldCount: records[i].fields.length, hasAnnotation: records[i].annotation !== undefined, width: image.width, height: image.height },
          );
          assert.ok(m.byteLength > 0, 'byteLength');
        }
      } finally {
        await store.close();
      }
    });

    test('get(i) returns the fields, labels and annotation as written', async () => {
      const store = await backend.open(path);
      try {
        for (const i of [3, 0, 6, 1]) assertRecord(backend, await store.get(i), records[i], images, i);
      } finally {
        await store.close();
      }
    });

    test('getAnnotation(i) returns the text, undefined when none', async () => {
      const store = await backend.open(path);
      try {
        for (let i = 0; i < RECORD_COUNT; i++) assert.equal(await store.getAnnotation(i), records[i].annotation);
      } finally {
        await store.close();
      }
    });

    test('scan() yields every record in order with its content', async () => {
      const store = await backend.open(path);
      try {
        const seen: StoredRecord[] = [];
        for await (const r of store.scan()) seen.push(copyRecord(r));
        assert.equal(seen.length, RECORD_COUNT);
        seen.forEach((r, i) => assertRecord(backend, r, records[i], images, i));
      } finally {
        await store.close();
      }
    });

    test('scan({ start, end }) yields exactly [start, end); start = end yields nothing', async () => {
      const store = await backend.open(path);
      try {
        const indexes: number[] = [];
        for await (const r of store.scan({ start: 2, end: 5 })) indexes.push(r.recordIndex);
        assert.deepEqual(indexes, [2, 3, 4]);
        const none: number[] = [];
        for await (const r of store.scan({ start: 4, end: 4 })) none.push(r.recordIndex);
        assert.deepEqual(none, []);
        const tail: number[] = [];
        for await (const r of store.scan({ start: 5 })) tail.push(r.recordIndex);
        assert.deepEqual(tail, [5, 6]);
      } finally {
        await store.close();
      }
    });

    test('a scan stopped early can be followed by get() and another scan', async () => {
      const store = await backend.open(path);
      try {
        for await (const r of store.scan()) if (r.recordIndex === 1) break;
        assertRecord(backend, await store.get(5), records[5], images, 5);
        let count = 0;
        for await (const _ of store.scan()) count++;
        assert.equal(count, RECORD_COUNT);
      } finally {
        await store.close();
      }
    });

    test('field bytes are plain Uint8Arrays (slice() copies; a Buffer would alias)', async () => {
      const store = await backend.open(path);
      try {
        const got = await store.get(0);
        for (const f of got.fields) assert.equal(Object.getPrototypeOf(f.bytes), Uint8Array.prototype, `get: ${f.type}`);
        const copies: Uint8Array[] = [];
        for await (const r of store.scan({ end: 3 })) {
          for (const f of r.fields) assert.equal(Object.getPrototypeOf(f.bytes), Uint8Array.prototype, `scan: ${f.type}`);
          copies.push(r.fields[0].bytes.slice());
        }
        const again: Uint8Array[] = [];
        for await (const r of store.scan({ end: 3 })) again.push(r.fields[0].bytes.slice());
        assert.deepEqual(copies, again, 'slices taken during a scan stay intact');
      } finally {
        await store.close();
      }
    });

    test('a bad record index is a RangeError (meta, get, getAnnotation)', async () => {
      const store = await backend.open(path);
      try {
        for (const bad of [-1, RECORD_COUNT, 1.5, Number.NaN]) {
          assert.throws(() => store.meta(bad), RangeError, `meta(${bad})`);
          await assert.rejects(async () => store.get(bad), RangeError, `get(${bad})`);
          await assert.rejects(async () => store.getAnnotation(bad), RangeError, `getAnnotation(${bad})`);
        }
      } finally {
        await store.close();
      }
    });

    test('after close(): get, getAnnotation and scan throw ClosedError; close again is a no-op', async () => {
      const store = await backend.open(path);
      await store.close();
      await assert.rejects(async () => store.get(0), ClosedError);
      await assert.rejects(async () => store.getAnnotation(1), ClosedError);
      await assert.rejects(async () => {
        for await (const _ of store.scan()) break;
      }, ClosedError);
      await store.close();
    });

    test('an empty store opens with recordCount 0 and scans nothing', async () => {
      const emptyPath = fresh('empty');
      await (await backend.create(emptyPath)).close();
      const store = await backend.open(emptyPath);
      try {
        assert.equal(store.recordCount, 0);
        assert.throws(() => store.meta(0), RangeError);
        let count = 0;
        for await (const _ of store.scan()) count++;
        assert.equal(count, 0);
      } finally {
        await store.close();
      }
    });

    test(`append after reopen continues the numbering${backend.cannot?.append ? ` (skipped: ${backend.cannot.append})` : ''}`, { skip: backend.cannot?.append ?? !backend.append }, async () => {
      const appendPath = fresh('append');
      await writeAll(await backend.create(appendPath), records.slice(0, 3));
      const writer = await backend.append!(appendPath);
      assert.equal(writer.recordCount, 3);
      assert.deepEqual(await writeAll(writer, records.slice(3)), [3, 4, 5, 6]);
      const store = await backend.open(appendPath);
      try {
        assert.equal(store.recordCount, RECORD_COUNT);
        const seen: StoredRecord[] = [];
        for await (const r of store.scan()) seen.push(copyRecord(r));
        seen.forEach((r, i) => assertRecord(backend, r, records[i], images, i));
      } finally {
        await store.close();
      }
    });

    test(`setAnnotation replaces (newest wins) and removes${backend.cannot?.setAnnotation ? ` (skipped: ${backend.cannot.setAnnotation})` : ''}`, { skip: backend.cannot?.setAnnotation ?? false }, async () => {
      const annoPath = fresh('annotate');
      const writer = await backend.create(annoPath);
      for (const r of records) void writer.append(r);
      await writer.setAnnotation(0, '{"v":1}');
      await writer.setAnnotation(0, '{"v":2}');
      await writer.setAnnotation(1, undefined);
      await writer.flush();
      await writer.close();
      if (backend.append && !backend.cannot?.append) {
        const again = await backend.append(annoPath);
        await again.setAnnotation(0, '{"v":3}');
        await again.setAnnotation(3, '');
        await again.close();
      }
      const reopened = !!backend.append && !backend.cannot?.append;
      const store = await backend.open(annoPath);
      try {
        assert.equal(await store.getAnnotation(0), reopened ? '{"v":3}' : '{"v":2}');
        assert.equal(store.meta(0).hasAnnotation, true);
        assert.equal(await store.getAnnotation(1), undefined);
        assert.equal(store.meta(1).hasAnnotation, false);
        assert.equal((await store.get(1)).annotation, undefined);
        assert.equal(await store.getAnnotation(3), reopened ? undefined : records[3].annotation);
        assert.equal(await store.getAnnotation(5), records[5].annotation, 'other records keep theirs');
        const scanned: Array<string | undefined> = [];
        for await (const r of store.scan()) scanned.push(r.annotation);
        assert.equal(scanned[0], reopened ? '{"v":3}' : '{"v":2}');
        assert.equal(scanned[1], undefined);
      } finally {
        await store.close();
      }
    });

    test('setAnnotation on a bad index is a RangeError; a closed writer refuses appends', async () => {
      const p = fresh('writer-errors');
      const writer = await backend.create(p);
      await writer.append(records[0]);
      if (!backend.cannot?.setAnnotation) await assert.rejects(async () => writer.setAnnotation(5, '{"x":1}'), RangeError);
      await writer.close();
      await assert.rejects(async () => writer.append(records[1]), ClosedError);
    });
  });
}

export function joinPath(dir: string, name: string): string {
  return join(dir, name);
}
