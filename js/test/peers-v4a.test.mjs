// Differential tests of SigV4a: SignatureV4a against @smithy/signature-v4a (a devDependency) on
// 300 random requests, and as the SigV4a signer of the AWS SDK's multi-region signer. SigV4a
// signatures are randomized by smithy's signer (RFC 6979, but it may pick the other s of the
// pair) and by ours where node:crypto signs: they are verified, never compared. For each request: smithy's canonical request
// and string to sign (read through its own methods) equal ours byte for byte; the keys derived
// from the credentials are the same point; our signature verifies under smithy's key for smithy's
// string to sign and smithy's under ours; every other header is the same.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH } from 'node:crypto';
import { SignatureV4a as SmithySignatureV4a } from '@smithy/signature-v4a';
import { signatureV4aContainer } from '@smithy/signature-v4';
import { SignatureV4MultiRegion } from '@aws-sdk/signature-v4-multi-region';
import { Hash } from '@smithy/hash-node';
import { AwsClient, SignatureV4a, SigV4Error, explainSync, presignSync, signSync } from '../src/index.js';
import { sigv4aPublicKey } from '../src/engine.js';
import { nodeVerify } from './v4a-verify.mjs';

const sha256 = Hash.bind(null, 'sha256');
const signingDate = new Date('2024-05-06T07:08:09Z');

/** mulberry32: a seeded generator, so a failure can be replayed (the seed is in its name). */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REGION_SETS = ['us-east-1', '*', 'us-east-1,us-west-2', 'eu-*,ap-south-1'];
const SERVICES = [['s3', false], ['s3', false], ['dynamodb', true], ['service', true], ['execute-api', true]];
/**
 * Path segments in their wire form (what an SDK serializer gives smithy), dot segments too. No
 * raw non-ASCII: smithy signs it raw where S3 (and the core) sign the escapes sent.
 */
const SEGMENTS = ['a', 'photos', '2024', 'cat.jpg', 'a%20b', '%E1%88%B4', 'x+y', 'k=v', '~user', 'a-b_c.d', '.', '..', '', '%2F'];
const QUERY_TEXT = ['', 'a', 'b c', 'ü', '1+1=2', 'x/y', '*', '~', "it's", '%', 'a&b', 'ሴ'];
// No tabs: smithy folds them into spaces like runs of spaces, the core (as aws-sigv4 and the
// SigV4 documentation: "sequential spaces") keeps them, for SigV4 as for SigV4a.
const HEADER_VALUES = ['v', '  padded  ', 'a  b   c', 'application/json', 'ü', '12345', 'x,y'];

/** A random smithy HttpRequest, its credentials and region set. */
function randomCase(next) {
  const pick = (list) => list[Math.floor(next() * list.length)];
  const [service, uriEscapePath] = pick(SERVICES);
  const host = service === 's3' ? `bucket${Math.floor(next() * 10)}.mrap.accesspoint.s3-global.amazonaws.com` : `${service}.amazonaws.com`;
  const segments = Array.from({ length: Math.floor(next() * 4) }, () => pick(SEGMENTS));
  // Not a dot segment last: RFC 3986 (the core, aws-sigv4) leaves "/a/." as "/a/", smithy as "/a".
  if (['.', '..'].includes(segments.at(-1))) segments.push('z');
  const path = `/${segments.join('/')}${next() < 0.3 ? '/' : ''}`;
  const query = {};
  for (let i = Math.floor(next() * 4); i > 0; i--) {
    const key = `${pick(['list-type', 'prefix', 'k', 'Key'])}${pick(QUERY_TEXT)}`;
    query[key] = next() < 0.2 ? [pick(QUERY_TEXT), pick(QUERY_TEXT)] : pick(QUERY_TEXT);
  }
  const headers = { host };
  for (let i = Math.floor(next() * 5); i > 0; i--) {
    const name = pick(['x-amz-meta-', 'X-Custom-', 'Content-Type', 'x-amz-target']) + (next() < 0.5 ? String(i) : '');
    headers[name] = pick(HEADER_VALUES);
  }
  const bodies = [undefined, '', '{"a":1}', 'é€😀'.repeat(50), new Uint8Array(2000).fill(Math.floor(next() * 256))];
  const secret = Array.from({ length: 40 }, () => String.fromCharCode(33 + Math.floor(next() * 94))).join('');
  const credentials = {
    accessKeyId: `AKID${Math.floor(next() * 1e8)}`,
    secretAccessKey: secret,
    ...(next() < 0.4 ? { sessionToken: `token/${Math.floor(next() * 1e9)}+=` } : {}),
  };
  return {
    service,
    uriEscapePath,
    regionSet: pick(REGION_SETS),
    credentials,
    request: { method: pick(['GET', 'PUT', 'POST', 'DELETE']), protocol: 'https:', hostname: host, path, query, headers, body: pick(bodies) },
  };
}

