// picpac serve DB [--port 18888] [--host 127.0.0.1]: the viewer (the original picpac-explorer):
// overview, sample grid /l, record pages, stream simulator and the JSON API under /api/.
// Runs until SIGINT/SIGTERM; the database is opened once.
import { printOpenWarnings } from '../open-warnings.ts';
import { ViewerServer } from '../../server/server.ts';
import { intOption, stringOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';

export const serveCommand: CommandSpec = {
  name: 'serve',
  summary: 'browse a database in a web browser: overview, sample grid, records, stream batches',
  synopsis: 'DB',
  description:
    'Serve a viewer for DB (.picpac 2.0, PicPac 1.0, shard manifest, LMDB) on http://HOST:PORT/:\n' +
    'an overview (totals, label histogram, shapes, sizes, collage, thumbnails per class), the\n' +
    'sample grid /l?count=20&annotate=json (any stream parameter may follow), record pages with\n' +
    'perturbation controls, a stream page showing one batch, and a JSON API under /api/ with the\n' +
    "original explorer's endpoint names. Listens on 127.0.0.1 unless --host says otherwise. A file\n" +
    'that is still being written is opened in recovery mode and followed as it grows.',
  options: {
    port: { type: 'string', short: 'p', valueName: 'PORT', description: 'TCP port (default 18888; 0 picks a free one)' },
    host: { type: 'string', valueName: 'HOST', description: 'interface to listen on (default 127.0.0.1; 0.0.0.0 exposes the database to the network)' },
    'max-peek': { type: 'string', valueName: 'MB', description: 'megabytes the overview samples at start-up (default 1000, as the explorer)' },
    threads: { type: 'string', short: 't', valueName: 'N', description: 'render worker threads (default: the CPU count, at most 4; 0 renders on the HTTP thread)' },
    'render-deadline': { type: 'string', valueName: 'MS', description: 'a render worker not done with an image within MS milliseconds is answered with 503 and replaced (default 10000)' },
    'refresh-ms': { type: 'string', valueName: 'MS', description: 'follow a growing file: refresh at most every MS ms (default 1000; -1 never)' },
    quiet: { type: 'boolean', short: 'q', description: 'do not log requests' },
  },
  minPositionals: 1,
  maxPositionals: 1,
  examples: [
    'picpac serve plates.picpac',
    'picpac serve plates.picpac --port 8080 --max-peek 200 --threads 2',
    'picpac serve legacy.db --host 0.0.0.0 --port 18888',
  ],
  run: runServe,
};

async function runServe(args: ParsedCommand, io: CliIo): Promise<number> {
  const cmd = 'serve';
  const [db] = args.positionals;
  const port = intOption(args, 'port', { min: 0, max: 65535 }, cmd) ?? 18888;
  const host = stringOption(args, 'host') ?? '127.0.0.1';
  const maxPeekMb = intOption(args, 'max-peek', { min: 0, max: 1 << 30 }, cmd) ?? 1000;
  const refreshMs = intOption(args, 'refresh-ms', { min: -1, max: 3_600_000 }, cmd) ?? 1000;
  const renderThreads = intOption(args, 'threads', { min: 0, max: 64 }, cmd);
  const renderDeadlineMs = intOption(args, 'render-deadline', { min: 1, max: 3_600_000 }, cmd);
  const quiet = args.values.quiet === true;
  const started = performance.now();
  const viewer = await ViewerServer.open(db, {
    host, port, maxPeekBytes: maxPeekMb * 2 ** 20, refreshMs, renderThreads, renderDeadlineMs,
    onRequest: quiet ? undefined : (e) => io.stderr.write(`${e.status} ${e.method} ${e.url} ${e.ms.toFixed(1)} ms\n`),
  });
  const ms = performance.now() - started;
  await printOpenWarnings(viewer.live.store, db, io); // a torn tail after the last commit, a damaged index
  io.stdout.write(`picpac serve: ${viewer.live.store.format} ${db}, ${viewer.live.recordCount} records${viewer.live.recovered ? ' (recovery mode: the file is being written)' : ''}, opened in ${viewer.openMs.toFixed(0)} ms; ${viewer.pool ? `${viewer.pool.threads} render threads` : 'rendering on the HTTP thread'}, ready in ${ms.toFixed(0)} ms\n`);
  io.stdout.write(`picpac serve: listening on ${viewer.url}/ (overview), ${viewer.url}/l?count=20&annotate=json (samples)\n`);
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    io.stderr.write(`picpac serve: warning: listening on ${host} without authentication: anyone who can reach it can read the database\n`);
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await viewer.close();
  return 0;
}
