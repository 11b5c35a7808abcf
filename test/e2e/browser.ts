import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium; the browser tests drive it through playwright-core's protocol client. */
export const CHROMIUM = process.env.PAVE_CHROMIUM ?? '/usr/bin/chromium';

/** Screenshots land in test/e2e/screenshots of the source tree (this file runs from dist/test/e2e). */
export const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'e2e', 'screenshots');

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** A headless chromium on a fresh profile, at a laptop's 1280×800 unless told otherwise. */
export async function launchBrowser(viewport = { width: 1280, height: 800 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is not installed at ${CHROMIUM} (apt-get install chromium, or set PAVE_CHROMIUM)`);
  const profile = mkdtempSync(join(tmpdir(), 'pave-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Fails with the page's own error text when it shows one, which says more than a timeout. */
export async function pageError(page: Page): Promise<string | undefined> {
  const alert = page.locator('[role=alert]').first();
  return (await alert.count()) ? (await alert.innerText()).replace(/\s+/g, ' ') : undefined;
}