/** Signs with smithy's SignatureV4a, keeping its canonical request, string to sign and key. */
async function smithySign(c) {
  const signer = new SmithySignatureV4a({ credentials: c.credentials, region: 'us-west-1', service: c.service, sha256, uriEscapePath: c.uriEscapePath });
  const seen = {};
  const { createCanonicalRequest, createStringToSign, getSignature } = signer;
  signer.createCanonicalRequest = function (...args) {
    return (seen.canonicalRequest = createCanonicalRequest.apply(this, args));
  };
  signer.createStringToSign = async function (...args) {
    return (seen.stringToSign = await createStringToSign.apply(this, args));
  };
  signer.getSignature = function (privateKey, ...rest) {
    seen.publicKey = createECDH('prime256v1').setPrivateKey(Buffer.from(privateKey)).getPublicKey('hex', 'uncompressed');
    return getSignature.call(this, privateKey, ...rest);
  };
  const signed = await signer.sign(c.request, { signingDate, signingRegion: c.regionSet });
  return { ...seen, signed };
}

/**
 * Signs with ours, keeping the canonical request and string to sign the engine computed; the
 * region set given as signingRegion (the SDK's way) or as signingRegionSet (an array).
 */
async function ourSign(c, asArray) {
  const signer = new SignatureV4a({ credentials: c.credentials, region: 'us-west-1', service: c.service, sha256, uriEscapePath: c.uriEscapePath });
  const seen = {};
  const sign = signer.engine.sign.bind(signer.engine);
  signer.engine.sign = (...args) => {
    args[9] = true;
    const explained = sign(...args);
    seen.canonicalRequest = explained.canonicalRequest;
    seen.stringToSign = explained.stringToSign;
    return explained.signed;
  };
  const options = asArray ? { signingDate, signingRegionSet: c.regionSet.split(',') } : { signingDate, signingRegion: c.regionSet };
  return { ...seen, signed: await signer.sign(c.request, options), ...seen };
}

const signatureOf = (authorization) => authorization.slice(authorization.lastIndexOf('Signature=') + 10);
const withoutSignature = (headers) => ({ ...headers, authorization: headers.authorization.slice(0, headers.authorization.lastIndexOf('Signature=')) });

test('SignatureV4a agrees with @smithy/signature-v4a on 300 random requests', async () => {
  const next = random(0x5164a);
  for (let i = 0; i < 300; i++) {
    const c = randomCase(next);
    const where = `request ${i}: ${JSON.stringify({ ...c, credentials: undefined, request: { ...c.request, body: typeof c.request.body } })}`;
    const theirs = await smithySign(c);
    const ours = await ourSign(c, i % 2 === 1);
    assert.equal(ours.canonicalRequest, theirs.canonicalRequest, where);
    assert.equal(ours.stringToSign, theirs.stringToSign, where);
    const ourKey = Buffer.from(sigv4aPublicKey(c.credentials.accessKeyId, c.credentials.secretAccessKey)).toString('hex');
    assert.equal(ourKey, theirs.publicKey, where);
    const ourSignature = signatureOf(ours.signed.headers.authorization);
    const theirSignature = signatureOf(theirs.signed.headers.authorization);
    assert.ok(nodeVerify(theirs.publicKey, theirs.stringToSign, ourSignature), `${where}: ours under smithy's key`);
    assert.ok(nodeVerify(ourKey, ours.stringToSign, theirSignature), `${where}: smithy's under ours`);
    assert.ok(!nodeVerify(ourKey, `${ours.stringToSign}\n`, ourSignature), where);
    assert.deepEqual(withoutSignature(ours.signed.headers), withoutSignature(theirs.signed.headers), where);
    assert.equal(ours.signed.headers['x-amz-region-set'], c.regionSet, where);
  }
});

