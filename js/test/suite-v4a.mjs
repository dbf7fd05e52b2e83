// The AWS signing test suite's v4a folder (SigV4a), read from the aws-sigv4 package, where
// `cargo metadata` finds it (or SIGV4_SUITE_V4A_DIR), into the shape of target/aws-suite-v4.json
// (test/suite.mjs) plus each case's public key. The v4 export (crates/case's export-suite) has
// no v4a cases; this reads the folder directly, with the conventions of crates/case/src/suite.rs:
// the context defaults of its case format, and the single-encoding override of get-space-* and
// get-utf8 (a request line cannot carry the raw path they expect encoded once, see there).

import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

function suiteDir() {
  if (process.env.SIGV4_SUITE_V4A_DIR) return process.env.SIGV4_SUITE_V4A_DIR;
  const metadata = JSON.parse(execFileSync('cargo', ['metadata', '--format-version', '1', '--locked'], { cwd: repo, maxBuffer: 64 << 20 }));
  const sigv4 = metadata.packages.find((p) => p.name === 'aws-sigv4');
  if (!sigv4) throw new Error('the aws-sigv4 package (the suite) is not in the dependency graph');
  return join(dirname(sigv4.manifest_path), 'aws-signing-test-suite', 'v4a');
}

/**
 * A request.txt (or signed-request.txt) as crates/case's RawRequest reads it: the request line
 * (the target may hold spaces), headers with folded lines joined by '\n', the body after the
 * first empty line.
 */
export function parseRawRequest(bytes) {
  const text = Buffer.from(bytes);
  let split = text.indexOf('\n\n');
  let sep = 2;
  if (split < 0) {
    split = text.indexOf('\r\n\r\n');
    sep = 4;
  }
  const head = (split < 0 ? text : text.subarray(0, split)).toString('utf8');
  const body = split < 0 ? Buffer.alloc(0) : text.subarray(split + sep);
  const lines = head.split(/\r?\n/);
  const requestLine = lines.shift();
  const space = requestLine.indexOf(' ');
  const method = requestLine.slice(0, space);
  let target = requestLine.slice(space + 1);
  const last = target.lastIndexOf(' ');
  if (last >= 0 && target.slice(last + 1).startsWith('HTTP/')) target = target.slice(0, last);
  const headers = [];
  for (const line of lines) {
    if (line.startsWith(' ') || line.startsWith('\t')) headers[headers.length - 1][1] += `\n${line}`;
    else if (line !== '') {
      const colon = line.indexOf(':');
      headers.push([line.slice(0, colon), line.slice(colon + 1)]);
    }
  }
  const host = headers.find(([name]) => name.toLowerCase() === 'host');
  const uri = target.startsWith('/') && host ? `https://${host[1].trim()}${target}` : target;
  return { method, target, uri, headers, body };
}

const SINGLE_ENCODED = new Set(['get-space-normalized', 'get-space-unnormalized', 'get-utf8']);

/** The suite's expected outputs at one location ('header' or 'query'). */
function expected(dir, location) {
  const read = (suffix) => readFileSync(join(dir, `${location}-${suffix}`), 'utf8');
  const signed = parseRawRequest(readFileSync(join(dir, `${location}-signed-request.txt`)));
  const authorization = signed.headers.find(([name]) => name === 'Authorization')?.[1].trim() ?? null;
  const query = signed.target.includes('?') ? signed.target.slice(signed.target.indexOf('?') + 1) : null;
  return {
    canonical_request: read('canonical-request.txt'),
    string_to_sign: read('string-to-sign.txt'),
    signature: read('signature.txt').trim(),
    authorization,
    query,
  };
}

/** Every case of the v4a folder, sorted by name, with `public_key` (hex of 04 || X || Y). */
export function loadSuiteV4a(dir = suiteDir()) {
  const names = readdirSync(dir).filter((name) => statSync(join(dir, name)).isDirectory()).sort();
  return names.map((name) => {
    const caseDir = join(dir, name);
    const context = JSON.parse(readFileSync(join(caseDir, 'context.json'), 'utf8'));
    const request = parseRawRequest(readFileSync(join(caseDir, 'request.txt')));
    const key = JSON.parse(readFileSync(join(caseDir, 'public-key.json'), 'utf8'));
    return {
      name,
      context: {
        access_key_id: context.credentials.access_key_id,
        secret_access_key: context.credentials.secret_access_key,
        token: context.credentials.token ?? null,
        region: context.region,
        service: context.service,
        timestamp: context.timestamp,
        expiration_in_seconds: context.expiration_in_seconds ?? 3600,
        normalize: context.normalize ?? true,
        sign_body: context.sign_body ?? false,
        omit_session_token: context.omit_session_token ?? false,
        double_uri_encode: SINGLE_ENCODED.has(name) ? false : (context.double_uri_encode ?? true),
      },
      request: { method: request.method, uri: request.uri, headers: request.headers, body_hex: request.body.toString('hex') },
      public_key: `04${key.X}${key.Y}`,
      expected: { header: expected(caseDir, 'header'), query: expected(caseDir, 'query') },
    };
  });
}
