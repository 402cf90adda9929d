// picpac convert IN OUT: between .picpac 2.0 and PicPac 1.0. The readers and writers do the
// field mapping (1.0 field 0 image, field 1 JSON → annotation, images → image/label fields,
// others → bytes; 2.0 → 1.0 puts the annotation back at field 1), so v1 → v2 → v1 gives back
// the original fields.
import { openStore } from '../../engine/open-store.ts';
import { choiceOption, flagOption, intOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';
import { Progress } from '../progress.ts';
import { OUTPUT_FORMATS, alignmentOf, checkAlignment, checkNotSameFile, formatOfStore, openOutput, toNewRecord, AppendQueue } from '../store-output.ts';

export const convertCommand: CommandSpec = {
  name: 'convert',
  summary: 'convert between .picpac 2.0 and PicPac 1.0 (lossless both ways)',
  synopsis: 'IN OUT',
  description:
    'Copy every record of IN to OUT in the other format (or the one --to names). 1.0 → 2.0 maps\n' +
    'field 0 to the image, a JSON field 1 to the annotation, other images to label fields and\n' +
    'the rest to bytes fields; 2.0 → 1.0 reverses it, so converting back gives the same fields.',
  options: {
    to: { type: 'string', valueName: 'v2|v1', description: 'output format (default: the other one)' },
    align: { type: 'string', valueName: 'N', description: 'alignment of OUT: 1 (compact) or a power of two (default: that of IN when known)' },
    overwrite: { type: 'boolean', description: 'replace OUT if it exists' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress bar' },
  },
  minPositionals: 2,
  maxPositionals: 2,
  examples: ['picpac convert legacy.db legacy.picpac', 'picpac convert plates.picpac plates.db --to v1', 'picpac convert big.picpac big-aligned.picpac --to v2 --align 4096'],
  run: runConvert,
};

async function runConvert(args: ParsedCommand, io: CliIo): Promise<number> {
  const [input, out] = args.positionals;
  const cmd = 'convert';
  const toOption = choiceOption(args, 'to', OUTPUT_FORMATS, cmd);
  const align = checkAlignment(intOption(args, 'align', { min: 1 }, cmd), cmd);
  checkNotSameFile(out, [input], cmd);
  const store = await openStore(input);
  try {
    const from = formatOfStore(store.format);
    const to = toOption ?? (from === 'v1' ? 'v2' : 'v1');
    const writer = await openOutput(out, { format: to, alignment: align ?? alignmentOf(store), overwrite: flagOption(args, 'overwrite') });
    const progress = flagOption(args, 'quiet') ? undefined : new Progress(io.stderr, 'convert', store.recordCount, { unit: 'records' });
    let written = 0;
    const queue = new AppendQueue(writer);
    try {
      for await (const record of store.scan()) {
        await queue.add(toNewRecord(record));
        written++;
        progress?.update(written);
      }
      await queue.drain();
    } finally {
      await writer.close();
      progress?.finish();
    }
    io.stdout.write(`converted ${written} records: ${input} (${store.format}) → ${out} (${to === 'v1' ? 'picpac-1' : 'picpac-2'})\n`);
  } finally {
    await store.close();
  }
  return 0;
}
