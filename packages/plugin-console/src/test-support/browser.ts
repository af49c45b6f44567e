/**
 * Debian's Chromium driven by playwright-core for the console's browser tests (never a downloaded browser), with
 * helpers to sign in and to write each screen's screenshot at phone and laptop width into docs/console/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchTestBrowser, type TestBrowser } from '@rgz/test-browser';
import type { Page } from 'playwright-core';

const DOCS = new URL('../../../../docs/console/', import.meta.url).pathname;

/** The console at laptop size; `screenshots()` switches to phone width and back. */
export function launch(): Promise<TestBrowser> {
  return launchTestBrowser({ profilePrefix: 'rgz-console-chromium-', viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, locale: 'fr-FR' });
}

/** A fresh page with its own cookies is not possible in one persistent context: sign out first, then in. */
export async function signIn(page: Page, base: string, token: string): Promise<void> {
  await page.context().clearCookies();
  await page.goto(`${base}/console/login`);
  await page.getByLabel('Jeton d’accès').fill(token);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByRole('heading', { name: 'Vue d’ensemble' }).waitFor();
}

/**
 * `docs/console/<name>-phone.png` (360 wide) and `-laptop.png` (1280 wide). Rewritten only when missing or with
 * RGZ_UPDATE_SCREENSHOTS=1 (figures and references are random, so every run would change the files).
 */
export async function screenshots(page: Page, name: string): Promise<void> {
  const update = process.env.RGZ_UPDATE_SCREENSHOTS === '1';
  mkdirSync(DOCS, { recursive: true });
  for (const [size, width, height] of [
    ['phone', 360, 740],
    ['laptop', 1280, 800],
  ] as const) {
    const file = join(DOCS, `${name}-${size}.png`);
    const path = update || !existsSync(file) ? file : join(tmpdir(), `rgz-console-${name}-${size}.png`);
    await page.setViewportSize({ width, height });
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** Errors the page's script threw or logged: a screen must have none (4xx pages for refused input are expected). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource: the server responded with a status of 4')) errors.push(m.text());
  });
  return errors;
}
