import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupTargetContract } from '@rgz/core/testing';
import { FolderTarget } from './folder.js';

backupTargetContract('folder', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rgz-backup-folder-'));
  return { target: new FolderTarget('nas', dir), close: () => rm(dir, { recursive: true, force: true }) };
});
