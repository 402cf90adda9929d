// The advisory writer lock [CON-1]: `<path>.lock` (O_EXCL) holds {pid, hostname, createdAt};
// a second writer is refused while the holder lives, a stale lock of a dead process is taken
// over, the lock goes away on close/abort, and readers never lock [CON-2].
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { V1Writer } from '../../src/engine/v1/v1-writer.ts';
import { WriterLock, lockPathFor } from '../../src/engine/picpac/writer-lock.ts';
import { FileExistsError, PicpacError, UnfinishedFileError, WriterLockedError } from '../../src/errors.ts';
import { repoRoot, tempDir } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir()));
after(() => cleanup());

const record = (byte: number) => ({ fields: [{ kind: 'bytes' as const, bytes: new Uint8Array([byte]) }] });

async function finishedFile(name: string, recordCount: number): Promise<string> {
  const file = path.join(dir, name);
  const w = await PicpacWriter.create(file, { fsyncOnClose: false });
  for (let i = 0; i < recordCount; i++) void w.append(record(i));
  await w.close();
  return file;
}

function isLockedBy(file: string, pid: number | undefined) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof WriterLockedError, String(err));
    assert.ok(err instanceof PicpacError);
    assert.equal(err.code, 'LOCKED');
    assert.equal(err.file, file);
    assert.equal(err.lockPath, `${file}.lock`);
    assert.equal(err.pid, pid);
    assert.ok(err.message.includes(file), err.message);
    if (pid !== undefined) assert.ok(err.message.includes(`process ${pid}`), err.message);
    return true;
  };
}

/** The pid of a process that has exited (and was reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  const pid = child.pid as number;
  await new Promise((resolve) => child.once('exit', resolve));
  return pid;
}

/** Run `body` with a child process that is SIGKILLed (and reaped) afterwards, whatever happens. */
async function withChild(args: string[], body: (child: ChildProcessByStdio<null, Readable, null>, exited: Promise<unknown>) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, args, { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await body(child, exited);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }
}

async function firstLine(child: ChildProcessByStdio<null, Readable, null>): Promise<string> {
  for await (const line of createInterface({ input: child.stdout })) return line;
  return '';
}

