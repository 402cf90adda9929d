// Browser-safe entry: the format codecs (2.0 and 1.0), the error classes and the in-memory
// byte source, and the fetch-based HTTP Range byte source. No node: modules, no native packages (checked by test/hygiene/entry-points).
export * from './format/index.ts';
export * from './errors.ts';
export { MemorySource } from './engine/sources/byte-source.ts';
export { FetchSource } from './engine/sources/fetch-source.ts';
export type { FetchSourceOptions } from './engine/sources/fetch-source.ts';
export type { ByteSource, ReadCounter } from './engine/sources/byte-source.ts';
export type { FieldKindName, NewField, NewRecord, RecordMeta, ScanOptions, Store, StoredField, StoredRecord, StoreWriter } from './engine/store.ts';
