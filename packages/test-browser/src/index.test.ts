import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumMissing, launchTestBrowser } from './index.js';

describe('chromiumMissing', () => {
  it('names the missing binary and the package that installs it', () => {
    expect(chromiumMissing('/nonexistent/chromium')).toBe('/nonexistent/chromium (apt-get install chromium)');
  });
  it('is null for a binary that exists', () => {
    expect(chromiumMissing(process.execPath)).toBeNull();
  });
});

const missing = chromiumMissing();
if (missing) console.warn(`[test-browser] launch test skipped: missing ${missing}`);

describe.skipIf(missing !== null)('launchTestBrowser', () => {
  it('passes the page options through and removes its profile on close', async () => {
    const browser = await launchTestBrowser({ profilePrefix: 'rgz-test-browser-self-', viewport: { width: 360, height: 740 }, locale: 'fr-FR' });
    expect(basename(browser.profile).startsWith('rgz-test-browser-self-')).toBe(true);
    expect(existsSync(browser.profile)).toBe(true);
    const page = await browser.context.newPage();
    expect(page.viewportSize()).toEqual({ width: 360, height: 740 });
    expect(await page.evaluate('navigator.language')).toBe('fr-FR');
    await browser.close();
    expect(existsSync(browser.profile)).toBe(false);
  }, 60_000);
});
