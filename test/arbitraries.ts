// Shared fast-check arbitraries (STYLE §28). Sizes stay small so property tests run fast on
// two shared cores.
import fc from 'fast-check';
import { FieldKind, TENSOR_ELEMENT_BYTES, TensorDType } from '../src/format/layout.ts';
import type { TensorDTypeCode } from '../src/format/layout.ts';
import { encodeTensor } from '../src/format/tensor.ts';
import type { AnnotationPayload, DecodedRecord, Field, Footer, IndexAnnotationEntry, IndexBlock, IndexRecordEntry, Tensor } from '../src/format/types.ts';

/** fc.record may build null-prototype objects; deepStrictEqual compares prototypes. */
function rec<T extends object>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model).map((o) => ({ ...o }) as T);
}

export const safeU64 = (): fc.Arbitrary<number> =>
  fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));

export const u32 = (): fc.Arbitrary<number> => fc.integer({ min: 0, max: 0xffffffff });

/** Finite doubles, including -0 and extremes. */
export const finiteLabel = (): fc.Arbitrary<number> =>
  fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(-0));

export const bytes = (maxLength = 2048): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength });

export const tensorDType = (): fc.Arbitrary<TensorDTypeCode> => fc.constantFrom(...(Object.values(TensorDType) as TensorDTypeCode[]));

export const tensor = (): fc.Arbitrary<Tensor> =>
  fc
    .record({ dtype: tensorDType(), shape: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 8 }) })
    .filter(({ dtype, shape }) => shape.reduce((a, b) => a * b, 1) * TENSOR_ELEMENT_BYTES[dtype] <= 4096)
    .chain(({ dtype, shape }) => {
      const n = shape.reduce((a, b) => a * b, 1) * TENSOR_ELEMENT_BYTES[dtype];
      return fc.uint8Array({ minLength: n, maxLength: n }).map((data) => ({ dtype, shape, data }));
    });

export const field = (): fc.Arbitrary<Field> =>
  fc.oneof(
    rec({ kind: fc.constant(FieldKind.image), codec: fc.integer({ min: 0, max: 8 }), bytes: bytes(), width: u32(), height: u32() }),
    rec({ kind: fc.constant(FieldKind.label), codec: fc.integer({ min: 0, max: 8 }), bytes: bytes(), width: u32(), height: u32() }),
    tensor().map((t) => ({ kind: FieldKind.tensor, codec: t.dtype, bytes: encodeTensor(t), width: 0, height: 0 })),
    rec({ kind: fc.constant(FieldKind.bytes), codec: fc.constant(0), bytes: bytes(), width: fc.constant(0), height: fc.constant(0) }),
  ) as fc.Arbitrary<Field>;

export const decodedRecord = (): fc.Arbitrary<DecodedRecord> =>
  rec({ id: safeU64(), label: finiteLabel(), label2: finiteLabel(), fields: fc.array(field(), { maxLength: 6 }) });

/** Annotation JSON in the REFERENCE §1.3.3 shapes, as a string. */
export const annotationJson = (): fc.Arbitrary<string> => {
  const unit = fc.double({ min: 0, max: 1, noNaN: true });
  const shape = fc.oneof(
    rec({ type: fc.constant('rect'), label: fc.integer({ min: 0, max: 9 }), geometry: rec({ x: unit, y: unit, width: unit, height: unit }) }),
    rec({ type: fc.constant('ellipse'), geometry: rec({ x: unit, y: unit, width: unit, height: unit }) }),
    rec({ type: fc.constant('polygon'), geometry: rec({ points: fc.array(rec({ x: unit, y: unit }), { minLength: 3, maxLength: 8 }) }) }),
    rec({ type: fc.constant('point'), tag: fc.integer({ min: 0, max: 9 }), geometry: rec({ x: unit, y: unit }) }),
  );
  return rec({ shapes: fc.array(shape, { maxLength: 5 }), note: fc.option(fc.string({ unit: 'grapheme', maxLength: 20 }), { nil: undefined }) }).map((o) => JSON.stringify(o));
};

export const recordWithAnnotation = (): fc.Arbitrary<DecodedRecord & { annotation?: string }> =>
  rec({ record: decodedRecord(), annotation: fc.option(annotationJson(), { nil: undefined }) }).map(({ record, annotation }) => (annotation === undefined ? record : { ...record, annotation }));

export const annotationPayload = (): fc.Arbitrary<AnnotationPayload> =>
  rec({ recordIndex: safeU64(), annotationFormat: fc.integer({ min: 1, max: 0xffffffff }), text: annotationJson().map((s) => new TextEncoder().encode(s)) });

export const indexRecordEntry = (): fc.Arbitrary<IndexRecordEntry> =>
  rec({
    frameOffset: safeU64(),
    payloadByteLength: u32(),
    payloadCrc: u32(),
    id: safeU64(),
    label: finiteLabel(),
    label2: finiteLabel(),
    width: u32(),
    height: u32(),
    fieldCount: fc.integer({ min: 0, max: 255 }),
    firstImageCodec: fc.integer({ min: 0, max: 255 }),
    entryFlags: fc.integer({ min: 0, max: 255 }),
  });

export const indexAnnotationEntry = (): fc.Arbitrary<IndexAnnotationEntry> =>
  rec({ recordIndex: safeU64(), frameOffset: safeU64(), payloadByteLength: u32(), payloadCrc: u32() });

export const indexBlock = (): fc.Arbitrary<IndexBlock> =>
  rec({
    firstRecordIndex: fc.integer({ min: 0, max: 2 ** 40 }),
    previousIndexOffset: fc.integer({ min: 0, max: 2 ** 52 }), // must point before the block [IDX-8]
    records: fc.array(indexRecordEntry(), { maxLength: 20 }),
  }).chain((b) => {
    // Annotation entries: ascending, one per record, naming records 0..first+count-1. [IDX-10]
    const recordEnd = b.firstRecordIndex + b.records.length;
    if (recordEnd === 0) return fc.constant({ ...b, annotations: [] as IndexAnnotationEntry[] });
    return fc
      .tuple(fc.uniqueArray(fc.integer({ min: 0, max: recordEnd - 1 }), { maxLength: 20 }), fc.array(indexAnnotationEntry(), { minLength: 20, maxLength: 20 }))
      .map(([indices, entries]) => ({ ...b, annotations: indices.sort((x, y) => x - y).map((recordIndex, k) => ({ ...entries[k], recordIndex })) }));
  });

export const footer = (): fc.Arbitrary<Footer> =>
  fc
    .record({ footerOffset: fc.integer({ min: 128, max: Number.MAX_SAFE_INTEGER }), generation: fc.integer({ min: 1, max: 0xffffffff }), recordCount: safeU64() })
    .chain(({ footerOffset, generation, recordCount }) =>
      rec({
        indexOffset: fc.integer({ min: 64, max: footerOffset - 1 }),
        recordCount: fc.constant(recordCount),
        annotatedCount: fc.integer({ min: 0, max: recordCount }),
        generation: fc.constant(generation),
        footerOffset: fc.constant(footerOffset),
      }),
    );
