// The AWS signing test suite checked through the public API, in any JavaScript runtime (no Node
// modules): Node's test runner makes each result a test; Deno, Bun, workerd and Chromium return
// them all (test/runtimes). Compares the canonical request, string to sign, signature,
// Authorization header and presigned query with the suite's files.

function hexBytes(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** signSync/presignSync options for a case's context. */
function caseOptions(context) {
  return {
    accessKeyId: context.access_key_id,
    secretAccessKey: context.secret_access_key,
    sessionToken: context.token ?? undefined,
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

/** Checks one case at one location ('header' or 'query'); returns the differences. */
function checkCase(c, location, { signSync, presignSync, explainSync }) {
  const expected = c.expected[location];
  const request = { method: c.request.method, url: c.request.uri, headers: c.request.headers, body: hexBytes(c.request.body_hex) };
  const options = caseOptions(c.context);
  const presign = location === 'query';
  const explained = explainSync(request, { ...options, presign });
  const pairs = [
    ['canonical request', explained.canonicalRequest, expected.canonical_request],
    ['string to sign', explained.stringToSign, expected.string_to_sign],
  ];
  if (presign) {
    const url = presignSync(request, options);
    // The suite writes the query decoded (ሴ=bar); the URL is in the wire form (%E1%88%B4=bar).
    pairs.push(['query', decodeURIComponent(url.split('?')[1]), decodeURIComponent(expected.query)], ['signature', url.slice(-64), expected.signature]);
  } else {
    const authorization = signSync(request, options).authorization;
    pairs.push(['authorization', authorization, expected.authorization], ['signature', authorization?.slice(-64), expected.signature]);
  }
  return differences(pairs);
}

/**
 * A request with a 4 MiB header, which grows the wasm's memory (the request and result cross
 * through views of it, which growing replaces), and a 4 MiB body (hashed with node:crypto where
 * the runtime lends it, in the wasm elsewhere); then `c` again through the new views. The
 * expected Authorization is what @smithy/signature-v4 (node:crypto hashing) computes for it.
 */
function checkGrowth(c, api) {
  const body = new Uint8Array(4 << 20).fill(97);
  const headers = { 'x-amz-meta-grow': 'b'.repeat(4 << 20) };
  const options = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    region: 'us-east-1',
    service: 'service',
    signingDate: '2015-08-30T12:36:00Z',
    contentSha256Header: true,
  };
  const { authorization } = api.signSync({ method: 'PUT', url: 'https://example.amazonaws.com/big', headers, body }, options);
  const expected = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-meta-grow, Signature=3000f52c635ddf05fba77ee73b979e4a2fac1fb0288bd23e40c498c5467f0d87';
  return differences([['authorization of the 4 MiB header and body', authorization, expected]]).concat(checkCase(c, 'header', api));
}

/**
 * Every case and location of `cases` (target/aws-suite-v4.json) through `api` (the package's
 * signSync, presignSync, explainSync): [{ name, failures }], failures empty when it matched.
 */
export function checkSuite(cases, api) {
  const results = [];
  const run = (name, check) => {
    let failures;
    try {
      failures = check();
    } catch (e) {
      failures = [`threw ${e?.name}: ${e?.message}`];
    }
    results.push({ name, failures });
  };
  for (const c of cases) {
    for (const location of Object.keys(c.expected)) run(`${c.name} (${location})`, () => checkCase(c, location, api));
  }
  const again = cases.find((c) => c.expected.header);
  run(`a 4 MiB header and body that grow the wasm memory, then ${again.name} again`, () => checkGrowth(again, api));
  return results;
}
