/**
 * The test peer of the SmsSender contract: a sink that records every record it is handed (including those it then
 * fails) and, when told to, fails the next one the way a disk does: EACCES (permanent), ENOSPC (retryable), or EIO
 * after the write (ambiguous: the message may be in the file).
 */
import type { SmsFailureMode } from '@rgz/core/testing';
import type { SmsRecord, SmsSink } from '../sender.js';

export interface RecordingSink {
  readonly sink: SmsSink;
  readonly records: readonly SmsRecord[];
  failNext(mode: SmsFailureMode): void;
}

const errno = (code: string) => Object.assign(new Error(`${code}: simulated by the test`), { code });

export function recordingSink(): RecordingSink {
  const records: SmsRecord[] = [];
  let failure: SmsFailureMode | undefined;
  return {
    records,
    failNext(mode) {
      failure = mode;
    },
    async sink(record) {
      records.push(record);
      const mode = failure;
      failure = undefined;
      if (mode === 'permanent') throw errno('EACCES');
      if (mode === 'retryable') throw errno('ENOSPC');
      if (mode === 'ambiguous') throw errno('EIO');
    },
  };
}
