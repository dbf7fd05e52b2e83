// The bridge to the wasm core (crates/js): loads it on first use, writes a request straight into
// the wasm's memory (the UTF-16 lengths of its parts, their UTF-8 text, the body) and reads the
// result from there, and turns the core's result or error into JavaScript.
//
// The wasm comes from '#wasm' (package.json "imports"), compiled synchronously on first use, never
// fetched: Node reads dist/sigv4_js_bg.wasm next to the module; workerd imports it as a
// WebAssembly.Module; every other runtime (browsers, Deno, Bun, bundlers) gets it embedded as
// base64, which works anywhere but gzips to a third more.

import { initSync, Signer, infer_scope as coreInferScope, uses_s3_rules as coreUsesS3Rules, sigv4a_public_key as coreSigV4aPublicKey } from '../dist/sigv4_js.js';
import wasm from '#wasm';
import { coreError, typeError, SigV4Error } from './errors.js';
import { nativeEcdsaEnabled } from './native-ecdsa.js';

// Mirrors `flag` in crates/js/src/lib.rs: the core starts from the service's rules, and each
// pair sets or clears one of them.
export const SINGLE_ENCODE = 1;
export const NO_NORMALIZE = 2;
export const CONTENT_SHA256 = 4;
export const TOKEN_AFTER = 8;
export const DOUBLE_ENCODE = 512;
export const NORMALIZE = 1024;
export const NO_CONTENT_SHA256 = 2048;
/** SigV4a (AWS4-ECDSA-P256-SHA256): the region part holds the region set. */
export const SIGV4A = 4096;
/** SigV4a's ECDSA through node:crypto (native-ecdsa.js), where the runtime lends it. */
const NATIVE_ECDSA = 8192;
const PAYLOAD_HASH = 16;
const UNSIGNED = 32;
const PRESIGN = 64;
const EXPLAIN = 128;
const PAYLOAD_TEXT = 256;

/**
 * String bodies up to this length travel as a part of the request's text: one `encodeInto`
 * instead of two. Longer ones are encoded on their own, not copied into a joined string first.
 */
const TEXT_BODY_MAX = 4096;

/** The most bytes a request may take in the wasm's memory (of 4 GiB, and half to be safe). */
const MAX_REQUEST_BYTES = 2 ** 31;

/** The payload of a body that is not signed (S3 only). */
export const UNSIGNED_PAYLOAD = Object.freeze({ unsigned: true });

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let memory;
let bytes = new Uint8Array(0);
let words = new Uint32Array(0);
/** `bytes` from `textAt` on, kept while the request area stays put (a view costs ~40 ns). */
let textView = bytes;
let textAt = -1;

function load() {
  const module = typeof wasm === 'string' ? Uint8Array.from(atob(wasm), (c) => c.charCodeAt(0)) : wasm;
  memory = initSync({ module }).memory;
}

/**
 * Views of the wasm's memory, made again when it has grown: growing detaches the old buffer,
 * which leaves the old views empty (cheaper to test than fetching `memory.buffer`).
 */
function views() {
  if (bytes.byteLength === 0) {
    bytes = new Uint8Array(memory.buffer);
    words = new Uint32Array(memory.buffer);
    textAt = -1;
  }
}

/**
 * [service, region] of an AWS endpoint's URL (a string) as the core reads it, region '' when the
 * hostname does not say; undefined when the host names no AWS endpoint.
 */
export function inferScope(url, amzTarget) {
  if (memory === undefined) load();
  const scope = coreInferScope(url, amzTarget ?? '');
  return scope === '' ? undefined : scope.split('\n');
}

/** Whether a service is signed with S3's rules, which take UNSIGNED-PAYLOAD for a stream. */
export function usesS3Rules(service) {
  if (memory === undefined) load();
  return coreUsesS3Rules(service);
}

/**
 * The SigV4a public key of an access key id and secret: the uncompressed SEC1 point (65 bytes)
 * a service checks their signatures with; undefined if the credentials are invalid.
 */
export function sigv4aPublicKey(accessKeyId, secretAccessKey) {
  if (memory === undefined) load();
  const key = coreSigV4aPublicKey(text(accessKeyId, 'access_key_id'), text(secretAccessKey, 'secret_access_key'));
  return key.length === 0 ? undefined : key;
}

/**
 * The region part of a SigV4a signing: a region set as an array of names (or patterns such as
 * '*'), joined with commas, or a string as it is (the core checks it); `field` names the input.
 */
export function regionSet(value, field) {
  if (!Array.isArray(value)) return text(value, field);
  for (let i = 0; i < value.length; i++) text(value[i], `${field}[${i}]`);
  return value.join(',');
}

/** A string input, or a SigV4Error naming the field. */
export function text(value, field) {
  if (typeof value !== 'string') throw typeError(field, 'a string');
  return value;
}

