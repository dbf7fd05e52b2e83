// The AWS signing test suite's v4a cases (SigV4a) checked through the public API, in any
// JavaScript runtime (no Node modules; the cases come from test/suite-v4a.mjs). SigV4a signatures
// are randomized by most signers (ours too where node:crypto signs; the wasm's p256 is RFC 6979
// deterministic): they are verified with the case's public key, never compared. Compared byte for byte: the canonical
// request, the string to sign, the Authorization header and the presigned query but for the
// signature, and the x-amz-region-set header.

function hexBytes(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/**
 * A WebCrypto check of a SigV4a signature (hex of an ASN.1 DER ECDSA signature) of `message`
 * under `publicKeyHex` (an uncompressed P-256 point): what the runtimes without node:crypto use.
 * WebCrypto takes the signature as r || s, 32 bytes each.
 */
export async function webCryptoVerify(publicKeyHex, message, signatureHex) {
  const der = hexBytes(signatureHex);
  // SEQUENCE { INTEGER r, INTEGER s }, each a positive integer of at most 33 bytes.
  if (der[0] !== 0x30 || der[1] !== der.length - 2) return false;
  const raw = new Uint8Array(64);
  let at = 2;
  for (const offset of [0, 32]) {
    if (der[at] !== 0x02) return false;
    let length = der[at + 1];
    let start = at + 2;
    at = start + length;
    while (length > 32 && der[start] === 0) {
      start++;
      length--;
    }
    if (length > 32) return false;
    raw.set(der.subarray(start, start + length), offset + 32 - length);
  }
  if (at !== der.length) return false;
  const key = await crypto.subtle.importKey('raw', hexBytes(publicKeyHex), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, raw, new TextEncoder().encode(message));
}

/** signSync/presignSync options for a case's context: SigV4a, the region being the region set. */
function caseOptions(context) {
  return {
    accessKeyId: context.access_key_id,
    secretAccessKey: context.secret_access_key,
    sessionToken: context.token ?? undefined,
    algorithm: 'sigv4a',
    region: context.region,
    service: context.service,
    signingDate: context.timestamp,
    singleEncode: !context.double_uri_encode,
    normalizePath: context.normalize,
    contentSha256Header: context.sign_body,
    appendSessionToken: context.omit_session_token,
    expiresIn: context.expiration_in_seconds,
  };
}

/** What differs between `actual` and `expected` outputs, by name; empty when all match. */
function differences(pairs) {
  return pairs.filter(([, actual, expected]) => actual !== expected).map(([name, actual, expected]) => `${name}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}

/** The text before the signature of an Authorization header or a query ending in one. */
const unsigned = (text) => text?.slice(0, text.lastIndexOf('Signature=') + 'Signature='.length);
const signatureOf = (text) => text?.slice(text.lastIndexOf('Signature=') + 'Signature='.length);

/** Checks one case at one location ('header' or 'query'); resolves to the differences. */
async function checkCase(c, location, api, verify) {
  const expected = c.expected[location];
  const request = { method: c.request.method, url: c.request.uri, headers: c.request.headers, body: hexBytes(c.request.body_hex) };
  const options = caseOptions(c.context);
  const presign = location === 'query';
  const explained = api.explainSync(request, { ...options, presign });
  const pairs = [
    ['canonical request', explained.canonicalRequest, expected.canonical_request],
    ['string to sign', explained.stringToSign, expected.string_to_sign],
  ];
  let signature;
  let first;
  if (presign) {
    const url = api.presignSync(request, options);
    first = url;
    const query = url.slice(url.indexOf('?') + 1);
    signature = signatureOf(query);
    // The suite writes the query decoded (ሴ=bar); the URL is in the wire form (%E1%88%B4=bar).
    pairs.push(['query but the signature', decodeURIComponent(unsigned(query)), decodeURIComponent(unsigned(expected.query))]);
    pairs.push(['explained URL but the signature', unsigned(explained.url), unsigned(url)]);
  } else {
    const headers = api.signSync(request, options);
    first = headers.authorization;
    signature = signatureOf(headers.authorization);
    pairs.push(['authorization but the signature', unsigned(headers.authorization), unsigned(expected.authorization)]);
    pairs.push(['x-amz-region-set', headers['x-amz-region-set'], c.context.region]);
    pairs.push(['explained authorization but the signature', unsigned(explained.headers.authorization), unsigned(headers.authorization)]);
  }
  const failures = differences(pairs);
  if (!/^30(?:[0-9a-f]{2}){6,71}$/.test(signature ?? '')) failures.push(`signature is not the hex of a DER ECDSA signature: ${signature}`);
  else {
    if (!(await verify(c.public_key, expected.string_to_sign, signature))) failures.push(`our signature ${signature} does not verify with the case's public key`);
    if (await verify(c.public_key, `${expected.string_to_sign}x`, signature)) failures.push('our signature verifies for another string to sign');
  }
  // The check itself: the suite's own signature verifies with the suite's key.
  if (!(await verify(c.public_key, expected.string_to_sign, expected.signature))) failures.push('the suite\'s own signature does not verify (the verifier is broken)');
  // Signing again gives the same but for the signature (another where OpenSSL signs), which
  // verifies too.
  const again = presign ? api.presignSync(request, options) : api.signSync(request, options).authorization;
  if (unsigned(again) !== unsigned(first)) failures.push(`signing again gave another request: ${unsigned(again)}`);
  if (!(await verify(c.public_key, expected.string_to_sign, signatureOf(again)))) failures.push(`signing again gave a signature that does not verify: ${signatureOf(again)}`);
  return failures;
}

/**
 * Every case and location of `cases` (test/suite-v4a.mjs) through `api` (the package's signSync,
 * presignSync, explainSync), signatures checked with `verify(publicKeyHex, message,
 * signatureHex)` (a boolean or its promise): [{ name, failures }], failures empty when it
 * matched.
 */
export async function checkSuiteV4a(cases, api, verify = webCryptoVerify) {
  const results = [];
  for (const c of cases) {
    for (const location of Object.keys(c.expected)) {
      let failures;
      try {
        failures = await checkCase(c, location, api, verify);
      } catch (e) {
        failures = [`threw ${e?.name}: ${e?.message}`];
      }
      results.push({ name: `v4a ${c.name} (${location})`, failures });
    }
  }
  return results;
}
