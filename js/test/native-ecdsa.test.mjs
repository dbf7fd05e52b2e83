// SigV4a's ECDSA through node:crypto (src/native-ecdsa.js) in Node, and the wasm's p256 where it
// is off (as in browsers): both sign what verifies under the credentials' public key, the key is
// imported once per credentials, two signers never sign with each other's key, and a runtime
// whose node:crypto fails or answers in another encoding falls back to the wasm without an error.

import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { SignatureV4a, explainSync, signSync } from '../src/index.js';
import { sigv4aPublicKey } from '../src/engine.js';
import * as native from '../src/native-ecdsa.js';
import { nodeCrypto } from '../src/hash.js';
import { nodeVerify } from './v4a-verify.mjs';

const { nativeEcdsaCounts, nativeEcdsaEnabled, setNativeEcdsa } = native;
const signingDate = new Date('2024-05-06T07:08:09Z');
const alice = { accessKeyId: 'AKIDALICE', secretAccessKey: 'alice-secret-0123456789' };
const bob = { accessKeyId: 'AKIDBOB', secretAccessKey: 'bob-secret-9876543210' };
const request = { method: 'GET', url: 'https://b.mrap.accesspoint.s3-global.amazonaws.com/k' };
const options = (credentials) => ({ ...credentials, service: 's3', algorithm: 'sigv4a', region: '*', signingDate });
const publicKey = (c) => Buffer.from(sigv4aPublicKey(c.accessKeyId, c.secretAccessKey)).toString('hex');
const signatureOf = (authorization) => authorization.slice(authorization.lastIndexOf('Signature=') + 10);
const stringToSign = explainSync(request, options(alice)).stringToSign;

/** Whether an Authorization of the request verifies under `credentials`' key (the string to sign names no access key). */
const verifies = (credentials, authorization) => nodeVerify(publicKey(credentials), stringToSign, signatureOf(authorization));
const httpRequest = () => ({ method: 'GET', protocol: 'https:', hostname: 'b.mrap.accesspoint.s3-global.amazonaws.com', path: '/k', query: {}, headers: { host: 'b.mrap.accesspoint.s3-global.amazonaws.com' } });

afterEach(() => setNativeEcdsa(true));

// Node lends node:crypto synchronously from 20.16 (process.getBuiltinModule); the package's
// engines allow 20.0, where the wasm signs.
const lends = typeof process.getBuiltinModule === 'function';

test('in Node, signSync and SignatureV4a sign SigV4a through node:crypto, the key imported once', { skip: !lends && 'this Node lends no node:crypto synchronously' }, async () => {
  assert.ok(nativeEcdsaEnabled());
  setNativeEcdsa(true);
  const before = nativeEcdsaCounts();
  const signatures = new Set();
  for (let i = 0; i < 4; i++) {
    const { authorization } = signSync(request, options(alice));
    assert.ok(verifies(alice, authorization), authorization);
    signatures.add(signatureOf(authorization));
  }
  const signer = new SignatureV4a({ credentials: alice, region: '*', service: 's3', uriEscapePath: false });
  const signed = await signer.sign(httpRequest(), { signingDate });
  assert.ok(verifies(alice, signed.headers.authorization));
  const after = nativeEcdsaCounts();
  assert.equal(after.signatures - before.signatures, 5);
  // One import for signSync's signer, one for the SignatureV4a's (each signer its own key id).
  assert.equal(after.imports - before.imports, 2);
  // OpenSSL's nonces are random: the four signatures differ, and each verifies.
  assert.equal(signatures.size, 4);
});

test('signers of other credentials, alternating, each sign with their own key', async () => {
  const signers = [[alice, new SignatureV4a({ credentials: alice, region: '*', service: 's3', uriEscapePath: false })], [bob, new SignatureV4a({ credentials: bob, region: '*', service: 's3', uriEscapePath: false })]];
  const before = nativeEcdsaCounts();
  for (let i = 0; i < 3; i++) {
    for (const [credentials, signer] of signers) {
      const other = credentials === alice ? bob : alice;
      // Two signers, each with its key cached: the one imported key is another's every time.
      const { authorization } = (await signer.sign(httpRequest(), { signingDate })).headers;
      assert.ok(verifies(credentials, authorization) && !verifies(other, authorization), `${credentials.accessKeyId} ${i}`);
      // signSync's one signer, its credentials changed every time.
      const sync = signSync(request, options(credentials)).authorization;
      assert.ok(verifies(credentials, sync) && !verifies(other, sync), `signSync ${credentials.accessKeyId} ${i}`);
    }
  }
  const after = nativeEcdsaCounts();
  assert.equal(after.signatures - before.signatures, 12);
  assert.equal(after.imports - before.imports, 12);
});

test('with the native path off (as in a browser) the wasm signs: RFC 6979, verifying, explainSync\'s', () => {
  assert.equal(setNativeEcdsa(false), false);
  assert.equal(nativeEcdsaEnabled(), false);
  const before = nativeEcdsaCounts();
  const first = signSync(request, options(alice)).authorization;
  assert.equal(signSync(request, options(alice)).authorization, first);
  assert.equal(first, explainSync(request, options(alice)).headers.authorization);
  assert.ok(verifies(alice, first));
  assert.deepEqual(nativeEcdsaCounts(), before);
  assert.equal(setNativeEcdsa(true), true);
  assert.notEqual(signSync(request, options(alice)).authorization, first);
});

test('a node:crypto that fails or answers r || s turns the native path off; signing still works', (t) => {
  const { sign, createPrivateKey } = nodeCrypto;
  t.after(() => {
    nodeCrypto.sign = sign;
    nodeCrypto.createPrivateKey = createPrivateKey;
  });
  const broken = [
    ['sign answers IEEE P1363', () => { nodeCrypto.sign = (alg, data, key) => sign(alg, data, { ...key, dsaEncoding: 'ieee-p1363' }); }],
    ['sign throws', () => { nodeCrypto.sign = () => { throw new Error(`no: ${alice.secretAccessKey}`); }; }],
    ['createPrivateKey throws', () => { nodeCrypto.createPrivateKey = () => { throw new Error('unsupported'); }; }],
  ];
  for (const [name, breakIt] of broken) {
    setNativeEcdsa(true);
    // A fresh key, so that it is imported under the broken node:crypto.
    const credentials = { accessKeyId: 'AKIDBROKEN', secretAccessKey: `broken-${name}` };
    breakIt();
    const { authorization } = signSync(request, options(credentials));
    assert.ok(verifies(credentials, authorization), name);
    assert.equal(nativeEcdsaEnabled(), false, name);
    nodeCrypto.sign = sign;
    nodeCrypto.createPrivateKey = createPrivateKey;
  }
});

test('the module shows no key: its exports are functions, the counts hold numbers', () => {
  signSync(request, options(alice));
  for (const [name, value] of Object.entries(native)) assert.equal(typeof value, 'function', name);
  const shown = inspect(native, { showHidden: true, depth: Infinity }) + JSON.stringify(nativeEcdsaCounts());
  assert.ok(!/KeyObject|PrivateKey|secret/i.test(shown), shown);
});
