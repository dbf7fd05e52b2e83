// AwsClient: aws4fetch's API (sign a fetch Request, or sign and fetch with retries), signed by the
// wasm core.

import { Engine, inferScope, unixSeconds, usesS3Rules } from './engine.js';
import { SigV4Error, typeError } from './errors.js';
import { regionAndAlgorithm, settingsFlags, usesSigV4a } from './sign-sync.js';
import { payloadFor } from './body.js';
import { DEFAULT_CHUNK_SIZE, chunkedStream } from './chunked.js';

/** aws4fetch's X-Amz-Expires for query signing. */
const DEFAULT_EXPIRES_IN = 86400;

/**
 * The decoded length of a ReadableStream body sent as S3 aws-chunked: aws.contentLength, else
 * the request's content-length header; undefined when neither says (the stream is then sent as
 * UNSIGNED-PAYLOAD).
 */
function declaredLength(aws, headers) {
  const given = aws.contentLength ?? headers.get('content-length') ?? undefined;
  if (given === undefined) return undefined;
  const length = typeof given === 'string' && /^[0-9]+$/.test(given.trim()) ? Number(given.trim()) : given;
  if (!Number.isSafeInteger(length) || length < 0) {
    throw typeError('content_length', 'a non-negative integer of bytes (aws.contentLength or the content-length header)');
  }
  return length;
}

/** The trailing checksum header of aws.checksum ('crc32c' and the like; the core checks the name). */
function trailerName(checksum) {
  if (checksum === undefined) return '';
  if (typeof checksum !== 'string') throw typeError('checksum', "a checksum name: 'crc32', 'crc32c', 'sha1' or 'sha256'");
  return `x-amz-checksum-${checksum.toLowerCase()}`;
}

/** Unix seconds from aws4fetch's `datetime` (YYYYMMDDTHHMMSSZ) or a `signingDate`. */
function signingTime(aws) {
  const amz = typeof aws.datetime === 'string' && aws.datetime.match(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/);
  if (amz) return unixSeconds(`${amz[1]}-${amz[2]}-${amz[3]}T${amz[4]}:${amz[5]}:${amz[6]}Z`);
  return unixSeconds(aws.signingDate ?? aws.datetime);
}

export class AwsClient {
  // Private fields: console.log (util.inspect, even with showHidden) and JSON.stringify of the
  // client show neither. aws4fetch has them as fields; the accessors below keep reading and
  // setting them working.
  #secretAccessKey;
  #sessionToken;

  constructor({ accessKeyId, secretAccessKey, sessionToken, service, region, algorithm, signingRegionSet, retries, initRetryMs } = {}) {
    this.engine = new Engine();
    // Checked now: bad credentials fail here rather than on the first request.
    this.engine.setCredentials({ accessKeyId, secretAccessKey, sessionToken });
    this.accessKeyId = accessKeyId;
    this.#secretAccessKey = secretAccessKey;
    this.#sessionToken = sessionToken;
    this.service = service;
    this.region = region;
    // SigV4a (aws4fetch has none): algorithm 'sigv4a', or a region set, as for signSync.
    this.algorithm = algorithm;
    this.signingRegionSet = signingRegionSet;
    usesSigV4a(this);
    this.retries = retries ?? 10;
    this.initRetryMs = initRetryMs || 50;
  }

  get secretAccessKey() {
    return this.#secretAccessKey;
  }

  set secretAccessKey(value) {
    this.#secretAccessKey = value;
  }

  get sessionToken() {
    return this.#sessionToken;
  }

  set sessionToken(value) {
    this.#sessionToken = value;
  }