/** Unix seconds from a Date, a number of milliseconds or an ISO string; the clock if undefined. */
export function unixSeconds(value) {
  const ms =
    value === undefined ? Date.now()
    : value instanceof Date ? value.getTime()
    : typeof value === 'number' ? value
    : typeof value === 'string' ? Date.parse(value)
    : NaN;
  if (!Number.isFinite(ms) || ms < 0) {
    throw new SigV4Error('invalid_timestamp', 'timestamp', 'timestamp must be a valid Date, ISO string or milliseconds since 1970');
  }
  return Math.floor(ms / 1000);
}

/**
 * { name: value } of the core's header lines from `from` on (see `Signer::sign` in
 * crates/js/src/lib.rs). A line
 * starts with the index of its name in HEADER_NAMES there ('0'-'4', mirrored by the cases
 * below: stores of constant names build the object faster than stores of names read from an
 * array), or with '#', the name and a line break.
 */
function headerObject(text, from) {
  const headers = {};
  for (let start = from; start < text.length; ) {
    const code = text.charCodeAt(start);
    let valueStart = start + 1;
    let name;
    if (code === 35) {
      valueStart = text.indexOf('\n', start) + 1;
      name = text.slice(start + 1, valueStart - 1);
    }
    let end = text.indexOf('\n', valueStart);
    if (end < 0) end = text.length;
    const value = text.slice(valueStart, end);
    switch (code) {
      case 48: headers['x-amz-date'] = value; break;
      case 49: headers['x-amz-security-token'] = value; break;
      case 50: headers['x-amz-content-sha256'] = value; break;
      case 51: headers.authorization = value; break;
      case 52: headers['x-amz-region-set'] = value; break;
      default: headers[name] = value;
    }
    start = end + 1;
  }
  return headers;
}

/** One core signer and its credentials; keep it to reuse the cached signing key. */
export class Engine {
  /**
   * The credentials last set, to skip setting the same again: a private field, so neither
   * console.log (util.inspect, even with showHidden) nor JSON.stringify shows the secret.
   */
  #credentials = undefined;

  constructor() {
    if (memory === undefined) load();
    this.core = new Signer();
    /**
     * The path and query the last header signing signed, in their wire form (a raw space or
     * non-ASCII character encoded): send the request to exactly this, or the service computes
     * another canonical request.
     */
    this.target = '';
  }

  /** Sets credentials ({ accessKeyId, secretAccessKey, sessionToken }) if they changed. */
  setCredentials(credentials) {
    if (credentials === null || typeof credentials !== 'object') {
      throw new SigV4Error('missing_credentials', 'credentials', 'credentials are missing: give accessKeyId and secretAccessKey');
    }
    const { accessKeyId, secretAccessKey, sessionToken } = credentials;
    const last = this.#credentials;
    if (last && last.accessKeyId === accessKeyId && last.secretAccessKey === secretAccessKey && last.sessionToken === sessionToken) return;
    if (accessKeyId === undefined || secretAccessKey === undefined) {
      throw new SigV4Error('missing_credentials', accessKeyId === undefined ? 'access_key_id' : 'secret_access_key', 'credentials are missing: give accessKeyId and secretAccessKey');
    }
    text(accessKeyId, 'access_key_id');
    text(secretAccessKey, 'secret_access_key');
    if (sessionToken != null) text(sessionToken, 'session_token');
    if (!this.core.set_credentials(accessKeyId, secretAccessKey, sessionToken ?? undefined)) {
      this.#credentials = undefined;
      throw coreError(this.core.error());
    }
    this.#credentials = { accessKeyId, secretAccessKey, sessionToken };
  }

  /**
   * Signs with the current credentials. `headers` is a flat array [name, value, ...]; `payload`
   * is the body (a string or a Uint8Array; none if undefined), { hash } (hex SHA-256) or
   * UNSIGNED_PAYLOAD. Returns the headers to set as an object (lower-case names, in the core's
   * order), or the presigned URL; with `explain` an object with the steps too.
   */
  sign(method, url, headers, region, service, seconds, flags, payload, expiresIn, explain) {
    if (expiresIn !== undefined) {
      if (!Number.isInteger(expiresIn) || expiresIn < 0) {
        throw new SigV4Error('expires_in_out_of_range', 'expires_in', `expires_in must be between 1 and 604800 seconds (7 days), got ${expiresIn}`);
      }
      flags |= PRESIGN;
    }
    if (explain) flags |= EXPLAIN;
    if ((flags & SIGV4A) !== 0 && nativeEcdsaEnabled()) flags |= NATIVE_ECDSA;
    const core = this.core;
    const [parts, text, bodyLength, payloadFlags] = write(core, method, url, headers, region, service, payload);
    const length = core.sign(parts, text, bodyLength, seconds, flags | payloadFlags, expiresIn ?? 0);
    if (length < 0) throw coreError(core.error());
    views();
    const out = core.output();
    const result = decoder.decode(bytes.subarray(out, out + length));
    let signed = result;
    this.target = '';
    if (expiresIn === undefined) {
      // The path and query signed (their wire form), then the headers.
      const end = result.indexOf('\n');
      this.target = result.slice(0, end);
      signed = headerObject(result, end + 1);
    }
    if (!explain) return signed;
    const [canonicalRequest, stringToSign] = core.explained().split('\0');
    return { canonicalRequest, stringToSign, signed };
  }

