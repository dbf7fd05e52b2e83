// Every case of the AWS signing test suite's v4a folder (SigV4a), header and query, through the
// public API in Node (test/check-suite-v4a.mjs compares the outputs, node:crypto verifies the
// signatures; test/runtimes.test.mjs runs it elsewhere with WebCrypto).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signSync, presignSync, explainSync } from '../src/index.js';
import { sigv4aPublicKey } from '../src/engine.js';
import { loadSuiteV4a } from './suite-v4a.mjs';
import { checkSuiteV4a, webCryptoVerify } from './check-suite-v4a.mjs';
import { nodeVerify } from './v4a-verify.mjs';

const cases = loadSuiteV4a();
const results = await checkSuiteV4a(cases, { signSync, presignSync, explainSync }, nodeVerify);

for (const { name, failures } of results) {
  test(name, () => assert.deepEqual(failures, []));
}

test('the v4a suite has 38 cases, each with header and query variants', () => {
  assert.equal(cases.length, 38);
  assert.equal(results.length, 76);
});

test('the key derived from each case\'s credentials is the suite\'s public key', () => {
  for (const c of cases) {
    const key = sigv4aPublicKey(c.context.access_key_id, c.context.secret_access_key);
    assert.equal(Buffer.from(key).toString('hex'), c.public_key, c.name);
  }
  assert.equal(sigv4aPublicKey('', 'secret'), undefined);
});

test('WebCrypto (the other runtimes\' check) agrees with node:crypto on our signatures and the suite\'s', async () => {
  for (const c of cases.slice(0, 8)) {
    const ours = signSync({ method: c.request.method, url: c.request.uri, headers: c.request.headers }, { accessKeyId: c.context.access_key_id, secretAccessKey: c.context.secret_access_key, region: 'us-east-1', service: 'service', algorithm: 'sigv4a' });
    const signature = ours.authorization.split('Signature=')[1];
    const message = c.expected.header.string_to_sign;
    for (const [sig, msg] of [[c.expected.header.signature, message], [c.expected.query.signature, c.expected.query.string_to_sign], [signature, message], [c.expected.header.signature, `${message}.`]]) {
      assert.equal(await webCryptoVerify(c.public_key, msg, sig), nodeVerify(c.public_key, msg, sig), c.name);
    }
  }
});
