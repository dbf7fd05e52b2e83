// Servers the tests run on 127.0.0.1 with free ports, and stop: workerd, moto (signature
// checking on; `make test` installs it into .tools/venv), s3s-fs (.tools/bin).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const tools = fileURLToPath(new URL('../../.tools/', import.meta.url));

/** A port nothing listens on now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Waits until `port` on 127.0.0.1 takes connections (no request: moto counts them); fails if
 * `child` exits first or after 30 s. */
export async function waitForPort(port, child) {
  let exited = null;
  child.once('exit', (code) => (exited = code));
  child.once('error', (e) => (exited = e.message));
  for (const start = Date.now(); Date.now() - start < 30_000; ) {
    if (exited !== null) throw new Error(`${child.spawnfile} exited (${exited}) before port ${port} opened`);
    const open = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      }).on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`port ${port} did not open within 30 s`);
}

/** Starts `file` with `args` (a `{port}` in them is the free port); resolves { url, stop }. */
async function start(file, args, env = {}) {
  const port = await freePort();
  const child = spawn(file, args.map((a) => a.replace('{port}', String(port))), { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForPort(port, child);
  } catch (e) {
    child.kill();
    throw new Error(`${e.message}\n${stderr}`);
  }
  return { url, stop: () => child.kill() };
}

/** moto checking signatures after the first `unchecked` requests (the set-up's). */
export function startMoto(unchecked) {
  return start(join(tools, 'venv', 'bin', 'moto_server'), ['-H', '127.0.0.1', '-p', '{port}'], { INITIAL_NO_AUTH_ACTION_COUNT: String(unchecked) });
}

/** s3s-fs serving a new empty folder, with one access key. */
export async function startS3sFs(accessKeyId, secretAccessKey) {
  const root = mkdtempSync(join(tmpdir(), 's3s-fs-'));
  const server = await start(join(tools, 'bin', 's3s-fs'), ['--host', '127.0.0.1', '--port', '{port}', '--access-key', accessKeyId, '--secret-key', secretAccessKey, root]);
  return { ...server, stop: () => (server.stop(), rmSync(root, { recursive: true, force: true })) };
}