  /**
   * Signs the headers of an S3 aws-chunked upload of `decodedLength` bytes in chunks of
   * `chunkSize` (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or -TRAILER with the trailing `checksum`
   * header named, e.g. 'x-amz-checksum-crc32c'; '' for none). Returns { headers, chunks }: the
   * headers to set (the seed signature's, then content-encoding, content-length of the encoded
   * body, x-amz-decoded-content-length, x-amz-trailer) and the wasm's chunk signer (see
   * crates/js/src/chunked.rs), which holds the signing key; `this.target` is set as by `sign`.
   */
  signChunked(method, url, headers, region, service, seconds, flags, decodedLength, chunkSize, checksum) {
    if (!Number.isSafeInteger(decodedLength) || decodedLength < 0) throw typeError('decoded_content_length', 'a non-negative integer (the body\'s length in bytes)');
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 0 || chunkSize > 2 ** 31) throw typeError('chunk_size', 'a positive integer of bytes (at least 8192)');
    const core = this.core;
    const [parts, text] = write(core, method, url, headers, region, service, undefined);
    const length = core.sign_chunked(parts, text, seconds, flags, decodedLength, chunkSize, checksum);
    if (length < 0) throw coreError(core.error());
    views();
    const out = core.output();
    const result = decoder.decode(bytes.subarray(out, out + length));
    const end = result.indexOf('\n');
    this.target = result.slice(0, end);
    return { headers: headerObject(result, end + 1), chunks: core.chunks() };
  }

  /**
   * Verifies a request at `seconds` (Unix) within `maxSkew` seconds, for the region and service
   * expected ('' accepts any); `keys.secretFor(accessKeyId)` answers with a secret or undefined
   * and never throws (a throw inside the wasm's call would leave the signer borrowed).
   * `payload` is the body received or its hash, as for `sign`. Returns the verdict's lines (see
   * crates/js/src/verdict.rs).
   */
  verify(method, url, headers, region, service, seconds, maxSkew, payload, keys) {
    const core = this.core;
    const [parts, text, bodyLength, flags] = write(core, method, url, headers, region, service, payload);
    const length = core.verify(parts, text, bodyLength, seconds, maxSkew, flags, keys);
    if (length < 0) throw coreError(core.error());
    views();
    const out = core.output();
    return decoder.decode(bytes.subarray(out, out + length));
  }
}

/**
 * Writes a request into the core's buffer (see `Signer::buffer` in crates/js/src/lib.rs):
 * `payload` is the body (a string or a Uint8Array; none if undefined), { hash } (hex SHA-256) or
 * UNSIGNED_PAYLOAD. Returns [parts, text bytes, body bytes, the payload's flags].
 */
function write(core, method, url, headers, region, service, payload) {
  let flags = 0;
  let payloadPart = '';
  let body = payload ?? '';
  if (payload === UNSIGNED_PAYLOAD) {
    flags |= UNSIGNED;
    body = '';
  } else if (typeof payload?.hash === 'string') {
    payloadPart = payload.hash;
    flags |= PAYLOAD_HASH;
    body = '';
  } else if (typeof body === 'string' && body.length <= TEXT_BODY_MAX) {
    payloadPart = body;
    flags |= PAYLOAD_TEXT;
    body = '';
  }
  const parts = 5 + headers.length;
  let all = method + url + region + service + payloadPart;
  for (let i = 0; i < headers.length; i++) all += headers[i];
  // UTF-8 takes at most 3 bytes per UTF-16 unit.
  const textRoom = 3 * all.length;
  const bodyRoom = typeof body === 'string' ? 3 * body.length : body.length;
  const at = textRoom + bodyRoom <= MAX_REQUEST_BYTES ? core.buffer(parts, textRoom + bodyRoom) : 0;
  if (at === 0) {
    throw new SigV4Error('too_large', 'body', 'the request is too large to sign in memory: pass payloadHash (hex SHA-256) instead of the body');
  }
  views();
  let w = at >>> 2;
  words[w++] = method.length;
  words[w++] = url.length;
  words[w++] = region.length;
  words[w++] = service.length;
  words[w++] = payloadPart.length;
  for (let i = 0; i < headers.length; i++) words[w++] = headers[i].length;
  // The text needs at most `textRoom` bytes, which the area has: a view to the end of the
  // memory is as safe as one cut to size.
  if (at + 4 * parts !== textAt) {
    textAt = at + 4 * parts;
    textView = bytes.subarray(textAt);
  }
  const text = encoder.encodeInto(all, textView).written;
  let bodyLength = body.length;
  if (typeof body === 'string') {
    if (bodyLength > 0) bodyLength = encoder.encodeInto(body, bytes.subarray(textAt + text, textAt + text + bodyRoom)).written;
  } else bytes.set(body, textAt + text);
  return [parts, text, bodyLength, flags];
}