test('SignatureV4a replaces a region set header of the request, whatever its case', async () => {
  const signer = new SignatureV4a({ credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, region: '*', service: 's3', sha256, uriEscapePath: false });
  const request = { method: 'GET', protocol: 'https:', hostname: 'h.example', path: '/k', query: {}, headers: { host: 'h.example', 'X-Amz-Region-Set': 'stale' } };
  const signed = await signer.sign(request, { signingDate });
  assert.equal(signed.headers['x-amz-region-set'], '*');
  assert.equal(signed.headers['X-Amz-Region-Set'], undefined);
  const presigned = await signer.presign(request, { signingDate, expiresIn: 900 });
  assert.equal(presigned.query['X-Amz-Region-Set'], '*');
  assert.equal(presigned.query['X-Amz-Algorithm'], 'AWS4-ECDSA-P256-SHA256');
  assert.equal(presigned.headers['X-Amz-Region-Set'], undefined);
});

test('SignatureV4a.presign: the URL presignSync gives, X-Amz-Region-Set in it, the signature verifying', async () => {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'tok' };
  const signer = new SignatureV4a({ credentials, region: ['us-east-1', 'us-west-2'], service: 's3', sha256, uriEscapePath: false });
  const request = { method: 'GET', protocol: 'https:', hostname: 'b.mrap.accesspoint.s3-global.amazonaws.com', path: '/a b/k', query: { versionId: '3' }, headers: { host: 'b.mrap.accesspoint.s3-global.amazonaws.com' } };
  const presigned = await signer.presign(request, { signingDate, expiresIn: 900 });
  assert.equal(presigned.query['X-Amz-Region-Set'], 'us-east-1,us-west-2');
  assert.equal(presigned.query['X-Amz-Security-Token'], 'tok');
  const options = { ...credentials, service: 's3', signingRegionSet: ['us-east-1', 'us-west-2'], signingDate, expiresIn: 900 };
  const { url, stringToSign } = explainSync({ method: 'GET', url: 'https://b.mrap.accesspoint.s3-global.amazonaws.com/a b/k?versionId=3' }, { ...options, presign: true });
  // The same URL but for the signature (randomized where node:crypto signs), which verifies.
  const query = Object.fromEntries(new URL(url).searchParams);
  assert.deepEqual({ ...presigned.query, 'X-Amz-Signature': undefined }, { ...query, 'X-Amz-Signature': undefined });
  const key = Buffer.from(sigv4aPublicKey(credentials.accessKeyId, credentials.secretAccessKey)).toString('hex');
  assert.ok(nodeVerify(key, stringToSign, presigned.query['X-Amz-Signature']));
  assert.ok(nodeVerify(key, stringToSign, query['X-Amz-Signature']));
});

test('SignatureV4a is the SigV4a signer of the AWS SDK\'s multi-region signer (signingRegion "*")', async (t) => {
  const registered = signatureV4aContainer.SignatureV4a;
  signatureV4aContainer.SignatureV4a = SignatureV4a;
  t.after(() => {
    signatureV4aContainer.SignatureV4a = registered;
  });
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const multi = new SignatureV4MultiRegion({ credentials, region: 'us-east-1', service: 's3', sha256, uriEscapePath: false, runtime: 'node' });
  const request = { method: 'GET', protocol: 'https:', hostname: 'b.mrap.accesspoint.s3-global.amazonaws.com', path: '/k', query: {}, headers: { host: 'b.mrap.accesspoint.s3-global.amazonaws.com' } };
  const signed = await multi.sign(request, { signingDate, signingRegion: '*', signingService: 's3' });
  assert.ok(multi.getSigv4aSigner() instanceof SignatureV4a);
  assert.match(signed.headers.authorization, /^AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE\/20240506\/s3\/aws4_request, /);
  assert.equal(signed.headers['x-amz-region-set'], '*');
  // The same as explainSync signs it but for the signature (randomized where node:crypto
  // signs), which verifies for the string to sign.
  const expected = explainSync({ method: 'GET', url: 'https://b.mrap.accesspoint.s3-global.amazonaws.com/k' }, { ...credentials, service: 's3', algorithm: 'sigv4a', region: '*', signingDate, contentSha256Header: true });
  assert.deepEqual(withoutSignature(signed.headers), { ...withoutSignature(expected.headers), host: request.headers.host });
  const key = Buffer.from(sigv4aPublicKey(credentials.accessKeyId, credentials.secretAccessKey)).toString('hex');
  assert.ok(nodeVerify(key, expected.stringToSign, signatureOf(signed.headers.authorization)));
  // A single region still signs SigV4 (the SDK's own signer).
  const v4 = await multi.sign(request, { signingDate, signingRegion: 'us-east-1', signingService: 's3' });
  assert.match(v4.headers.authorization, /^AWS4-HMAC-SHA256 /);
});

