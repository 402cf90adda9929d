// [SEC-4] Annotation text is untrusted input: the viewer parses it as data (JSON.parse, never
// evaluated), sends it to pages as JSON, never interpolates it into HTML (the record page shows
// it with textContent, under a CSP that allows only same-origin scripts), and escapes what it
// does interpolate (the grid page).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import type { ViewerServer } from '../../src/server/server.ts';
import { BOX, greyJpeg, repoRoot, startViewer, tempDir } from './helpers.ts';

const HOSTILE = '</script><img src=x onerror="alert(1)"><b>&amp;';
const hostileJson = JSON.stringify({ shapes: [{ type: 'rect', label: 1, geometry: BOX, note: HOSTILE }], [HOSTILE]: HOSTILE });
const CODE = 'globalThis.__picpacAnnotationEvaluated = 1';

let dir: string;
let cleanup: () => Promise<void>;
let viewer: ViewerServer;
let file: string;

before(async () => {
  ({ dir, cleanup } = await tempDir());
  file = path.join(dir, 'x<i>&"y.picpac');
  const writer = await PicpacWriter.create(file, { fsyncOnClose: false });
  await writer.append({ label: 1, fields: [{ kind: 'image', bytes: await greyJpeg(120) }], annotation: hostileJson });
  await writer.append({ label: 2, fields: [{ kind: 'image', bytes: await greyJpeg(140) }], annotation: CODE });
  await writer.close();
  viewer = await startViewer(file);
});
after(async () => {
  await viewer.close();
  await cleanup();
});

test('annotation text reaches pages as JSON data, exactly, and is never evaluated [SEC-4]', async () => {
  const res = await fetch(`${viewer.url}/api/record?id=0`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await res.json()) as { annotationText: string; annotation: { shapes: Array<{ type: string }> } };
  assert.equal(body.annotationText, hostileJson);
  assert.equal(body.annotation.shapes[0].type, 'rect');
  // Text that is code, not JSON: reported as an annotation error, not run.
  const code = (await (await fetch(`${viewer.url}/api/record?id=1`)).json()) as { annotationText: string; annotation: unknown; annotationError: unknown };
  assert.equal(code.annotationText, CODE);
  assert.equal(code.annotation, null);
  assert.ok(typeof code.annotationError === 'string' && code.annotationError.length > 0);
  assert.equal((globalThis as Record<string, unknown>).__picpacAnnotationEvaluated, undefined);
});

test('the record page never contains annotation text; its script renders it with textContent [SEC-4]', async () => {
  const res = await fetch(`${viewer.url}/record?id=0`);
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.ok(!html.includes('onerror'), 'annotation text interpolated into the record page');
  assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  const script = await readFile(path.join(repoRoot, 'src/server/pages/record.js'), 'utf8');
  assert.match(script, /\$\('annotation'\)\.textContent = /);
  assert.doesNotMatch(script, /innerHTML[^;\n]*annotation/i, 'record.js must not build HTML from the annotation');
});

test('the grid page escapes every interpolated value (the file name here) [SEC-4]', async () => {
  const res = await fetch(`${viewer.url}/l?count=2`);
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.ok(html.includes('x&lt;i&gt;&amp;&quot;y.picpac'), 'escaped name shown');
  assert.ok(!html.includes('x<i>&"y'), 'raw name interpolated');
  assert.ok(!html.includes('onerror'));
});
