// Real browser tests: Debian's chromium driven by playwright-core against the annotator on
// 127.0.0.1. Mouse events draw a box, a polygon and a point; the exported .picpac holds them
// normalised; undo/redo; a number key sets the class; two browser contexts get different
// batches; a failed save is shown and retried; keys move, resize and delete. Skips with a
// message when /usr/bin/chromium is absent (CI installs it). One browser for the whole file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { fromPicpacAnnotation } from '../../src/annotate/formats/picpac-json.ts';
import { exportProjectPicpac, initProject } from '../../src/annotate/project-io.ts';
import type { AnnotationProject } from '../../src/annotate/project.ts';
import { startAnnotateServer, type AnnotateServer } from '../../src/annotate/server.ts';
import type { Shape } from '../../src/annotate/shapes.ts';
import { openStore } from '../../src/engine/open-store.ts';
import { repoRoot } from '../cli/helpers.ts';
import { makeImageFolder, tempRoot } from './helpers.ts';
import { CHROMIUM, CHROMIUM_ARGS, browserSkip, playwright } from '../chromium.ts';

// Page-side predicates reach `document` through globalThis: they run in the browser (the page's
// CSP forbids string evaluation), and the project compiles without the DOM library.
/* eslint-disable @typescript-eslint/no-explicit-any */
const skip = browserSkip;

