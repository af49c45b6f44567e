/** Build the configured targets. */
import type { BackupTarget } from '@rgz/core';
import type { TargetConfig } from '../config.js';
import { FolderTarget } from './folder.js';
import { S3Target } from './s3.js';

export { FolderTarget } from './folder.js';
export { S3Target, type S3TargetOptions } from './s3.js';

export function createTarget(config: TargetConfig): BackupTarget {
  if (config.kind === 'folder') return new FolderTarget(config.id, config.path);
  const { kind: _kind, ...s3 } = config;
  return new S3Target(s3);
}
