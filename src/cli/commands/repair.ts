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
  describeDropped,
  type OutputFormat,
} from '../store-output.ts';
import { WriterLock } from '../../engine/picpac/writer-lock.ts';

export const repairCommand: CommandSpec = {
  name: 'repair',
  summary: 'write the records recovery can save (torn tail dropped) to a new file',
  synopsis: 'DB OUT',
  description:
    'Open DB with recovery (every frame is scanned from the start; a damaged range is skipped\n' +
    'and the scan resynchronises on the next valid frame) and write every record whose frame is\n' +
    'valid, with its labels and annotation, to OUT, through a temporary file renamed at the end.\n' +
    'A record written with an annotation is saved with it or not at all. Everything not saved\n' +
    'is listed as "dropped:" with its byte offset. OUT (DB itself with --overwrite) is locked\n' +
    'first: a repair never runs while a writer is appending. OUT has the format of DB unless\n' +
    '--to says otherwise.',
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
  // The lock of OUT (the input itself for an in-place repair) is taken before the input is
  // opened: a repair never reads a file another writer is appending to and then replaces it. [CON-1]
  const lock = await WriterLock.acquire(out);
  try {
    return await repairLocked(input, out, { to, align, overwrite }, io);
  } finally {
    await lock.release();
  }
}

async function repairLocked(input: string, out: string, o: { to: OutputFormat | undefined; align: number | undefined; overwrite: boolean }, io: CliIo): Promise<number> {
  const store = await openStore(input, { recover: true });
  let saved = 0;
  try {
    const format = o.to ?? formatOfStore(store.format);
    const alignment = o.align ?? alignmentOf(store);
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
    }, { overwrite: o.overwrite, lock: false });
    const fileByteLength = await stat(input).then((s) => s.size, () => undefined);
    const info = recoveryInfo(store, fileByteLength);
    io.stdout.write(`saved ${saved} records to ${out}\n`);
    for (const problem of info.problems) io.stdout.write(`problem: ${problem}\n`);
    for (const d of info.dropped) io.stdout.write(`dropped: ${describeDropped(d)}\n`);
    const torn = info.tornTailOffset;
    if (torn !== undefined && fileByteLength !== undefined && torn < fileByteLength) {
      io.stdout.write(`dropped: bytes ${torn}..${fileByteLength} (${fileByteLength - torn} bytes from the torn tail at byte ${torn}${info.tornReason ? `: ${info.tornReason}` : ''})\n`);
    } else if (info.dropped.length > 0) {
      // listed above
    } else if (info.recovered && !info.committed) {
      io.stdout.write('dropped: nothing (the writer had not finished the file, but every record was intact)\n');
    } else {
      io.stdout.write('dropped: nothing (the file was intact)\n');
    }
  } finally {
    await store.close();
  }
  return 0;
}
