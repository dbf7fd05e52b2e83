// signSync and presignSync: the synchronous low-level API for hot paths. They sign with one
// shared core signer, which keeps the signing key while credentials, day, region and service
// stay the same.

import { Engine, SINGLE_ENCODE, DOUBLE_ENCODE, NO_NORMALIZE, NORMALIZE, CONTENT_SHA256, NO_CONTENT_SHA256, TOKEN_AFTER, SIGV4A, UNSIGNED_PAYLOAD, regionSet, text, unixSeconds } from './engine.js';
import { SigV4Error } from './errors.js';
import { flatHeaders, urlText, bodyData } from './request.js';
import { sha256HexSync } from './hash.js';

let shared;

/**
 * The core's flags for the options that override the service's rules (which the core knows:
 * S3's for the S3 family, the standard ones for every other service).
 */
export function settingsFlags(options) {
  return choose(options.singleEncode, SINGLE_ENCODE, DOUBLE_ENCODE)
    | choose(options.normalizePath, NORMALIZE, NO_NORMALIZE)
    | choose(options.contentSha256Header, CONTENT_SHA256, NO_CONTENT_SHA256)
    | (options.appendSessionToken === true ? TOKEN_AFTER : 0);
}

/**
 * Whether `options` sign with SigV4a: `algorithm: 'sigv4a'`, or a `signingRegionSet` without an
 * algorithm; `'sigv4'` (the default) with a region set is an error.
 */
export function usesSigV4a({ algorithm, signingRegionSet }) {
  if (algorithm === 'sigv4a') return true;
  if (algorithm !== undefined && algorithm !== 'sigv4') {
    throw new SigV4Error('invalid_type', 'algorithm', `algorithm must be 'sigv4' or 'sigv4a', got ${JSON.stringify(String(algorithm))}`);
  }
  if (signingRegionSet === undefined) return false;
  if (algorithm === 'sigv4') {
    throw new SigV4Error('invalid_type', 'signing_region_set', "signing_region_set is for SigV4a: drop it or give algorithm: 'sigv4a'");
  }
  return true;
}

/**
 * The region part and the algorithm's flag: for SigV4a the region set (`signingRegionSet`, else
 * `region`: an array of names or a comma-separated string), for SigV4 the region.
 */
export function regionAndAlgorithm(options, region) {
  if (!usesSigV4a(options)) return [text(region, 'region'), 0];
  const set = options.signingRegionSet;
  return [set === undefined ? regionSet(region, 'region') : regionSet(set, 'signing_region_set'), SIGV4A];
}

/** `on` if the option is true, `off` if false, nothing (the service's rule) if undefined. */
function choose(option, on, off) {
  return option === true ? on : option === false ? off : 0;
}

/**
 * What the signature says about the body: a precomputed hash, unsigned, its native hash (large
 * bodies, where the runtime lends node:crypto), or the body for the wasm to hash.
 */
function payload(request, options) {
  if (options.unsignedPayload) return UNSIGNED_PAYLOAD;
  if (options.payloadHash !== undefined) return { hash: text(options.payloadHash, 'payload_hash') };
  const data = bodyData(request.body);
  const hash = sha256HexSync(data);
  return hash === undefined ? data : { hash };
}

function sign(request, options, expiresIn, explain) {
  if (request === null || typeof request !== 'object') throw new TypeError('request must be an object');
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const engine = options.engine ?? (shared ??= new Engine());
  engine.setCredentials(options);
  const service = text(options.service, 'service');
  const [region, algorithm] = regionAndAlgorithm(options, options.region);
  return engine.sign(
    text(request.method ?? 'GET', 'method'),
    urlText(request.url),
    flatHeaders(request.headers),
    region,
    service,
    unixSeconds(options.signingDate),
    settingsFlags(options) | algorithm,
    payload(request, options),
    expiresIn,
    explain,
  );
}

/**
 * Signs `request` ({ method, url, headers, body }) for the Authorization header. Returns the
 * headers to set (lower-case names): x-amz-date, x-amz-security-token, x-amz-content-sha256
 * (S3), authorization; with SigV4a (`algorithm: 'sigv4a'` or `signingRegionSet`) x-amz-region-set
 * too.
 */
export function signSync(request, options) {
  return sign(request, options, undefined, false);
}

/** Presigns `request`: the URL with the X-Amz-* parameters, valid for options.expiresIn (3600) s. */
export function presignSync(request, options) {
  return sign(request, options, options?.expiresIn ?? 3600, false);
}

/**
 * Signs like signSync/presignSync and returns the canonical request and string to sign too; for
 * header signing also `pathAndQuery`, the path and query signed in their wire form (a raw space
 * or non-ASCII character percent-encoded, as WHATWG URL encodes them): what a client that does
 * not send the URL string through fetch or URL must send.
 */
export function explainSync(request, options) {
  const expiresIn = options?.presign ? (options.expiresIn ?? 3600) : undefined;
  const { canonicalRequest, stringToSign, signed } = sign(request, options, expiresIn, true);
  if (typeof signed === 'string') return { canonicalRequest, stringToSign, url: signed };
  const pathAndQuery = (options.engine ?? shared).target;
  return { canonicalRequest, stringToSign, headers: signed, pathAndQuery };
}
