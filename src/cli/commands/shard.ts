// picpac shard IN OUT/ --shard-size SIZE: split a store into numbered shards plus a manifest
// (SPEC §16), locally or under an s3:// prefix, records in order with ids, labels and annotations.
import { openStore } from '../../engine/open-store.ts';
import { UsageError, choiceOption, flagOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';
import { Progress } from '../progress.ts';
import { ShardedWriter, shardSizeOption } from '../sharded-output.ts';
import { AppendQueue, OUTPUT_FORMATS, alignOption, alignmentOf, checkNotSameFile, toNewRecord } from '../store-output.ts';

export const shardCommand: CommandSpec = {
  name: 'shard',
  summary: 'split a store into shards of about SIZE plus a manifest (local folder or s3:// prefix)',
  synopsis: 'IN OUT/',
  description:
    'Copy every record of IN (2.0, 1.0, manifest or URL) in order into OUT/part-00000.picpac,\n' +
    'OUT/part-00001.picpac, ... — a shard is closed when the next record would take it past\n' +
    '--shard-size — and write OUT/index.picpac.json (SPEC §16) last. OUT may also name the\n' +
    'manifest (…/name.picpac.json). On s3:// each shard is uploaded when it is closed.',
  options: {
    'shard-size': { type: 'string', valueName: 'SIZE', description: 'target shard size: 512MB, 1GiB, ... (required)' },
    format: { type: 'string', valueName: 'v2|v1', description: 'shard format (default v2)' },
    align: { type: 'string', valueName: 'N', description: 'alignment of the shards: 1 (compact, default) or a power of two' },
    overwrite: { type: 'boolean', description: 'replace an existing manifest and shards' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress bar' },
  },
  minPositionals: 2,
  maxPositionals: 2,
  examples: ['picpac shard photos.picpac shards/ --shard-size 512MB', 'picpac shard photos.picpac s3://bucket/photos/ --shard-size 1GiB'],
  run: runShard,
};

async function runShard(args: ParsedCommand, io: CliIo): Promise<number> {
  const cmd = 'shard';
  const [input, out] = args.positionals;
  const shardBytes = shardSizeOption(args, cmd);
  if (shardBytes === undefined) throw new UsageError('--shard-size is required', cmd);
  const format = choiceOption(args, 'format', OUTPUT_FORMATS, cmd) ?? 'v2';
  const align = alignOption(args, cmd);
  checkNotSameFile(out, [input], cmd);
  const store = await openStore(input);
  try {
    const writer = await ShardedWriter.create(out, shardBytes, { format, alignment: align ?? alignmentOf(store), overwrite: flagOption(args, 'overwrite') });
    const progress = flagOption(args, 'quiet') ? undefined : new Progress(io.stderr, 'shard', store.recordCount, { unit: 'records' });
    const queue = new AppendQueue(writer);
    try {
      for await (const record of store.scan()) {
        await queue.add(toNewRecord(record));
        progress?.update(queue.count);
      }
      await queue.drain();
      await writer.close();
    } catch (error) {
      await writer.abort();
      throw error;
    } finally {
      progress?.finish();
    }
    io.stdout.write(`wrote ${writer.recordCount} records in ${writer.shardCount} shards; manifest ${writer.name}\n`);
  } finally {
    await store.close();
  }
  return 0;
}
