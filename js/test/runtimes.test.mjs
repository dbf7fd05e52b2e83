// The AWS signing test suite in every other runtime the package supports, each the real thing
// from npm or Debian (installed by `make js-test`): Deno and Bun run the package as they resolve
// it; workerd (Cloudflare Workers) and headless Chromium run what a bundler (esbuild) makes of it.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, copyFileSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { suiteCases, suitePath } from './suite.mjs';
import { loadSuiteV4a } from './suite-v4a.mjs';
import { freePort, waitForPort } from './servers.mjs';
import { signSync, presignSync } from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => join(root, 'node_modules', '.bin', name);
const runSuite = join(root, 'test', 'runtimes', 'run-suite.mjs');
const runSuiteV4a = join(root, 'test', 'runtimes', 'run-suite-v4a.mjs');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const work = mkdtempSync(join(tmpdir(), 'sigv4-runtimes-'));
after(() => rmSync(work, { recursive: true, force: true }));
// The v4a suite (SigV4a) as test/suite-v4a.mjs reads it, for the runtimes to load.
const v4aCases = loadSuiteV4a();
const v4aPath = join(work, 'suite-v4a.json');
writeFileSync(v4aPath, JSON.stringify(v4aCases));

/** The suite's results, as each runtime reports them, match every case (and the growth check). */
function assertSuitePassed(results) {
  assert.equal(results.length, 77);
  assert.deepEqual(results.filter((r) => r.failures.length > 0), []);
}

/** The v4a suite's results (signatures checked with the runtime's WebCrypto) match every case. */
function assertV4aPassed(results) {
  assert.equal(results.length, 76);
  assert.deepEqual(results.filter((r) => r.failures.length > 0), []);
}

async function runJson(file, args) {
  const { stdout } = await promisify(execFile)(file, args, { cwd: root, maxBuffer: 16 << 20 });
  return JSON.parse(stdout);
}

test('Node loads the package with require() (CommonJS) and signs as the ES module does', async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(root, 'test', 'runtimes', 'require.cjs')], { cwd: root });
  assert.equal(stderr, '');
  const request = { method: 'GET', url: 'https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15' };
  const options = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', region: 'us-east-1', service: 'sts', signingDate: '2024-05-06T07:08:09Z' };
  assert.deepEqual(JSON.parse(stdout), {
    headers: signSync(request, options),
    url: presignSync(request, options),
    classes: ['function', 'function', 'function'],
  });
});

test('Deno runs the suite, and the v4a suite', async () => {
  assertSuitePassed(await runJson(bin('deno'), ['run', '--quiet', '--no-prompt', `--allow-read=${root},${suitePath}`, runSuite, suitePath]));
  assertV4aPassed(await runJson(bin('deno'), ['run', '--quiet', '--no-prompt', `--allow-read=${root},${v4aPath}`, runSuiteV4a, v4aPath]));
});

test('Bun runs the suite, and the v4a suite', async () => {
  assertSuitePassed(await runJson(bin('bun'), ['run', runSuite, suitePath]));
  assertV4aPassed(await runJson(bin('bun'), ['run', runSuiteV4a, v4aPath]));
});

/** Bundles `entry` (a path under test/runtimes) into `outfile` for `conditions`. */
async function bundle(entry, outfile, options) {
  await build({
    entryPoints: [join(root, 'test', 'runtimes', entry)],
    outfile,
    bundle: true,
    format: 'esm',
    logLevel: 'error',
    ...options,
  });
}

test('workerd (Cloudflare Workers) runs the suite and the v4a suite with the wasm as a module', async () => {
  const dir = join(work, 'workerd');
  await bundle('worker.mjs', join(dir, 'worker.js'), { platform: 'neutral', conditions: ['workerd', 'worker', 'browser'], external: ['*.wasm', 'suite.json', 'suite-v4a.json'] });
  copyFileSync(join(root, 'dist', 'sigv4_js_bg.wasm'), join(dir, 'sigv4_js_bg.wasm'));
  copyFileSync(suitePath, join(dir, 'suite.json'));
  copyFileSync(v4aPath, join(dir, 'suite-v4a.json'));
  const port = await freePort();
  writeFileSync(join(dir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "sigv4_js_bg.wasm", wasm = embed "sigv4_js_bg.wasm"),
    (name = "suite.json", json = embed "suite.json"),
    (name = "suite-v4a.json", json = embed "suite-v4a.json"),
  ],
  compatibilityDate = "2025-09-01",
);
`);
  const workerd = spawn(bin('workerd'), ['serve', join(dir, 'config.capnp')], { stdio: ['ignore', 'inherit', 'inherit'] });
  try {
    const url = `http://127.0.0.1:${port}/`;
    await waitForPort(port, workerd);
    assertSuitePassed(await (await fetch(url)).json());
    assertV4aPassed(await (await fetch(`${url}v4a`)).json());
  } finally {
    workerd.kill();
  }
});

test('headless Chromium runs the suite and the v4a suite in a page, and finds no secret in the package\'s objects', async () => {
  const dir = join(work, 'chromium');
  await bundle('entry.mjs', join(dir, 'bundle.js'), { platform: 'browser' });
  const page = '<!doctype html><title>sigv4-wasm</title>';
  const server = createServer((req, res) => {
    if (req.url === '/bundle.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(join(dir, 'bundle.js')));
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  let browser;
  try {
    // Chromium's own background traffic is off: this machine's network is closed but for loopback.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const tab = await browser.newPage();
    const errors = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(`http://127.0.0.1:${server.address().port}/`);
    const results = await tab.evaluate(async (cases) => {
      const api = await import('/bundle.js');
      return api.checkSuite(cases, api);
    }, suiteCases);
    assert.deepEqual(errors, []);
    assertSuitePassed(results);
    assertV4aPassed(await tab.evaluate(async (cases) => {
      const api = await import('/bundle.js');
      return api.checkSuiteV4a(cases, api);
    }, v4aCases));
    // No object that holds credentials shows a secret in its own properties or its JSON.
    assert.deepEqual(await tab.evaluate(async () => (await import('/bundle.js')).checkSecrets(await import('/bundle.js'))), {});
  } finally {
    await browser?.close();
    server.close();
  }
});
