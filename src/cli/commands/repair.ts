// picpac repair DB OUT: keep every record recovery can prove intact, drop the torn tail.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { openStore } from '../../engine/open-store.ts';
import { writeFileAtomically } from '../../engine/rewrite.ts';
import { UsageError, choiceOption, flagOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';
import {
  OUTPUT_FORMATS,
  OutputExistsError,
  alignmentOf,
  fileExists,
  formatOfStore,
  openOutput,
  recoveryInfo,
  toNewRecord,
  AppendQueue,
  alignOption,
  copyMetadata,
} from '../store-output.ts';

export const repairCommand: CommandSpec = {
  name: 'repair',
  summary: 'write the records recovery can save (torn tail dropped) to a new file',
  synopsis: 'DB OUT',
  description:
    'Open DB with recovery (frames are scanned from the start; the first frame whose checksums\n' +
    'fail ends the file) and write the surviving records, labels and annotations to OUT, through\n' +
    'a temporary file renamed at the end. OUT has the format of DB unless --to says otherwise.',
  options: {
    to: { type: 'string', valueName: 'v2|v1', description: 'output format (default: the format of DB)' },
    align: { type: 'string', valueName: 'N', description: 'alignment of OUT (default: that of DB when known, else 1)' },
    overwrite: { type: 'boolean', description: 'replace OUT if it exists' },
  },
  minPositionals: 2,
  maxPositionals: 2,
  examples: ['picpac repair crashed.picpac fixed.picpac', 'picpac repair crashed.db fixed.picpac --to v2'],
  run: runRepair,
};

async function runRepair(args: ParsedCommand, io: CliIo): Promise<number> {
  const [input, out] = args.positionals;
  const cmd = 'repair';
  const to = choiceOption(args, 'to', OUTPUT_FORMATS, cmd);
  const align = alignOption(args, cmd);
  const overwrite = flagOption(args, 'overwrite');
  if ((await fileExists(out)) && !overwrite) {
    if (resolve(out) === resolve(input)) throw new UsageError('OUT is the input file: pass --overwrite to repair in place', cmd);
    throw new OutputExistsError(out);
  }
  const store = await openStore(input, { recover: true });
  let saved = 0;
  try {
    const format = to ?? formatOfStore(store.format);
    const alignment = align ?? alignmentOf(store);
    await writeFileAtomically(out, async (tempPath) => {
      const writer = await openOutput(tempPath, { format, alignment, overwrite: true });
      const queue = new AppendQueue(writer);
      try {
        for await (const record of store.scan()) {
          await queue.add(toNewRecord(record));
          saved++;
        }
        await queue.drain();
        if ((await copyMetadata(store, writer)) === 'unreadable') io.stderr.write(`warning: ${input}: the file metadata (class table) is damaged: not copied\n`);
      } finally {
        await writer.close();
      }
    }, { overwrite });
    const fileByteLength = await stat(input).then((s) => s.size, () => undefined);
    const info = recoveryInfo(store, fileByteLength);
    io.stdout.write(`saved ${saved} records to ${out}\n`);
    for (const problem of info.problems) io.stdout.write(`problem: ${problem}\n`);
    const torn = info.tornTailOffset;
    if (torn !== undefined && fileByteLength !== undefined && torn < fileByteLength) {
      io.stdout.write(`dropped: bytes ${torn}..${fileByteLength} (${fileByteLength - torn} bytes from the torn tail at byte ${torn})\n`);
    } else if (info.recovered) {
      io.stdout.write('dropped: nothing (the writer had not finished the file, but every record was intact)\n');
    } else {
      io.stdout.write('dropped: nothing (the file was intact)\n');
    }
  } finally {
    await store.close();
  }
  return 0;
}
