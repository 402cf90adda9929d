// Command-line surface: global and per-command help, usage errors (exit 2) that name the bad
// option and the closest valid one, exit 1 without a stack trace for bad data, and the real
// `picpac` bin run as a child process from another working directory.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { closest, commandHelp } from '../../src/cli/args.ts';
import { COMMAND_LIST, globalHelp, loadCommands } from '../../src/cli/main.ts';
import { Progress, formatDuration } from '../../src/cli/progress.ts';
import { cli, cliProcess, makeImageTree, repoRoot, tempDir } from './helpers.ts';

const COMMANDS = await loadCommands();

describe('picpac usage', () => {
  test('global help lists every command; no command is a usage error', async () => {
    const r = await cli('--help');
    assert.equal(r.code, 0);
    for (const c of ['import', 'stat', 'dump', 'verify', 'repair', 'merge', 'convert', 'split']) {
      assert.match(r.stdout, new RegExp(`^  ${c} +\\S`, 'm'));
    }
    assert.equal(r.stdout, globalHelp());
    const none = await cli();
    assert.equal(none.code, 2);
  });

  test('the lazy command table repeats each command\'s name and summary exactly', () => {
    assert.deepEqual(COMMAND_LIST.map((c) => [c.name, c.summary]), COMMANDS.map((c) => [c.name, c.summary]));
  });

  for (const command of COMMANDS) {
    test(`picpac ${command.name} --help exits 0 and lists every option`, async () => {
      const r = await cli(command.name, '--help');
      assert.equal(r.code, 0);
      assert.equal(r.stdout, commandHelp(command));
      assert.match(r.stdout, new RegExp(`^Usage: picpac ${command.name} `));
      for (const option of Object.keys(command.options)) assert.match(r.stdout, new RegExp(`--${option}\\b`));
      const viaHelp = await cli('help', command.name);
      assert.equal(viaHelp.stdout, r.stdout);
    });
  }

  test('unknown option: exit 2 naming it and the closest valid option', async () => {
    const r = await cli('import', 'a', 'b.picpac', '--max-sise', '5');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^picpac import: unknown option --max-sise \(did you mean --max-size\?\)$/m);
    assert.match(r.stderr, /Run 'picpac import --help' for usage\./);
    const far = await cli('stat', 'x', '--zzzzzzzz');
    assert.equal(far.code, 2);
    assert.match(far.stderr, /unknown option --zzzzzzzz\n/);
  });

  test('other usage errors: exit 2 with a message', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['import', 'only-one'], /missing arguments: expected SRC OUT\.picpac/],
      [['stat', 'a', 'b'], /unexpected argument 'b'/],
      [['import', 'a', 'b', '--quality', '0'], /invalid value for --quality: expected an integer in 1\.\.100, got '0'/],
      [['import', 'a', 'b', '--align', '1000'], /invalid value for --align: expected 1 or a power of two/],
      [['convert', 'a', 'b', '--to', 'v3'], /invalid value for --to: expected one of v2, v1, lmdb-raw, lmdb-encoded, got 'v3'/],
      [['import', 'a', 'b', '--max-size'], /option '--max-size <value>' argument missing/i],
      [['stats', 'x'], /unknown command 'stats' \(did you mean 'stat'\?\)/],
      [['convert', 'a.picpac', './a.picpac'], /the output \.\/a\.picpac is also an input/],
      [['merge', 'a.picpac', 'b.picpac', 'a.picpac', '--overwrite'], /the output a\.picpac is also an input/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(...argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, message, argv.join(' '));
    }
  });

  test('closest() suggests only plausible typos', () => {
    assert.equal(closest('overwrit', ['overwrite', 'append']), 'overwrite');
    assert.equal(closest('strct', ['strict', 'scan']), 'strict');
    assert.equal(closest('xyz', ['overwrite', 'append']), undefined);
  });

  test('invalid data and missing files: exit 1, one line, no stack trace', async () => {
    const tmp = await tempDir();
    try {
      const garbage = path.join(tmp.dir, 'garbage.picpac');
      await writeFile(garbage, new Uint8Array(100).fill(7));
      for (const argv of [['stat', garbage], ['dump', garbage], ['stat', path.join(tmp.dir, 'missing.picpac')]]) {
        const r = await cli(...argv);
        assert.equal(r.code, 1, argv.join(' '));
        assert.match(r.stderr, /^picpac (stat|dump): .+\n$/);
        assert.doesNotMatch(r.stderr, /\n\s+at /);
      }
    } finally {
      await tmp.cleanup();
    }
  });

  test('progress: redraws in place on a TTY at most 10 times a second, with rate and ETA', () => {
    const writes: string[] = [];
    let now = 0;
    const p = new Progress({ write: (s: string) => writes.push(s), isTTY: true, columns: 200 }, 'import', 100, { unit: 'images', now: () => now });
    for (let i = 1; i <= 50; i++) {
      now += 10; // 10 ms per item: 100 items/s
      p.update(i);
    }
    assert.ok(writes.length <= 6, `${writes.length} redraws in 0.5 s`);
    assert.match(writes.at(-1)!, /^\r/);
    assert.match(p.line(), /^import {2}\[#{10}\.{10}\] 50\/100 images {2}100\/s {2}ETA 0\.5s$/);
    p.finish();
    assert.match(writes.at(-1)!, /\n$/);
    assert.equal(formatDuration(125), '2m05s');
    assert.equal(formatDuration(7300), '2h01m');
  });
});

describe('picpac bin (child process)', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    tmp = await tempDir();
    await makeImageTree(path.join(tmp.dir, 'tree'));
  });
  after(() => tmp.cleanup());

  test('bin/picpac.js runs from any working directory: import, stat --json, verify', async () => {
    const help = await cliProcess(['--help'], { cwd: tmp.dir });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: picpac <command>/);
    const imported = await cliProcess(['import', 'tree', 'out.picpac'], { cwd: tmp.dir });
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /imported 30 records into out\.picpac \(2 skipped\)/);
    assert.match(imported.stderr, /^import .*32\/32 images .*2 skipped$/m);
    const stat = await cliProcess(['stat', 'out.picpac', '--json'], { cwd: tmp.dir });
    assert.equal(stat.code, 0, stat.stderr);
    assert.equal(JSON.parse(stat.stdout).recordCount, 30);
    const verify = await cliProcess(['verify', path.join(tmp.dir, 'out.picpac')], { cwd: repoRoot });
    assert.equal(verify.code, 0);
    assert.match(verify.stdout, /^OK: 30 records/);
  });

  test('exit codes from the process: 2 for usage, 1 for data; PICPAC_DEBUG=1 adds the stack', async () => {
    const usage = await cliProcess(['dump', '--nope']);
    assert.equal(usage.code, 2);
    const bad = path.join(tmp.dir, 'bad.picpac');
    await writeFile(bad, 'not a store at all, but long enough to have a header........................');
    const data = await cliProcess(['verify', bad]);
    assert.equal(data.code, 1);
    const dumped = await cliProcess(['dump', bad]);
    assert.equal(dumped.code, 1);
    assert.doesNotMatch(dumped.stderr, /\n\s+at /);
    const debug = await cliProcess(['dump', bad], { env: { PICPAC_DEBUG: '1' } });
    assert.equal(debug.code, 1);
    assert.match(debug.stderr, /\n\s+at /);
  });
});
