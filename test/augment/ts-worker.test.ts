// Which Node flags stream and render workers inherit (ts-worker.ts workerExecArgv).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workerExecArgv } from '../../src/augment/stream/ts-worker.ts';

test('workers inherit the parent flags except --input-type, in either spelling', () => {
  assert.equal(workerExecArgv([]), undefined, 'nothing to drop: Node default');
  assert.equal(workerExecArgv(['--enable-source-maps', '--max-old-space-size=4096']), undefined);
  assert.deepEqual(workerExecArgv(['--input-type=module']), []);
  assert.deepEqual(workerExecArgv(['--enable-source-maps', '--input-type', 'module', '--max-old-space-size=4096']), ['--enable-source-maps', '--max-old-space-size=4096']);
  assert.deepEqual(workerExecArgv(['--input-type=commonjs', '--import', 'tsx']), ['--import', 'tsx']);
});
