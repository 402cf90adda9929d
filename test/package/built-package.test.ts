// The built package as its users run it: the examples/ (which import 'picpac', resolved to
// dist/ through package.json "exports") write, read, stream and read over HTTP from nginx; the
// browser bundle reads the same file over HTTP Range requests in headless Chromium and lists
// the same records and annotations; the compiled CLI runs workers with no loader.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { ensureBuilt, repoRoot } from '../../scripts/ensure-built.ts';
import { runCli } from '../../src/cli/main.ts';
import { captureIo } from '../cli/helpers.ts';
import { NGINX, serveFolder, type ServedFolder } from '../nginx.ts';
import { CHROMIUM, CHROMIUM_ARGS, browserSkip, playwright } from '../chromium.ts';

declare const document: any;

ensureBuilt();

function run(file: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // No --import tsx: the examples and the CLI must run as plain Node.
    execFile(process.execPath, [file, ...args], { cwd, env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const example = (name: string) => path.join(repoRoot, 'examples', name);

let dir: string;
let images: string[];
let picpacFile: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'picpac-pkg-'));
  images = [];
  for (let k = 0; k < 5; k++) {
    const file = path.join(dir, `img${k}.jpg`);
    await sharp({ create: { width: 40 + 8 * k, height: 32, channels: 3, background: { r: 40 * k, g: 120, b: 200 - 30 * k } } }).jpeg().toFile(file);
    images.push(file);
  }
  picpacFile = path.join(dir, 'www', 'example.picpac');
  await mkdir(path.dirname(picpacFile));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('examples/ against the built package', () => {
  test('write.mjs writes a file with annotations; read.mjs reads it by index and by scan', async () => {
    const w = await run(example('write.mjs'), [picpacFile, ...images], dir);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout, `wrote 5 records to ${picpacFile}\n`);
    const r = await run(example('read.mjs'), [picpacFile], tmpdir());
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], '5 records');
    assert.match(lines[1], /^record 0: label 0, 40x32, image\/jpeg, \d+ bytes, annotation \{"shapes":\[\{"type":"rect"/);
    assert.match(lines[5], /^record 4: label 0, 72x32, image\/jpeg/);
    const sizes = lines.slice(1, 6).map((l) => Number(/(\d+) bytes/.exec(l)![1]));
    assert.equal(lines[6], `scan: ${sizes.reduce((a, b) => a + b)} image bytes`);
  });

  test('train-loop.mjs streams augmented batches with label images on 2 worker threads', async () => {
    const r = await run(example('train-loop.mjs'), [picpacFile, '3'], tmpdir());
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    for (const [k, line] of lines.entries()) assert.match(line, new RegExp(`^step ${k}: batch 4x64x64x3, labels 4x64x64x1, loss \\d`));
    const again = await run(example('train-loop.mjs'), [picpacFile, '3'], dir);
    assert.equal(again.stdout, r.stdout, 'same seed, same batches');
  });

  test('a program run as `node --input-type=module -e` streams on 2 worker threads (the flag is not passed on to them)', async () => {
    const entry = pathToFileURL(path.join(repoRoot, 'dist/node.js')).href;
    const script = `const { ImageStream } = await import(${JSON.stringify(entry)});
      const stream = await ImageStream.open(${JSON.stringify(picpacFile)}, { threads: 2, batch: 1, loop: true, resize_width: 32, resize_height: 32 });
      for (let i = 0; i < 6; i++) if ((await stream.next()).images.length !== 32 * 32 * 3) throw new Error('batch ' + i);
      await stream.close();
      console.log('streamed');`;
    const r = await run('--input-type=module', ['-e', script], tmpdir());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'streamed');
  });

  test('the compiled CLI (dist/cli/bin.js) streams with --threads 2 from another directory, no tsx', async () => {
    const r = await run(path.join(repoRoot, 'dist/cli/bin.js'), ['stream', picpacFile, '--count', '8', '--threads', '2', '--batch', '2', '--resize_width', '32', '--resize_height', '32'], tmpdir());
    assert.equal(r.code, 0, r.stderr);
  });

  test('the bundled CLI prints what the sources print; bundled and unbundled commands map errors to the same exit codes', async () => {
    // scripts/build.mjs bundles stat, dump, verify (...) into dist/cli chunks and loads the
    // other commands from the tsc output; errors.ts and args.ts must stay one module for both,
    // or a FormatError/UsageError from one side would be an "internal error" (exit 1) to bin.js.
    const bin = path.join(repoRoot, 'dist/cli/bin.js');
    for (const args of [['stat', picpacFile, '--json'], ['stat', picpacFile, '--scan', '--json'], ['dump', picpacFile], ['verify', picpacFile], ['--help']]) {
      const built = await run(bin, args, tmpdir());
      const io = captureIo();
      const code = await runCli(args, io);
      assert.equal(built.code, code, args.join(' '));
      const out = io.out.join('');
      if (args.includes('--scan')) {
        const [b, s] = [JSON.parse(built.stdout), JSON.parse(out)];
        assert.deepEqual({ ...b, scan: null }, { ...s, scan: null });
      } else {
        assert.equal(built.stdout, out, args.join(' '));
      }
    }
    const junk = path.join(dir, 'junk.picpac');
    await writeFile(junk, 'not a picpac file at all');
    for (const command of ['stat', 'stream']) { // bundled, unbundled
      const usage = await run(bin, [command, '--bogus'], tmpdir());
      assert.equal(usage.code, 2, usage.stderr);
      assert.match(usage.stderr, new RegExp(`^picpac ${command}: unknown option --bogus\nRun 'picpac ${command} --help' for usage\.\n$`));
      const data = await run(bin, [command, junk], tmpdir());
      assert.equal(data.code, 1, data.stderr);
      assert.match(data.stderr, new RegExp(`^picpac ${command}: .*not a picpac store`));
      assert.doesNotMatch(data.stderr, /internal error/);
    }
  });

  test('the development launcher (bin/picpac.js, sources through tsx) starts worker threads from another directory', async () => {
    // Worker threads do not inherit the tsx loader: ts-worker.ts resolves tsx from its own file.
    const r = await run(path.join(repoRoot, 'bin/picpac.js'), ['stream', picpacFile, '--count', '8', '--threads', '2', '--batch', '2', '--resize_width', '32', '--resize_height', '32'], tmpdir());
    assert.equal(r.code, 0, r.stderr);
  });
});

