// One writer, many readers: refresh() shows a growing consistent prefix; a writer killed with
// SIGKILL loses no acknowledged record [RCV-3].
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { UnfinishedFileError } from '../../src/errors.ts';
import { expectedRecord, matchesExpected } from './fixtures/deterministic-records.ts';
import { repoRoot, tempDir } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir()));
after(() => cleanup());

async function checkPrefix(reader: PicpacReader): Promise<void> {
  for await (const r of reader.scan()) assert.ok(matchesExpected(r, r.recordIndex), `record ${r.recordIndex} differs`);
}

describe('live readers', () => {
  test('in-process: a refreshing reader sees every acknowledged record, then the commit', async () => {
    const file = path.join(dir, 'live.picpac');
    const writer = await PicpacWriter.create(file, { bufferBytes: 0, alignment: 16 });
    await writer.flush();
    const reader = await PicpacReader.open(file, { recover: true });
    assert.equal(reader.recordCount, 0);
    let seen = 0;
    for (let round = 0; round < 20; round++) {
      const acks = [];
      for (let k = 0; k < 5; k++) acks.push(writer.append(expectedRecord(round * 5 + k)));
      await Promise.all(acks);
      if (round % 4 === 1) await writer.setAnnotation(round, JSON.stringify({ updated: round }));
      const count = await reader.refresh();
      assert.ok(count >= (round + 1) * 5 && count >= seen);
      seen = count;
      await checkPrefix(reader);
    }
    await writer.close();
    await reader.refresh();
    assert.equal(reader.generation, 1);
    assert.equal(reader.recordCount, 100);
    assert.equal(reader.tornTailOffset, undefined);
    assert.equal(await reader.getAnnotation(5), JSON.stringify({ updated: 5 }));
    await checkPrefix(reader);
    // A second session: the reader follows the append, then its commit (delta index chain).
    const appender = await PicpacWriter.append(file, { bufferBytes: 0 });
    for (let i = 100; i < 110; i++) await appender.append(expectedRecord(i));
    await appender.setAnnotation(2, JSON.stringify({ updated: 2 }));
    assert.equal(await reader.refresh(), 110);
    assert.equal(await reader.getAnnotation(2), JSON.stringify({ updated: 2 }));
    await appender.close();
    assert.equal(await reader.refresh(), 110);
    assert.equal(reader.generation, 2);
    assert.equal(await reader.getAnnotation(2), JSON.stringify({ updated: 2 }));
    await checkPrefix(reader);
    const fresh = await PicpacReader.open(file);
    assert.equal(fresh.annotatedCount, reader.annotatedCount);
    await fresh.close();
    await reader.close();
  });

  // [CON-2] a reader of the finished file keeps a valid view while a writer appends.
  test('a reader that saw the commit follows the next append session (aligned file) [CON-2]', async () => {
    const file = path.join(dir, 'aligned-live.picpac');
    const w = await PicpacWriter.create(file, { alignment: 4096 });
    await w.append(expectedRecord(0));
    await w.close();
    const reader = await PicpacReader.open(file);
    assert.equal(await reader.refresh(), 1);
    const a = await PicpacWriter.append(file, { bufferBytes: 0 });
    await a.append(expectedRecord(1));
    assert.equal(await reader.refresh(), 2);
    await a.close();
    assert.equal(await reader.refresh(), 2);
    const b = await PicpacWriter.append(file, { bufferBytes: 0 });
    await b.flush(); // only the padding after the footer so far
    assert.equal(await reader.refresh(), 2);
    await b.append(expectedRecord(2));
    assert.equal(await reader.refresh(), 3);
    await b.close();
    assert.equal(await reader.refresh(), 3);
    assert.equal(reader.generation, 3);
    await checkPrefix(reader);
    await reader.close();
  });

  for (const mode of ['create', 'append'] as const) {
    test(`child process killed with SIGKILL mid-write (${mode}): every acknowledged record survives`, async () => {
      const file = path.join(dir, `crash-${mode}.picpac`);
      if (mode === 'append') {
        const w = await PicpacWriter.create(file, { alignment: 64 });
        for (let i = 0; i < 10; i++) await w.append(expectedRecord(i));
        await w.close();
      }
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures/slow-writer.ts'), file, mode], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'inherit'] });
      let acked = -1;
      let reader: PicpacReader | undefined;
      let lastCount = 0;
      const lines = createInterface({ input: child.stdout });
      for await (const line of lines) {
        acked = Number(line.split(' ')[1]);
        if (!reader && acked >= 20) reader = await PicpacReader.open(file, { recover: true });
        if (reader && acked % 50 === 0) {
          const count = await reader.refresh();
          assert.ok(count >= lastCount);
          lastCount = count;
          await checkPrefix(reader);
        }
        if (acked >= 400) {
          child.kill('SIGKILL');
          break;
        }
      }
      await new Promise((resolve) => child.once('exit', resolve));
      await assert.rejects(PicpacReader.open(file, { strict: true }), UnfinishedFileError);
      // By default a reader opens the last commit and names the torn bytes after it. [RCV-6]
      if (mode === 'append') {
        const lastCommit = await PicpacReader.open(file);
        assert.equal(lastCommit.recordCount, 10);
        assert.equal(lastCommit.tornTail?.byteOffset, lastCommit.knownByteLength);
        await lastCommit.close();
      } else {
        await assert.rejects(PicpacReader.open(file), /no committed data to read.*picpac repair/);
      }
      const recovered = await PicpacReader.open(file, { recover: true });
      assert.ok(recovered.recordCount >= acked + 1, `${recovered.recordCount} < ${acked + 1}`);
      await checkPrefix(recovered);
      await recovered.close();
      await reader?.refresh();
      if (reader) {
        assert.ok(reader.recordCount >= acked + 1);
        await checkPrefix(reader);
        await reader.close();
      }
    });
  }
});
