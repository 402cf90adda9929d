// One reader process of `npm run bench -- s3`: streams one epoch of DB as rank R of W (inline
// decoding, no sample cache) and prints one JSON line: samples, seconds (open + epoch), the
// process's object-store traffic and the stored bytes of the records it streamed.
//   node --import tsx bench/lib/s3-reader.ts DB RANK WORLD_SIZE THREADS [CACHE_DIR]
// With THREADS > 0 the worker threads do the reading: their traffic is not counted here.
import { ImageStream } from '../../src/augment/stream/stream.ts';
import { s3Traffic } from '../../src/engine/sources/s3-client.ts';
import { rangeCacheFromEnv } from '../../src/engine/sources/range-cache.ts';

const [db, rankText, worldText, threadsText, cacheDir] = process.argv.slice(2);
if (cacheDir) {
  process.env.PICPAC_CACHE_DIR = cacheDir;
  process.env.PICPAC_CACHE_LIMIT = '2GB';
}
const start = performance.now();
const stream = await ImageStream.open(db, { loop: false, threads: Number(threadsText), cache: false, rank: Number(rankText), world_size: Number(worldText), batch: 16, resize_width: 128, resize_height: 128 });
let samples = 0;
let recordBytes = 0;
for (let batch = await stream.next(); batch !== null; batch = await stream.next()) {
  for (let i = 0; i < batch.count; i++) recordBytes += stream.meta(batch.recordIndices[i], batch.sourceIndices[i]).byteLength;
  samples += batch.count;
}
await stream.close();
const seconds = (performance.now() - start) / 1000;
const cache = rangeCacheFromEnv();
console.log(JSON.stringify({ samples, seconds, recordBytes, requests: s3Traffic.requests, retries: s3Traffic.retries, remoteBytes: s3Traffic.bytesRead, cacheHits: cache?.stats.hits ?? 0, cacheMisses: cache?.stats.misses ?? 0 }));
