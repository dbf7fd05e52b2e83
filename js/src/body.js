// What the signature says about a body: its bytes (hashed in the wasm), its SHA-256 computed
// with the platform's native hash (large bodies), or UNSIGNED-PAYLOAD (streams, S3 only).

import { SigV4Error } from './errors.js';
import { UNSIGNED_PAYLOAD, usesS3Rules } from './engine.js';
import { bodyData } from './request.js';
import { hashedBySubtle, sha256HexSubtle, sha256HexSync } from './hash.js';

function isStream(body) {
  return typeof ReadableStream !== 'undefined' && body instanceof ReadableStream
    || typeof body?.pipe === 'function' || typeof body?.[Symbol.asyncIterator] === 'function';
}

/**
 * The engine's payload for `body`: `given` is the caller's x-amz-content-sha256 header (a hash
 * or UNSIGNED-PAYLOAD), which wins. A promise only when it must wait (a Blob's bytes, a hash
 * from crypto.subtle): awaiting a plain value costs a turn of the microtask queue.
 */
export function payloadFor(body, service, given) {
  if (given) return given === 'UNSIGNED-PAYLOAD' ? UNSIGNED_PAYLOAD : { hash: given };
  if (isStream(body)) {
    // The S3 family accepts UNSIGNED-PAYLOAD for a body it cannot see before signing.
    if (usesS3Rules(service)) return UNSIGNED_PAYLOAD;
    throw new SigV4Error('unsigned_payload_not_allowed', 'body',
      `body is a stream, which can only be signed as UNSIGNED-PAYLOAD, and ${service} does not accept that (S3 does): read it into a Uint8Array or set x-amz-content-sha256 to its SHA-256`);
  }
  if (typeof Blob !== 'undefined' && body instanceof Blob) {
    return body.arrayBuffer().then((bytes) => payloadOf(new Uint8Array(bytes)));
  }
  return payloadOf(body instanceof URLSearchParams ? body.toString() : bodyData(body));
}

/** The body's data for the wasm to hash, or its native hash (or a promise of it). */
function payloadOf(data) {
  const hash = sha256HexSync(data);
  if (hash !== undefined) return { hash };
  if (!hashedBySubtle(data)) return data;
  return sha256HexSubtle(data).then((hex) => ({ hash: hex }));
}
