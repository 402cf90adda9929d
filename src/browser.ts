// Browser entry (package.json exports "./browser" and the "browser" condition of "."): the
// browser-safe entry plus the .picpac reader, to read files over HTTP Range requests with
// FetchSource. Built into one ES module, dist/browser/picpac.js, by scripts/build.mjs, which
// swaps the reader's two Node-only imports (local files, native CRC-32C) for browser stubs.
export * from './index.ts';
export { PicpacReader } from './engine/picpac/picpac-reader.ts';
export type { PicpacReaderOptions, PicpacScanOptions } from './engine/reader-options.ts';
