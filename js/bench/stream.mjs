// Streaming upload throughput: a 64 MiB ReadableStream encoded as signed aws-chunked through
// AwsClient.sign (the signed body read to its end, no network), against plain SHA-256
// (node:crypto) of the same bytes, the limit of the stack. And the two ways to sign a 64 KiB
// chunk: node:crypto's SHA-256 and the core signing the digest, or the bytes copied into the wasm
// and hashed there. Alternating rounds, ratios per round, medians. `node bench/stream.mjs`.

import { createHash, randomBytes } from 'node:crypto';
import { AwsClient } from '../src/index.js';
import { Engine } from '../src/engine.js';

const LENGTH = 64 * 2 ** 20;
const PIECE = 256 * 1024;
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const pieces = [];
for (let at = 0; at < LENGTH; at += PIECE) pieces.push(new Uint8Array(randomBytes(PIECE)));

function plainSha256() {
  const hash = createHash('sha256');
  for (const piece of pieces) hash.update(piece);
  return hash.digest('hex');
}

const client = new AwsClient({ ...credentials, service: 's3', region: 'us-east-1' });

async function streamed(chunkSize) {
  let i = 0;
  const body = new ReadableStream({ pull: (c) => (i < pieces.length ? c.enqueue(pieces[i++]) : c.close()) });
  const signed = await client.sign('https://bucket.s3.us-east-1.amazonaws.com/key', { method: 'PUT', body, aws: { contentLength: LENGTH, chunkSize } });
  let wire = 0;
  const reader = signed.body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) wire += r.value.length;
  if (wire !== Number(signed.headers.get('content-length'))) throw new Error(`sent ${wire} bytes`);
}

/** The core's chunk signer for the 64 MiB upload, as AwsClient gets it. */
function chunkSigner(chunkSize) {
  const engine = new Engine();
  engine.setCredentials(credentials);
  return engine.signChunked('PUT', 'https://bucket.s3.us-east-1.amazonaws.com/key', [], 'us-east-1', 's3', 1_700_000_000, 0, LENGTH, chunkSize, '').chunks;
}

function signByDigest() {
  const chunks = chunkSigner(65536);
  for (const piece of pieces) {
    for (let at = 0; at < piece.length; at += 65536) chunks.sign_digest(createHash('sha256').update(piece.subarray(at, at + 65536)).digest());
  }
  chunks.free();
}

function signInWasm() {
  const chunks = chunkSigner(65536);
  for (const piece of pieces) {
    for (let at = 0; at < piece.length; at += 65536) chunks.sign(piece.subarray(at, at + 65536));
  }
  chunks.free();
}

async function time(f) {
  const start = performance.now();
  await f();
  return performance.now() - start;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const cases = {
  'plain SHA-256 (node:crypto)': plainSha256,
  'AwsClient aws-chunked, 64 KiB chunks': () => streamed(65536),
  'AwsClient aws-chunked, 1 MiB chunks': () => streamed(2 ** 20),
  'chunks: node:crypto digest + core sign_digest': signByDigest,
  'chunks: bytes into the wasm, core sign': signInWasm,
};
const times = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (const f of Object.values(cases)) await f(); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, f] of Object.entries(cases)) times[name].push(await time(f));
}
const plain = times['plain SHA-256 (node:crypto)'];
console.log(`64 MiB, ${ROUNDS} alternating rounds (node ${process.version}); throughput relative to plain SHA-256 of the same bytes, per round, median:`);
for (const [name, ms] of Object.entries(times)) {
  const ratios = ms.map((t, i) => plain[i] / t);
  const mibps = LENGTH / 2 ** 20 / (median(ms) / 1000);
  console.log(`  ${name.padEnd(48)} ${median(ms).toFixed(1).padStart(7)} ms  ${mibps.toFixed(0).padStart(5)} MiB/s  ${(100 * median(ratios)).toFixed(0).padStart(4)}% (${(100 * Math.min(...ratios)).toFixed(0)}-${(100 * Math.max(...ratios)).toFixed(0)}%)`);
}
