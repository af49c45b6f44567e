// Starts bench/payments/peers.mjs (KKiaPay test server + UDP NAS) as a child process and talks to it over IPC.
import { fork } from 'node:child_process';

export async function startPeers(env = {}) {
  const child = fork(new URL('./peers.mjs', import.meta.url).pathname, [], {
    execArgv: ['--conditions=@rgz/source', '--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map();
  let nextId = 0;
  const ready = new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`peers exited ${code} before ready`)));
    child.on('message', (m) => {
      if (m.ready) return resolve(m);
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.ok) p?.resolve(m.value);
      else p?.reject(new Error(m.error));
    });
  });
  const info = await ready;
  const call = (type, args = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, type, ...args });
    });
  return {
    ...info,
    pid: child.pid,
    call,
    async close() {
      await call('close').catch(() => undefined);
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    },
  };
}
