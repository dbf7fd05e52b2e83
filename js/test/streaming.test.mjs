// S3 aws-chunked uploads through AwsClient: a ReadableStream body signed chunk by chunk. The AWS
// documentation's example byte for byte, and uploads to s3s-fs on 127.0.0.1 (which checks every
// chunk signature) read back byte for byte; a chunk altered after signing is refused.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { AwsClient } from '../src/index.js';
import { startS3sFs } from './servers.mjs';

const region = 'us-east-1';
const credentials = { accessKeyId: 'AKIDSTREAM', secretAccessKey: 's3s-fs/stream+secret' };
let server;
let s3;
let bucket;

before(async () => {
  server = await startS3sFs(credentials.accessKeyId, credentials.secretAccessKey);
  s3 = new AwsClient({ ...credentials, service: 's3', region, retries: 0 });
  bucket = `${server.url}/stream-bucket`;
  const res = await s3.fetch(bucket, { method: 'PUT' });
  assert.equal(res.status, 200, await res.text());
});

after(() => server?.stop());

/** A stream of `length` random bytes in pieces of `piece` bytes, made as it is read; `digest()`
 * is the SHA-256 of what it gave. */
function randomStream(length, piece) {
  const hash = createHash('sha256');
  let sent = 0;
  const stream = new ReadableStream({
    pull(controller) {
      if (sent === length) return controller.close();
      const bytes = randomBytes(Math.min(piece, length - sent));
      hash.update(bytes);
      sent += bytes.length;
      controller.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

/** The SHA-256 and length of a response's body, read as it streams. */
async function digestOf(res) {
  const hash = createHash('sha256');
  let length = 0;
  for await (const piece of res.body) {
    hash.update(piece);
    length += piece.length;
  }
  return { digest: hash.digest('hex'), length };
}

test("the AWS documentation's chunked PUT Object example, byte for byte through AwsClient.sign", async () => {
  const example = new AwsClient({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', service: 's3', region });
  // 66560 bytes of 'a' in pieces that cross the chunk boundary.
  const data = new Uint8Array(66560).fill(97);
  const body = new ReadableStream({
    start(controller) {
      for (let at = 0; at < data.length; at += 10_000) controller.enqueue(data.subarray(at, at + 10_000));
      controller.close();
    },
  });
  const signed = await example.sign('https://s3.amazonaws.com/examplebucket/chunkObject.txt', {
    method: 'PUT',
    body,
    headers: { 'x-amz-storage-class': 'REDUCED_REDUNDANCY', 'content-length': '66560' },
    aws: { datetime: '20130524T000000Z', chunkSize: 65536 },
  });
  assert.equal(signed.headers.get('authorization'),
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, '
    + 'SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class, '
    + 'Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9');
  assert.equal(signed.headers.get('x-amz-content-sha256'), 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  assert.equal(signed.headers.get('content-encoding'), 'aws-chunked');
  assert.equal(signed.headers.get('content-length'), '66824');
  assert.equal(signed.headers.get('x-amz-decoded-content-length'), '66560');
  const wire = new TextDecoder().decode(await signed.arrayBuffer());
  const a = (n) => 'a'.repeat(n);
  assert.equal(wire,
    `10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n${a(65536)}\r\n`
    + `400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n${a(1024)}\r\n`
    + '0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n');
  assert.equal(wire.length, 66824);
  // Where node:crypto is not lent (browsers, Workers) the wasm hashes each chunk: the same bytes.
  const script = `delete process.getBuiltinModule;
    const { AwsClient } = await import(${JSON.stringify(new URL('../src/index.js', import.meta.url).href)});
    const client = new AwsClient({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', service: 's3', region: 'us-east-1' });
    const body = new ReadableStream({ start(c) { c.enqueue(new Uint8Array(66560).fill(97)); c.close(); } });
    const signed = await client.sign('https://s3.amazonaws.com/examplebucket/chunkObject.txt', { method: 'PUT', body,
      headers: { 'x-amz-storage-class': 'REDUCED_REDUNDANCY', 'content-length': '66560' }, aws: { datetime: '20130524T000000Z' } });
    process.stdout.write(new TextDecoder().decode(await signed.arrayBuffer()));`;
  assert.equal(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 }), wire);
});

for (const [name, length, piece, chunkSize] of [
  ['0 B', 0, 1, undefined],
  ['1 B', 1, 1, undefined],
  ['exactly one 64 KiB chunk', 65536, 65536, undefined],
  ['many chunks from odd pieces', 5 * 65536 + 123, 999, undefined],
  ['many 8 KiB chunks from large pieces', 100_000, 40_000, 8192],
]) {
  test(`a ReadableStream of ${name} is uploaded to s3s-fs as signed aws-chunked and read back byte for byte`, async () => {
    const { stream, digest } = randomStream(length, piece);
    const key = `${bucket}/object-${length}-${piece}`;
    const put = await s3.fetch(key, { method: 'PUT', body: stream, headers: { 'content-length': String(length) }, aws: { chunkSize } });
    assert.equal(put.status, 200, await put.text());
    const got = await digestOf(await s3.fetch(key));
    assert.deepEqual(got, { digest: digest(), length });
  });
}

test('aws.contentLength instead of a content-length header; a trailing CRC32C checksum (signed trailer)', async () => {
  for (const [length, checksum] of [[200_000, undefined], [0, 'crc32c'], [1, 'crc32c'], [3 * 65536, 'crc32c'], [3 * 65536 + 7, 'crc32c']]) {
    const { stream, digest } = randomStream(length, 30_000);
    const key = `${bucket}/option-${length}-${checksum}`;
    const signed = await s3.sign(key, { method: 'PUT', body: stream, aws: { contentLength: length, checksum } });
    assert.equal(signed.headers.get('x-amz-content-sha256'), checksum ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
    if (checksum) assert.equal(signed.headers.get('x-amz-trailer'), 'x-amz-checksum-crc32c');
    const put = await fetch(signed);
    assert.equal(put.status, 200, await put.text());
    assert.deepEqual(await digestOf(await s3.fetch(key)), { digest: digest(), length });
  }
});

test('a chunk altered after it was signed is refused, and nothing is stored', async (t) => {
  const length = 3 * 65536;
  const { stream } = randomStream(length, 65536);
  const key = `${bucket}/tampered`;
  const signed = await s3.sign(key, { method: 'PUT', body: stream, headers: { 'content-length': String(length) } });
  // Flip one byte of the second chunk's data (the first frame is its ~86-byte header line, the
  // chunk, CRLF), copying the piece rather than changing the signer's.
  const target = 86 + 65536 + 2 + 86 + 1000;
  let at = 0;
  const flip = new TransformStream({
    transform(piece, controller) {
      if (at <= target && target < at + piece.length) {
        piece = piece.slice();
        piece[target - at] ^= 1;
      }
      at += piece.length;
      controller.enqueue(piece);
    },
  });
  // s3s-fs answers 500 when the chunk's signature fails; it may close the connection before the
  // rest of the body is sent, which fails the fetch: refused either way.
  const outcome = await fetch(signed.url, { method: 'PUT', headers: signed.headers, body: signed.body.pipeThrough(flip), duplex: 'half' })
    .then(async (res) => `status ${res.status} ${await res.text()}`, (e) => `fetch failed: ${e.cause?.code ?? e.message}`);
  assert.doesNotMatch(outcome, /^status 200/, 'an altered chunk was accepted');
  t.diagnostic(`altered chunk: ${outcome.slice(0, 60)}`);
  assert.equal((await s3.fetch(key)).status, 404);
});

test('a stream longer or shorter than declared fails with a SigV4Error naming decoded_content_length', async () => {
  for (const [declared, length] of [[10, 11], [100_000, 99_999]]) {
    const { stream } = randomStream(length, 4096);
    const signed = await s3.sign(`${bucket}/mismatch`, { method: 'PUT', body: stream, aws: { contentLength: declared } });
    await assert.rejects(new Response(signed.body).arrayBuffer(), (e) => {
      assert.equal(e.name, 'SigV4Error');
      assert.equal(e.code, 'length_mismatch');
      assert.equal(e.field, 'decoded_content_length');
      return true;
    });
  }
});

test('bad chunk sizes, lengths and checksums are SigV4Errors naming the field; without a length the stream stays UNSIGNED-PAYLOAD', async () => {
  const stream = () => new ReadableStream({ start: (c) => c.close() });
  const refused = async (aws, code, field, headers = {}) => {
    await assert.rejects(s3.sign(`${bucket}/x`, { method: 'PUT', body: stream(), headers, aws }), (e) => {
      assert.equal(e.name, 'SigV4Error');
      assert.equal(e.code, code, e.message);
      assert.equal(e.field, field);
      return true;
    });
  };
  await refused({ contentLength: 0, chunkSize: 8191 }, 'chunk_size_too_small', 'chunk_size');
  await refused({ contentLength: 0, chunkSize: 1.5 }, 'invalid_type', 'chunk_size');
  await refused({ contentLength: -1 }, 'invalid_type', 'content_length');
  await refused({}, 'invalid_type', 'content_length', { 'content-length': 'ten' });
  await refused({ contentLength: 0, checksum: 'md5' }, 'unknown_checksum', 'checksum');
  const unsigned = await s3.sign(`${bucket}/x`, { method: 'PUT', body: stream() });
  assert.equal(unsigned.headers.get('x-amz-content-sha256'), 'UNSIGNED-PAYLOAD');
  assert.equal(unsigned.headers.get('content-encoding'), null);
  // The caller's x-amz-content-sha256 wins, as before.
  const given = await s3.sign(`${bucket}/x`, { method: 'PUT', body: stream(), headers: { 'content-length': '0', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  assert.equal(given.headers.get('x-amz-content-sha256'), 'UNSIGNED-PAYLOAD');
});

/** The peak growth of rss (MiB) while `run` runs, sampled every 10 ms. */
async function rssGrowth(run) {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  try {
    await run();
  } finally {
    clearInterval(sampler);
  }
  return (Math.max(peak, process.memoryUsage().rss) - before) / 2 ** 20;
}

test('a 32 MiB stream made on the fly is uploaded signed and read back byte for byte; memory grows no more than for the same stream unsigned', async (t) => {
  const length = 32 * 1024 * 1024;
  const headers = { 'content-length': String(length) };
  // The baseline: Node's fetch sending the same kind of stream as UNSIGNED-PAYLOAD, no chunking.
  const unsigned = await rssGrowth(async () => {
    const { stream } = randomStream(length, 256 * 1024);
    const put = await s3.fetch(`${bucket}/large-unsigned`, { method: 'PUT', body: stream, headers: { ...headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    assert.equal(put.status, 200, await put.text());
  });
  const { stream, digest } = randomStream(length, 256 * 1024);
  const started = performance.now();
  const signed = await rssGrowth(async () => {
    const put = await s3.fetch(`${bucket}/large`, { method: 'PUT', body: stream, headers });
    assert.equal(put.status, 200, await put.text());
  });
  const ms = performance.now() - started;
  t.diagnostic(`32 MiB signed aws-chunked upload: ${ms.toFixed(0)} ms, rss growth ${signed.toFixed(1)} MiB; unsigned stream: ${unsigned.toFixed(1)} MiB`);
  // Node's fetch itself lets rss grow with the body (freed buffers are not returned at once);
  // the chunking adds at most a chunk and its frames to that.
  assert.ok(signed < unsigned + 24, `rss grew ${signed.toFixed(1)} MiB signed, ${unsigned.toFixed(1)} MiB unsigned`);
  assert.deepEqual(await digestOf(await s3.fetch(`${bucket}/large`)), { digest: digest(), length });
});
