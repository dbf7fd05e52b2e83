// Bad input throws a SigV4Error with a code and the field, never a wasm trap or RuntimeError.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signSync, presignSync, SigV4Error } from '../src/index.js';
import { Engine } from '../src/engine.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const options = { ...credentials, region: 'us-east-1', service: 'service', signingDate: new Date('2015-08-30T12:36:00Z') };
const request = { method: 'GET', url: 'https://example.amazonaws.com/' };

function rejects(fn, code, field, message) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof SigV4Error, `${e?.name}: ${e?.message}`);
    assert.equal(e.code, code);
    assert.equal(e.field, field);
    if (message) assert.match(e.message, message);
    return true;
  });
}

test('a valid request signs (the errors below are not from a broken signer)', () => {
  const headers = signSync(request, options);
  assert.equal(headers.authorization.slice(-64), '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
});

test('invalid URL', () => {
  rejects(() => signSync({ url: 'example.amazonaws.com/' }, options), 'invalid_uri', 'uri', /uri is not valid/);
  rejects(() => signSync({ url: 'https:///path' }, options), 'invalid_uri', 'uri', /authority/);
  rejects(() => signSync({ url: '/no-host' }, options), 'missing_host', 'host');
});

test('bad header name and value', () => {
  const headers = [['x-ok', '1'], ['bad name', 'v']];
  rejects(() => signSync({ ...request, headers }, options), 'invalid_byte', 'headers[1].name', /headers\[1\]\.name contains a byte .*0x20 at offset 3/);
  rejects(() => signSync({ ...request, headers: { 'x-a': 'line\u0000break' } }, options), 'invalid_byte', 'headers[0].value');
});

test('expiry over 7 days, zero or fractional', () => {
  rejects(() => presignSync(request, { ...options, expiresIn: 604801 }), 'expires_in_out_of_range', 'expires_in', /got 604801/);
  rejects(() => presignSync(request, { ...options, expiresIn: 0 }), 'expires_in_out_of_range', 'expires_in');
  rejects(() => presignSync(request, { ...options, expiresIn: 1.5 }), 'expires_in_out_of_range', 'expires_in');
  assert.match(presignSync(request, { ...options, expiresIn: 604800 }), /X-Amz-Expires=604800&/);
});

test('missing or invalid credentials', () => {
  const { accessKeyId, secretAccessKey, ...noKeys } = options;
  rejects(() => signSync(request, noKeys), 'missing_credentials', 'access_key_id');
  rejects(() => signSync(request, { ...options, secretAccessKey: undefined }), 'missing_credentials', 'secret_access_key');
  rejects(() => signSync(request, { ...options, secretAccessKey: '' }), 'empty', 'secret_access_key');
  rejects(() => signSync(request, { ...options, accessKeyId: 'AK/ID' }), 'invalid_byte', 'access_key_id');
  rejects(() => signSync(request, { ...options, sessionToken: 'tok en' }), 'invalid_byte', 'session_token');
});

test('non-string inputs', () => {
  rejects(() => signSync({ url: 42 }, options), 'invalid_type', 'uri');
  rejects(() => signSync({ ...request, method: 1 }, options), 'invalid_type', 'method');
  rejects(() => signSync({ ...request, headers: [['x', 1]] }, options), 'invalid_type', 'headers[0].value');
  rejects(() => signSync({ ...request, headers: [[null, 'v']] }, options), 'invalid_type', 'headers[0].name');
  rejects(() => signSync({ ...request, headers: 'x: y' }, options), 'invalid_type', 'headers');
  rejects(() => signSync({ ...request, body: 12 }, options), 'invalid_type', 'body');
  rejects(() => signSync(request, { ...options, region: undefined }), 'invalid_type', 'region');
  rejects(() => signSync(request, { ...options, service: {} }), 'invalid_type', 'service');
  rejects(() => signSync(request, { ...options, accessKeyId: 5 }), 'invalid_type', 'access_key_id');
  rejects(() => signSync(request, { ...options, payloadHash: 7 }), 'invalid_type', 'payload_hash');
  rejects(() => signSync(request, { ...options, signingDate: 'not a date' }), 'invalid_timestamp', 'timestamp');
});

test('core errors for other fields', () => {
  rejects(() => signSync(request, { ...options, region: '' }), 'empty', 'region', /region must not be empty/);
  rejects(() => signSync({ ...request, method: 'G T' }, options), 'invalid_byte', 'method');
  rejects(() => signSync(request, { ...options, payloadHash: 'abc' }), 'invalid_payload_hash', 'payload_hash');
  rejects(() => signSync(request, { ...options, signingDate: new Date('+010000-01-01T00:00:00Z') }), 'invalid_timestamp', 'timestamp');
});

test('a body too large for the wasm memory', () => {
  // 2 GiB, allocated lazily: refused before anything is copied. (signSync hashes a body that
  // large with node:crypto where the runtime lends it; the engine hashes every body in the wasm.)
  const body = new Uint8Array(2 ** 31);
  const engine = new Engine();
  engine.setCredentials(credentials);
  rejects(() => engine.sign('PUT', request.url, [], 'us-east-1', 'service', 0, 0, body), 'too_large', 'body', /payloadHash/);
});

test('the signer keeps working after errors', () => {
  assert.throws(() => signSync({ url: 'nope' }, options));
  assert.equal(signSync(request, options).authorization.slice(-64), '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
});
