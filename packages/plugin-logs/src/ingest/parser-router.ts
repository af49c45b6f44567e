/**
 * Offering a message to the `LogParsers`: the first parser that returns a record wins; a line nobody claims is kept
 * raw. Order: parsers that list the message's TAG/APP-NAME first; for a message without one (a raw file line, a sender
 * without TAG), parsers that list TAGs (vendor-specific) before generic ones (empty `appNames`); for a TAG no parser
 * lists, generic parsers only. Within a group, the order plugins were loaded. Candidate lists are cached per name.
 */
import type { LogParser, LogRecord, SyslogMessage } from '@rgz/core';

export class ParserRouter {
  readonly #byApp = new Map<string, LogParser[]>();
  readonly #specific: LogParser[] = [];
  readonly #generic: LogParser[] = [];
  readonly #cache = new Map<string, LogParser[]>();

  constructor(
    parsers: Iterable<LogParser>,
    private readonly onError: (parser: LogParser, err: unknown) => void = () => {},
  ) {
    for (const p of parsers) {
      if (p.appNames.length === 0) {
        this.#generic.push(p);
        continue;
      }
      this.#specific.push(p);
      for (const app of p.appNames) {
        const key = app.toLowerCase();
        const list = this.#byApp.get(key) ?? [];
        list.push(p);
        this.#byApp.set(key, list);
      }
    }
  }

  get size(): number {
    return this.#specific.length + this.#generic.length;
  }

  candidates(appName: string | undefined): LogParser[] {
    if (appName === undefined) return [...this.#specific, ...this.#generic];
    const key = appName.toLowerCase();
    let list = this.#cache.get(key);
    if (!list) {
      list = [...(this.#byApp.get(key) ?? []), ...this.#generic];
      if (this.#cache.size < 4096) this.#cache.set(key, list);
    }
    return list;
  }

  parse(message: SyslogMessage): { parser: LogParser; record: LogRecord } | undefined {
    const list = message.appName === undefined ? this.#noApp() : this.candidates(message.appName);
    for (const parser of list) {
      let record: LogRecord | null;
      try {
        record = parser.parse(message);
      } catch (err) {
        this.onError(parser, err);
        continue;
      }
      if (record) return { parser, record };
    }
    return undefined;
  }

  #noAppList: LogParser[] | undefined;
  #noApp(): LogParser[] {
    this.#noAppList ??= [...this.#specific, ...this.#generic];
    return this.#noAppList;
  }
}
