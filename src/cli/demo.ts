// `npm run demo`: the project's main job, as a list of steps (later issues add training):
//   1. generate the procedural sample set (JPEG scenes with plates + list file),
//   2. import it into demo-work/plates.picpac (progress bar on stderr),
//   3. print `picpac stat` of the result.
// Options: --out DIR (default ./demo-work), --count N (default 200), --seed S (default 1).
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { CliIo } from './args.ts';
import { runCli } from './main.ts';
import { generateSampleSet } from './sample-set.ts';

export interface DemoContext {
  workDir: string;
  count: number;
  seed: number;
  io: CliIo;
  listPath?: string;
  storePath?: string;
}

export interface DemoStep {
  title: string;
  run(ctx: DemoContext): Promise<void>;
}

async function cli(ctx: DemoContext, argv: string[]): Promise<void> {
  ctx.io.stdout.write(`$ picpac ${argv.join(' ')}\n`);
  const code = await runCli(argv, ctx.io);
  if (code !== 0) throw new Error(`picpac ${argv[0]} exited with ${code}`);
}

export const DEMO_STEPS: DemoStep[] = [
  {
    title: 'generate the sample set',
    async run(ctx) {
      const set = await generateSampleSet(ctx.workDir, { count: ctx.count, seed: ctx.seed });
      ctx.listPath = set.listPath;
      ctx.io.stdout.write(`${set.imageCount} JPEG scenes with ${set.plateCount} plates in ${set.imageDir}; list: ${set.listPath}\n`);
    },
  },
  {
    title: 'import into a .picpac file',
    async run(ctx) {
      ctx.storePath = join(ctx.workDir, 'plates.picpac');
      await cli(ctx, ['import', ctx.listPath!, ctx.storePath, '--overwrite']);
    },
  },
  {
    title: 'inspect it',
    async run(ctx) {
      await cli(ctx, ['stat', ctx.storePath!]);
      await cli(ctx, ['verify', ctx.storePath!]);
    },
  },
];

export async function runDemo(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, count: { type: 'string' }, seed: { type: 'string' } },
    strict: true,
  });
  const ctx: DemoContext = {
    workDir: resolve(values.out ?? 'demo-work'),
    count: Number(values.count ?? 200),
    seed: Number(values.seed ?? 1),
    io,
  };
  if (!Number.isInteger(ctx.count) || ctx.count < 1) throw new RangeError(`--count must be a positive integer, got ${values.count}`);
  for (const [k, step] of DEMO_STEPS.entries()) {
    io.stdout.write(`\n== step ${k + 1}/${DEMO_STEPS.length}: ${step.title}\n`);
    await step.run(ctx);
  }
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = await runDemo(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