test('bad SigV4a options are SigV4Errors naming the field', async () => {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
  const request = { url: 'https://h.example/' };
  const base = { ...credentials, service: 's3', region: 'us-east-1' };
  const cases = [
    [{ ...base, algorithm: 'sigv5' }, 'invalid_type', 'algorithm'],
    [{ ...base, algorithm: 'sigv4', signingRegionSet: ['*'] }, 'invalid_type', 'signing_region_set'],
    [{ ...base, signingRegionSet: ['us-east-1', 7] }, 'invalid_type', 'signing_region_set[1]'],
    [{ ...base, signingRegionSet: [] }, 'empty', 'region'],
    [{ ...base, signingRegionSet: ['us-east-1', ''] }, 'invalid_byte', 'region'],
    [{ ...base, algorithm: 'sigv4a', region: 'us-east-1/x' }, 'invalid_byte', 'region'],
  ];
  for (const [options, code, field] of cases) {
    assert.throws(() => signSync(request, options), (e) => e instanceof SigV4Error && e.code === code && e.field === field, JSON.stringify(options));
  }
  const signer = new SignatureV4a({ credentials, region: 'us-east-1', service: 's3', sha256 });
  await assert.rejects(signer.sign({ method: 'GET', hostname: 'h.example', path: '/', headers: {} }, { signingRegionSet: ['a', 1] }),
    (e) => e instanceof SigV4Error && e.field === 'signing_region_set[1]');
});

test('AwsClient signs SigV4a with algorithm or signingRegionSet, as signSync does', async () => {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'tok' };
  const url = 'https://b.mrap.accesspoint.s3-global.amazonaws.com/photos/a.jpg?versionId=3';
  const datetime = '20240506T070809Z';
  const options = { ...credentials, service: 's3', signingDate };
  const cases = [
    [{ service: 's3', signingRegionSet: ['*'] }, {}, { signingRegionSet: ['*'] }],
    [{ service: 's3', region: 'us-east-1' }, { algorithm: 'sigv4a' }, { region: 'us-east-1', algorithm: 'sigv4a' }],
    [{ service: 's3', algorithm: 'sigv4a' }, { signingRegionSet: ['us-east-1', 'us-west-2'] }, { signingRegionSet: 'us-east-1,us-west-2' }],
    // No region set or region: every region.
    [{ service: 's3', algorithm: 'sigv4a' }, {}, { region: '*', algorithm: 'sigv4a' }],
  ];
  // The same as explainSync signs but for the signatures (randomized where node:crypto signs),
  // which verify for its strings to sign.
  const key = Buffer.from(sigv4aPublicKey(credentials.accessKeyId, credentials.secretAccessKey)).toString('hex');
  const urlWithoutSignature = (text) => text.replace(/X-Amz-Signature=[0-9a-f]+/, 'X-Amz-Signature=');
  for (const [clientOptions, aws, syncOptions] of cases) {
    const where = JSON.stringify([clientOptions, aws]);
    const client = new AwsClient({ ...credentials, ...clientOptions });
    const signed = Object.fromEntries((await client.sign(url, { aws: { ...aws, datetime } })).headers);
    const expected = explainSync({ url }, { ...options, ...syncOptions });
    assert.deepEqual(withoutSignature(signed), withoutSignature(expected.headers), where);
    assert.ok(nodeVerify(key, expected.stringToSign, signatureOf(signed.authorization)), where);
    const presigned = await client.sign(url, { aws: { ...aws, datetime, signQuery: true } });
    const expectedUrl = explainSync({ url }, { ...options, ...syncOptions, expiresIn: 86400, presign: true });
    assert.equal(urlWithoutSignature(presigned.url), urlWithoutSignature(expectedUrl.url), where);
    assert.ok(nodeVerify(key, expectedUrl.stringToSign, new URL(presigned.url).searchParams.get('X-Amz-Signature')), where);
    const params = new URL(presigned.url).searchParams;
    assert.equal(params.get('X-Amz-Region-Set'), signed['x-amz-region-set']);
    assert.equal(params.get('X-Amz-Security-Token'), 'tok');
    assert.match(params.get('X-Amz-Signature'), /^30/);
  }
  assert.throws(() => new AwsClient({ ...credentials, algorithm: 'v4a' }), (e) => e instanceof SigV4Error && e.field === 'algorithm');
});
