// Many readers on object storage: 1, 2 and 4 processes streaming one epoch of a sharded
// dataset from a real S3 server (Ceph's RADOS Gateway, scripts/objectstore), next to the same
// readers on the local copy (the reference, same run). Reports aggregate images/s, GET
// requests and remote bytes per sample (goal: bytes ≤ 1.05 × the stored record bytes), and a
// second epoch over a warm node-local cache (goal: 0 remote bytes). Writes bench/results/s3.md
// and s3.json.
//
//   npm run bench -- s3 [--records N] [--shard-size SIZE]
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/cli/main.ts';
import { machineLine, photoSet, repoRoot } from './lib/photo-set.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const RECORDS = Number(arg('records', '1200'));
const SHARD_SIZE = arg('shard-size', '32MB');
const script = join(repoRoot, 'scripts/objectstore');
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

interface ReaderResult {
  samples: number;
  seconds: number;
  recordBytes: number;
  requests: number;
  retries: number;
  remoteBytes: number;
  cacheHits: number;
  cacheMisses: number;
}

function sh(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(script, args, { timeout: 180_000 }, (err, out, errOut) => (err ? reject(new Error(errOut || err.message)) : resolve(out))));
}

function reader(db: string, rank: number, world: number, threads: number, cacheDir?: string): Promise<ReaderResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench/lib/s3-reader.ts'), db, String(rank), String(world), String(threads), ...(cacheDir ? [cacheDir] : [])], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`reader exited with ${code}`))));
  });
}

interface Row {
  name: string;
  processes: number;
  samples: number;
  imagesPerSecond: number;
  requestsPerSample: number;
  bytesPerRecordByte: number;
  remoteBytes: number;
  cacheHits: number;
}

async function run(name: string, db: string, processes: number, cacheDir?: string, threads = 0): Promise<Row> {
  const results = await Promise.all(Array.from({ length: processes }, (_, r) => reader(db, r, processes, threads, cacheDir)));
  const sum = (k: keyof ReaderResult) => results.reduce((s, x) => s + x[k], 0);
  const samples = sum('samples');
  const seconds = Math.max(...results.map((x) => x.seconds));
  const row = {
    name,
    processes,
    samples,
    imagesPerSecond: samples / seconds,
    requestsPerSample: sum('requests') / samples,
    bytesPerRecordByte: sum('remoteBytes') / sum('recordBytes'),
    remoteBytes: sum('remoteBytes'),
    cacheHits: sum('cacheHits'),
  };
  console.log(`${name.padEnd(36)} ${String(processes).padStart(2)} proc  ${row.imagesPerSecond.toFixed(0).padStart(6)} img/s  ${row.requestsPerSample.toFixed(3)} req/sample  ${row.bytesPerRecordByte.toFixed(3)} bytes/record byte  ${row.remoteBytes} remote bytes`);
  return row;
}

const work = mkdtempSync(join(tmpdir(), 'picpac-bench-s3-'));
let stateDir = process.env.PICPAC_TEST_OBJECTSTORE_DIR;
const ownGateway = !stateDir;
try {
  if (!stateDir) {
    if (!existsSync('/usr/bin/radosgw')) throw new Error('the s3 bench needs Ceph: apt-get install ceph-mon ceph-osd ceph-mgr radosgw ceph-common');
    stateDir = join(work, 'objectstore');
    await sh(['start', '--dir', stateDir]);
  }
  const envText = await sh(['env', '--dir', stateDir]);
  for (const line of envText.split('\n')) {
    const m = /^(AWS_[A-Z_]+)=(.*)$/.exec(line);
    if (m) process.env[m[1]] = m[2];
  }
  const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
  const bucket = `bench-${process.pid}`;
  const client = new S3Client({ forcePathStyle: true });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();

  const photos = await photoSet(RECORDS, 480, 360);
  const local = join(work, 'photos.picpac');
  const quiet = { stdout: { write: () => {} }, stderr: { write: () => {}, isTTY: false, columns: 80 } };
  if ((await runCli(['import', photos.dir, local, '-q'], quiet)) !== 0) throw new Error('import failed');
  const manifest = `s3://${bucket}/photos/index.picpac.json`;
  if ((await runCli(['shard', local, `s3://${bucket}/photos/`, '--shard-size', SHARD_SIZE, '-q'], quiet)) !== 0) throw new Error('shard failed');

  console.log(`s3 bench: ${RECORDS} JPEG ${photos.origin}, 480×360, ${(photos.totalBytes / 1e6).toFixed(1)} MB; shards of ${SHARD_SIZE} on the RADOS Gateway (memstore, loopback)`);
  console.log(machineLine());
  const rows: Row[] = [];
  rows.push(await run('local file (reference)', local, 1));
  for (const n of [1, 2, 4]) rows.push(await run('s3:// manifest', manifest, n));
  // Worker threads overlap the GETs with decoding (their traffic is counted in the threads, not here).
  rows.push(await run('local file, threads 2 (reference)', local, 1, undefined, 2));
  rows.push(await run('s3:// manifest, threads 2', manifest, 1, undefined, 2));
  const cacheDir = join(work, 'cache');
  rows.push(await run('s3:// + cache, epoch 1 (cold)', manifest, 2, cacheDir));
  rows.push(await run('s3:// + cache, epoch 2 (warm)', manifest, 2, cacheDir));

  const lines = [
    '# Object storage bench (`npm run bench -- s3`)',
    '',
    `${RECORDS} JPEG crops of ${photos.origin}, 480×360 q90, ${(photos.totalBytes / 1e6).toFixed(1)} MB, written with`,
    `\`picpac shard --shard-size ${SHARD_SIZE}\` to Ceph's RADOS Gateway (scripts/objectstore: one mon, one memstore OSD,`,
    'radosgw beast on loopback). Each reader process streams one epoch as rank r of N (`threads 0`,',
    'no sample cache, decode + resize to 128×128); images/s = all samples / the slowest reader\'s',
    'time from open to the end of its share (process start-up excluded). Bytes per record byte =',
    'remote bytes read / stored bytes of the records streamed (includes each process\'s opening reads',
    'of every shard\'s footer and index). Same run, same machine:',
    '',
    `Machine: ${machineLine()}; load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')} (a machine shared with other`,
    'jobs: compare the rows of one run with each other, not with other runs).',
    '',
    '| run | processes | samples | images/s | GET+HEAD requests / sample | remote bytes / record byte | remote bytes | cache hits |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => {
      const counted = !r.name.startsWith('local') && !r.name.includes('threads');
      return `| ${r.name} | ${r.processes} | ${r.samples} | ${r.imagesPerSecond.toFixed(0)} | ${counted ? r.requestsPerSample.toFixed(3) : '–'} | ${counted ? r.bytesPerRecordByte.toFixed(3) : '–'} | ${counted ? r.remoteBytes : '–'} | ${r.cacheHits} |`;
    }),
    '',
    'Command: `npm run bench -- s3` (options `--records N`, `--shard-size SIZE`).',
    '',
  ];
  writeFileSync(join(repoRoot, 'bench/results/s3.md'), lines.join('\n'));
  writeFileSync(join(repoRoot, 'bench/results/s3.json'), JSON.stringify({ machine: machineLine(), records: RECORDS, shardSize: SHARD_SIZE, rows }, null, 2) + '\n');
  console.log('wrote bench/results/s3.md');
} finally {
  if (ownGateway && stateDir) await sh(['stop', '--dir', stateDir]).catch(() => {});
  rmSync(work, { recursive: true, force: true });
}
