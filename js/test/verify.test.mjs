// verify: requests signed by @smithy/signature-v4 (the AWS SDK for JavaScript's signer) and by
// this package verify; npm gives the same verdict as the native `sigv4 verify` (crates/cli) on
// them and on mutations of each; bad input is a SigV4Error; the bin's contract.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignatureV4 as SmithySignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { SigV4Error, signSync, presignSync, verify } from '../src/index.js';

const sha256 = Hash.bind(null, 'sha256');
const NATIVE = fileURLToPath(new URL('../../target/debug/sigv4', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/sigv4.mjs', import.meta.url));
const TIME = Date.UTC(2026, 10, 30, 12, 0, 0);
const UNRESERVED = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~';

/** A seeded generator (mulberry32), so a failure can be run again. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomRequest(rand, i) {
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const word = (min, max) => {
    let w = '';
    const n = min + Math.floor(rand() * (max - min + 1));
    for (let j = 0; j < n; j++) w += pick(UNRESERVED);
    return w;
  };
  const s3 = rand() < 0.4;
  const service = s3 ? 's3' : pick(['service', 'execute-api', 'sts']);
  const region = pick(['us-east-1', 'eu-west-1']);
  const hostname = s3 ? `bucket${i}.s3.${region}.amazonaws.com` : `${service}.${region}.amazonaws.com`;
  const segments = [];
  // No '.' or '..' segment: smithy drops a final '.' with its slash, RFC 3986 (the core, the
  // suite) keeps the slash.
  for (let n = Math.floor(rand() * 4); n > 0; n--) segments.push(word(1, 10).replace(/^\.\.?$/, 'x'));
  const query = {};
  for (let n = Math.floor(rand() * 3); n > 0; n--) query[word(1, 6)] = word(0, 6) + pick(['', ' x', '/y', 'é']);
  const headers = { host: hostname };
  for (let n = Math.floor(rand() * 3); n > 0; n--) headers[`x-amz-meta-${word(1, 5).toLowerCase()}`] = pick(['a', 'b c', 'x=y;z']);
  const method = pick(['GET', 'POST', 'PUT', 'DELETE']);
  const body = method === 'POST' || method === 'PUT' ? word(0, 40) : undefined;
  const credentials = { accessKeyId: `AKID${i}`, secretAccessKey: `secret/${word(20, 30)}`, ...(rand() < 0.3 ? { sessionToken: word(20, 40) } : {}) };
  return { method, hostname, path: '/' + segments.join('/'), query, headers, body, service, region, credentials, presign: rand() < 0.3 };
}

/** The request @smithy/signature-v4 signs, as { method, url, headers, body } to verify. */
async function smithySigned(r) {
  const smithy = new SmithySignatureV4({ credentials: r.credentials, region: r.region, service: r.service, sha256, uriEscapePath: r.service !== 's3' });
  const request = { method: r.method, protocol: 'https:', hostname: r.hostname, path: r.path, query: { ...r.query }, headers: { ...r.headers }, body: r.body };
  if (r.presign && r.service === 's3') {
    // As @aws-sdk/s3-request-presigner signs: S3 takes UNSIGNED-PAYLOAD in presigned URLs.
    request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  }
  const signed = r.presign
    ? await smithy.presign(request, { signingDate: new Date(TIME), expiresIn: 3600 })
    : await smithy.sign(request, { signingDate: new Date(TIME) });
  return { method: r.method, url: url(r.hostname, r.path, signed.query), headers: signed.headers, body: r.body ?? '' };
}

function url(hostname, path, query) {
  const search = Object.entries(query ?? {})
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .join('&');
  return `https://${hostname}${path}${search ? '?' + search : ''}`;
}

function encode(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

test('thousands of requests signed by @smithy/signature-v4 verify, and each with its signature changed is refused', async () => {
  const rand = random(18);
  let verified = 0;
  for (let i = 0; i < 2000; i++) {
    const r = randomRequest(rand, i);
    const signed = await smithySigned(r);
    const credentials = { [r.credentials.accessKeyId]: r.credentials.secretAccessKey };
    const result = verify(signed, { credentials, now: TIME });
    assert.equal(result.valid, true, `${JSON.stringify(signed)}: ${result.reason}`);
    assert.equal(result.accessKeyId, r.credentials.accessKeyId);
    assert.equal(result.service, r.service);
    assert.equal(result.sessionToken, r.credentials.sessionToken);
    const flipped = flipSignature(signed);
    assert.equal(verify(flipped, { credentials, now: TIME }).code, 'signature_mismatch');
    verified++;
  }
  console.log(`verify: ${verified} requests signed by @smithy/signature-v4 verified; ${verified} tampered refused`);
});

test('what signSync and presignSync sign verifies, with the body checked', () => {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'TOKEN' };
  const keys = { AKIDEXAMPLE: credentials.secretAccessKey };
  const request = { method: 'PUT', url: 'https://bucket.s3.us-east-1.amazonaws.com/a%20b/c?x=1', headers: { 'content-type': 'text/plain' }, body: 'hello' };
  const options = { ...credentials, region: 'us-east-1', service: 's3', signingDate: new Date(TIME) };
  const headers = { ...request.headers, ...signSync(request, options) };
  const ok = verify({ ...request, headers }, { credentials: keys, now: TIME, region: 'us-east-1', service: 's3' });
  assert.deepEqual(ok, {
    valid: true,
    accessKeyId: 'AKIDEXAMPLE',
    region: 'us-east-1',
    service: 's3',
    time: new Date(TIME),
    sessionToken: 'TOKEN',
    payloadVerified: true,
  });
  assert.equal(verify({ ...request, headers, body: 'hellO' }, { credentials: keys, now: TIME }).code, 'content_sha256_mismatch');
  assert.equal(verify({ ...request, headers }, { credentials: keys, now: TIME, region: 'eu-west-1' }).reason, 'the credential scope names region us-east-1, not the one expected');
  assert.equal(verify({ ...request, headers }, { credentials: keys, now: TIME + 901_000 }).code, 'outside_skew');
  assert.equal(verify({ ...request, headers }, { credentials: {}, now: TIME }).reason, 'unknown access key id AKIDEXAMPLE');
  // Inherited properties are not keys.
  assert.equal(verify({ ...request, headers: { ...headers, authorization: headers.authorization.replace('AKIDEXAMPLE', 'constructor') } }, { credentials: keys, now: TIME }).code, 'unknown_access_key');
  const url = presignSync({ method: 'GET', url: request.url }, { ...options, expiresIn: 60 });
  assert.equal(verify({ method: 'GET', url }, { credentials: keys, now: TIME + 30_000 }).valid, true);
  assert.equal(verify({ method: 'GET', url }, { credentials: keys, now: TIME + 61_000 }).code, 'expired');
  // A lookup function, which is called with the id the request claims.
  const asked = [];
  assert.equal(verify({ method: 'GET', url }, { credentials: (id) => (asked.push(id), keys[id]), now: TIME }).valid, true);
  assert.deepEqual(asked, ['AKIDEXAMPLE']);
});

test('SigV4a requests (header and presigned) verify with the key the verifier derives', () => {
  const keys = { AKIDEXAMPLE: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const options = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: keys.AKIDEXAMPLE, service: 's3', signingRegionSet: ['us-east-1', 'eu-west-1'], signingDate: new Date(TIME) };
  const request = { method: 'GET', url: 'https://mrap.accesspoint.s3-global.amazonaws.com/key?a=1' };
  const headers = signSync(request, options);
  assert.match(headers.authorization, /^AWS4-ECDSA-P256-SHA256 /);
  const ok = verify({ ...request, headers }, { credentials: keys, now: TIME, region: 'eu-west-1' });
  assert.equal(ok.valid, true, ok.reason);
  assert.equal(ok.region, 'us-east-1,eu-west-1');
  assert.equal(verify({ ...request, headers }, { credentials: keys, now: TIME, region: 'ap-south-1' }).code, 'wrong_region');
  assert.equal(verify(flipSignature({ ...request, headers }), { credentials: keys, now: TIME }).code, 'signature_mismatch');
  const url = presignSync(request, { ...options, expiresIn: 60 });
  assert.match(url, /X-Amz-Region-Set=us-east-1%2Ceu-west-1/);
  assert.equal(verify({ method: 'GET', url }, { credentials: keys, now: TIME }).valid, true);
  assert.equal(verify({ method: 'GET', url: url.replace('X-Amz-Region-Set=us-east-1%2C', 'X-Amz-Region-Set=') }, { credentials: keys, now: TIME }).code, 'signature_mismatch');
});

test('bad input is a SigV4Error naming the field, and a throwing lookup leaves the verifier usable', () => {
  const request = { method: 'GET', url: 'https://example.amazonaws.com/', headers: {} };
  assert.throws(() => verify(request, { now: TIME }), (e) => e instanceof SigV4Error && e.field === 'credentials');
  assert.throws(() => verify(request, { credentials: {}, maxSkew: -1 }), (e) => e instanceof SigV4Error && e.field === 'max_skew');
  assert.throws(() => verify({ ...request, headers: { a: 1 } }, { credentials: {} }), (e) => e instanceof SigV4Error && e.field === 'headers[0].value');
  assert.throws(() => verify({ ...request, url: 5 }, { credentials: {} }), (e) => e instanceof SigV4Error && e.field === 'uri');
  assert.throws(() => verify(request, { credentials: {}, now: 'never' }), (e) => e instanceof SigV4Error && e.field === 'timestamp');
  // An empty region or service names none: refused, not read as "any" (an unset variable).
  assert.throws(() => verify(request, { credentials: {}, region: '' }), (e) => e instanceof SigV4Error && e.field === 'region' && e.code === 'empty');
  assert.throws(() => verify(request, { credentials: {}, service: '' }), (e) => e instanceof SigV4Error && e.field === 'service');
  const options = { accessKeyId: 'AKID', secretAccessKey: 'SECRET', region: 'us-east-1', service: 'service', signingDate: new Date(TIME) };
  const signed = { ...request, headers: signSync(request, options) };
  assert.throws(() => verify(signed, { credentials: () => { throw new Error('store down'); }, now: TIME }), /store down/);
  assert.throws(() => verify(signed, { credentials: () => 42, now: TIME }), (e) => e instanceof SigV4Error && e.field === 'credentials');
  assert.equal(verify(signed, { credentials: { AKID: 'SECRET' }, now: TIME }).valid, true);
  // A rejection never holds the secret.
  const refused = verify(flipSignature(signed), { credentials: { AKID: 'SECRET' }, now: TIME });
  assert.ok(!JSON.stringify(refused).includes('SECRET'));
});

test('npm gives the same verdicts as the native sigv4 verify', async (t) => {
  assert.ok(existsSync(NATIVE), `${NATIVE} is missing: make test builds it (cargo test --workspace)`);
  const dir = mkdtempSync(join(tmpdir(), 'sigv4-verify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rand = random(7);
  let compared = 0;
  const reasons = new Set();
  for (let i = 0; i < 30; i++) {
    const r = randomRequest(rand, i);
    const signed = await smithySigned(r);
    const keys = { [r.credentials.accessKeyId]: r.credentials.secretAccessKey };
    const credentialsFile = join(dir, 'keys.json');
    writeFileSync(credentialsFile, JSON.stringify(keys));
    for (const raw of [rawText(signed), ...mutations(rawText(signed))]) {
      const requestFile = join(dir, 'request.txt');
      writeFileSync(requestFile, raw);
      for (const now of [TIME, TIME + 1_000_000]) {
        const seconds = String(now / 1000);
        const native = spawnSync(NATIVE, ['verify', '--request', requestFile, '--credentials', credentialsFile, '--now', seconds, '--json'], { encoding: 'utf8' });
        const ours = ownVerdict(raw, keys, now);
        assert.deepEqual(ours.verdict, JSON.parse(native.stdout), raw);
        assert.equal(ours.status, native.status, raw);
        reasons.add(JSON.parse(native.stdout).reason);
        compared++;
      }
    }
  }
  console.log(`verify: npm and native sigv4 verify agree on ${compared} verdicts, ${reasons.size} distinct reasons`);
  assert.ok(reasons.size >= 8, [...reasons].join('\n'));
  // The bin: the same contract, exit codes included.
  const keysFile = join(dir, 'keys.json');
  const good = join(dir, 'good.txt');
  const options = { accessKeyId: 'AKID', secretAccessKey: 'SECRET', region: 'us-east-1', service: 'service', signingDate: new Date(TIME) };
  const request = { method: 'GET', url: 'https://example.amazonaws.com/', headers: { host: 'example.amazonaws.com' } };
  writeFileSync(good, rawText({ ...request, headers: { ...request.headers, ...signSync(request, options) } }));
  writeFileSync(keysFile, JSON.stringify({ AKID: 'SECRET' }));
  for (const [now, status] of [[TIME, 0], [TIME + 1_000_000, 3]]) {
    const args = ['verify', '--request', good, '--credentials', keysFile, '--now', String(now / 1000), '--json'];
    const bin = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
    const native = spawnSync(NATIVE, args, { encoding: 'utf8' });
    assert.equal(bin.status, status, bin.stderr);
    assert.deepEqual(JSON.parse(bin.stdout), JSON.parse(native.stdout));
  }
  const missing = spawnSync(process.execPath, [BIN, 'verify', '--request', join(dir, 'none.txt'), '--credentials', keysFile], { encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /none\.txt/);
});

/** What `sigv4 verify --json` prints for this request file, from npm's verify in process. */
function ownVerdict(raw, keys, now) {
  const { method, target, headers, body } = parseRaw(raw);
  const host = headers.find(([n]) => n.toLowerCase() === 'host');
  const result = verify({ method, url: host ? `https://${host[1].trim()}${target}` : target, headers, body }, { credentials: keys, now });
  const json = { valid: result.valid };
  if (!result.valid) json.reason = result.reason;
  if (result.accessKeyId !== undefined) json.access_key_id = result.accessKeyId;
  return { verdict: json, status: result.valid ? 0 : 3 };
}

function parseRaw(raw) {
  const [head, ...rest] = raw.split('\n\n');
  const [line, ...headerLines] = head.split('\n');
  const [method, target] = line.split(' ');
  return {
    method,
    target,
    headers: headerLines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
    body: rest.join('\n\n'),
  };
}

function rawText({ method, url, headers, body }) {
  const u = new URL(url);
  const names = Object.keys(headers).map((n) => n.toLowerCase());
  let text = `${method} ${url.slice(url.indexOf('/', 8))} HTTP/1.1\n`;
  if (!names.includes('host')) text += `host:${u.host}\n`;
  for (const [name, value] of Object.entries(headers)) text += `${name}:${value}\n`;
  return text + '\n' + (body ?? '');
}

function flipSignature(request) {
  const flip = (text) => text.replace(/(Signature=)(.)/, (_, p, c) => p + (c === '0' ? '1' : '0'));
  if (request.headers?.authorization) return { ...request, headers: { ...request.headers, authorization: flip(request.headers.authorization) } };
  return { ...request, url: flip(request.url) };
}

function mutations(raw) {
  const out = [];
  for (const [from, to] of [
    ['Signature=', 'Signature=0'],
    ['AWS4-HMAC-SHA256 ', 'AWS4-HMAC-SHA512 '],
    ['Credential=', 'Credential=X'],
    ['SignedHeaders=host;', 'SignedHeaders='],
    ['x-amz-date;', ''],
    ['x-amz-date:2026', 'x-amz-date:2025'],
    ['X-Amz-Date=2026', 'X-Amz-Date=2025'],
    ['X-Amz-Expires=', 'X-Amz-Expires=9'],
    ['authorization:', 'x-authorization:'],
    ['/aws4_request', '/aws5_request'],
    ['\n\n', '\nx-amz-content-sha256:00\n\n'],
  ]) {
    if (raw.includes(from)) out.push(raw.replace(from, to));
  }
  return out;
}
