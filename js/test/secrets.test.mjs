// Secrets stay out of what a program can print: console.log (util.inspect, with and without
// hidden properties), JSON.stringify and the own properties of every public object that holds
// credentials. test/runtimes.test.mjs runs the same check (test/check-secrets.mjs) in Chromium.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import * as api from '../src/index.js';
import { Engine } from '../src/engine.js';
import { SECRET, TOKEN, checkSecrets, secretHolders } from './check-secrets.mjs';

const shows = (text) => text.includes(SECRET) || text.includes(TOKEN);

test('no public object shows the secret key or the session token in its own properties or JSON', async () => {
  assert.deepEqual(await checkSecrets({ ...api, Engine }), {});
});

test('console.log of each public object shows neither the secret key nor the session token', async () => {
  for (const [name, object] of Object.entries(await secretHolders({ ...api, Engine }))) {
    for (const showHidden of [false, true]) {
      const text = inspect(object, { showHidden, depth: Infinity, getters: false });
      assert.ok(!shows(text), `${name}, showHidden ${showHidden}: ${text}`);
    }
  }
});

test('what is not secret still shows, and AwsClient keeps aws4fetch\'s fields', async () => {
  const { AwsClient: client } = await secretHolders({ ...api, Engine });
  const text = inspect(client);
  assert.match(text, /AKIDEXAMPLE/);
  assert.match(text, /region: 'us-east-1'/);
  // aws4fetch's AwsClient has these as fields; ours reads them through accessors, which neither
  // inspect nor JSON.stringify follows.
  assert.equal(client.secretAccessKey, SECRET);
  assert.equal(client.sessionToken, TOKEN);
  client.secretAccessKey = 'other';
  assert.equal(client.secretAccessKey, 'other');
  assert.ok(!inspect(client, { showHidden: true }).includes('other'));
});
