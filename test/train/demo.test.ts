// `npm run demo -- --quick`: every step end to end on 40 small scenes (a handful of training
// steps), the report and its numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { lastDemoNumbers, runDemo } from '../../src/cli/demo.ts';
import { tempDir } from './helpers.ts';

test('the demo in --quick mode writes the report with its numbers', async () => {
  const tmp = await tempDir();
  try {
    const out: string[] = [];
    const io = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: () => true } };
    assert.equal(await runDemo(['--quick', '--out', tmp.dir], io), 0);
    const text = out.join('');
    for (let k = 1; k <= 8; k++) assert.match(text, new RegExp(`== step ${k}/8`));
    assert.match(text, /\$ picpac train fcn-tiny .* --steps 6 --size 64/);
    assert.match(text, /trivial baseline \(the training fold's mean box .*\): mean box IoU [\d.]+/);
    assert.match(text, /training: [\d.]+ images\/s, stream [\d.]+ % of step time/);
    assert.match(text, /view the database: picpac serve .*plates\.picpac/);
    const report = path.join(tmp.dir, 'report.html');
    assert.ok(existsSync(report));
    const html = await readFile(report, 'utf8');
    assert.match(html, /<svg/);
    assert.match(html, /mean IoU of predicted boxes/);
    assert.equal((html.match(/<img src="predictions\/plates-\d+\.overlay\.png"/g) ?? []).length, 4);
    const n = lastDemoNumbers!;
    assert.ok(n.baselineMeanBoxIou > 0 && n.baselineMeanBoxIou < 0.5, `baseline ${n.baselineMeanBoxIou}`);
    assert.ok(n.imagesPerSecond > 0 && n.streamShare >= 0 && n.streamShare < 1);
    assert.equal(n.reportPath, report);
  } finally {
    await tmp.cleanup();
  }
});
