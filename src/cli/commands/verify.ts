// picpac verify DB: every checksum and structure; exit 0 when all valid, 1 otherwise.
import { isUrl, openByteSource, openStore, sniffFileKind } from '../../engine/open-store.ts';
import { isShardManifestPath } from '../../engine/sources/shards.ts';
import { verifyStore } from '../../engine/picpac/verify.ts';
import { liveLockHolder } from '../../engine/picpac/writer-lock.ts';
import { isLmdbDirectory } from '../../engine/lmdb/lmdb-detect.ts';
import { FormatError } from '../../errors.ts';
import { flagOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';
import { checkStoredImages } from '../verify-images.ts';

export const verifyCommand: CommandSpec = {
  name: 'verify',
  summary: 'check every checksum and structure (exit 0 valid, 1 damaged)',
  synopsis: 'DB',
  description:
    'Read the whole file and check every frame checksum, record structure and the index.\n' +
    'Prints "OK: N records, B bytes checked" and exits 0, or prints the first problem (record\n' +
    'index and byte offset) and exits 1. PicPac 1.0 files have no checksums: their segment\n' +
    'and record structure is checked by reading every record.',
  options: {
    all: { type: 'boolean', description: 'list every problem found (up to 100), not only the first' },
    'no-image-check': { type: 'boolean', description: 'skip the pass that walks every stored image to its end marker (JPEG EOI, PNG IEND)' },
  },
  minPositionals: 1,
  maxPositionals: 1,
  examples: ['picpac verify plates.picpac', 'picpac verify plates.picpac --all'],
  run: runVerify,
};

const MAX_LISTED = 100;

async function runVerify(args: ParsedCommand, io: CliIo): Promise<number> {
  const path = args.positionals[0];
  if (isLmdbDirectory(path)) return verifyV1(path, io, 'LMDB'); // no checksums either: structure by reading every record
  // A manifest: opening checks it against every shard's footer, a full scan every payload checksum.
  if (isShardManifestPath(path)) return verifyV1(path, io, 'shards');
  if (!isUrl(path) && (await sniffFileKind(path)) === 'picpac-1') return verifyV1(path, io);
  const holder = isUrl(path) ? undefined : await liveLockHolder(path);
  const source = isUrl(path) ? await openByteSource(path) : undefined;
  const result = await verifyStore(source ?? path, { maxProblems: MAX_LISTED, lockedBy: holder ? `${path} is locked by pid ${holder.pid}` : undefined }).finally(() => source?.close());
  if (result.ok) {
    // Hostile-input hook (verify-images.ts): checksums pass, but were whole images written?
    const images = flagOption(args, 'no-image-check') ? undefined : await checkStoredImages(path, { maxProblems: MAX_LISTED });
    if (images !== undefined && images.problemCount > 0) return reportImages(path, images, flagOption(args, 'all'), io);
    io.stdout.write(`OK: ${result.recordCount} records, ${result.bytesChecked} bytes checked\n`);
    return 0;
  }
  const problems = result.problems;
  io.stdout.write(`FAILED: ${path}: ${problems.length} problem${problems.length === 1 ? '' : 's'} (${result.bytesChecked} bytes checked)\n`);
  const listed = flagOption(args, 'all') ? problems.slice(0, MAX_LISTED) : problems.slice(0, 1);
  for (const p of listed) {
    const where = p.recordIndex !== undefined ? `record ${p.recordIndex} at byte ${p.byteOffset}` : `byte ${p.byteOffset}`;
    const message = p.message.startsWith(`${p.section}:`) ? p.message : `${p.section}: ${p.message}`;
    io.stdout.write(`  ${where}: ${message}\n`);
  }
  const total = Math.max(result.problemCount ?? problems.length, problems.length);
  if (total > listed.length) {
    io.stdout.write(`  ... ${total - listed.length} more${flagOption(args, 'all') ? '' : ' (--all lists them)'}\n`);
  }
  return 1;
}

function reportImages(path: string, images: Awaited<ReturnType<typeof checkStoredImages>>, all: boolean, io: CliIo): number {
  const n = images.problemCount;
  io.stdout.write(`FAILED: ${path}: ${n} stored image${n === 1 ? ' is' : 's are'} truncated or damaged (checksums are valid: the bytes are as written, the images were broken before they were stored; import checks them now)\n`);
  const listed = all ? images.problems : images.problems.slice(0, 1);
  for (const p of listed) io.stdout.write(`  record ${p.recordIndex}${p.recordByteOffset >= 0 ? ` at byte ${p.recordByteOffset}` : ''}, field ${p.fieldIndex}: ${p.problem}\n`);
  if (n > listed.length) io.stdout.write(`  ... ${n - listed.length} more${all ? '' : ' (--all lists them)'}\n`);
  return 1;
}

/** 1.0: a strict open checks every segment; a full scan decodes every record head and field. */
async function verifyV1(path: string, io: CliIo, formatName = 'PicPac 1.0'): Promise<number> {
  let bytesChecked = 0;
  let recordCount = 0;
  try {
    const store = await openStore(path);
    try {
      for await (const record of store.scan()) {
        bytesChecked += Math.max(record.byteLength, 0);
      }
      recordCount = store.recordCount;
    } finally {
      await store.close();
    }
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    io.stdout.write(`FAILED: ${path}: 1 problem (${bytesChecked} bytes checked)\n`);
    const where = error.recordIndex !== undefined ? `record ${error.recordIndex} at byte ${error.byteOffset}` : `byte ${error.byteOffset}`;
    io.stdout.write(`  ${where}: ${error.message}\n`);
    return 1;
  }
  const note = formatName === 'shards' ? 'shard manifest: footers, record counts and payload checksums' : `${formatName}: structure only, the format has no checksums`;
  io.stdout.write(`OK: ${recordCount} records, ${bytesChecked} bytes checked (${note})\n`);
  return 0;
}
