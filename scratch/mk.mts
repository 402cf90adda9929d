import { PicpacWriter } from '/work/wt-dur/src/engine/picpac/picpac-writer.ts';
const [file, n, align] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 1)];
const w = await PicpacWriter.create(file, { overwrite: true, alignment: align });
for (let i = 0; i < n; i++) w.append({ id: i, label: i % 3, fields: [{ kind: 'bytes', bytes: new Uint8Array(200).fill(i & 255) }], annotation: i % 2 ? `{"shapes":[{"type":"point","geometry":{"x":0.5,"y":0.5}}],"i":${i}}` : undefined });
await w.close();
