// `sigv4 sign --case DIR --location header|query --json` over every suite case, compared like
// crates/cli/tests/cli_contract.rs compares the Rust CLI; and its errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suiteCases } from './suite.mjs';

const BIN = fileURLToPath(new URL('../bin/sigv4.mjs', import.meta.url));

function sigv4(...args) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
}

test('JSON contract over the AWS suite', () => {
  let variants = 0;
  for (const c of suiteCases) {
    for (const [location, expected] of Object.entries(c.expected)) {
      variants++;
      const out = sigv4('sign', '--case', c.case_dir, '--location', location, '--json');
      assert.equal(out.status, 0, `${c.name}: ${out.stderr}`);
      const json = JSON.parse(out.stdout);
      assert.equal(json.canonical_request, expected.canonical_request, c.name);
      assert.equal(json.string_to_sign, expected.string_to_sign, c.name);
      assert.equal(json.signature, expected.signature, c.name);
      if (location === 'header') {
        assert.equal(json.authorization, expected.authorization, c.name);
        assert.equal(json.url, undefined);
        assert.deepEqual(json.headers.at(-1), ['authorization', expected.authorization]);
      } else {
        assert.ok(json.url.startsWith('https://'), json.url);
        // The suite writes the query decoded; the URL is in the wire form.
        assert.equal(decodeURIComponent(json.url.split('?')[1]), decodeURIComponent(expected.query), c.name);
        assert.equal(json.authorization, undefined);
      }
    }
  }
  assert.equal(variants, 76);
});

test('errors go to stderr with a failing exit and name the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigv4-js-cli-'));
  const context = (expires, region) =>
    JSON.stringify({
      credentials: { access_key_id: 'AKID', secret_access_key: 'SECRETMARKER' },
      expiration_in_seconds: expires,
      region,
      service: 's3',
      timestamp: '2015-08-30T12:36:00Z',
    });
  const run = (location) => sigv4('sign', '--case', dir, '--location', location, '--json');
  writeFileSync(join(dir, 'request.txt'), 'GET / HTTP/1.1\nHost:example.amazonaws.com\n');
  for (const [ctx, location, message] of [
    [context(604801, 'us-east-1'), 'query', 'expires_in must be between 1 and 604800'],
    [context(60, ''), 'header', 'region must not be empty'],
    [context(60, 'us/east'), 'header', 'region contains a byte'],
  ]) {
    writeFileSync(join(dir, 'context.json'), ctx);
    const out = run(location);
    assert.notEqual(out.status, 0);
    assert.equal(out.stdout, '');
    assert.match(out.stderr, new RegExp(message.replace(/[()]/g, '\\$&')));
    assert.doesNotMatch(out.stderr, /SECRETMARKER/);
  }
  writeFileSync(join(dir, 'request.txt'), 'GET / HTTP/1.1\nHost:example.amazonaws.com\nBad Name:v\n');
  writeFileSync(join(dir, 'context.json'), context(60, 'us-east-1'));
  assert.match(run('header').stderr, /headers\[1\]\.name/);
  const missing = sigv4('sign', '--case', '/nonexistent/case', '--json');
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /context\.json/);
  rmSync(dir, { recursive: true });
});
