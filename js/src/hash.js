// The platform's native SHA-256 for bodies large enough that it beats the wasm's portable one.
// Where the runtime lends node:crypto synchronously (Node, Deno, Bun), every API uses it from
// 1 KiB on: a call costs ~0.4 us (crypto.hash) to ~0.9 us (createHash), the wasm ~0.2 us per
// 64-byte block (measured crossover 256-512 B; signSync of a 1 KiB body: 4.2 us vs 6.8 us, of
// 4 KiB: 6.6 us vs 17.0 us). Elsewhere (browsers, Workers) the async APIs use crypto.subtle from
// 16 KiB on: its round trip costs a few microseconds, hashing 16 KiB in the wasm tens of them.

import { bodyBytes } from './request.js';

/** Bodies at least this long are hashed with node:crypto where the runtime lends it. */
const SYNC_NATIVE_MIN_BYTES = 1024;
/** Bodies at least this long are hashed with crypto.subtle by the async APIs otherwise. */
const ASYNC_NATIVE_MIN_BYTES = 16 * 1024;

/**
 * node:crypto without importing it (browsers and bundles would fail on the import): Node 20.16+,
 * Deno and Bun lend built-in modules through process.getBuiltinModule. Undefined elsewhere.
 * (native-ecdsa.js signs SigV4a with it too.)
 */
export const nodeCrypto = globalThis.process?.getBuiltinModule?.('node:crypto');

/** node:crypto's hex SHA-256: the one-shot crypto.hash (Node 20.12+) if there, else a Hash. */
const nodeSha256Hex =
  typeof nodeCrypto?.hash === 'function' ? (data) => nodeCrypto.hash('sha256', data, 'hex')
  : nodeCrypto ? (data) => nodeCrypto.createHash('sha256').update(data).digest('hex')
  : undefined;

/**
 * The hex SHA-256 of `data` (a string, hashed as UTF-8 as TextEncoder writes it, or bytes) if it
 * is long enough to be hashed natively and the runtime lends node:crypto; else undefined (the
 * wasm hashes it with the signature).
 */
export function sha256HexSync(data) {
  // A string's UTF-8 is at least as long as its UTF-16 length.
  return data.length >= SYNC_NATIVE_MIN_BYTES ? nodeSha256Hex?.(data) : undefined;
}

/** Whether the async APIs hash `data` with crypto.subtle: no node:crypto, and 16 KiB or more. */
export function hashedBySubtle(data) {
  return nodeSha256Hex === undefined && data.length >= ASYNC_NATIVE_MIN_BYTES;
}

/** The hex SHA-256 of `data` (a string, hashed as UTF-8, or bytes) with crypto.subtle. */
export async function sha256HexSubtle(data) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bodyBytes(data)));
  let out = '';
  for (const b of digest) out += b.toString(16).padStart(2, '0');
  return out;
}
