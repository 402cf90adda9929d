// `npm run demo`: the project's main job, as a list of steps:
//   1. generate the procedural sample set (JPEG scenes with plates + list file),
//   2. import it into demo-work/plates.picpac (progress bar on stderr),
//   3. print `picpac stat` of the result,
//   4. check the receptive field of fcn-tiny against the plate sizes (`picpac rf`),
//   5. train fcn-tiny on 4 of 5 folds (`picpac train`, a few minutes on 2 cores),
//   6. evaluate every snapshot on the held-out fold and compute the trivial baseline,
//   7. predict on held-out images (heat maps, overlays, boxes.json),
//   8. write demo-work/report.html (numbers, curves, overlays).
// Options: --out DIR (default ./demo-work), --count N (default 400), --seed S (default 1),
// --steps N (default 1200), --quick (tests: 40 images at 64×64, 6 steps).
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { EvalMetrics } from '../train/evaluate.ts';
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
  /** Tests: a handful of steps on small images. */
  quick?: boolean;
  steps?: number;
  workspace?: string;
  predictionsDir?: string;
  /** Seconds per finished step title. */
  timings?: [string, number][];
  commands?: string[];
  numbers?: DemoNumbers;
  baseline?: EvalMetrics;
}

/** What the demo measured (also returned by runDemo for tests). */
export interface DemoNumbers {
  meanBoxIou: number;
  baselineMeanBoxIou: number;
  boxRecall: number;
  xnnScore: number;
  imagesPerSecond: number;
  streamShare: number;
  bestStep: number;
  reportPath?: string;
}

/** Relative to the current directory when inside it, else absolute. */
function shortPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') ? file : rel;
}

const DEMO_SPLIT = 5;
const DEMO_FOLD = 0;
const trainSize = (ctx: DemoContext) => (ctx.quick ? 64 : 128);

export interface DemoStep {
  title: string;
  run(ctx: DemoContext): Promise<void>;
}

