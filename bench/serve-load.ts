// Load test of the viewer: `picpac serve` runs in its own process on 127.0.0.1; N keep-alive
// clients request /api/image (random record, annotation overlay, half of them perturbed with a
// fresh seed, so nothing is served from a cache) for a bounded time and a bounded request
// count. Reports requests/s, p50/p99/max latency, errors by kind, the server's peak RSS
// (VmHWM), and a short second phase on the cached /api/thumb. Writes bench/results/serve-load.json.
//
//   npm run bench -- serve-load [--clients 16] [--seconds 20] [--max-requests 100000] [--records 500] [--threads N]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PicpacWriter } from '../src/engine/picpac/picpac-writer.ts';
import { cacheDir, machineLine, photoSet, repoRoot } from './lib/photo-set.ts';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

const clients = option('clients', 16);
const seconds = option('seconds', 20);
const maxRequests = option('max-requests', 100_000);
const recordCount = option('records', 500);
const thumbSeconds = Math.min(5, seconds);
const threadsAt = process.argv.indexOf('--threads');
/** Render threads of the server (default: its own default, the CPU count up to 4); 0 = on the HTTP thread. */
const threads = threadsAt < 0 ? undefined : Number(process.argv[threadsAt + 1]);

/** 256×256 JPEG crops of the photographs, each with 1-2 rect annotations. */
async function buildDb(): Promise<string> {
  const file = join(cacheDir, `serve-load-${recordCount}.picpac`);
  if (existsSync(file)) return file;
  mkdirSync(cacheDir, { recursive: true });
  const photos = await photoSet(200, 256, 256);
  const writer = await PicpacWriter.create(file, { overwrite: true, fsyncOnClose: false });
  for (let i = 0; i < recordCount; i++) {
    const x = 0.05 + ((i * 37) % 50) / 100;
    const shapes = [{ type: 'rect', geometry: { x, y: 0.1, width: 0.3, height: 0.25 } }];
    if (i % 2 === 0) shapes.push({ type: 'rect', geometry: { x: 0.2, y: 0.55, width: 0.5, height: 0.3 } });
    await writer.append({ label: i % 10, fields: [{ kind: 'image', bytes: readFileSync(photos.files[i % photos.files.length]) }], annotation: JSON.stringify({ shapes }) });
  }
  await writer.close();
  return file;
}

interface PhaseResult {
  endpoint: string;
  clients: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  bytesPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  errors: number;
  errorKinds: Record<string, number>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function phase(port: number, endpoint: string, makePath: (k: number) => string, durationSeconds: number, requestBudget: number, clientCount = clients): Promise<PhaseResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: clientCount });
  const latencies: number[] = [];
  const errorKinds: Record<string, number> = {};
  let issued = 0;
  let bytes = 0;
  const started = performance.now();
  const deadline = started + durationSeconds * 1000;
  const one = (path: string) => new Promise<void>((resolve) => {
    const t0 = performance.now();
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let length = 0;
      res.on('data', (chunk: Buffer) => (length += chunk.length));
      res.on('end', () => {
        latencies.push(performance.now() - t0);
        bytes += length;
        if (res.statusCode !== 200) errorKinds[`HTTP ${res.statusCode}`] = (errorKinds[`HTTP ${res.statusCode}`] ?? 0) + 1;
        resolve();
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      errorKinds[error.code ?? error.message] = (errorKinds[error.code ?? error.message] ?? 0) + 1;
      resolve();
    });
    req.end();
  });
  await Promise.all(Array.from({ length: clientCount }, async () => {
    while (performance.now() < deadline && issued < requestBudget) await one(makePath(issued++));
  }));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  const sorted = latencies.slice().sort((a, b) => a - b);
  const errors = Object.values(errorKinds).reduce((a, b) => a + b, 0);
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    endpoint, clients: clientCount, seconds: round(elapsed), requests: latencies.length, requestsPerSecond: round(latencies.length / elapsed), bytesPerSecond: Math.round(bytes / elapsed),
    latencyMs: { p50: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? 0), mean: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)) },
    errors, errorKinds,
  };
}

function peakRssBytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const db = await buildDb();
const server = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'serve', db, '--port', '0', '--quiet', '--max-peek', '50', ...(threads === undefined ? [] : ['--threads', String(threads)])], {
  cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'],
});
let serverLine = '';
const port = await new Promise<number>((resolve, reject) => {
  const lines = createInterface({ input: server.stdout! });
  lines.on('line', (line) => {
    if (line.includes('records')) serverLine = line;
    const match = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(line);
    if (match) resolve(Number(match[1]));
  });
  server.once('exit', (code) => reject(new Error(`picpac serve exited with ${code}`)));
});
const rssAtStart = peakRssBytes(server.pid!);
let seed = 1;
// While the image clients run, one more client asks for something cheap (/api/sample): its
// latency shows whether rendering stalls the HTTP thread.
const probe = phase(port, '/api/sample (during the image load)', () => '/api/sample?count=1', seconds, maxRequests, 1);
const image = await phase(port, '/api/image', (k) => {
  const id = (k * 7919) % recordCount;
  return k % 2 === 0
    ? `/api/image?id=${id}&annotate=json`
    : `/api/image?id=${id}&annotate=json&perturb=1&pert_hflip=1&seed=${seed++}`;
}, seconds, maxRequests);
const cheap = await probe;
const thumb = await phase(port, '/api/thumb', (k) => `/api/thumb?class=${k % 10}&offset=${k % 5}`, thumbSeconds, maxRequests);
const peakRss = peakRssBytes(server.pid!);
const rss = (b: number | null) => (b === null ? 'n/a' : `${(b / 2 ** 20).toFixed(0)} MiB`);
server.kill('SIGTERM');
await new Promise((resolve) => server.once('exit', resolve));

const report = {
  benchmark: 'serve-load',
  machine: machineLine(),
  date: new Date().toISOString(),
  command: `npm run bench -- serve-load --clients ${clients} --seconds ${seconds} --max-requests ${maxRequests} --records ${recordCount}${threads === undefined ? '' : ` --threads ${threads}`}`,
  server: serverLine,
  database: { file: db.replace(`${repoRoot}/`, ''), records: recordCount, images: '256x256 JPEG q90 photo crops, 1-2 rect annotations each' },
  workload: 'keep-alive clients on 127.0.0.1; /api/image: random record, annotate=json overlay, every other request perturbed (perturb=1, default ranges, hflip, fresh seed), JPEG q90; then /api/thumb (cached)',
  image,
  cheapDuringImageLoad: cheap,
  thumb,
  serverRssBytes: { afterStart: rssAtStart, peak: peakRss },
};
const out = join(repoRoot, 'bench/results/serve-load.json');
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
for (const p of [image, cheap, thumb]) {
  console.log(`${p.endpoint.padEnd(11)} ${p.clients} clients ${p.seconds} s: ${p.requests} requests, ${p.requestsPerSecond} req/s, ` +
    `p50 ${p.latencyMs.p50} ms, p99 ${p.latencyMs.p99} ms, max ${p.latencyMs.max} ms, errors ${p.errors}${p.errors ? ` ${JSON.stringify(p.errorKinds)}` : ''}`);
}
console.log(serverLine);
console.log(`server RSS: ${rss(rssAtStart)} after start, peak ${rss(peakRss)}`);
console.log(machineLine());
console.log(`wrote ${out}`);
