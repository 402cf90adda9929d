// The trainer on a tiny database (32×32 scenes, fcn-tiny, wasm): the workspace files, refusal
// of an existing workspace, exact resume (from the latest and from a named snapshot, optimizer
// state and stream position restored), and Ctrl+C (SIGINT in a child process) writing a snapshot.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { resumeTraining, trainFcn } from '../../src/train/trainer.ts';
import type { TrainOptions } from '../../src/train/trainer.ts';
import { evaluateWorkspace } from '../../src/train/workspace-eval.ts';
import { makeTinyDb, repoRoot, tempDir } from './helpers.ts';

let tmp: { dir: string; cleanup: () => Promise<void> };
let db: string;

const base = (workspace: string): TrainOptions => ({
  template: 'fcn-tiny', db, workspace, size: 32, batch: 2, steps: 6, snapshotEvery: 2, backend: 'wasm', split: 5, fold: 0, lr: 0.01,
});

const metricsLosses = async (ws: string) =>
  (await readFile(path.join(ws, 'metrics.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => Number(l.split(',')[2]));

describe('trainer', () => {
  before(async () => {
    tmp = await tempDir();
    db = await makeTinyDb(tmp.dir);
  });
  after(async () => tmp.cleanup());

  let uninterrupted: number[] = [];

  test('a tiny run writes every workspace file', async () => {
    const ws = path.join(tmp.dir, 'ws-full');
    const result = await trainFcn(base(ws));
    uninterrupted = result.losses;
    assert.equal(result.step, 6);
    assert.equal(result.interrupted, false);
    assert.equal(result.losses.length, 6);
    assert.equal(result.backend.name, 'wasm');
    assert.ok(result.imagesPerSecond > 0);
    assert.ok(result.streamShare >= 0 && result.streamShare < 1);
    const params = JSON.parse(await readFile(path.join(ws, 'params.json'), 'utf8'));
    assert.equal(params.params.template, 'fcn-tiny');
    assert.equal(params.params.steps, 6);
    assert.equal(params.backend.name, 'wasm');
    assert.deepEqual(params.backend.registeredKernels, ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad']);
    assert.ok(params.versions.tfjs && params.versions.node && params.versions.picpac);
    assert.equal(params.streams.train.annotate, 'json');
    assert.equal(params.streams.validation.split_negate, true);
    assert.deepEqual(await readdir(path.join(ws, 'snapshots')).then((d) => d.sort()), ['2', '4', '6']);
    for (const name of ['model.json', 'weights.bin', 'optimizer.json', 'optimizer.bin', 'state.json']) {
      assert.ok(existsSync(path.join(ws, 'snapshots', '4', name)), name);
    }
    const state = JSON.parse(await readFile(path.join(ws, 'snapshots', '4', 'state.json'), 'utf8'));
    assert.deepEqual(state.position, { epoch: 0, offset: 8 });
    assert.equal(state.validation.images, 4);
    for (const name of ['model.json', 'weights.bin', 'state.json']) assert.ok(existsSync(path.join(ws, 'model', name)), `model/${name}`);
    const csv = (await readFile(path.join(ws, 'metrics.csv'), 'utf8')).trim().split('\n');
    assert.match(csv[0], /^step,epoch,loss,images_per_s,stream_wait_ms,step_ms,val_loss,/);
    assert.equal(csv.length, 7);
    assert.notEqual(csv[2].split(',')[6], ''); // step 2: validation columns filled
    assert.equal(csv[1].split(',')[6], '');
    assert.match(await readFile(path.join(ws, 'curves.svg'), 'utf8'), /^<svg[\s\S]*validation[\s\S]*<\/svg>\n$/);
    const log = await readFile(path.join(ws, 'train.log'), 'utf8');
    assert.match(log, /train fcn-tiny .* backend wasm/);
    assert.match(log, /finished at step 6: [\d.]+ images\/s, stream [\d.]+ % of step time/);
    assert.deepEqual((await readdir(path.join(ws, 'eval'))).sort(), ['2.json', '4.json', '6.json']);
    const model = JSON.parse(await readFile(path.join(ws, 'model', 'model.json'), 'utf8'));
    assert.equal(model.format, 'layers-model');
    assert.deepEqual(model.picpac.inputSize, [32, 32]);
    assert.deepEqual(model.weightsManifest[0].paths, ['weights.bin']);
  });

  test('an existing workspace is refused without resume (library and CLI)', async () => {
    const ws = path.join(tmp.dir, 'ws-full');
    await assert.rejects(trainFcn(base(ws)), (e: Error & { code?: string }) => e.code === 'EXISTS' && /workspace .* exists/.test(e.message));
    const err: string[] = [];
    const code = await runCli(['train', 'fcn-tiny', db, ws, '--steps', '2'], { stdout: { write: () => true }, stderr: { write: (t: string) => err.push(t) } });
    assert.equal(code, 1);
    assert.match(err.join(''), /exists: pick a new one, or continue it with `picpac train resume/);
  });

  test('resume after an interruption reproduces the uninterrupted losses exactly', async () => {
    const ws = path.join(tmp.dir, 'ws-resume');
    const controller = new AbortController();
    const first = await trainFcn(base(ws), { signal: controller.signal, onStep: (row) => row.step === 3 && controller.abort() });
    assert.equal(first.interrupted, true);
    assert.equal(first.step, 3);
    assert.ok(existsSync(path.join(ws, 'snapshots', '3', 'optimizer.bin')), 'snapshot written on interruption');
    const second = await resumeTraining(ws);
    assert.equal(second.step, 6);
    assert.deepEqual([...first.losses, ...second.losses], uninterrupted);
    assert.deepEqual(await metricsLosses(ws), await metricsLosses(path.join(tmp.dir, 'ws-full')));
    assert.match(await readFile(path.join(ws, 'train.log'), 'utf8'), /resume from snapshots\/3 \(step 3, stream epoch 0 offset 6\)/);
  });

  test('resume from a named snapshot continues from there', async () => {
    const ws = path.join(tmp.dir, 'ws-resume');
    const again = await resumeTraining(ws, { snapshot: '2' });
    assert.deepEqual(again.losses, uninterrupted.slice(2));
    assert.equal((await metricsLosses(ws)).length, 6);
    await assert.rejects(resumeTraining(ws, { snapshot: '5' }), /no snapshot/);
  });

  test('train eval re-scores every snapshot and picks the best', async () => {
    const ws = path.join(tmp.dir, 'ws-full');
    const evaluation = await evaluateWorkspace(ws, { force: true });
    assert.deepEqual(evaluation.scores.map((s) => s.step), [2, 4, 6]);
    assert.ok(evaluation.scores.every((s) => !s.cached));
    const cached = await evaluateWorkspace(ws, { select: 'xnn-score' });
    assert.ok(cached.scores.every((s) => s.cached));
    const best = cached.scores.reduce((a, b) => (b.metrics.xnnScore < a.metrics.xnnScore ? b : a));
    assert.equal(cached.best!.metrics.xnnScore, best.metrics.xnnScore);
    const modelState = JSON.parse(await readFile(path.join(ws, 'model', 'state.json'), 'utf8'));
    assert.equal(modelState.step, cached.best!.step);
  });

  test('--epochs becomes steps over the training folds; stream defaults and overrides', async () => {
    const { resolveParams, streamConfigs } = await import('../../src/train/train-params.ts');
    const { getTemplate } = await import('../../src/train/templates.ts');
    const params = await resolveParams({ template: 'fcn-tiny', db, workspace: 'unused', epochs: 2, batch: 4, stream: { pert_angle: 20 } });
    assert.equal(params.steps, Math.ceil((2 * 16) / 4)); // 20 records, fold 0 of 5 held out
    assert.equal(params.snapshotEvery, 1);
    const streams = streamConfigs(params, getTemplate('fcn-tiny'));
    assert.equal(streams.train.pert_angle, 20);
    assert.equal(streams.train.round_div, 16);
    assert.equal(streams.validation!.perturb, false);
    assert.equal(streams.validation!.seed, streams.train.seed);
    assert.equal(streams.validation!.shuffle, streams.train.shuffle);
    await assert.rejects(resolveParams({ template: 'fcn-tiny', db, workspace: 'unused', steps: 3, epochs: 1 }), /either steps or epochs/);
    await assert.rejects(resolveParams({ template: 'fcn-tiny', db, workspace: 'unused', stream: { loop: false } }), /not set by hand/);
  });

  test('--split 1: no validation, WS/model follows the latest snapshot', async () => {
    const ws = path.join(tmp.dir, 'ws-nosplit');
    const result = await trainFcn({ ...base(ws), split: 1, steps: 4 });
    assert.equal(result.best, undefined);
    const state = JSON.parse(await readFile(path.join(ws, 'model', 'state.json'), 'utf8'));
    assert.equal(state.step, 4);
    assert.equal(state.validation, undefined);
    await assert.rejects(evaluateWorkspace(ws), /no validation fold/);
  });

  test('invalid parameters are usage errors', async () => {
    await assert.rejects(trainFcn({ ...base(path.join(tmp.dir, 'x')), size: 40 }), /multiple of 16/);
    await assert.rejects(trainFcn({ ...base(path.join(tmp.dir, 'x')), stream: { pert_angel: 3 } }), /did you mean "pert_angle"/);
    await assert.rejects(trainFcn({ ...base(path.join(tmp.dir, 'x')), template: 'vgg' }), /fcn, fcn-tiny/);
    const code = await runCli(['train', 'fcn-tiny', db, path.join(tmp.dir, 'y'), '--size', '40'], { stdout: { write: () => true }, stderr: { write: () => true } });
    assert.equal(code, 2);
    assert.ok(!existsSync(path.join(tmp.dir, 'x')) && !existsSync(path.join(tmp.dir, 'y')));
  });

  test('a run that fails before its first snapshot leaves no workspace, so the same command runs again', async () => {
    const ws = path.join(tmp.dir, 'ws-failed-start');
    // The mixin opens inside the training loop, after the workspace is created.
    await assert.rejects(trainFcn({ ...base(ws), stream: { mixin: path.join(tmp.dir, 'no-such-mixin.picpac') } }), /no-such-mixin/);
    assert.ok(!existsSync(ws), 'the failed start removed its workspace');
    const result = await trainFcn({ ...base(ws), steps: 2, snapshotEvery: 2 });
    assert.equal(result.step, 2);
  });

  test('Ctrl+C (SIGINT) writes a snapshot before exiting with 130', async () => {
    const ws = path.join(tmp.dir, 'ws-sigint');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), 'train', 'fcn-tiny', db, ws,
      '--steps', '100000', '--size', '32', '--batch', '2', '--snapshot-every', '100000', '--backend', 'wasm'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    const started = new Promise<void>((resolve) => child.stderr.on('data', (d) => {
      stderr += d;
      if (/step 1\//.test(stderr)) resolve();
    }));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await started;
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, stdout + stderr);
    assert.match(stderr, /interrupted: writing a snapshot/);
    assert.match(stdout, /interrupted at step (\d+)/);
    const step = Number(/interrupted at step (\d+)/.exec(stdout)![1]);
    assert.ok(step >= 1);
    assert.ok(existsSync(path.join(ws, 'snapshots', String(step), 'state.json')));
    assert.ok(existsSync(path.join(ws, 'snapshots', String(step), 'optimizer.bin')));
  });
});
