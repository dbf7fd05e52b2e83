// The signing policy is the core's: which services get S3's rules, what a presigned S3 URL
// signs, how a hostname names its service and region, and that the URL to send is the one
// signed. Before issue #17 each was decided here too, with other answers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AwsClient, SigV4Error, explainSync, presignSync, signSync } from '../src/index.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const signingDate = new Date('2024-05-06T07:08:09Z');
const payloadLine = (explained) => explained.canonicalRequest.split('\n').at(-1);
const pathLine = (explained) => explained.canonicalRequest.split('\n')[1];

test('every S3-family service gets S3 rules: the path as sent, x-amz-content-sha256, UNSIGNED-PAYLOAD presigned', () => {
  for (const service of ['s3', 's3express', 's3-outposts', 's3-object-lambda']) {
    const options = { ...credentials, region: 'us-west-2', service, signingDate };
    const request = { method: 'GET', url: 'https://b.example.com/a%3Ab//c' };
    const signed = explainSync(request, options);
    assert.equal(pathLine(signed), '/a%3Ab//c', service);
    assert.ok(signed.headers['x-amz-content-sha256'], service);
    const presigned = explainSync(request, { ...options, presign: true });
    assert.equal(payloadLine(presigned), 'UNSIGNED-PAYLOAD', service);
    assert.match(presignSync(request, options), /X-Amz-Signature=[0-9a-f]{64}$/);
  }
  // Every other service: encoded again, normalized, the body's hash.
  const other = explainSync({ method: 'GET', url: 'https://b.example.com/a%3Ab//c' }, { ...credentials, region: 'us-west-2', service: 'lambda', signingDate, presign: true });
  assert.equal(pathLine(other), '/a%253Ab/c');
  assert.equal(payloadLine(other), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  // An explicit option still wins over the service's rule.
  const forced = explainSync({ method: 'GET', url: 'https://b.example.com/a%3Ab' }, { ...credentials, region: 'us-west-2', service: 's3', signingDate, singleEncode: false, contentSha256Header: false });
  assert.equal(pathLine(forced), '/a%253Ab');
  assert.equal(forced.headers['x-amz-content-sha256'], undefined);
});

test('a presigned URL is the wire form: a raw space and non-ASCII encoded, the default port dropped', () => {
  const url = presignSync({ method: 'GET', url: 'https://b.s3.amazonaws.com:443/a b/é?x=1' }, { ...credentials, region: 'us-east-1', service: 's3', signingDate });
  assert.ok(url.startsWith('https://b.s3.amazonaws.com/a%20b/%C3%A9?x=1&X-Amz-Algorithm='), url);
});

test('explainSync gives the path and query signed, the wire form WHATWG URL sends for the URL string', () => {
  const url = 'https://sts.amazonaws.com:443/a b/é?x=[1]';
  const explained = explainSync({ method: 'GET', url }, { ...credentials, region: 'us-east-1', service: 'sts', signingDate });
  assert.equal(explained.pathAndQuery, '/a%20b/%C3%A9?x=[1]');
  const parsed = new URL(url);
  assert.equal(explained.pathAndQuery, parsed.pathname + parsed.search);
  assert.equal(parsed.host, 'sts.amazonaws.com');
  assert.match(explained.canonicalRequest, /^GET\n\/a%2520b\/%25C3%25A9\nx=%5B1%5D\nhost:sts.amazonaws.com\n/);
});

test('two Host headers are a SigV4Error naming the second', () => {
  assert.throws(
    () => signSync({ method: 'GET', url: '/', headers: [['host', 'a.example'], ['Host', 'b.example']] }, { ...credentials, region: 'us-east-1', service: 'sts', signingDate }),
    (e) => e instanceof SigV4Error && e.code === 'duplicate_host' && e.field === 'headers[1].name',
  );
});

test('AwsClient reads service and region from the hostname with the core, and asks for them where it cannot', async () => {
  const client = new AwsClient(credentials);
  const scope = async (url) => (await client.sign(url, { aws: { signingDate } })).headers.get('authorization').match(/Credential=[^/]+\/\d+\/([^/]+)\/([^/]+)\//).slice(1);
  assert.deepEqual(await scope('https://bucket.s3.dualstack.eu-west-1.amazonaws.com/k'), ['eu-west-1', 's3']);
  assert.deepEqual(await scope('https://x.execute-api.us-east-1.amazonaws.com/prod'), ['us-east-1', 'execute-api']);
  assert.deepEqual(await scope('https://s3-logs.s3.us-east-2.amazonaws.com/k'), ['us-east-2', 's3']);
  assert.deepEqual(await scope('https://b--usw2-az1--x-s3.s3express-usw2-az1.us-west-2.amazonaws.com/k'), ['us-west-2', 's3express']);
  await assert.rejects(client.sign('http://127.0.0.1:9000/bucket'), (e) => e instanceof SigV4Error && e.code === 'unknown_endpoint' && e.field === 'host');
  // Given values need no inference.
  const given = await client.sign('http://127.0.0.1:9000/bucket', { aws: { service: 's3', region: 'us-east-1', signingDate } });
  assert.match(given.headers.get('authorization'), /\/us-east-1\/s3\/aws4_request/);
});

test('AwsClient sends the path and query it signed, in their wire form', async () => {
  const client = new AwsClient(credentials);
  // Bytes fetch sends raw (`|`, `^`, `[`) stay raw, and are signed encoded as a service reading
  // them encodes them; the default port is neither signed nor sent.
  const signed = await client.sign('https://sts.amazonaws.com:443/a|b^c?x=[1]', { aws: { signingDate } });
  assert.equal(signed.url, 'https://sts.amazonaws.com/a|b^c?x=[1]');
  const options = { ...credentials, region: 'us-east-1', service: 'sts', signingDate };
  const explained = explainSync({ method: 'GET', url: signed.url }, options);
  assert.equal(pathLine(explained), '/a%7Cb%5Ec');
  assert.equal(explained.headers.authorization, signed.headers.get('authorization'));
  // A raw space and non-ASCII characters: the URL sent is the core's wire form, as fetch's.
  const raw = await client.sign('https://sts.amazonaws.com/a b/é', { aws: { signingDate } });
  assert.equal(raw.url, 'https://sts.amazonaws.com/a%20b/%C3%A9');
  assert.equal(pathLine(explainSync({ method: 'GET', url: raw.url }, options)), '/a%2520b/%25C3%25A9');
});
