// Browser entry (package.json exports "./browser" and the "browser" condition of "."): the
// browser-safe entry plus the .picpac reader, to read files over HTTP Range requests with
// FetchSource. Built into one ES module, dist/browser/picpac.js, by scripts/build.mjs, which
// replaces the reader's two Node-only imports: local files by a source that refuses them (the
// browser reads URLs through FetchSource) and native CRC-32C by the JS implementation.
export * from './index.ts';
export { PicpacReader } from './engine/picpac/picpac-reader.ts';
export type { PicpacReaderOptions, PicpacScanOptions } from './engine/reader-options.ts';
