// What the signature says about a body: its bytes (hashed in the wasm), its SHA-256 computed
// with the platform's native hash (large bodies), or UNSIGNED-PAYLOAD (streams, S3 only).

import { SigV4Error } from './errors.js';
import { UNSIGNED_PAYLOAD } from './engine.js';
import { bodyData } from './request.js';
import { sha256Hex } from './hash.js';

/** Services that accept UNSIGNED-PAYLOAD for a body they cannot see before signing. */
const UNSIGNED_PAYLOAD_SERVICES = new Set(['s3', 's3-object-lambda', 's3express', 's3-outposts']);

function isStream(body) {
  return typeof ReadableStream !== 'undefined' && body instanceof ReadableStream
    || typeof body?.pipe === 'function' || typeof body?.[Symbol.asyncIterator] === 'function';
}

/**
 * The engine's payload for `body`: `given` is the caller's x-amz-content-sha256 header (a hash
 * or UNSIGNED-PAYLOAD), which wins.
 */
export async function payloadFor(body, service, given) {
  if (given) return given === 'UNSIGNED-PAYLOAD' ? UNSIGNED_PAYLOAD : { hash: given };
  if (isStream(body)) {
    if (UNSIGNED_PAYLOAD_SERVICES.has(service)) return UNSIGNED_PAYLOAD;
    throw new SigV4Error('unsigned_payload_not_allowed', 'body',
      `body is a stream, which can only be signed as UNSIGNED-PAYLOAD, and ${service} does not accept that (S3 does): read it into a Uint8Array or set x-amz-content-sha256 to its SHA-256`);
  }
  const data =
    typeof Blob !== 'undefined' && body instanceof Blob ? new Uint8Array(await body.arrayBuffer())
    : body instanceof URLSearchParams ? body.toString()
    : bodyData(body);
  const hash = await sha256Hex(data);
  return hash === undefined ? data : { hash };
}
