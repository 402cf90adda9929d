// picpac merge OUT IN...: concatenate stores (records, labels, annotations), in argument order.
import { openStore } from '../../engine/open-store.ts';
import type { StoreWriter } from '../../engine/store.ts';
import { choiceOption, flagOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';
import { Progress } from '../progress.ts';
import { OUTPUT_FORMATS, checkNotSameFile, openOutput, toNewRecord, AppendQueue, alignOption } from '../store-output.ts';

export const mergeCommand: CommandSpec = {
  name: 'merge',
  summary: 'concatenate stores into one file (optionally relabelled by input)',
  synopsis: 'OUT IN...',
  description:
    'Append every record of each IN (2.0, 1.0, manifest or URL) to OUT, in argument order,\n' +
    'keeping ids, labels and annotations. --relabel gives the records of the k-th input label k\n' +
    '(k from 0), e.g. to build a classifier from one file per class.',
  options: {
    relabel: { type: 'boolean', description: 'records of the k-th input get label k' },
    format: { type: 'string', valueName: 'v2|v1', description: 'output format (default v2)' },
    align: { type: 'string', valueName: 'N', description: 'alignment of OUT: 1 (compact, default) or a power of two' },
    overwrite: { type: 'boolean', description: 'replace OUT if it exists' },
    append: { type: 'boolean', description: 'add to an existing OUT' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress bar' },
  },
  minPositionals: 2,
  maxPositionals: Infinity,
  examples: ['picpac merge all.picpac part1.picpac part2.picpac', 'picpac merge classes.picpac cats.picpac dogs.picpac --relabel'],
  run: runMerge,
};

async function runMerge(args: ParsedCommand, io: CliIo): Promise<number> {
  const [out, ...inputs] = args.positionals;
  const cmd = 'merge';
  const format = choiceOption(args, 'format', OUTPUT_FORMATS, cmd) ?? 'v2';
  const alignment = alignOption(args, cmd);
  const relabel = flagOption(args, 'relabel');
  checkNotSameFile(out, inputs, cmd, { allowAppend: flagOption(args, 'append') });
  // Open every input first: a missing or damaged input fails before OUT is touched.
  const stores = [];
  try {
    for (const input of inputs) stores.push(await openStore(input));
    const total = stores.reduce((sum, s) => sum + s.recordCount, 0);
    const writer: StoreWriter = await openOutput(out, {
      format,
      alignment,
      overwrite: flagOption(args, 'overwrite'),
      append: flagOption(args, 'append'),
    });
    const progress = flagOption(args, 'quiet') ? undefined : new Progress(io.stderr, 'merge', total, { unit: 'records' });
    let written = 0;
    const queue = new AppendQueue(writer);
    try {
      for (const [k, store] of stores.entries()) {
        for await (const record of store.scan()) {
          await queue.add(toNewRecord(record, relabel ? { label: k } : {}));
          written++;
          progress?.update(written);
        }
        io.stdout.write(`${inputs[k]}: ${store.recordCount} records${relabel ? ` → label ${k}` : ''}\n`);
      }
      await queue.drain();
      // One class table per file: kept when the inputs that have one agree, else said.
      const tables = new Set((await Promise.all(stores.map((s) => s.getMetadata?.().catch(() => undefined)))).filter((t) => t !== undefined));
      if (tables.size === 1 && writer.setMetadata) await writer.setMetadata([...tables][0]!);
      else if (tables.size > 1) io.stderr.write('warning: the inputs have different class tables (file metadata): none copied; labels may disagree between inputs\n');
    } finally {
      await writer.close();
      progress?.finish();
    }
    io.stdout.write(`merged ${written} records from ${inputs.length} inputs into ${out}\n`);
  } finally {
    for (const s of stores) await s.close();
  }
  return 0;
}
