// Differential tests: SignatureV4 against @smithy/signature-v4 and AwsClient against aws4fetch,
// on the same requests and time (the peers are devDependencies).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignatureV4 as SmithySignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { AwsClient as Aws4fetchClient } from 'aws4fetch';
import { AwsClient, SignatureV4, SigV4Error, signSync } from '../src/index.js';
import { CONTENT_SHA256, Engine, unixSeconds } from '../src/engine.js';
import { sha256HexSync } from '../src/hash.js';
import { flatHeaders } from '../src/request.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'FQoGZXIvYXdzEXAMPLETOKEN' };
const signingDate = new Date('2024-05-06T07:08:09Z');
const sha256 = Hash.bind(null, 'sha256');

function httpRequest(overrides) {
  return {
    method: 'POST',
    protocol: 'https:',
    hostname: 'dynamodb.eu-west-1.amazonaws.com',
    path: '/',
    query: {},
    headers: { host: 'dynamodb.eu-west-1.amazonaws.com', 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem' },
    body: '{"TableName":"t","Key":{"id":{"S":"1"}}}',
    ...overrides,
  };
}

const cases = [
  ['dynamodb POST', 'dynamodb', 'eu-west-1', true, httpRequest({})],
  ['s3 GET with query, single encoding', 's3', 'us-west-2', false, httpRequest({
    method: 'GET', hostname: 'bucket.s3.us-west-2.amazonaws.com', path: '/photos/2024/a%20b+c.jpg',
    query: { 'list-type': '2', prefix: 'a b/ü', marker: '', tag: ['b', 'a'] }, headers: { host: 'bucket.s3.us-west-2.amazonaws.com' }, body: undefined,
  })],
  ['S3 PUT with 20 headers (more than the wasm borrows without allocating)', 's3', 'eu-west-1', false, httpRequest({
    method: 'PUT', hostname: 'bucket.s3.eu-west-1.amazonaws.com', path: '/k',
    headers: Object.fromEntries([['host', 'bucket.s3.eu-west-1.amazonaws.com'], ...Array.from({ length: 20 }, (_, i) => [`x-amz-meta-m${i}`, `v ${i}  é`])]),
    body: 'hello',
  })],
  ['a header named __proto__ (an own key, as spreading copies it)', 'dynamodb', 'eu-west-1', true, httpRequest({
    headers: JSON.parse('{"host":"dynamodb.eu-west-1.amazonaws.com","__proto__":"x","content-type":"application/json"}'),
  })],
  ['large body (native hash)', 'lambda', 'us-east-1', true, httpRequest({ hostname: 'lambda.us-east-1.amazonaws.com', path: '/2015-03-31/functions/f/invocations', headers: { host: 'lambda.us-east-1.amazonaws.com' }, body: new Uint8Array(100_000).fill(7) })],
];

for (const [name, service, region, uriEscapePath, request] of cases) {
  test(`SignatureV4.sign matches @smithy/signature-v4: ${name}`, async () => {
    const options = { credentials, region, service, sha256, uriEscapePath };
    const expected = await new SmithySignatureV4(options).sign(request, { signingDate });
    const actual = await new SignatureV4(options).sign(request, { signingDate });
    assert.equal(actual.headers.authorization, expected.headers.authorization);
    // Every header: the request's and the signer's, and no other.
    assert.deepEqual(actual.headers, expected.headers);
  });

  test(`SignatureV4.presign matches @smithy/signature-v4: ${name}`, async () => {
    const options = { credentials, region, service, sha256, uriEscapePath };
    const expected = await new SmithySignatureV4(options).presign(request, { signingDate, expiresIn: 900 });
    const actual = await new SignatureV4(options).presign(request, { signingDate, expiresIn: 900 });
    if (service === 's3' && !Object.keys(request.headers).some((n) => n.toLowerCase() === 'x-amz-content-sha256')) {
      // Without the header @aws-sdk/s3-request-presigner sets, smithy signs the body's hash,
      // which S3 refuses in a presigned URL; the core signs UNSIGNED-PAYLOAD (the e2e test has
      // s3s-fs accept such a URL). Everything else is smithy's.
      const { 'X-Amz-Signature': ours, ...rest } = actual.query;
      const { 'X-Amz-Signature': smithys, ...expectedRest } = expected.query;
      assert.notEqual(ours, smithys);
      assert.deepEqual(rest, expectedRest);
      return;
    }
    assert.equal(actual.query['X-Amz-Signature'], expected.query['X-Amz-Signature']);
    assert.deepEqual(actual.query, expected.query);
  });
}

/**
 * Signs bodies of 0 B to 3 MB, as strings and bytes, with `sign(request, options)` and checks
 * each against @smithy/signature-v4 (node:crypto hashing; it signs x-amz-content-sha256).
 */
async function checkBodies(sign) {
  const sizes = [0, 1, 63, 64, 1000, 1023, 1024, 4096, 4097, 16_383, 16_384, 70_000, 1_000_000, 3_000_000, 5];
  const smithy = new SmithySignatureV4({ credentials, region: 'eu-west-1', service: 'dynamodb', sha256 });
  for (const size of sizes) {
    const text = 'aé€😀'.repeat(Math.ceil(size / 4)).slice(0, size);
    for (const body of [text, new TextEncoder().encode(text)]) {
      const request = httpRequest({ body });
      const expected = await smithy.sign(request, { signingDate });
      const actual = sign(
        { method: request.method, url: `https://${request.hostname}/`, headers: request.headers, body },
        { ...credentials, region: 'eu-west-1', service: 'dynamodb', signingDate, contentSha256Header: true },
      );
      assert.equal(actual.authorization, expected.headers.authorization, `${typeof body} of ${size} units`);
    }
  }
}

test('signSync matches @smithy/signature-v4 on bodies of every size, as strings and bytes', async () => {
  // Strings up to 4096 units travel with the request text, longer ones on their own; from
  // 1 KiB on, Node's node:crypto hashes the body (FIPS 180-2's million 'a's), below the wasm.
  assert.equal(sha256HexSync('a'.repeat(1_000_000)), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  assert.equal(sha256HexSync('a'.repeat(1023)), undefined);
  await checkBodies(signSync);
});

test('the wasm signs bodies that grow its memory, as strings and bytes', async () => {
  // The request and the result cross through views of the wasm memory, which growing replaces:
  // each size is signed after one that needed less memory, and a small request after them all.
  // The engine hashes every body in the wasm.
  const engine = new Engine();
  await checkBodies((request, options) => {
    engine.setCredentials(options);
    return engine.sign(request.method, request.url, flatHeaders(request.headers), options.region, options.service,
      unixSeconds(options.signingDate), CONTENT_SHA256, request.body);
  });
});

test('SignatureV4.presign matches @smithy/signature-v4 as @aws-sdk/s3-request-presigner calls it', async () => {
  // X-Amz-Content-Sha256: UNSIGNED-PAYLOAD moves into the query and still names the payload hash;
  // generated headers (any case) are dropped; stale X-Amz-* parameters are replaced.
  const host = 'bucket.s3.us-west-2.amazonaws.com';
  const request = httpRequest({
    method: 'GET', hostname: host, path: '/photos/a.jpg', body: undefined,
    query: { 'X-Amz-Signature': 'stale', 'X-Amz-Date': '20000101T000000Z', versionId: '3' },
    headers: { host, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', 'X-Amz-Date': '20000101T000000Z', Date: 'Mon, 06 May 2024 07:08:09 GMT', authorization: 'stale' },
  });
  const options = { credentials, region: 'us-west-2', service: 's3', sha256, uriEscapePath: false };
  const expected = await new SmithySignatureV4(options).presign(request, { signingDate, expiresIn: 900 });
  const actual = await new SignatureV4(options).presign(request, { signingDate, expiresIn: 900 });
  assert.equal(actual.query['X-Amz-Signature'], expected.query['X-Amz-Signature']);
  assert.deepEqual(actual.query, expected.query);
  assert.deepEqual(actual.headers, expected.headers);
});

test('SignatureV4.sign drops the headers it generates, whatever their case, as @smithy/signature-v4 does', async () => {
  const request = httpRequest({});
  request.headers = { ...request.headers, 'X-Amz-Date': '20000101T000000Z', Authorization: 'stale', Date: 'Mon, 06 May 2024 07:08:09 GMT' };
  const options = { credentials, region: 'eu-west-1', service: 'dynamodb', sha256 };
  const expected = await new SmithySignatureV4(options).sign(request, { signingDate });
  const actual = await new SignatureV4(options).sign(request, { signingDate });
  assert.deepEqual(actual.headers, expected.headers);
});

test('SignatureV4.presign reads the X-Amz-* parameters back when the core cut the URI at a # in the path', async () => {
  const signer = new SignatureV4({ credentials, region: 'us-west-2', service: 's3', sha256, uriEscapePath: false });
  const actual = await signer.presign(httpRequest({ method: 'GET', path: '/a#b', body: undefined }), { signingDate, expiresIn: 900 });
  assert.equal(actual.query['X-Amz-Algorithm'], 'AWS4-HMAC-SHA256');
  assert.match(actual.query['X-Amz-Signature'], /^[0-9a-f]{64}$/);
});

test('SignatureV4 accepts credential and region providers', async () => {
  const signer = new SignatureV4({ credentials: async () => credentials, region: async () => 'eu-west-1', service: 'dynamodb', sha256 });
  const expected = await new SmithySignatureV4({ credentials, region: 'eu-west-1', service: 'dynamodb', sha256 }).sign(httpRequest({}), { signingDate });
  assert.equal((await signer.sign(httpRequest({}), { signingDate })).headers.authorization, expected.headers.authorization);
});

test('AwsClient.sign matches aws4fetch: header signing', async () => {
  const url = 'https://sqs.eu-central-1.amazonaws.com/123456789012/queue?Action=SendMessage&MessageBody=hello%20world';
  const init = { method: 'POST', body: 'x=1', aws: { datetime: '20240506T070809Z' } };
  const expected = await new Aws4fetchClient(credentials).sign(url, init);
  const actual = await new AwsClient(credentials).sign(url, init);
  assert.equal(actual.url, expected.url);
  assert.equal(actual.headers.get('authorization'), expected.headers.get('authorization'));
  assert.equal(await actual.text(), 'x=1');
});

test('AwsClient.sign matches aws4fetch: S3 presigned URL (the X-Amz-* parameters in another order)', async () => {
  const url = 'https://bucket.s3.us-west-2.amazonaws.com/photos/a.jpg?versionId=3';
  const init = { aws: { datetime: '20240506T070809Z', signQuery: true } };
  const expected = new URL((await new Aws4fetchClient(credentials).sign(url, init)).url);
  const actual = new URL((await new AwsClient(credentials).sign(url, init)).url);
  assert.equal(actual.origin + actual.pathname, expected.origin + expected.pathname);
  assert.deepEqual([...actual.searchParams].sort(), [...expected.searchParams].sort());
});

test('AwsClient infers service and region like aws4fetch', async () => {
  const client = new AwsClient(credentials);
  for (const url of ['https://bucket.s3.eu-west-1.amazonaws.com/key', 'https://sts.amazonaws.com/', 'https://abc.lambda-url.ap-south-1.on.aws/', 'https://s3-us-west-2.amazonaws.com/b/k']) {
    const signed = await client.sign(url, { aws: { datetime: '20240506T070809Z' } });
    const peer = await new Aws4fetchClient(credentials).sign(url, { aws: { datetime: '20240506T070809Z' } });
    const scope = (r) => r.headers.get('authorization').match(/Credential=[^/]+\/\d+\/([^/]+\/[^/]+)\//)[1];
    assert.equal(scope(signed), scope(peer), url);
  }
});

test('a stream body is UNSIGNED-PAYLOAD for S3 and an error elsewhere', async () => {
  const client = new AwsClient(credentials);
  const stream = () => new ReadableStream({ start(c) { c.enqueue(new Uint8Array([1, 2])); c.close(); } });
  const s3 = await client.sign('https://bucket.s3.us-east-1.amazonaws.com/k', { method: 'PUT', body: stream() });
  assert.equal(s3.headers.get('x-amz-content-sha256'), 'UNSIGNED-PAYLOAD');
  await assert.rejects(client.sign('https://dynamodb.us-east-1.amazonaws.com/', { method: 'POST', body: stream() }),
    (e) => e instanceof SigV4Error && e.code === 'unsigned_payload_not_allowed' && e.field === 'body');
});

test('AwsClient.fetch retries 5xx and 429, not 4xx', async (t) => {
  const statuses = [503, 429, 200];
  let calls = 0;
  t.mock.method(globalThis, 'fetch', async (request) => {
    assert.match(request.headers.get('authorization'), /^AWS4-HMAC-SHA256 /);
    return new Response('', { status: statuses[calls++] });
  });
  const client = new AwsClient({ ...credentials, retries: 5, initRetryMs: 1 });
  assert.equal((await client.fetch('https://sts.amazonaws.com/')).status, 200);
  assert.equal(calls, 3);
  calls = 0;
  statuses.splice(0, 3, 403);
  assert.equal((await client.fetch('https://sts.amazonaws.com/')).status, 403);
  assert.equal(calls, 1);
});

test('AwsClient rejects missing credentials with a SigV4Error', () => {
  assert.throws(() => new AwsClient({ accessKeyId: 'AKID' }), (e) => e instanceof SigV4Error && e.code === 'missing_credentials');
});
