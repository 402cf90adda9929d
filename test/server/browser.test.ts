// The viewer's pages in a real headless browser (Debian chromium driven by playwright-core; skips
// with a message when either is absent): the overview shows the right totals, the grid shows
// `count` images with the boxes drawn, changing a perturbation control changes the image, and
// the stream page shows a batch. Screenshots go to $PICPAC_SCREENSHOTS (default: a temp dir).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ViewerServer } from '../../src/server/server.ts';
import { getBytes, startViewer, tempDir, writeBoxDb } from './helpers.ts';
import { CHROMIUM, CHROMIUM_ARGS, browserSkip, playwright } from '../chromium.ts';

// Callbacks passed to page.$eval/waitForFunction run in the browser; the project compiles without
// the DOM lib, so their few DOM names are declared loosely here.
declare const document: any;
type HTMLImageElement = any;
type HTMLInputElement = any;

const skip = browserSkip;

describe('viewer pages in headless chromium', { skip }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let viewer: ViewerServer;
  let browser: Browser;
  let page: Page;
  let shots: string;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    shots = process.env.PICPAC_SCREENSHOTS ?? path.join(dir, 'shots');
    await mkdir(shots, { recursive: true });
    viewer = await startViewer(await writeBoxDb(path.join(dir, 'boxes.picpac'), 12));
    browser = await playwright!.chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
  });
  after(async () => {
    await browser?.close();
    await viewer?.close();
    await cleanup?.();
  });

  /** Pixels of an <img> whose blue exceeds red by 50 (the palette-1 box on grey), read through a canvas. */
  const bluePixelsIn = (selector: string) => page.$$eval(selector, (images) => images.map((img) => {
    const image = img as HTMLImageElement;
    const canvas = document.createElement('canvas');
    canvas.width = image.naturalWidth;
    canvas.height = image.naturalHeight;
    const context = canvas.getContext('2d')!;
    context.drawImage(image, 0, 0);
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 2] - data[i] > 50) count++;
    return { count, width: image.naturalWidth, complete: image.complete };
  }));

  test('overview renders the right totals, collage and thumbnails', async () => {
    await page.goto(`${viewer.url}/`);
    await page.waitForSelector('body[data-ready="1"]');
    assert.equal(await page.textContent('#total-images .value'), '12');
    assert.equal(await page.textContent('#task .value'), 'segmentation');
    assert.equal(await page.textContent('#annotated .value'), '12');
    assert.equal(await page.textContent('tr[data-key="TOTAL_IMAGES"] td:last-child'), '12');
    assert.equal(await page.locator('#labels .bar').count(), 3);
    await page.waitForFunction(() => (document.getElementById('collage') as HTMLImageElement).naturalWidth === 640);
    await page.waitForFunction(() => [...document.querySelectorAll('#classes img')].every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0));
    assert.equal(await page.locator('#classes img').count(), 12);
    await page.screenshot({ path: path.join(shots, 'overview.png'), fullPage: true });
  });

  test('grid /l?count=9&annotate=json shows 9 images with the boxes drawn', async () => {
    await page.goto(`${viewer.url}/l?count=9&annotate=json`);
    await page.waitForFunction(() => [...document.querySelectorAll('#grid img')].every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0));
    const images = await bluePixelsIn('#grid img');
    assert.equal(images.length, 9);
    for (const image of images) {
      assert.equal(image.width, 160);
      assert.ok(image.count > 200, `box pixels: ${image.count}`);
    }
    const plain = await page.goto(`${viewer.url}/l?count=3&annotate=`);
    assert.equal(plain?.status(), 200);
    await page.waitForFunction(() => [...document.querySelectorAll('#grid img')].every((i) => (i as HTMLImageElement).complete));
    for (const image of await bluePixelsIn('#grid img')) assert.equal(image.count, 0, 'no annotate, no boxes');
    await page.goto(`${viewer.url}/l?count=9&annotate=json&perturb=1&pert_angle=25&pert_hflip=1`);
    await page.waitForFunction(() => [...document.querySelectorAll('#grid img')].every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0));
    await page.screenshot({ path: path.join(shots, 'grid.png'), fullPage: true });
  });

  test('record page: changing a perturbation control changes the image', async () => {
    await page.goto(`${viewer.url}/record?id=4`);
    await page.waitForSelector('body[data-ready="1"]');
    assert.equal(await page.textContent('td[data-key="label"]'), '1');
    assert.match(await page.textContent('#annotation') ?? '', /"rect"/);
    const before = await page.getAttribute('#rendered', 'data-url');
    const beforeBytes = await getBytes(`${viewer.url}${before}`);
    assert.ok((await bluePixelsIn('#rendered'))[0].count > 200, 'box drawn on the record image');
    await page.check('#perturb');
    await page.waitForSelector('body[data-renders="2"]');
    await page.$eval('#pert_angle', (input) => {
      (input as HTMLInputElement).value = '90';
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await page.waitForSelector('body[data-renders="3"]');
    const after = await page.getAttribute('#rendered', 'data-url');
    assert.notEqual(after, before);
    assert.match(after!, /perturb=1/);
    assert.match(after!, /pert_angle=90/);
    const afterBytes = await getBytes(`${viewer.url}${after}`);
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    assert.notEqual(sha(afterBytes.bytes), sha(beforeBytes.bytes));
    const drawn = JSON.parse(await page.textContent('#perturbation') ?? '{}');
    assert.ok(Math.abs(drawn.angle) > 0 && Math.abs(drawn.angle) <= 90);
    // The page's pixels changed too (not only the URL).
    const shown = await page.$eval('#rendered', (img) => {
      const image = img as HTMLImageElement;
      const canvas = document.createElement('canvas');
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      canvas.getContext('2d')!.drawImage(image, 0, 0);
      return canvas.toDataURL('image/png');
    });
    await page.locator('#reroll').click();
    await page.waitForSelector('body[data-renders="4"]');
    const rerolled = await page.$eval('#rendered', (img) => {
      const image = img as HTMLImageElement;
      const canvas = document.createElement('canvas');
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      canvas.getContext('2d')!.drawImage(image, 0, 0);
      return canvas.toDataURL('image/png');
    });
    assert.notEqual(rerolled, shown, 're-roll draws another perturbation');
    assert.equal(await page.locator('#label').evaluate((img) => (img as HTMLImageElement).naturalWidth > 0), true, 'label image shown');
    await page.screenshot({ path: path.join(shots, 'record.png'), fullPage: true });
  });

  test('stream page shows one batch, image and label side by side', async () => {
    await page.goto(`${viewer.url}/stream?batch=6&annotate=json&resize_width=80&resize_height=60&perturb=1&pert_angle=15`);
    await page.waitForSelector('body[data-ready="1"]');
    assert.equal(await page.locator('.batch .item').count(), 6);
    assert.equal(await page.locator('.batch .item img.stream-image').count(), 6);
    assert.equal(await page.locator('.batch .item img.stream-label').count(), 6);
    await page.locator('#next').click();
    await page.waitForSelector('body[data-ready="2"]');
    assert.match(await page.textContent('#status') ?? '', /position epoch 1 offset 0/);
    await page.screenshot({ path: path.join(shots, 'stream.png'), fullPage: true });
  });

  test('an invalid parameter shows the 400 message on the page', async () => {
    const reply = await page.goto(`${viewer.url}/l?count=3&pert_angel=20`);
    assert.equal(reply?.status(), 400);
    assert.match(await page.textContent('#error') ?? '', /did you mean "pert_angle"\?/);
  });
});
