/**
 * The shared SmsSender contract from @rgz/core/testing, run against FileSmsSender. The "gateway" is the append
 * function: the harness records every line the sender hands it and, when told to, fails the way a disk fails
 * (EACCES: permanent, ENOSPC: retryable, EIO after writing: ambiguous).
 */
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ReceivedSms, type SmsFailureMode, smsSenderContract } from '@rgz/core/testing';
import { type FileSmsRecord, FileSmsSender } from './file-sms-sender.js';

const errno = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

smsSenderContract('file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rgz-sms-file-'));
  const received: ReceivedSms[] = [];
  let failure: SmsFailureMode | undefined;
  const sender = new FileSmsSender({
    id: 'file-contract',
    path: join(dir, 'sms.jsonl'),
    senderId: 'RGZ',
    async append(path, line) {
      const record = JSON.parse(line) as FileSmsRecord;
      received.push({ to: record.to, text: record.text, senderId: record.senderId, correlationId: record.correlationId });
      const mode = failure;
      failure = undefined;
      if (mode === 'permanent') throw errno('EACCES');
      if (mode === 'retryable') throw errno('ENOSPC');
      await appendFile(path, line, 'utf8');
      if (mode === 'ambiguous') throw errno('EIO');
    },
  });
  return {
    sender,
    recipient: '+2290197000000',
    received: async () => [...received],
    failNext: async (mode) => {
      failure = mode;
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
});
