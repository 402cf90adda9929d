// Debian's nginx serving a folder on loopback, for the tests that read over HTTP (HttpSource,
// the built package's URL example and browser page). Not a test file itself.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

/** The nginx binary, or undefined when it is not installed (apt-get install nginx-light). */
export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => spawnSync('test', ['-x', p]).status === 0);

export interface ServedFolder {
  /** `http://127.0.0.1:PORT` */
  base: string;
  stop(): Promise<void>;
}

/**
 * Serve `root` with nginx (one worker, no daemon; pid, error log, temp paths and config under
 * `dir`) on a free loopback port; resolves once it answers.
 * @param options.accessLog log file (combined format), or undefined for no access log
 * @param options.types extra `types { … }` entries, e.g. `text/html html;`
 */
export async function serveFolder(root: string, dir: string, options: { accessLog?: string; types?: string } = {}): Promise<ServedFolder> {
  if (NGINX === undefined) throw new Error('nginx is not installed');
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  const t = path.join(dir, 'temp');
  await mkdir(t, { recursive: true });
  await writeFile(
    conf,
    `daemon off;\nmaster_process off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents { worker_connections 64; }\n` +
      `http {\n  access_log ${options.accessLog ?? 'off'};\n  client_body_temp_path ${t}/body;\n  proxy_temp_path ${t}/proxy;\n  fastcgi_temp_path ${t}/fastcgi;\n  uwsgi_temp_path ${t}/uwsgi;\n  scgi_temp_path ${t}/scgi;\n` +
      (options.types ? `  types { ${options.types} }\n` : '') +
      `  default_type application/octet-stream;\n  keepalive_requests 10000;\n  server {\n    listen 127.0.0.1:${port};\n    root ${root};\n  }\n}\n`,
  );
  const nginx: ChildProcess = spawn(NGINX, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (nginx.exitCode === null) {
      const exited = new Promise((r) => nginx.once('exit', r));
      nginx.kill('SIGTERM');
      await exited;
    }
  };
  try {
    await waitUntilServing(`${base}/`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { base, stop };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitUntilServing(url: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const res = await fetch(url, { method: 'HEAD' });
      if (res.status > 0) return; // any answer (403 for the directory) means it listens
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not answer at ${url}`);
}