  /**
   * A signed Request for fetch(input, init). `init.aws` may override accessKeyId,
   * secretAccessKey, sessionToken, service, region, algorithm, signingRegionSet, and set
   * signQuery (presign), expiresIn, datetime or signingDate, singleEncode, normalizePath,
   * appendSessionToken.
   */
  async sign(input, init = {}) {
    const { aws = {}, ...rest } = init;
    let url = input;
    let body = rest.body;
    const headers = new Headers(rest.headers ?? (input instanceof Request ? input.headers : undefined));
    let method = rest.method;
    if (input instanceof Request) {
      url = input.url;
      method ??= input.method;
      if (body === undefined && input.body !== null) {
        body = headers.has('x-amz-content-sha256') ? input.body : await input.clone().arrayBuffer();
      }
    }
    method ??= body == null ? 'GET' : 'POST';
    if (typeof url !== 'string' && !(url instanceof URL)) throw typeError('uri', 'a string, a URL or a Request');
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      throw new SigV4Error('invalid_uri', 'uri', `uri is not valid: ${String(url)} is not an absolute URL`);
    }
    let service = aws.service ?? this.service;
    let region = aws.region ?? this.region;
    const algorithm = { algorithm: aws.algorithm ?? this.algorithm, signingRegionSet: aws.signingRegionSet ?? this.signingRegionSet };
    // SigV4a signs for the region set if given, else for the region if given, else for every
    // region ('*'): never for a region read from the hostname (a multi-region endpoint's names
    // none).
    if (usesSigV4a(algorithm) && algorithm.signingRegionSet === undefined) region ||= '*';
    if (!service || (!region && algorithm.signingRegionSet === undefined)) {
      // The core reads AWS hostnames; a region the hostname leaves open (S3 Transfer
      // Acceleration) is us-east-1, as aws4fetch signs it.
      const scope = inferScope(parsed.href, headers.get('x-amz-target'));
      if (scope === undefined && !service) {
        throw new SigV4Error('unknown_endpoint', 'host', `the service and region cannot be inferred from ${parsed.host}: give aws.service and aws.region`);
      }
      service ||= scope?.[0];
      region ||= scope?.[1] || 'us-east-1';
    }
    const [regionPart, algorithmFlag] = regionAndAlgorithm(algorithm, region);
    const presign = aws.signQuery === true;
    // An S3 presigned URL signs UNSIGNED-PAYLOAD: the core's rule for the service.
    const given = headers.get('x-amz-content-sha256');
    const engine = this.engine;
    engine.setCredentials({
      accessKeyId: aws.accessKeyId ?? this.accessKeyId,
      secretAccessKey: aws.secretAccessKey ?? this.#secretAccessKey,
      sessionToken: aws.sessionToken ?? this.#sessionToken,
    });
    const flat = [];
    for (const [name, value] of headers) flat.push(name, value);
    // A stream of known length to a service with S3's rules: signed chunk by chunk (aws-chunked,
    // STREAMING-AWS4-HMAC-SHA256-PAYLOAD), unless the caller set x-amz-content-sha256 or the
    // request is presigned or SigV4a (whose streaming the core does not sign yet).
    const decodedLength = typeof ReadableStream !== 'undefined' && body instanceof ReadableStream && !given && !presign
      && !algorithmFlag && usesS3Rules(service) ? declaredLength(aws, headers) : undefined;
    if (decodedLength !== undefined) {
      const chunkSize = aws.chunkSize ?? DEFAULT_CHUNK_SIZE;
      const checksum = trailerName(aws.checksum);
      const { headers: signed, chunks } = engine.signChunked(method, parsed.href, flat, regionPart, service, signingTime(aws),
        settingsFlags(aws), decodedLength, chunkSize, checksum);
      for (const name in signed) headers.set(name, signed[name]);
      const encoded = chunkedStream(body, chunks, decodedLength, chunkSize, checksum !== '');
      return new Request(parsed.origin + engine.target, { ...rest, method, headers, body: encoded, duplex: 'half' });
    }
    const payload = await payloadFor(body, service, given);
    const signed = engine.sign(
      method,
      parsed.href,
      flat,
      regionPart,
      service,
      signingTime(aws),
      settingsFlags(aws) | algorithmFlag,
      payload,
      presign ? (aws.expiresIn ?? DEFAULT_EXPIRES_IN) : undefined,
      false,
    );
    const out = { ...rest, method, headers, body };
    if (body != null && typeof body === 'object' && (body instanceof ReadableStream || typeof body.pipe === 'function')) {
      out.duplex = 'half';
    }
    if (presign) return new Request(signed, out);
    for (const name in signed) headers.set(name, signed[name]);
    // The URL signed, in the wire form the core gives it: fetch sends escapes as they are.
    return new Request(parsed.origin + engine.target, out);
  }

  /** Signs and fetches; retries 5xx and 429 answers with exponential backoff and jitter. */
  async fetch(input, init) {
    // A stream is read once: its request is not retried.
    const once = typeof ReadableStream !== 'undefined' && init?.body instanceof ReadableStream;
    for (let i = 0; ; i++) {
      const fetched = fetch(await this.sign(input, init));
      if (once || i >= this.retries) return fetched;
      const res = await fetched;
      if (res.status < 500 && res.status !== 429) return res;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * this.initRetryMs * 2 ** i));
    }
  }
}
