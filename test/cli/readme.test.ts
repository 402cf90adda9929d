// README stays true: every command and option is documented, every `picpac ...` example parses,
// and the library snippet runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError, parseCommandArgs } from '../../src/cli/args.ts';
import { loadCommands } from '../../src/cli/main.ts';
import { captureIo, repoRoot, tempDir } from './helpers.ts';

const COMMANDS = await loadCommands();

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
// The command reference lives in docs/cli.md; the README links to it.
const cliReference = readFileSync(path.join(repoRoot, 'docs', 'cli.md'), 'utf8');

test('docs/cli.md documents every command and option, and the README links to it', () => {
  assert.ok(readme.includes('](docs/cli.md)'));
  for (const command of COMMANDS) {
    assert.match(cliReference, new RegExp(`^## \`picpac ${command.name} `, 'm'), command.name);
    for (const option of Object.keys(command.options)) {
      assert.ok(cliReference.includes(`--${option}`), `picpac ${command.name} --${option}`);
    }
  }
});

test('every picpac example in the README and docs/cli.md parses (no usage error)', () => {
  const names = COMMANDS.map((c) => c.name).join('|');
  const examples = (readme + '\n' + cliReference).split('\n').filter((l) => new RegExp(`^picpac (${names}) `).test(l));
  assert.ok(examples.length >= 15, `${examples.length} examples`);
  for (const line of examples) {
    const argv = line.replace(/\s*[|>].*$/, '').split(/\s+/).slice(1);
    const command = COMMANDS.find((c) => c.name === argv[0]);
    assert.ok(command, line);
    assert.doesNotThrow(() => parseCommandArgs(command, argv.slice(1), captureIo()), UsageError, line);
  }
});

test('the library snippet runs', async () => {
  const match = /## Library API in brief\n\n```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(match, 'snippet found');
  const src = pathToFileURL(path.join(repoRoot, 'src')).href;
  const code = match[1].replaceAll("'./src/", `'${src}/`).replace("from 'picpac'", `from '${src}/node.ts'`).replace("from 'sharp'", `from '${import.meta.resolve('sharp')}'`);
  const tmp = await tempDir();
  const cwd = process.cwd();
  const log = console.log;
  const lines: unknown[][] = [];
  try {
    const file = path.join(tmp.dir, 'snippet.mts');
    await writeFile(file, code);
    process.chdir(tmp.dir);
    console.log = (...args: unknown[]) => void lines.push(args);
    await import(pathToFileURL(file).href);
  } finally {
    console.log = log;
    process.chdir(cwd);
  }
  try {
    assert.ok(existsSync(path.join(tmp.dir, 'example.picpac')));
    assert.deepEqual(lines[0].slice(0, 3), [1, 64, 'image/jpeg']);
    assert.match(String(lines[0][3]), /"rect"/);
    assert.deepEqual(lines.at(-1), [true]);
  } finally {
    await tmp.cleanup();
  }
});
