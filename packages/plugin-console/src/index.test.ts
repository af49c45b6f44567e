/** The plugin value and the small pure helpers: version, escaping, the sign-in redirect target, Bénin's day. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { h, raw } from './html.js';
import { messages } from './i18n.js';
import consolePlugin, { configSchema } from './index.js';
import { safeNext } from './screens/login.js';
import { beninDay } from './screens/overview.js';

describe('@rgz/plugin-console', () => {
  it('has the version of its package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(consolePlugin.version).toBe(pkg.version);
    expect(consolePlugin.name).toBe('console');
  });

  it('config: defaults, and a misspelt key is an error', () => {
    expect(configSchema.parse({})).toEqual({ sessionHours: 12, defaultLang: 'fr' });
    expect(() => configSchema.parse({ sessionHour: 3 })).toThrow();
  });

  it('escapes every interpolated value unless it is trusted markup', () => {
    expect(h`<p title="${'"><script>'}">${'<b>&'}${raw('<i>x</i>')}${['<', h`<br>`]}${null}${false}</p>`.value).toBe(
      '<p title="&#34;&#62;&#60;script&#62;">&#60;b&#62;&#38;<i>x</i>&#60;<br></p>',
    );
  });

  it('sends a signed-in user back to a console path only', () => {
    expect(safeNext('/console/payments?status=credited')).toBe('/console/payments?status=credited');
    for (const bad of ['https://evil.example/', '//evil.example/console', '/consolex', '/api/core/whoami', undefined]) expect(safeNext(bad)).toBe('/console');
  });

  it('a day in Bénin starts at 00:00+01:00', () => {
    expect(beninDay(new Date('2026-11-30T23:30:00Z'))).toEqual({ day: '2026-12-01', month: '2026-12' });
    expect(beninDay(new Date('2026-11-30T22:59:00Z'))).toEqual({ day: '2026-11-30', month: '2026-11' });
  });

  it('French and English have the same words', () => {
    expect(Object.keys(messages.en).sort()).toEqual(Object.keys(messages.fr).sort());
  });
});
