/**
 * One process owns a data directory (its spool, tail offsets and local files): `owner.lock` holds its pid. A second
 * process on the same directory — typically `rgz logs search` run beside the server, since CLI commands start plugins
 * too — finds a live owner and stays passive: it searches, but neither listens, tails nor ships. A lock whose pid is
 * gone (crash) is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DirLock {
  readonly owned: boolean;
  /** Pid of the live owner when not ours. */
  readonly ownerPid: number | undefined;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireDirLock(dir: string): DirLock {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'owner.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      let released = false;
      return {
        owned: true,
        ownerPid: process.pid,
        release() {
          if (released) return;
          released = true;
          try {
            if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
          } catch {
            // gone already
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let pid = Number.NaN;
    try {
      pid = Number(readFileSync(file, 'utf8').trim());
    } catch {
      continue;
    }
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      return { owned: false, ownerPid: pid, release() {} };
    }
    // Stale (or our own pid from an earlier, unreleased instance in this process): take it over.
    rmSync(file, { force: true });
  }
  return { owned: false, ownerPid: undefined, release() {} };
}
