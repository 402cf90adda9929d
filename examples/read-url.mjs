// Read a .picpac file over HTTP(S): only the header, the footer and the index are fetched when
// opening (Range requests); each record is one more Range request. Usage: node read-url.mjs URL
import { openStore } from 'picpac';

const url = process.argv[2];
if (!url) {
  console.error('usage: node read-url.mjs URL');
  process.exit(2);
}

const store = await openStore(url);
console.log(`${store.recordCount} records at ${url}`);
for (let i = 0; i < Math.min(store.recordCount, 5); i++) {
  const record = await store.get(i);
  console.log(`record ${i}: label ${store.meta(i).label}, ${record.fields[0].bytes.length} bytes, annotation ${await store.getAnnotation(i)}`);
}
await store.close();