async function cli(ctx: DemoContext, argv: string[]): Promise<void> {
  ctx.io.stdout.write(`$ picpac ${argv.join(' ')}\n`);
  ctx.commands?.push(`picpac ${argv.map((a) => (a.startsWith('/') ? shortPath(a) : a)).join(' ')}`);
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
  {
    title: 'check the receptive field against the plate sizes',
    async run(ctx) {
      await cli(ctx, ['rf', 'fcn-tiny', '--size', String(trainSize(ctx)), '--db', ctx.storePath!]);
    },
  },
  {
    title: 'train fcn-tiny (fold 0 of 5 held out)',
    async run(ctx) {
      ctx.workspace = join(ctx.workDir, 'ws');
      // The demo owns demo-work/ws: a re-run starts over (picpac train itself refuses an existing WS).
      if (existsSync(ctx.workspace)) await rm(ctx.workspace, { recursive: true, force: true });
      const steps = ctx.steps ?? (ctx.quick ? 6 : 1200);
      const argv = ['train', 'fcn-tiny', ctx.storePath!, ctx.workspace, '--split', String(DEMO_SPLIT), '--fold', String(DEMO_FOLD),
        '--steps', String(steps), '--size', String(trainSize(ctx)), '--snapshot-every', String(ctx.quick ? 3 : Math.max(1, Math.round(steps / 12)))];
      if (ctx.quick) argv.push('--batch', '4');
      await cli(ctx, argv);
    },
  },
  {
    title: 'evaluate the snapshots on the held-out fold, and the trivial baseline',
    async run(ctx) {
      await cli(ctx, ['train', 'eval', ctx.workspace!]);
      const { workspaceBaseline } = await import('../train/validate.ts');
      const { throughputSummary } = await import('../train/workspace.ts');
      const baseline = await workspaceBaseline(ctx.workspace!);
      const throughput = await throughputSummary(ctx.workspace!);
      const best = JSON.parse(await readFile(join(ctx.workspace!, 'model', 'state.json'), 'utf8')) as {
        step: number; validation: { meanBoxIou: number; boxRecall: number; xnnScore: number };
      };
      ctx.numbers = {
        meanBoxIou: best.validation.meanBoxIou, boxRecall: best.validation.boxRecall, xnnScore: best.validation.xnnScore,
        baselineMeanBoxIou: baseline.metrics.meanBoxIou, bestStep: best.step,
        imagesPerSecond: throughput.imagesPerSecond, streamShare: throughput.streamShare,
      };
      ctx.baseline = baseline.metrics;
      const b = baseline.box;
      ctx.io.stdout.write(
        `best snapshot: step ${best.step}, validation mean box IoU ${best.validation.meanBoxIou.toFixed(3)}, box recall ${best.validation.boxRecall.toFixed(3)}, XNN score ${best.validation.xnnScore.toFixed(3)}\n` +
        `trivial baseline (the training fold's mean box [x ${b.x.toFixed(2)}, y ${b.y.toFixed(2)}, w ${b.width.toFixed(2)}, h ${b.height.toFixed(2)}] in every image): mean box IoU ${baseline.metrics.meanBoxIou.toFixed(3)}, box recall ${baseline.metrics.boxRecall.toFixed(3)}\n` +
        `training: ${ctx.numbers.imagesPerSecond.toFixed(1)} images/s, stream ${(100 * ctx.numbers.streamShare).toFixed(1)} % of step time\n`,
      );
    },
  },
  {
    title: 'predict on held-out images',
    async run(ctx) {
      ctx.predictionsDir = join(ctx.workDir, 'predictions');
      if (existsSync(ctx.predictionsDir)) await rm(ctx.predictionsDir, { recursive: true, force: true });
      await cli(ctx, ['predict', join(ctx.workspace!, 'model'), ctx.storePath!, '--split', String(DEMO_SPLIT), '--fold', String(DEMO_FOLD),
        '--limit', ctx.quick ? '4' : '16', '--out', ctx.predictionsDir]);
    },
  },
  {
    title: 'write the report',
    async run(ctx) {
      const { writeReport } = await import('../train/report.ts');
      const best = JSON.parse(await readFile(join(ctx.workspace!, 'model', 'state.json'), 'utf8')) as { step: number; validation: EvalMetrics };
      const params = JSON.parse(await readFile(join(ctx.workspace!, 'params.json'), 'utf8')) as {
        params: { steps: number; batch: number; size: number; lr: number; optimizer: string }; backend: { name: string; package: string; packageVersion: string };
      };
      const boxes = JSON.parse(await readFile(join(ctx.predictionsDir!, 'boxes.json'), 'utf8')) as { name: string; overlay: string; boxes: unknown[] }[];
      const n = ctx.numbers!;
      const reportPath = join(ctx.workDir, 'report.html');
      const total = (ctx.timings ?? []).reduce((s, [, t]) => s + t, 0);
      await writeReport(reportPath, {
        title: 'picpac demo: plate localization with fcn-tiny',
        validation: best.validation,
        baseline: { description: "the training fold's mean box in every image", metrics: ctx.baseline! },
        summary: [
          ['data', `${ctx.count} procedural 256×256 scenes, ${DEMO_SPLIT} folds, fold ${DEMO_FOLD} held out`],
          ['model', `fcn-tiny at ${params.params.size}×${params.params.size}, batch ${params.params.batch}, ${params.params.steps} steps, ${params.params.optimizer} lr ${params.params.lr}`],
          ['backend', `${params.backend.name} (${params.backend.package} ${params.backend.packageVersion})`],
          ['best snapshot', `step ${best.step}`],
          ['training throughput', `${n.imagesPerSecond.toFixed(1)} images/s`],
          ['stream share of step time', `${(100 * n.streamShare).toFixed(1)} %`],
          ['total demo time', `${total.toFixed(0)} s (up to the report)`],
        ],
        curvesSvgPath: join(ctx.workspace!, 'curves.svg'),
        overlays: boxes.map((b) => ({ path: join(ctx.predictionsDir!, b.overlay), caption: `${b.name}: ${b.boxes.length} box${b.boxes.length === 1 ? '' : 'es'}` })),
        timings: ctx.timings ?? [],
        commands: ctx.commands ?? [],
        notes: [
          'Boxes are the bounding boxes of the connected components of the heat map thresholded at 0.5; true boxes are those of the rendered annotation mask.',
          'Mean box IoU: for every true box, the best IoU with a predicted box (0 if none), averaged over the true boxes of the held-out fold.',
        ],
      });
      n.reportPath = reportPath;
      ctx.io.stdout.write(`report: ${reportPath}\n  open it in a browser (file://${reportPath})\n` +
        `view the database: picpac serve ${shortPath(ctx.storePath!)}\n`);
    },
  },
];


/** Numbers of the last runDemo in this process (tests). */
export let lastDemoNumbers: DemoNumbers | undefined;

export async function runDemo(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, count: { type: 'string' }, seed: { type: 'string' }, steps: { type: 'string' }, quick: { type: 'boolean' } },
    strict: true,
  });
  const quick = values.quick === true;
  const ctx: DemoContext = {
    workDir: resolve(values.out ?? 'demo-work'),
    count: Number(values.count ?? (quick ? 40 : 400)),
    seed: Number(values.seed ?? 1),
    io,
    quick,
    steps: values.steps === undefined ? undefined : Number(values.steps),
    timings: [],
    commands: [],
  };
  if (ctx.steps !== undefined && (!Number.isInteger(ctx.steps) || ctx.steps < 1)) throw new RangeError(`--steps must be a positive integer, got ${values.steps}`);
  if (!Number.isInteger(ctx.count) || ctx.count < 1) throw new RangeError(`--count must be a positive integer, got ${values.count}`);
  for (const [k, step] of DEMO_STEPS.entries()) {
    io.stdout.write(`\n== step ${k + 1}/${DEMO_STEPS.length}: ${step.title}\n`);
    const started = performance.now();
    await step.run(ctx);
    ctx.timings!.push([step.title, (performance.now() - started) / 1000]);
  }
  const total = ctx.timings!.reduce((s, [, t]) => s + t, 0);
  io.stdout.write(`\ndemo finished in ${total.toFixed(0)} s\n`);
  lastDemoNumbers = ctx.numbers;
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
