// verify: checks a SigV4 signature as a service does (the core's verifier, in the wasm). The
// caller says which secret belongs to an access key id; the verdict says who signed, or why the
// request is refused, in the words of sigv4-core's Rejection.

import { Engine, text, unixSeconds } from './engine.js';
import { coreError, typeError, SigV4Error } from './errors.js';
import { flatHeaders, urlText, bodyData } from './request.js';
import { sha256HexSync } from './hash.js';

let shared;

/**
 * Verifies `request` ({ method, url, headers, body }: the body received; none is an empty one).
 * `options`:
 * - `credentials`: `{ ACCESS_KEY_ID: 'SECRET', ... }` (own properties only) or a function from an
 *   access key id to its secret (undefined when unknown);
 * - `now` (a Date, milliseconds or an ISO string; the clock if undefined), `maxSkew` (seconds,
 *   900), `region` and `service` (what the credential scope must name; any if undefined; for
 *   SigV4a the region set must name the region or be `*`);
 * - `payloadHash`: the body's hex SHA-256 instead of the body.
 * Returns `{ valid: true, accessKeyId, region, service, time, sessionToken, payloadVerified }`
 * or `{ valid: false, code, reason, accessKeyId }`; throws a SigV4Error for input of the wrong
 * type.
 */
export function verify(request, options) {
  if (request === null || typeof request !== 'object') throw new TypeError('request must be an object');
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const lookup = secretLookup(options.credentials);
  const maxSkew = options.maxSkew ?? 900;
  if (!Number.isInteger(maxSkew) || maxSkew < 0) throw typeError('max_skew', 'a whole number of seconds');
  const payload =
    options.payloadHash !== undefined ? { hash: text(options.payloadHash, 'payload_hash') }
    : received(request.body);
  const engine = options.engine ?? (shared ??= new Engine());
  const keys = new Keys(lookup);
  const lines = engine.verify(
    text(request.method ?? 'GET', 'method'),
    urlText(request.url),
    flatHeaders(request.headers),
    expected(options.region, 'region'),
    expected(options.service, 'service'),
    unixSeconds(options.now),
    maxSkew,
    payload,
    keys,
  );
  if (keys.error !== undefined) throw keys.error;
  return verdict(lines);
}

/** The body for the core: large ones hashed natively where the runtime lends node:crypto. */
function received(body) {
  const data = bodyData(body);
  const hash = sha256HexSync(data);
  return hash === undefined ? data : { hash };
}

/**
 * The region or service the scope must name: '' (any) when undefined; an empty one names none,
 * so it is refused (an unset variable must not accept every scope).
 */
function expected(value, field) {
  if (value === undefined) return '';
  if (text(value, field) === '') throw new SigV4Error('empty', field, `${field} must not be empty`);
  return value;
}

/** A function from an access key id to its secret, from the `credentials` option. */
function secretLookup(credentials) {
  if (typeof credentials === 'function') return credentials;
  if (credentials !== null && typeof credentials === 'object') {
    return (id) => (Object.hasOwn(credentials, id) ? credentials[id] : undefined);
  }
  throw typeError('credentials', 'an object of access key ids and secrets, or a function');
}

/** What the wasm calls back: never throws into it; a failure is kept for after the call. */
class Keys {
  #lookup;
  constructor(lookup) {
    this.#lookup = lookup;
    this.error = undefined;
  }

  secretFor(id) {
    try {
      const secret = this.#lookup(id);
      if (secret == null) return undefined;
      if (typeof secret === 'string') return secret;
      this.error = typeError('credentials', 'a function that returns a string or undefined');
    } catch (e) {
      this.error = e;
    }
    return undefined;
  }
}

/** The verdict from the core's lines. */
function verdict(lines) {
  const cut = (text, n) => {
    const parts = [];
    let at = 0;
    for (let i = 0; i < n; i++) {
      const end = text.indexOf('\n', at);
      parts.push(text.slice(at, end));
      at = end + 1;
    }
    parts.push(text.slice(at));
    return parts;
  };
  if (lines.startsWith('1')) {
    const [, accessKeyId, region, service, time, payloadVerified, hasToken, token] = cut(lines, 7);
    return {
      valid: true,
      accessKeyId,
      region,
      service,
      time: new Date(Number(time) * 1000),
      sessionToken: hasToken === '1' ? token : undefined,
      payloadVerified: payloadVerified === '1',
    };
  }
  const [, code, accessKeyId, detail] = cut(lines, 3);
  return { valid: false, code, reason: reason(code, detail), accessKeyId: accessKeyId || undefined };
}

/** The words of sigv4-core's `Rejection` (its Display), from the code and its detail. */
function reason(code, detail) {
  switch (code) {
    case 'not_signed': return 'the request has no Authorization header or presigning parameters';
    case 'malformed': return `malformed ${detail}`;
    case 'unsupported_algorithm': return 'the algorithm is neither AWS4-HMAC-SHA256 nor AWS4-ECDSA-P256-SHA256';
    case 'unknown_access_key': return `unknown access key id ${detail}`;
    case 'scope_date_mismatch': return "the credential scope's date is not the date of X-Amz-Date";
    case 'wrong_region': return `the credential scope names region ${detail}, not the one expected`;
    case 'wrong_service': return `the credential scope names service ${detail}, not the one expected`;
    case 'host_not_signed': return 'host is not a signed header';
    case 'date_not_signed': return 'x-amz-date is not a signed header';
    case 'signed_header_missing': return `the signed header ${detail} is not in the request`;
    case 'content_sha256_mismatch': return 'x-amz-content-sha256 is not the SHA-256 of the body';
    case 'outside_skew': return "the request's time is outside the clock skew allowed";
    case 'not_yet_valid': return 'the presigned URL is not valid yet';
    case 'expired': return 'the presigned URL has expired';
    case 'expires_out_of_range': return 'X-Amz-Expires must be between 1 and 604800 seconds';
    case 'invalid': return `the request cannot be signed: ${coreError(detail).message}`;
    case 'signature_mismatch': return 'the signature does not match';
    case 'host_mismatch': return 'the Host header names another host than the URI';
    case 'token_not_signed': return 'the session token is not signed';
    case 'unsupported_payload': return 'the payload form (streaming, aws-chunked) is not verified here';
    default: return code;
  }
}
