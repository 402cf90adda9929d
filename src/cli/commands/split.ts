// picpac split IN OUT --split K --fold F: materialise fold F of a K-fold split as
// OUT.train.picpac and OUT.test.picpac (what picpac-kfold did), with seeded, optionally
// label-stratified selection from engine/kfold.ts.
import { DEFAULT_SEED, kfoldPlan, kfoldSelect } from '../../engine/kfold.ts';
import { openStore } from '../../engine/open-store.ts';
import type { Store } from '../../engine/store.ts';
import { UsageError, choiceOption, flagOption, intOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';
import { OUTPUT_FORMATS, openOutput, toNewRecord, AppendQueue, alignOption, copyMetadata, refuseExisting } from '../store-output.ts';

export const splitCommand: CommandSpec = {
  name: 'split',
  summary: 'K-fold train/test split into OUT.train.picpac and OUT.test.picpac',
  synopsis: 'IN OUT',
  description:
    'Fold F of K goes to OUT.test.picpac, the other folds to OUT.train.picpac (a trailing\n' +
    '.picpac on OUT is stripped first). Records are shuffled with --seed before folding;\n' +
    '--stratify folds each label separately so both sides keep the label proportions.\n' +
    'Prints the count per label on each side.',
  options: {
    split: { type: 'string', valueName: 'K', description: 'number of folds, ≥ 2 (default 5)' },
    fold: { type: 'string', valueName: 'F', description: 'which fold is the test set, 0..K-1 (default 0)' },
    stratify: { type: 'boolean', description: 'split each label separately' },
    seed: { type: 'string', valueName: 'S', description: 'shuffle seed, an integer (default 2016, the original\'s)' },
    'no-shuffle': { type: 'boolean', description: 'fold in file order instead of shuffling' },
    format: { type: 'string', valueName: 'v2|v1', description: 'output format (default v2)' },
    align: { type: 'string', valueName: 'N', description: 'alignment of the outputs (default 1, compact)' },
    overwrite: { type: 'boolean', description: 'replace the outputs if they exist' },
  },
  minPositionals: 2,
  maxPositionals: 2,
  examples: ['picpac split plates.picpac plates --split 5 --fold 0 --stratify --seed 7'],
  run: runSplit,
};

function labelCounts(store: Store, indices: ArrayLike<number>): Map<number, number> {
  const counts = new Map<number, number>();
  for (let i = 0; i < indices.length; i++) {
    const label = store.meta(indices[i]).label;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return new Map([...counts.entries()].sort((a, b) => a[0] - b[0]));
}

async function runSplit(args: ParsedCommand, io: CliIo): Promise<number> {
  const [input, outArg] = args.positionals;
  const cmd = 'split';
  const split = intOption(args, 'split', { min: 2 }, cmd) ?? 5;
  const fold = intOption(args, 'fold', { min: 0 }, cmd) ?? 0;
  if (fold >= split) throw new UsageError(`invalid value for --fold: expected an integer in 0..${split - 1}, got '${fold}'`, cmd);
  const seed = intOption(args, 'seed', { min: 0, max: 0xffffffff }, cmd) ?? DEFAULT_SEED;
  const format = choiceOption(args, 'format', OUTPUT_FORMATS, cmd) ?? 'v2';
  const alignment = alignOption(args, cmd);
  const base = outArg.replace(/\.picpac$/, '');
  const overwrite = flagOption(args, 'overwrite');
  // Check both outputs before writing either, so a refusal leaves nothing half done.
  for (const path of [`${base}.train.picpac`, `${base}.test.picpac`]) {
    await refuseExisting(path, overwrite);
  }
  const store = await openStore(input);
  try {
    const groups = new Float64Array(store.recordCount);
    for (let i = 0; i < groups.length; i++) groups[i] = store.meta(i).label;
    const selection = { split, fold, stratify: flagOption(args, 'stratify'), seed, shuffle: !flagOption(args, 'no-shuffle') };
    // kfoldSelect keeps every fold but `fold` (training), or only `fold` with negate (test).
    // Outputs are written in file order: sequential reads, and a natural order in the result.
    const sides = [
      { name: 'train', path: `${base}.train.picpac`, indices: kfoldSelect(groups, { ...selection, negate: false }).sort() },
      { name: 'test', path: `${base}.test.picpac`, indices: kfoldSelect(groups, { ...selection, negate: true }).sort() },
    ];
    for (const warning of kfoldPlan(groups, { ...selection, negate: true }).warnings) io.stderr.write(`warning: ${warning}\n`);
    for (const side of sides) {
      const writer = await openOutput(side.path, { format, alignment, overwrite });
      const queue = new AppendQueue(writer);
      try {
        for (const recordIndex of side.indices) await queue.add(toNewRecord(await store.get(recordIndex)));
        await queue.drain();
        await copyMetadata(store, writer);
      } finally {
        await writer.close();
      }
      const counts = [...labelCounts(store, side.indices).entries()].map(([label, count]) => `${label}:${count}`).join(' ');
      io.stdout.write(`${side.name}: ${side.indices.length} records → ${side.path}  (per label ${counts || '-'})\n`);
    }
  } finally {
    await store.close();
  }
  return 0;
}
