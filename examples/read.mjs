// Read a .picpac file two ways: by index (the index is in memory; meta() is synchronous) and by
// scan (file order, large sequential reads). Usage: node read.mjs FILE.picpac
import { openStore } from 'picpac';

const file = process.argv[2];
if (!file) {
  console.error('usage: node read.mjs FILE.picpac');
  process.exit(2);
}

const store = await openStore(file); // .picpac 2.0, PicPac 1.0, LMDB directory, shard manifest or URL
console.log(`${store.recordCount} records`);

// By index: random access, one record's bytes per get(), checksum verified.
for (let i = 0; i < store.recordCount; i++) {
  const meta = store.meta(i);
  const record = await store.get(i);
  const annotation = await store.getAnnotation(i);
  console.log(`record ${i}: label ${meta.label}, ${meta.width}x${meta.height}, ${record.fields[0].type}, ${record.fields[0].bytes.length} bytes, annotation ${annotation ?? 'none'}`);
}

// By scan: every record in file order.
let bytes = 0;
for await (const record of store.scan()) bytes += record.fields[0].bytes.length;
console.log(`scan: ${bytes} image bytes`);
await store.close();
