// npm run bench: the same three requests signed by this package and by the JavaScript peers
// (aws4fetch, @smithy/signature-v4 with node:crypto hashing, aws4) in one process run, in us per
// signature, with each peer's time as a multiple of ours. Timings on shared machines are noisy:
// each figure is the best of several rounds, and only the ratios within one run mean much.

import { AwsV4Signer } from 'aws4fetch';
import { SignatureV4 as SmithySignatureV4 } from '@smithy/signature-v4';
import { SignatureV4a as SmithySignatureV4a } from '@smithy/signature-v4a';
import { Hash } from '@smithy/hash-node';
import aws4 from 'aws4';
import { signSync, presignSync, SignatureV4, SignatureV4a, AwsClient, verify } from '../src/index.js';
import { AwsClient as Aws4fetchClient } from 'aws4fetch';
import { setNativeEcdsa } from '../src/native-ecdsa.js';

const ROUNDS = 7;
const MIN_ROUND_MS = 200;

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const session = { ...credentials, sessionToken: 'FwoGZXIvYXdzEBYaDHhBTEXAMPLESESSIONTOKENFORBENCHMARKING' };
const signingDate = new Date('2024-05-06T07:08:09Z');
const datetime = '20240506T070809Z';
const sha256 = Hash.bind(null, 'sha256');
const aws4fetchCache = new Map();
const json = '{"TableName":"Music","Key":{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Today"}}}';

