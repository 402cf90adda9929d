// Browser-safe entry of the format layer: pure codecs over Uint8Array, no I/O.
export * from './layout.ts';
export type * from './types.ts';
export * from './crc32c.ts';
export * from './header.ts';
export * from './frame.ts';
export * from './record.ts';
export * from './annotation.ts';
export * from './index-block.ts';
export * from './footer.ts';
export * from './tensor.ts';
export * from './image-sniff.ts';
export * from './field-type.ts';
export * from './file-image.ts';
export { readU64, writeU64, isU64Safe } from './bytes.ts';
export * from './metadata.ts';