describe('annotator in a real browser', { skip, timeout: 60_000 }, () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let project: AnnotationProject;
  let server: AnnotateServer;
  let browser: Browser;

  before(async () => {
    tmp = await tempRoot();
    await makeImageFolder(path.join(tmp.dir, 'photos'), 30, { width: 320, height: 200 });
    project = (await initProject(path.join(tmp.dir, 'proj'), { images: path.join(tmp.dir, 'photos'), classes: ['car', 'plate', 'person'] })).project;
    server = await startAnnotateServer(project, { port: 0, rows: 1, cols: 3 });
    // launch() gives every run a fresh temporary profile (user-data-dir) of its own.
    browser = await playwright!.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await project?.close();
    await tmp?.cleanup();
  });

  async function openPage(user: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
    const page = await context.newPage();
    page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 503/.test(message.text())) assert.fail(`console error: ${message.text()}`);
    });
    await page.goto(`${server.url}?user=${user}`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForFunction(() => [...(globalThis as any).document.images].every((i: any) => i.complete && i.naturalWidth > 0));
    return page;
  }

  async function cellBox(page: Page, index: number): Promise<{ x: number; y: number; width: number; height: number; imageId: number }> {
    const cell = page.locator('.cell').nth(index);
    const box = (await cell.locator('svg').boundingBox())!;
    return { ...box, imageId: Number(await cell.getAttribute('data-image-id')) };
  }

  const at = (box: { x: number; y: number; width: number; height: number }, fx: number, fy: number): [number, number] => [box.x + box.width * fx, box.y + box.height * fy];

  async function saved(page: Page): Promise<void> {
    await page.waitForFunction(() => (globalThis as any).document.querySelector('#save-state')?.getAttribute('data-pending') === '0', undefined, { timeout: 10_000 });
  }

  async function batchIds(page: Page): Promise<number[]> {
    return page.$$eval('.cell', (cells) => cells.map((c) => Number(c.getAttribute('data-image-id'))));
  }

  async function exportShapes(): Promise<Map<number, Shape[]>> {
    const out = path.join(tmp.dir, `export-${Date.now()}.picpac`);
    await exportProjectPicpac(project, out);
    const store = await openStore(out);
    const byId = new Map<number, Shape[]>();
    try {
      for (let i = 0; i < store.recordCount; i++) byId.set(store.meta(i).id, fromPicpacAnnotation((await store.getAnnotation(i))!, { classes: project.classes }));
    } finally {
      await store.close();
    }
    return byId;
  }

  function near(actual: number, expected: number, pixels: number, what: string): void {
    assert.ok(Math.abs(actual - expected) * pixels <= 1, `${what}: ${actual} vs ${expected} (${(Math.abs(actual - expected) * pixels).toFixed(2)} px)`);
  }

  test('draw a box, a polygon and a point with the mouse; the export has them normalised, with classes', async () => {
    const page = await openPage('alice');
    const [c0, c1, c2] = [await cellBox(page, 0), await cellBox(page, 1), await cellBox(page, 2)];
    // Box: press, drag, release (no dialog), then key 2 gives it class "plate".
    await page.mouse.move(...at(c0, 0.2, 0.3));
    await page.mouse.down();
    await page.mouse.move(...at(c0, 0.4, 0.5), { steps: 4 });
    await page.mouse.move(...at(c0, 0.6, 0.7), { steps: 4 });
    await page.mouse.up();
    await page.keyboard.press('2');
    // Polygon: click vertices, click the first one again to close.
    await page.keyboard.press('g');
    for (const [fx, fy] of [[0.1, 0.1], [0.8, 0.2], [0.5, 0.9], [0.1, 0.1]]) await page.mouse.click(...at(c1, fx, fy));
    // Point: one click (class "person" picked first with key 3).
    await page.keyboard.press('p');
    await page.keyboard.press('Escape');
    await page.keyboard.press('3');
    await page.mouse.click(...at(c2, 0.25, 0.75));
    await saved(page);
    assert.equal(await page.locator('.cell').nth(0).locator('[data-shape-id]').getAttribute('data-class-name'), 'plate');

    const shapes = await exportShapes();
    const W = (id: number) => project.image(id)!.width;
    const H = (id: number) => project.image(id)!.height;
    const [rect] = shapes.get(c0.imageId)!;
    assert.equal(rect.type, 'rect');
    assert.equal(rect.className, 'plate');
    const g = rect.geometry as { x: number; y: number; width: number; height: number };
    near(g.x, 0.2, W(c0.imageId), 'rect x');
    near(g.y, 0.3, H(c0.imageId), 'rect y');
    near(g.width, 0.4, W(c0.imageId), 'rect width');
    near(g.height, 0.4, H(c0.imageId), 'rect height');
    const [poly] = shapes.get(c1.imageId)!;
    assert.equal(poly.type, 'polygon');
    assert.equal(poly.className, 'plate', 'the class chosen last (key 2) applies to new shapes');
    const pts = (poly.geometry as { points: Array<{ x: number; y: number }> }).points;
    assert.equal(pts.length, 3, 'closing click does not repeat the first vertex');
    [[0.1, 0.1], [0.8, 0.2], [0.5, 0.9]].forEach(([fx, fy], k) => {
      near(pts[k].x, fx, W(c1.imageId), `vertex ${k} x`);
      near(pts[k].y, fy, H(c1.imageId), `vertex ${k} y`);
    });
    const [point] = shapes.get(c2.imageId)!;
    assert.equal(point.type, 'point');
    assert.equal(point.className, 'person');
    near((point.geometry as { x: number }).x, 0.25, W(c2.imageId), 'point x');
    near((point.geometry as { y: number }).y, 0.75, H(c2.imageId), 'point y');
    // The picpac annotation JSON carries label = class number and a tag.
    const store = await openStore((await import('node:fs')).readdirSync(tmp.dir).filter((f) => f.startsWith('export-')).map((f) => path.join(tmp.dir, f))[0]);
    const raw = JSON.parse((await store.getAnnotation(0))!);
    await store.close();
    assert.equal(raw.shapes[0].label, project.classes.indexOf(raw.shapes[0].class) + 1);
    assert.equal(raw.shapes[0].tag, 1);
    await page.context().close();
  });

  test('undo removes the last shape, redo brings it back; Delete, arrows and Alt+arrows edit the selection', async () => {
    const page = await openPage('bob');
    const c = await cellBox(page, 0);
    for (const [x0, x1] of [[0.1, 0.3], [0.5, 0.8]]) {
      await page.mouse.move(...at(c, x0, 0.2));
      await page.mouse.down();
      await page.mouse.move(...at(c, x1, 0.6), { steps: 5 });
      await page.mouse.up();
    }
    await saved(page);
    const shapesOf = () => page.locator('.cell').nth(0).locator('[data-shape-id]');
    assert.equal(await shapesOf().count(), 2);
    await page.keyboard.press('Control+z');
    assert.equal(await shapesOf().count(), 1);
    await saved(page);
    assert.equal(project.state(c.imageId).shapes.length, 1, 'the undo reached the server');
    const remaining = project.state(c.imageId).shapes[0].geometry as { x: number };
    near(remaining.x, 0.1, project.image(c.imageId)!.width, 'the first box stays');
    await page.keyboard.press('Control+y');
    await saved(page);
    assert.equal(project.state(c.imageId).shapes.length, 2, 'redo');
    await page.keyboard.press('Control+z');
    await saved(page);
    assert.equal(project.state(c.imageId).shapes.length, 1);

    // Select the remaining box by clicking it, move it 10 px right (Shift+→), widen it 1 px (Alt+→).
    await page.mouse.click(...at(c, 0.2, 0.4));
    const before = { ...(project.state(c.imageId).shapes[0].geometry as { x: number; width: number }) };
    await page.keyboard.press('Shift+ArrowRight');
    await page.keyboard.press('Alt+ArrowRight');
    await saved(page);
    const W = project.image(c.imageId)!.width;
    const moved = project.state(c.imageId).shapes[0].geometry as { x: number; width: number };
    near(moved.x, before.x + 10 / W, W * 100, 'moved 10 px');
    near(moved.width, before.width + 1 / W, W * 100, 'resized 1 px');
    await page.keyboard.press('Delete');
    await saved(page);
    assert.equal(project.state(c.imageId).shapes.length, 0);
    assert.equal(await shapesOf().count(), 0);
    // A tiny drag (< 4 px) is not a box (Owl).
    await page.mouse.move(...at(c, 0.5, 0.5));
    await page.mouse.down();
    await page.mouse.move(c.x + c.width * 0.5 + 2, c.y + c.height * 0.5 + 2);
    await page.mouse.up();
    assert.equal(await shapesOf().count(), 0);
    await page.context().close();
  });

  test('zoomed in, a box still lands where it was drawn; mouse move and corner resize; V sets verified', async () => {
    const page = await openPage('heidi');
    const c = await cellBox(page, 0);
    const W = project.image(c.imageId)!.width;
    const H = project.image(c.imageId)!.height;
    // Zoom ×1.25² around the centre with the wheel, then pan a little with the middle button.
    await page.mouse.move(...at(c, 0.5, 0.5));
    await page.mouse.wheel(0, -100);
    await page.mouse.wheel(0, -100);
    await page.mouse.down({ button: 'middle' });
    await page.mouse.move(c.x + c.width * 0.5 + 30, c.y + c.height * 0.5 + 10, { steps: 3 });
    await page.mouse.up({ button: 'middle' });
    const z = await cellBox(page, 0); // the image's box on screen now
    assert.ok(z.width > c.width * 1.5, `zoomed: ${z.width} vs ${c.width}`);
    await page.mouse.move(...at(z, 0.4, 0.45));
    await page.mouse.down();
    await page.mouse.move(...at(z, 0.5, 0.55), { steps: 4 });
    await page.mouse.up();
    await saved(page);
    let g = project.state(c.imageId).shapes[0].geometry as { x: number; y: number; width: number; height: number };
    near(g.x, 0.4, W, 'x under zoom');
    near(g.y, 0.45, H, 'y under zoom');
    near(g.width, 0.1, W, 'width under zoom');
    await page.keyboard.press('0'); // back to fit
    // Drag the selected box by its inside, then its bottom-right handle.
    const f = await cellBox(page, 0);
    await page.mouse.move(...at(f, 0.45, 0.5));
    await page.mouse.down();
    await page.mouse.move(...at(f, 0.65, 0.6), { steps: 4 });
    await page.mouse.up();
    await saved(page);
    g = project.state(c.imageId).shapes[0].geometry as typeof g;
    near(g.x, 0.6, W, 'moved x');
    near(g.y, 0.55, H, 'moved y');
    await page.mouse.move(...at(f, 0.7, 0.65));
    await page.mouse.down();
    await page.mouse.move(...at(f, 0.9, 0.8), { steps: 4 });
    await page.mouse.up();
    await saved(page);
    g = project.state(c.imageId).shapes[0].geometry as typeof g;
    near(g.x, 0.6, W, 'resize keeps the opposite corner');
    near(g.x + g.width, 0.9, W, 'resized right edge');
    near(g.y + g.height, 0.8, H, 'resized bottom edge');
    assert.equal(project.state(c.imageId).shapes.length, 1, 'moving and resizing drew nothing new');
    await page.keyboard.press('v');
    await saved(page);
    assert.equal(project.state(c.imageId).verified, true);
    assert.equal(await page.locator('.cell').nth(0).locator('input.verified').isChecked(), true);
    await page.context().close();
  });

  test('a class key sets the class of the selected shape and of new ones; the class list shows it', async () => {
    const page = await openPage('carol');
    const c = await cellBox(page, 1);
    await page.keyboard.press('3');
    assert.equal(await page.locator('#classes li.active .cname').textContent(), 'person');
    await page.mouse.move(...at(c, 0.3, 0.3));
    await page.mouse.down();
    await page.mouse.move(...at(c, 0.7, 0.7), { steps: 4 });
    await page.mouse.up();
    await saved(page);
    assert.equal(project.state(c.imageId).shapes[0].className, 'person');
    await page.keyboard.press('1');
    await saved(page);
    assert.equal(project.state(c.imageId).shapes[0].className, 'car');
    assert.equal(await page.locator('#classes li.active .cname').textContent(), 'car');
    assert.equal(await page.locator('.cell').nth(1).locator('text.label').textContent(), 'car');
    await page.context().close();
  });

  test('two browser contexts get different batches; D hands out the next one, A goes back', async () => {
    const [a, b] = [await openPage('dave'), await openPage('erin')];
    const idsA = await batchIds(a);
    const idsB = await batchIds(b);
    assert.equal(idsA.length, 3);
    assert.equal(idsB.length, 3);
    assert.deepEqual(idsA.filter((id) => idsB.includes(id)), [], `${idsA} / ${idsB}`);
    // Clicking a checkbox must not keep the focus from the keys.
    await a.locator('.cell').nth(0).locator('input.verified').click();
    await a.waitForFunction(() => (globalThis as any).document.querySelector('#save-state')?.getAttribute('data-pending') === '0');
    assert.equal(project.state(idsA[0]).verified, true);
    await a.keyboard.press('d');
    await a.waitForFunction((old) => (globalThis as any).document.querySelector('.cell')?.getAttribute('data-image-id') !== String(old), idsA[0]);
    const nextA = await batchIds(a);
    assert.deepEqual(nextA.filter((id) => idsA.includes(id) || idsB.includes(id)), []);
    await a.keyboard.press('a');
    await a.waitForFunction((first) => (globalThis as any).document.querySelector('.cell')?.getAttribute('data-image-id') === String(first), idsA[0]);
    assert.deepEqual(await batchIds(a), idsA);
    await a.context().close();
    await b.context().close();
  });

  test('a failed save is shown and retried until the server has it', async () => {
    const page = await openPage('frank');
    let failures = 0;
    await page.route('**/api/save', async (route) => {
      if (failures < 1) {
        failures++;
        await route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"busy"}' });
      } else await route.continue();
    });
    const c = await cellBox(page, 2);
    await page.keyboard.press('p');
    await page.mouse.click(...at(c, 0.5, 0.5));
    await page.waitForFunction(() => (globalThis as any).document.querySelector('#save-state').classList.contains('failed'));
    assert.match((await page.locator('#save-state').textContent())!, /save failed \(busy\) — retrying, 1 pending/);
    assert.equal(await page.locator('.cell').nth(2).locator('.shape.pending').count(), 1, 'drawn dashed until acknowledged');
    await saved(page);
    assert.equal(await page.locator('#save-state').textContent(), 'saved');
    assert.equal(project.state(c.imageId).shapes.length, 1);
    await page.context().close();
  });

  test('the page renders (screenshot; PICPAC_UPDATE_DOCS=1 keeps it as docs/annotator.png) and the review pages load', async () => {
    const page = await openPage('grace');
    const c = await cellBox(page, 0);
    await page.mouse.move(...at(c, 0.15, 0.2));
    await page.mouse.down();
    await page.mouse.move(...at(c, 0.55, 0.75), { steps: 4 });
    await page.mouse.up();
    await page.keyboard.press('1');
    const c1 = await cellBox(page, 1);
    await page.keyboard.press('g');
    for (const [fx, fy] of [[0.3, 0.2], [0.75, 0.35], [0.6, 0.8], [0.25, 0.7], [0.3, 0.2]]) await page.mouse.click(...at(c1, fx, fy));
    await page.keyboard.press('2');
    await page.mouse.move(...at(c1, 0.45, 0.5));
    await saved(page);
    const shot = await page.screenshot({ path: path.join(tmp.dir, 'annotator.png') });
    assert.ok(shot.byteLength > 20_000, 'a screenshot with content');
    assert.equal(await page.locator('.cell').nth(0).locator('rect.shape').getAttribute('color'), '#4fc3f7', 'class 1 colour');
    assert.match((await page.locator('#counts').textContent())!, /Total: 30 · Done: \d+ · Todo: \d+ · Verified: \d+ · You: 2 shapes/);
    if (process.env.PICPAC_UPDATE_DOCS === '1') {
      await mkdir(path.join(repoRoot, 'docs'), { recursive: true });
      await writeFile(path.join(repoRoot, 'docs/annotator.png'), shot);
    }
    await page.goto(new URL('/annotate/review/', server.url).href);
    await page.waitForSelector('#review-rows tr');
    assert.ok((await page.locator('#review-rows tr').count()) >= 4);
    assert.equal(await page.locator('#grid').isVisible(), false, 'the list page shows no grid');
    assert.equal(await page.locator('#tools').isVisible(), false);
    assert.ok(((await page.locator('#review-list h1').boundingBox())?.y ?? 1000) < 150, 'the list starts under the header');
    await page.locator('#review-rows a').first().click();
    await page.waitForSelector('.cell svg [data-shape-id]');
    assert.ok((await page.locator('#log-rows li').count()) >= 1);
    await page.context().close();
  });
});
