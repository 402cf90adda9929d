import { readFileSync, writeFileSync } from 'node:fs';
const [file, out, at] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const b = readFileSync(file); b[at] ^= 0x10; writeFileSync(out, b);
