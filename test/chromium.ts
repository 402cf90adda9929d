// Debian's chromium driven by playwright-core, for the tests of web pages (viewer, annotator,
// the browser bundle). Not a test file itself. The flags keep headless Chromium from reaching
// for network services a CI machine does not have (updates, sync, background requests).
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launch arguments for every browser the tests start. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** playwright-core, or undefined when it is not installed. */
export const playwright: typeof import('playwright-core') | undefined = await import('playwright-core').catch(() => undefined);

/** Why browser tests cannot run here, or false when they can. */
export const browserSkip: string | false = !existsSync(CHROMIUM)
  ? `${CHROMIUM} absent (apt-get install chromium); browser tests skipped`
  : playwright === undefined ? 'playwright-core not installed; browser tests skipped' : false;
