// The real S3 server of the tests: Ceph's RADOS Gateway started by scripts/objectstore. CI
// starts one and names its state directory in PICPAC_TEST_OBJECTSTORE_DIR; otherwise a test
// file starts its own (about 3-10 s) and stops it when done. Where Ceph is not installed the
// s3:// tests skip with a message saying what to install.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const script = path.join(repoRoot, 'scripts/objectstore');

export interface ObjectStore {
  /** AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION. */
  env: Record<string, string>;
  dir: string;
  /** A new empty bucket with a unique name. */
  createBucket(prefix?: string): Promise<string>;
  stopGateway(): Promise<void>;
  startGateway(): Promise<void>;
  /** Stop the cluster if this test file started it. */
  close(): Promise<void>;
}

function run(args: string[], timeoutMs = 180_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(script, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/objectstore ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

function onPath(tool: string): Promise<boolean> {
  return new Promise((resolve) => execFile('sh', ['-c', `command -v ${tool}`], (error) => resolve(!error)));
}

/**
 * Start (or join) the gateway and put its AWS_* variables into process.env (child processes
 * inherit them). Returns a skip message instead when Ceph is not installed.
 */
export async function objectStore(): Promise<ObjectStore | string> {
  const started = await startObjectStore();
  // .ci/run installs Ceph and starts one gateway: in CI a skip would hide a broken setup.
  if (typeof started === 'string' && process.env.CI) throw new Error(`CI must run the s3:// tests: ${started}`);
  return started;
}

async function startObjectStore(): Promise<ObjectStore | string> {
  let dir = process.env.PICPAC_TEST_OBJECTSTORE_DIR;
  let owned = false;
  let output: string;
  if (dir) {
    output = await run(['env', '--dir', dir]);
  } else {
    if (!(await onPath('radosgw')) || !(await onPath('ceph-mon'))) {
      return 'skipped: no S3 server (Ceph RADOS Gateway not installed: apt-get install ceph-mon ceph-osd ceph-mgr radosgw ceph-common)';
    }
    dir = await mkdtemp(path.join(tmpdir(), 'picpac-objectstore-'));
    owned = true;
    try {
      output = await run(['start', '--dir', dir]);
    } catch (error) {
      await run(['stop', '--dir', dir]).catch(() => {});
      await rm(dir, { recursive: true, force: true });
      return `skipped: the RADOS Gateway did not start (${(error as Error).message.split('\n')[0]})`;
    }
  }
  const env: Record<string, string> = {};
  for (const line of output.split('\n')) {
    const m = /^(AWS_[A-Z_]+)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  Object.assign(process.env, env);
  delete process.env.AWS_PROFILE;
  const stateDir = dir;
  return {
    env,
    dir: stateDir,
    async createBucket(prefix = 'test') {
      const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
      const client = new S3Client({ forcePathStyle: true, endpoint: env.AWS_ENDPOINT_URL, region: env.AWS_REGION, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });
      const bucket = `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      client.destroy();
      return bucket;
    },
    stopGateway: () => run(['stop-gateway', '--dir', stateDir]).then(() => {}),
    startGateway: () => run(['start-gateway', '--dir', stateDir]).then(() => {}),
    async close() {
      if (owned) await run(['stop', '--dir', stateDir]).catch(() => {});
    },
  };
}