/** Each request: host, path with query, method, headers, body; service and region; presign? */
const requests = [
  { name: 'GET with query (S3)', service: 's3', region: 'us-east-1', method: 'GET', host: 'examplebucket.s3.amazonaws.com', path: '/photos/2024/cat.jpg', query: { 'list-type': '2', prefix: 'photos/', 'max-keys': '100' }, headers: {}, body: '', credentials },
  { name: 'POST JSON + session token (DynamoDB)', service: 'dynamodb', region: 'us-west-2', method: 'POST', host: 'dynamodb.us-west-2.amazonaws.com', path: '/', query: {}, headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem' }, body: json, credentials: session },
  { name: 'S3 presigned GET', service: 's3', region: 'us-east-1', method: 'GET', host: 'examplebucket.s3.amazonaws.com', path: '/photos/2024/cat.jpg', query: {}, headers: {}, body: '', credentials, presign: true },
];

function queryString(query) {
  return new URLSearchParams(query).toString().replace(/\+/g, '%20');
}

function signers(r) {
  const url = `https://${r.host}${r.path}${Object.keys(r.query).length ? `?${queryString(r.query)}` : ''}`;
  const request = { method: r.method, url, headers: r.headers, body: r.body };
  const options = { ...r.credentials, region: r.region, service: r.service, signingDate, expiresIn: 86400 };
  const smithy = new SmithySignatureV4({ credentials: r.credentials, region: r.region, service: r.service, sha256, uriEscapePath: r.service !== 's3' });
  const httpRequest = { method: r.method, protocol: 'https:', hostname: r.host, path: r.path, query: r.query, headers: { host: r.host, ...r.headers }, body: r.body || undefined };
  const aws4Request = { host: r.host, path: url.slice(8 + r.host.length), method: r.method, service: r.service, region: r.region, headers: { ...r.headers }, body: r.body || undefined, signQuery: r.presign };
  return {
    'sigv4-wasm': r.presign ? () => presignSync(request, options) : () => signSync(request, options),
    aws4fetch: () => new AwsV4Signer({ ...request, ...r.credentials, service: r.service, region: r.region, datetime, signQuery: r.presign, cache: aws4fetchCache, body: r.body || undefined }).sign(),
    '@smithy/signature-v4': r.presign ? () => smithy.presign(httpRequest, { signingDate, expiresIn: 86400 }) : () => smithy.sign(httpRequest, { signingDate }),
    aws4: () => aws4.sign({ ...aws4Request, headers: { ...r.headers } }, r.credentials),
  };
}

/** Best us per call over ROUNDS rounds of at least MIN_ROUND_MS each. */
async function measure(fn) {
  const isAsync = fn() instanceof Promise;
  let batch = 64;
  let best = Infinity;
  for (let round = 0; round < ROUNDS; ) {
    const start = process.hrtime.bigint();
    if (isAsync) for (let i = 0; i < batch; i++) await fn();
    else for (let i = 0; i < batch; i++) fn();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (ms < MIN_ROUND_MS) {
      batch *= 2;
      continue;
    }
    best = Math.min(best, (ms * 1000) / batch);
    round++;
  }
  return best;
}

const rows = [];
for (const r of requests) {
  const results = {};
  for (const [name, fn] of Object.entries(signers(r))) results[name] = await measure(fn);
  const ours = results['sigv4-wasm'];
  console.log(`\n${r.name}`);
  for (const [name, us] of Object.entries(results)) {
    const ratio = name === 'sigv4-wasm' ? '' : `  ${(us / ours).toFixed(1)}x ours`;
    console.log(`  ${name.padEnd(22)} ${us.toFixed(2).padStart(8)} us/sign${ratio}`);
  }
  const peers = Object.entries(results).filter(([name]) => name !== 'sigv4-wasm');
  const [fastest, fastestUs] = peers.reduce((a, b) => (b[1] < a[1] ? b : a));
  rows.push({ request: r.name, fastest, vsFastest: fastestUs / ours, vsAws4fetch: results.aws4fetch / ours });
}
console.log('\nspeed-up (targets: >= 5x the fastest peer, >= 100x aws4fetch)');
for (const row of rows) {
  console.log(`  ${row.request.padEnd(38)} ${row.vsFastest.toFixed(1)}x the fastest peer (${row.fastest}), ${row.vsAws4fetch.toFixed(1)}x aws4fetch`);
}

// The drop-in APIs against the peer each replaces, on the POST: SignatureV4 as an AWS SDK v3
// client's signer (both async, both return a signed copy of the request), and AwsClient.sign
// (both build a fetch Request, which costs most of the time in either); and SignatureV4.presign
// on the S3 GET, as @aws-sdk/s3-request-presigner calls it.
const post = requests[1];
const apiOptions = { credentials: post.credentials, region: post.region, service: post.service, sha256 };
const httpRequest = () => ({ method: 'POST', protocol: 'https:', hostname: post.host, path: post.path, query: {}, headers: { host: post.host, ...post.headers }, body: post.body });
const init = { method: 'POST', headers: post.headers, body: post.body, aws: { datetime } };
const ourSigner = new SignatureV4(apiOptions);
const smithySigner = new SmithySignatureV4(apiOptions);
const ourClient = new AwsClient(post.credentials);
const aws4fetchClient = new Aws4fetchClient(post.credentials);
const postUrl = `https://${post.host}${post.path}`;
const get = requests[2];
const s3Options = { credentials: get.credentials, region: get.region, service: get.service, sha256, uriEscapePath: false };
const s3Request = () => ({ method: 'GET', protocol: 'https:', hostname: get.host, path: get.path, query: {}, headers: { host: get.host } });
const [ourS3Signer, smithyS3Signer] = [new SignatureV4(s3Options), new SmithySignatureV4(s3Options)];
const presignOptions = { signingDate, expiresIn: 86400 };
console.log(`\nThrough the drop-in APIs (the POST; the S3 presigned GET)`);
for (const [name, ours, peer, peerName] of [
  ['SignatureV4.sign', () => ourSigner.sign(httpRequest(), { signingDate }), () => smithySigner.sign(httpRequest(), { signingDate }), '@smithy/signature-v4'],
  ['AwsClient.sign', () => ourClient.sign(postUrl, init), () => aws4fetchClient.sign(postUrl, init), 'aws4fetch'],
  ['SignatureV4.presign (S3 GET)', () => ourS3Signer.presign(s3Request(), presignOptions), () => smithyS3Signer.presign(s3Request(), presignOptions), '@smithy/signature-v4'],
]) {
  const [oursUs, peerUs] = [await measure(ours), await measure(peer)];
  console.log(`  ${name.padEnd(28)} ${oursUs.toFixed(2).padStart(8)} us, ${peerName} ${peerUs.toFixed(2)} us: ${(peerUs / oursUs).toFixed(1)}x ours`);
}

// verify against signSync/presignSync of the same request, in the same run (target: verifying
// costs at most 1.2x signing): what a service that authenticates SigV4 callers pays per request.
console.log('\nverify, as a multiple of signing the same request');
for (const r of requests) {
  const url = `https://${r.host}${r.path}${Object.keys(r.query).length ? `?${queryString(r.query)}` : ''}`;
  const request = { method: r.method, url, headers: r.headers, body: r.body };
  const options = { ...r.credentials, region: r.region, service: r.service, signingDate, expiresIn: 86400 };
  const sign = r.presign ? () => presignSync(request, options) : () => signSync(request, options);
  const signed = r.presign ? { method: r.method, url: sign(), body: r.body } : { ...request, headers: { ...r.headers, ...sign() } };
  const verifyOptions = { credentials: { [r.credentials.accessKeyId]: r.credentials.secretAccessKey }, now: signingDate };
  if (!verify(signed, verifyOptions).valid) throw new Error(`${r.name}: the bench's request does not verify`);
  const [signUs, verifyUs] = [await measure(sign), await measure(() => verify(signed, verifyOptions))];
  console.log(`  ${r.name.padEnd(38)} sign ${signUs.toFixed(2)} us, verify ${verifyUs.toFixed(2)} us: ${(verifyUs / signUs).toFixed(2)}x`);
}

// SigV4a (ECDSA P-256) against @smithy/signature-v4a (noble-curves' P-256 in JavaScript, the key
// derived on every call; ours keeps the key derived for the credentials, as any long-lived signer
// of ours does): an S3 Multi-Region Access Point GET for every region, a JSON POST with a session
// token for two regions, through signSync and through the drop-in SignatureV4a.sign. Target:
// >= 5x smithy. Both spend nearly all the time in P-256 scalar multiplications: ours in
// node:crypto's (src/native-ecdsa.js), and, as browsers sign, in the wasm's p256 (last figure).
console.log('\nSigV4a: ours (key cached) against @smithy/signature-v4a');
const mrapHost = 'mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com';
const v4aRequests = [
  { name: 'MRAP GET (S3, region set *)', service: 's3', regionSet: '*', method: 'GET', host: mrapHost, path: '/photos/2024/cat.jpg', headers: {}, body: undefined, credentials },
  { name: 'POST JSON + session token (2 regions)', service: 'dynamodb', regionSet: 'us-east-1,us-west-2', method: 'POST', host: 'dynamodb.us-east-1.amazonaws.com', path: '/', headers: post.headers, body: json, credentials: session },
];
for (const r of v4aRequests) {
  const options = { credentials: r.credentials, region: r.regionSet, service: r.service, sha256, uriEscapePath: r.service !== 's3' };
  const request = () => ({ method: r.method, protocol: 'https:', hostname: r.host, path: r.path, query: {}, headers: { host: r.host, ...r.headers }, body: r.body });
  const syncRequest = { method: r.method, url: `https://${r.host}${r.path}`, headers: r.headers, body: r.body };
  const syncOptions = { ...r.credentials, service: r.service, algorithm: 'sigv4a', region: r.regionSet, signingDate };
  const [ours, smithy] = [new SignatureV4a(options), new SmithySignatureV4a(options)];
  const syncUs = await measure(() => signSync(syncRequest, syncOptions));
  const oursUs = await measure(() => ours.sign(request(), { signingDate }));
  const smithyUs = await measure(() => smithy.sign(request(), { signingDate }));
  setNativeEcdsa(false);
  const wasmUs = await measure(() => signSync(syncRequest, syncOptions));
  setNativeEcdsa(true);
  console.log(`  ${r.name.padEnd(38)} signSync ${syncUs.toFixed(1)} us, SignatureV4a.sign ${oursUs.toFixed(1)} us, @smithy/signature-v4a ${smithyUs.toFixed(1)} us: ${(smithyUs / syncUs).toFixed(1)}x / ${(smithyUs / oursUs).toFixed(1)}x ours; signSync with the wasm's p256 ${wasmUs.toFixed(1)} us: ${(smithyUs / wasmUs).toFixed(1)}x`);
}
