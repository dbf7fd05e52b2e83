#!/usr/bin/env node
// sigv4 sign --case DIR [--location header|query] [--json] and sigv4 verify --request FILE
// --credentials FILE [--now UNIX_SECONDS] [--max-skew SECONDS] [--json]: the contracts of the Rust
// CLI (crates/cli; case format in crates/case/src/case.rs), run by this package's wasm.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, SINGLE_ENCODE, NO_NORMALIZE, CONTENT_SHA256, TOKEN_AFTER, unixSeconds } from '../src/engine.js';
import { parseRequest, requestUri } from '../src/raw-request.js';
import { verify } from '../src/verify.js';

const USAGE = `usage: sigv4 sign --case DIR [--location header|query] [--json]
       sigv4 verify --request FILE --credentials FILE [--now UNIX_SECONDS] [--max-skew SECONDS] [--json]`;

function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command === 'verify') return parseVerifyArgs(rest);
  if (command !== 'sign') throw new Error(USAGE);
  const args = { location: 'header', json: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--json') args.json = true;
    else if (arg === '--case' && i + 1 < rest.length) args.case = rest[++i];
    else if (arg === '--location' && ['header', 'query'].includes(rest[i + 1])) args.location = rest[++i];
    else throw new Error(`unexpected argument ${JSON.stringify(arg)}\n${USAGE}`);
  }
  if (!args.case) throw new Error(USAGE);
  return args;
}

function parseVerifyArgs(rest) {
  const args = { command: 'verify', json: false, maxSkew: 900, now: undefined };
  const seconds = (value, name) => {
    if (!/^[0-9]+$/.test(value ?? '')) throw new Error(`${name} takes a whole number of seconds\n${USAGE}`);
    return Number(value);
  };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--json') args.json = true;
    else if (arg === '--request' && i + 1 < rest.length) args.request = rest[++i];
    else if (arg === '--credentials' && i + 1 < rest.length) args.credentials = rest[++i];
    else if (arg === '--now') args.now = seconds(rest[++i], '--now');
    else if (arg === '--max-skew') args.maxSkew = seconds(rest[++i], '--max-skew');
    else throw new Error(`unexpected argument ${JSON.stringify(arg)}\n${USAGE}`);
  }
  if (!args.request || !args.credentials) throw new Error(USAGE);
  return args;
}

/**
 * `sigv4 verify`: exit 0 when the request verifies, 3 when it is refused, 1 when the input
 * cannot be read; with --json `{"valid", "reason" (when refused), "access_key_id" (when known)}`.
 */
function verifyCommand(args) {
  const readFile = (path) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`${path}: ${e.message}`);
    }
  };
  const raw = readFile(args.request);
  let secrets;
  try {
    secrets = JSON.parse(readFile(args.credentials).toString('utf8'));
  } catch (e) {
    throw new Error(`the credentials file is not a JSON object of access key ids and secrets: ${e.message}`);
  }
  if (secrets === null || typeof secrets !== 'object' || Array.isArray(secrets) || !Object.values(secrets).every((s) => typeof s === 'string')) {
    throw new Error('the credentials file is not a JSON object of access key ids and secrets');
  }
  let request;
  try {
    request = parseRequest(raw);
  } catch (e) {
    throw new Error(`the request file: ${e.message.replace(/^request\.txt: /, '')}`);
  }
  const result = verify(
    { method: request.method, url: requestUri(request), headers: request.headers, body: request.body },
    { credentials: secrets, now: args.now === undefined ? undefined : args.now * 1000, maxSkew: args.maxSkew },
  );
  if (args.json) {
    const json = { valid: result.valid };
    if (!result.valid) json.reason = result.reason;
    if (result.accessKeyId !== undefined) json.access_key_id = result.accessKeyId;
    console.log(JSON.stringify(json));
  } else if (result.valid) console.log(`valid: ${result.accessKeyId}`);
  else process.stderr.write(`sigv4: refused: ${result.reason}\n`);
  process.exitCode = result.valid ? 0 : 3;
}

function read(dir, name) {
  const path = join(dir, name);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: ${e.message}`);
  }
}

/** Signs the case directory like sigv4_case::Case::sign: every intermediate step. */
function signCase(dir, location) {
  let context;
  try {
    context = JSON.parse(read(dir, 'context.json').toString('utf8'));
  } catch (e) {
    throw e.message.startsWith(dir) ? e : new Error(`${join(dir, 'context.json')}: ${e.message}`);
  }
  const request = parseRequest(read(dir, 'request.txt'));
  const engine = new Engine();
  const { access_key_id, secret_access_key, token } = context.credentials ?? {};
  engine.setCredentials({ accessKeyId: access_key_id, secretAccessKey: secret_access_key, sessionToken: token ?? undefined });
  let flags = 0;
  if (context.double_uri_encode === false) flags |= SINGLE_ENCODE;
  if (context.normalize === false) flags |= NO_NORMALIZE;
  if (context.sign_body === true) flags |= CONTENT_SHA256;
  if (context.omit_session_token === true) flags |= TOKEN_AFTER;
  const expiresIn = location === 'query' ? (context.expiration_in_seconds ?? 3600) : undefined;
  return engine.sign(
    request.method,
    requestUri(request),
    request.headers.flat(),
    context.region,
    context.service,
    unixSeconds(context.timestamp),
    flags,
    request.body,
    expiresIn,
    true,
  );
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.command === 'verify') return verifyCommand(args);
  let out;
  try {
    out = signCase(args.case, args.location);
  } catch (e) {
    throw new Error(`${args.case}: ${e.message}`);
  }
  const { canonicalRequest, stringToSign, signed } = out;
  const url = typeof signed === 'string' ? signed : undefined;
  const headers = url === undefined ? Object.entries(signed) : [];
  const authorization = headers.find(([name]) => name === 'authorization')?.[1] ?? '';
  const signature = (url ?? authorization).slice(-64);
  if (args.json) {
    const json = { canonical_request: canonicalRequest, string_to_sign: stringToSign, signature };
    if (url !== undefined) json.url = url;
    else Object.assign(json, { authorization, headers });
    console.log(JSON.stringify(json));
  } else {
    console.log(url ?? authorization);
  }
}

try {
  main();
} catch (e) {
  process.stderr.write(`sigv4: ${e.message}\n`);
  process.exitCode = 1;
}
