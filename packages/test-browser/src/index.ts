/**
 * Debian's Chromium (never a downloaded browser) driven by playwright-core, for the browser tests of RGZ packages.
 * One place for the binary's path, the skip message when it is missing, the flags and the throwaway profile.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type LaunchOptions } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for every test browser: no sandbox (tests run as root in containers and CI), and nothing that would reach
 * the network on its own (component updates, sync, first-run pages) while a test runs.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

/**
 * `null` when Chromium is installed, else what is missing and how to install it, for a test's skip message
 * (CI installs it from DEBIAN_PEERS in .ci/run).
 */
export function chromiumMissing(path: string = CHROMIUM_PATH): string | null {
  return existsSync(path) ? null : `${path} (apt-get install chromium)`;
}

/** The page settings a test wants: viewport, locale, isMobile, hasTouch… (passed to playwright as they are). */
/** A cheap phone in Bénin, as the portal is designed for: 360 px wide, touch, French. */
export const PHONE_FR = {
  viewport: { width: 360, height: 740 },
  deviceScaleFactor: 1,
  isMobile: true,
  hasTouch: true,
  locale: 'fr-FR',
} as const;

export type TestBrowserOptions = Omit<NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>, 'executablePath' | 'headless' | 'args'> & {
  /** Start of the temporary profile folder's name (in the OS temp folder), to tell the packages' leftovers apart. */
  profilePrefix?: string;
};

export interface TestBrowser {
  /** One persistent context: its pages share cookies and storage. */
  context: BrowserContext;
  /** The temporary profile folder. */
  profile: string;
  /** Closes Chromium and removes the profile folder. */
  close(): Promise<void>;
}

/** Headless Chromium in a persistent context on a fresh temporary profile. */
export async function launchTestBrowser(options: TestBrowserOptions = {}): Promise<TestBrowser> {
  const { profilePrefix = 'rgz-chromium-', ...contextOptions } = options;
  const profile = mkdtempSync(join(tmpdir(), profilePrefix));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      ...contextOptions,
      executablePath: CHROMIUM_PATH,
      headless: true,
      // `--headless` as well as `headless: true`: the persistent-context launches have always been given both.
      args: [...CHROMIUM_ARGS, '--headless'],
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  return {
    context,
    profile,
    async close() {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Headless Chromium without a persistent profile, for tests that open one `browser.newContext(...)` per user
 * (own cookies and localStorage each).
 */
export async function launchTestChromium(options: Omit<LaunchOptions, 'executablePath' | 'headless' | 'args'> = {}): Promise<Browser> {
  return chromium.launch({ ...options, executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] });
}
