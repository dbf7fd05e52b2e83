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
    pairs.push(['query', url.split('?')[1], expected.query], ['signature', url.slice(-64), expected.signature]);
  } else {
    const authorization = signSync(request, options).authorization;
    pairs.push(['authorization', authorization, expected.authorization], ['signature', authorization?.slice(-64), expected.signature]);
  }
  return differences(pairs);
}

/**
 * Every case and location of `cases` (target/aws-suite-v4.json) through `api` (the package's
 * signSync, presignSync, explainSync): [{ name, failures }], failures empty when it matched.
 */
export function checkSuite(cases, api) {
  const results = [];
  for (const c of cases) {
    for (const location of Object.keys(c.expected)) {
      let failures;
      try {
        failures = checkCase(c, location, api);
      } catch (e) {
        failures = [`threw ${e?.name}: ${e?.message}`];
      }
      results.push({ name: `${c.name} (${location})`, failures });
    }
  }
  return results;
}
