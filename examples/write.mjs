// Write a .picpac file: one record per image file, with a label and an annotation (a rectangle
// in normalised coordinates). Usage: node write.mjs OUT.picpac IMAGE...
import { readFile } from 'node:fs/promises';
import { PicpacWriter } from 'picpac';

const [out, ...images] = process.argv.slice(2);
if (!out || images.length === 0) {
  console.error('usage: node write.mjs OUT.picpac IMAGE...');
  process.exit(2);
}

// overwrite: true replaces an existing file (through a temporary file and a rename).
const writer = await PicpacWriter.create(out, { overwrite: true });
for (const [k, file] of images.entries()) {
  const annotation = { shapes: [{ type: 'rect', label: 1, geometry: { x: 0.25, y: 0.25, width: 0.5, height: 0.5 } }] };
  // append() queues the record (codec and size are sniffed from the bytes); it is durable
  // after flush() or close(), which also writes the index and the footer.
  void writer.append({ label: k % 2, fields: [{ kind: 'image', bytes: await readFile(file) }], annotation: JSON.stringify(annotation) });
}
await writer.close();
console.log(`wrote ${images.length} records to ${out}`);
