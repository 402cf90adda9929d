// picpac convert IN OUT: between .picpac 2.0 and PicPac 1.0. The readers and writers do the
// field mapping (1.0 field 0 image, field 1 JSON → annotation, images → image/label fields,
// others → bytes; 2.0 → 1.0 puts the annotation back at field 1), so v1 → v2 → v1 gives back
// the original fields.
import { openStore } from '../../engine/open-store.ts';
import { LmdbWriter } from '../../engine/lmdb/lmdb-store.ts';
import { lmdbDataFormat } from '../../engine/lmdb/lmdb-detect.ts';
import type { Store, StoreWriter } from '../../engine/store.ts';
import { transcodeStore } from '../../augment/pixels/transcode.ts';
import type { TranscodeTarget } from '../../augment/pixels/transcode.ts';
import { choiceOption, flagOption, intOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';
import { Progress } from '../progress.ts';
import { OUTPUT_FORMATS, alignmentOf, checkNotSameFile, formatOfStore, openOutput, toNewRecord, AppendQueue, alignOption, copyMetadata, refuseExisting } from '../store-output.ts';

/** v2 / v1 plus the LMDB backends: lmdb-encoded (image bytes as they are), lmdb-raw (decoded pixels). */
const CONVERT_FORMATS = [...OUTPUT_FORMATS, 'lmdb-raw', 'lmdb-encoded'] as const;
type ConvertFormat = (typeof CONVERT_FORMATS)[number];

export const convertCommand: CommandSpec = {
  name: 'convert',
  summary: 'convert between .picpac 2.0, PicPac 1.0 and LMDB (raw pixels or encoded images)',
  synopsis: 'IN OUT',
  description:
    'Copy every record of IN to OUT in the other format (or the one --to names). 1.0 → 2.0 maps\n' +
    'field 0 to the image, a JSON field 1 to the annotation, other images to label fields and\n' +
    'the rest to bytes fields; 2.0 → 1.0 reverses it, so converting back gives the same fields.\n' +
    'LMDB (OUT is a directory): lmdb-encoded keeps the image bytes; lmdb-raw decodes image field 0\n' +
    'to a uint8 HWC RGB tensor field. Values are picpac record payloads, not Caffe Datum protobufs\n' +
    '(layout: docs/lmdb.md). From lmdb-raw to any other format the pixels are re-encoded as JPEG at\n' +
    '--quality (default 95): lossy, and the command says so.',
  options: {
    to: { type: 'string', valueName: 'v2|v1|lmdb-raw|lmdb-encoded', description: 'output format (default: the other one; v2 from LMDB)' },
    quality: { type: 'string', valueName: 'Q', description: 'JPEG quality 1..100 when raw pixels are re-encoded (default 95)' },
    align: { type: 'string', valueName: 'N', description: 'alignment of OUT: 1 (compact) or a power of two (default: that of IN when known)' },
    overwrite: { type: 'boolean', description: 'replace OUT if it exists' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress bar' },
  },
  minPositionals: 2,
  maxPositionals: 2,
  examples: [
    'picpac convert legacy.db legacy.picpac',
    'picpac convert plates.picpac plates.db --to v1',
    'picpac convert big.picpac big-aligned.picpac --to v2 --align 4096',
    'picpac convert photos.picpac photos-raw.lmdb --to lmdb-raw',
    'picpac convert photos-raw.lmdb photos.picpac --to v2 --quality 92',
  ],
  run: runConvert,
};

async function runConvert(args: ParsedCommand, io: CliIo): Promise<number> {
  const [input, out] = args.positionals;
  const cmd = 'convert';
  const toOption = choiceOption(args, 'to', CONVERT_FORMATS, cmd);
  const align = alignOption(args, cmd);
  const quality = intOption(args, 'quality', { min: 1, max: 100 }, cmd);
  checkNotSameFile(out, [input], cmd);
  const store = await openStore(input);
  try {
    const lmdbIn = store.format === 'lmdb-raw' || store.format === 'lmdb-encoded';
    if (lmdbIn || toOption === 'lmdb-raw' || toOption === 'lmdb-encoded') {
      return await convertWithTranscode(store, input, out, toOption ?? 'v2', { align, quality, args, io });
    }
    const from = formatOfStore(store.format);
    const to = (toOption ?? (from === 'v1' ? 'v2' : 'v1')) as 'v2' | 'v1';
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
      if ((await copyMetadata(store, writer)) === 'dropped') io.stderr.write(`warning: ${input}'s class table (file metadata) has no place in a PicPac 1.0 file: not copied\n`);
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

/**
 * Conversions that involve LMDB go through transcodeStore: → lmdb-raw decodes image field 0 to
 * pixels; lmdb-raw → anything else re-encodes them (JPEG at --quality, said on stdout);
 * everything else is copied byte for byte.
 */
async function convertWithTranscode(
  store: Store,
  input: string,
  out: string,
  to: ConvertFormat,
  o: { align: number | undefined; quality: number | undefined; args: ParsedCommand; io: CliIo },
): Promise<number> {
  const overwrite = flagOption(o.args, 'overwrite');
  let writer: StoreWriter;
  if (to === 'lmdb-raw' || to === 'lmdb-encoded') {
    await refuseExisting(out, overwrite);
    writer = await LmdbWriter.create(out, { mode: to === 'lmdb-raw' ? 'raw' : 'encoded', overwrite });
  } else {
    writer = await openOutput(out, { format: to, alignment: o.align ?? alignmentOf(store), overwrite });
  }
  const fromRaw = store.format === 'lmdb-raw';
  const target: TranscodeTarget = to === 'lmdb-raw' ? (fromRaw ? 'keep' : 'raw') : fromRaw ? 'encoded' : 'keep';
  const progress = flagOption(o.args, 'quiet') ? undefined : new Progress(o.io.stderr, 'convert', store.recordCount, { unit: 'records' });
  let result;
  try {
    result = await transcodeStore(store, writer, { to: target, quality: o.quality, onProgress: (n) => progress?.update(n) });
  } finally {
    await writer.close();
    progress?.finish();
  }
  for (const note of result.notes) o.io.stdout.write(`note: ${note}\n`);
  if ((to === 'lmdb-raw' || to === 'lmdb-encoded') && lmdbDataFormat() === 2) {
    o.io.stdout.write('note: written in LMDB 1.0 data format (the lmdb npm prebuilt); LMDB 0.9 tools (mdb_dump, python3-lmdb, Caffe) cannot read it: run `npm run build:lmdb-data-v1` (docs/lmdb.md)\n');
  }
  const outFormat = to === 'v1' ? 'picpac-1' : to === 'v2' ? 'picpac-2' : to;
  o.io.stdout.write(`converted ${result.recordCount} records: ${input} (${store.format}) → ${out} (${outFormat})\n`);
  return 0;
}
