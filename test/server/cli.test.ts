// `picpac serve`: prints where it listens, serves, exits 0 on SIGTERM; usage errors exit 2.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { runCli } from '../../src/cli/main.ts';
import { getJson, repoRoot, tempDir, writeBoxDb } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir()));
after(() => cleanup());

test('picpac serve DB --port 0: listens on 127.0.0.1, serves, stops on SIGTERM', async () => {
  const file = await writeBoxDb(path.join(dir, 'cli.picpac'), 5);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), 'serve', file, '--port', '0', '--quiet'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(line);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  assert.match(lines[0], /picpac serve: picpac-2 .*cli\.picpac, 5 records, opened in \d+ ms/);
  const overview = await getJson(`${url}/api/overview`);
  assert.equal(overview.body.recordCount, 5);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.equal(stderr, '');
});

test('usage errors: bad port, missing database', async () => {
  const io = { out: '', err: '' };
  const capture = { stdout: { write: (t: string) => (io.out += t) }, stderr: { write: (t: string) => (io.err += t) } };
  assert.equal(await runCli(['serve', 'x.picpac', '--port', '70000'], capture), 2);
  assert.match(io.err, /invalid value for --port: expected an integer in 0\.\.65535, got '70000'/);
  assert.equal(await runCli(['serve', path.join(dir, 'missing.picpac'), '--port', '0'], capture), 1);
  assert.match(io.err, /cannot open .*missing\.picpac/);
  assert.equal(await runCli(['serve', 'a', '--prot', '1'], capture), 2);
  assert.match(io.err, /did you mean --port\?/);
});