describe('over HTTP from nginx', { skip: NGINX ? false : 'nginx is not installed (apt-get install nginx-light); HTTP example tests skipped' }, () => {
  let served: ServedFolder | undefined;
  let base = '';
  let nodeListing: string[] = [];

  before(async () => {
    const www = path.dirname(picpacFile);
    if (!existsSync(picpacFile)) assert.equal((await run(example('write.mjs'), [picpacFile, ...images], dir)).code, 0);
    copyFileSync(path.join(repoRoot, 'examples/browser/index.html'), path.join(www, 'index.html'));
    copyFileSync(path.join(repoRoot, 'dist/browser/picpac.js'), path.join(www, 'picpac.js'));
    served = await serveFolder(www, dir, { types: 'text/html html; text/javascript js;' });
    base = served.base;
    const local = await run(example('read.mjs'), [picpacFile], tmpdir());
    nodeListing = local.stdout.trim().split('\n').slice(1, -1); // the record lines
  });
  after(async () => {
    await served?.stop();
  });

  test('read-url.mjs reads the file over HTTP Range requests', async () => {
    const r = await run(example('read-url.mjs'), [`${base}/example.picpac`], tmpdir());
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], `5 records at ${base}/example.picpac`);
    assert.equal(lines.length, 6);
    assert.match(lines[1], /^record 0: label 0, \d+ bytes, annotation \{"shapes"/);
  });

  test('the browser bundle lists the same records and annotations in headless Chromium', { skip: browserSkip }, async () => {
    const profile = await mkdtemp(path.join(tmpdir(), 'picpac-chromium-'));
    const context = await playwright!.chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${base}/index.html?file=example.picpac`);
      await page.waitForFunction(() => document.body.dataset.done === '1', undefined, { timeout: 30000 });
      const lines = (await page.textContent('#out'))!.trim().split('\n');
      assert.deepEqual(errors, []);
      assert.equal(lines[0], '5 records');
      assert.deepEqual(lines.slice(1, 6), nodeListing, 'the browser sees what Node sees');
      const requests = Number(/^requests: (\d+)$/.exec(lines[6])![1]);
      assert.ok(requests >= 2 && requests <= 12, `${requests} Range requests`);
      const missing = await page.evaluate(async () => {
        const { FetchSource } = await import('./picpac.js' as string);
        try {
          await FetchSource.open('missing.picpac');
          return 'opened';
        } catch (error) {
          return `${(error as Error).name}: ${(error as Error).message}`;
        }
      });
      assert.match(missing, /^SourceError: .*missing\.picpac: HTTP 404/);
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    }
  });
});

