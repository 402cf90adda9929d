// Child of scripts/torture.ts: the library writer. Appends sessions of records to FILE (created
// when missing) and commits each session with close(); after close() returns it prints
// "ack <lastId>" — the torture's definition of acknowledged: every record with an id up to
// lastId is durable. It runs until killed. Record i: 100..2100 bytes of (i & 255), annotated
// `{"id":i}` when i is odd (so a lost annotation is visible).
import { existsSync } from 'node:fs';
import { PicpacWriter } from '../src/engine/picpac/picpac-writer.ts';

const [file, firstIdText, alignmentText] = process.argv.slice(2);
let id = Number(firstIdText);
const alignment = Number(alignmentText ?? 1);
process.stdout.write('ready\n');
for (;;) {
  const writer = existsSync(file) ? await PicpacWriter.append(file, { bufferBytes: 64 << 10 }) : await PicpacWriter.create(file, { alignment });
  const count = 5 + Math.floor(Math.random() * 40);
  for (let k = 0; k < count; k++, id++) {
    void writer.append({ id, label: id % 5, fields: [{ kind: 'bytes', bytes: new Uint8Array(100 + ((id * 37) % 2000)).fill(id & 255) }], annotation: id % 2 === 1 ? `{"id":${id}}` : undefined });
  }
  await writer.close();
  process.stdout.write(`ack ${id - 1}\n`);
}