describe('writer lock [CON-1]', () => {
  test('a second writer on the same file is refused with WriterLockedError naming file and pid; close removes the lock', async () => {
    const file = await finishedFile('two-writers.picpac', 2);
    const first = await PicpacWriter.append(file);
    const lock = JSON.parse(await readFile(lockPathFor(file), 'utf8'));
    assert.equal(lock.pid, process.pid);
    assert.equal(lock.hostname, hostname());
    assert.ok(!Number.isNaN(Date.parse(lock.createdAt)));
    await assert.rejects(PicpacWriter.append(file), isLockedBy(file, process.pid));
    // overwrite must not truncate a file under its writer: the lock is checked before opening
    await assert.rejects(PicpacWriter.create(file, { overwrite: true }), isLockedBy(file, process.pid));
    await assert.rejects(V1Writer.create(file, { overwrite: true }), isLockedBy(file, process.pid));
    await first.append(record(2));
    await first.close();
    assert.equal(existsSync(lockPathFor(file)), false, 'close removes the lock');
    const reader = await PicpacReader.open(file);
    assert.equal(reader.recordCount, 3);
    await reader.close();
    const second = await PicpacWriter.append(file);
    await second.close();
    assert.equal(existsSync(lockPathFor(file)), false);
  });

  test('abort removes the lock; a refused append of the unfinished file leaves none', async () => {
    const file = path.join(dir, 'abort.picpac');
    const w = await PicpacWriter.create(file);
    assert.equal(existsSync(lockPathFor(file)), true);
    await w.append(record(1));
    await w.abort();
    assert.equal(existsSync(lockPathFor(file)), false);
    await assert.rejects(PicpacWriter.append(file), UnfinishedFileError);
    assert.equal(existsSync(lockPathFor(file)), false);
  });

  test('create without overwrite of an existing file: FileExistsError, no lock left behind', async () => {
    const file = await finishedFile('exists.picpac', 1);
    await assert.rejects(PicpacWriter.create(file), FileExistsError);
    await assert.rejects(V1Writer.create(file), FileExistsError);
    assert.equal(existsSync(lockPathFor(file)), false);
  });

  test('a stale lock (pid of an exited process on this host) is taken over', async () => {
    const file = await finishedFile('stale.picpac', 1);
    const pid = await deadPid();
    await writeFile(lockPathFor(file), JSON.stringify({ pid, hostname: hostname(), createdAt: '2026-01-01T00:00:00.000Z' }));
    const w = await PicpacWriter.append(file);
    assert.equal(JSON.parse(await readFile(lockPathFor(file), 'utf8')).pid, process.pid, 'the lock is now ours');
    await w.close();
    assert.equal(existsSync(lockPathFor(file)), false);
    // The same for a new file and for the 1.0 writer.
    const created = path.join(dir, 'stale-new.picpac');
    await writeFile(lockPathFor(created), JSON.stringify({ pid, hostname: hostname(), createdAt: '' }));
    await (await PicpacWriter.create(created)).close();
    const v1 = path.join(dir, 'stale.db');
    await writeFile(lockPathFor(v1), JSON.stringify({ pid, hostname: hostname(), createdAt: '' }));
    const v1Writer = await V1Writer.create(v1);
    await assert.rejects(V1Writer.create(v1, { overwrite: true }), isLockedBy(v1, process.pid));
    await v1Writer.close();
    assert.equal(existsSync(lockPathFor(v1)), false);
  });

  test('a lock of another host is honoured; an empty lock is "being created" until it is old', async () => {
    const file = await finishedFile('foreign.picpac', 1);
    await writeFile(lockPathFor(file), JSON.stringify({ pid: 1, hostname: `not-${hostname()}`, createdAt: '' }));
    await assert.rejects(PicpacWriter.append(file), (err: unknown) => isLockedBy(file, 1)(err) && (err as WriterLockedError).hostname === `not-${hostname()}`);
    await writeFile(lockPathFor(file), '');
    await assert.rejects(PicpacWriter.append(file), isLockedBy(file, undefined));
    const old = new Date(Date.now() - 60_000);
    await utimes(lockPathFor(file), old, old);
    const w = await PicpacWriter.append(file);
    await w.close();
    assert.equal(existsSync(lockPathFor(file)), false);
  });

  test('release only removes a lock that is still ours, and is idempotent', async () => {
    const file = path.join(dir, 'release.picpac');
    const lock = await WriterLock.acquire(file);
    await writeFile(lockPathFor(file), JSON.stringify({ pid: process.pid, hostname: hostname(), createdAt: 'someone else' }));
    await lock.release();
    assert.equal(existsSync(lockPathFor(file)), true, 'a lock that is not ours is left alone');
    await lock.release();
    await assert.rejects(WriterLock.acquire(''), TypeError);
  });

  test('readers never lock, and a reader of the finished file keeps a valid view while a writer appends [CON-2]', async () => {
    const file = await finishedFile('readers.picpac', 3);
    const strict = await PicpacReader.open(file);
    const w = await PicpacWriter.append(file, { bufferBytes: 0 });
    await w.append(record(9));
    await w.setAnnotation(0, '{"a":1}');
    // The reader opened before the append still reads the committed prefix, byte for byte.
    assert.equal(strict.recordCount, 3);
    for (let i = 0; i < 3; i++) assert.deepEqual([...(await strict.get(i)).fields[0].bytes], [i]);
    assert.equal(await strict.getAnnotation(0), undefined);
    // A reader opening now sees the last commit (strict: an unfinished file); by recovery it
    // sees the growing prefix [CON-3].
    await assert.rejects(PicpacReader.open(file, { strict: true }), UnfinishedFileError);
    const lastCommit = await PicpacReader.open(file);
    assert.equal(lastCommit.recordCount, 3);
    assert.ok(lastCommit.tornTail !== undefined && lastCommit.warnings.length === 1);
    await lastCommit.close();
    const live = await PicpacReader.open(file, { recover: true });
    assert.equal(live.recordCount, 4);
    assert.equal(await live.getAnnotation(0), '{"a":1}');
    await w.close();
    for (let i = 0; i < 3; i++) assert.deepEqual([...(await strict.get(i)).fields[0].bytes], [i]);
    assert.equal(await strict.refresh(), 4);
    assert.equal(await strict.getAnnotation(0), '{"a":1}');
    await strict.close();
    await live.close();
  });

  test('a writer killed with SIGKILL leaves a stale lock that does not block a later append', { timeout: 30_000 }, async () => {
    const file = await finishedFile('killed.picpac', 2);
    await withChild(['--import', 'tsx', path.join(import.meta.dirname, 'fixtures/lock-holder.ts'), file], async (child, exited) => {
      assert.equal(await firstLine(child), `ready ${child.pid}`);
      await assert.rejects(PicpacWriter.append(file), isLockedBy(file, child.pid));
      child.kill('SIGKILL');
      await exited;
      assert.equal(JSON.parse(await readFile(lockPathFor(file), 'utf8')).pid, child.pid, 'the dead writer left its lock');
    });
    // The child wrote one record after the old footer but never committed: the stale lock is
    // taken over, the uncommitted bytes are moved to a side file, and the append continues
    // from the last commit [RCV-6].
    const w = await PicpacWriter.append(file);
    assert.equal(w.recordCount, 2);
    assert.ok(w.tornTailSavedTo !== undefined && existsSync(w.tornTailSavedTo));
    await w.append(record(7));
    await w.close();
    assert.equal(existsSync(lockPathFor(file)), false, 'the stale lock was taken over and released');
    const r = await PicpacReader.open(file, { strict: true });
    assert.equal(r.recordCount, 3);
    await r.close();
  });

  test('a SIGKILLed writer that wrote nothing: the next append takes the stale lock over and commits', { timeout: 30_000 }, async () => {
    const file = await finishedFile('killed-idle.picpac', 2);
    const script = `
      const { PicpacWriter } = await import(${JSON.stringify(path.join(repoRoot(), 'src/engine/picpac/picpac-writer.ts'))});
      await PicpacWriter.append(${JSON.stringify(file)});
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1 << 30);`;
    await withChild(['--import', 'tsx', '-e', script], async (child, exited) => {
      assert.equal(await firstLine(child), 'ready');
      await assert.rejects(PicpacWriter.append(file), isLockedBy(file, child.pid));
      child.kill('SIGKILL');
      await exited;
    });
    const w = await PicpacWriter.append(file);
    await w.append(record(7));
    await w.close();
    const reader = await PicpacReader.open(file);
    assert.equal(reader.recordCount, 3);
    assert.equal(reader.generation, 2);
    await reader.close();
    assert.equal(existsSync(lockPathFor(file)), false);
  });
});
