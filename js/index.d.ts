// Types of sigv4-wasm (hand-written; the implementation is src/*.js over the wasm core).

/** Bad input: `code` is stable, `field` names the input at fault (e.g. `headers[1].name`). */
export class SigV4Error extends Error {
  readonly name: 'SigV4Error';
  readonly code:
    | 'empty' | 'invalid_byte' | 'invalid_uri' | 'missing_host' | 'invalid_payload_hash'
    | 'expires_in_out_of_range' | 'invalid_timestamp' | 'invalid_type' | 'missing_credentials'
    | 'unsigned_payload_not_allowed' | 'too_large';
  readonly field: string;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export type HeadersInput = Headers | Map<string, string> | Array<[string, string]> | Record<string, string>;
export type SigningDate = Date | number | string;

/** Settings that differ between services; the defaults follow `service` (S3's rules for 's3'). */
export interface SigningSettings {
  /** Use the path as sent (S3) instead of encoding it once more. */
  singleEncode?: boolean;
  /** Remove dot segments and repeated slashes (all services but S3). */
  normalizePath?: boolean;
  /** Add and sign x-amz-content-sha256 (S3). */
  contentSha256Header?: boolean;
  /** Add the session token after signing instead of signing it. */
  appendSessionToken?: boolean;
}

/** The signature algorithm: SigV4 (`AWS4-HMAC-SHA256`, the default) or SigV4a (`AWS4-ECDSA-P256-SHA256`). */
export type Algorithm = 'sigv4' | 'sigv4a';

/**
 * A SigV4a region set: region names or patterns (`['us-east-1', 'us-west-2']`, `['*']`), or them
 * joined with commas. Signed as the x-amz-region-set header or the X-Amz-Region-Set parameter.
 */
export type RegionSet = string | readonly string[];

/**
 * The region, and the algorithm: SigV4 for `region`; SigV4a with `algorithm: 'sigv4a'` (the region
 * then being the region set) or with a `signingRegionSet`.
 */
export type RegionOptions =
  | { region: string; algorithm?: 'sigv4'; signingRegionSet?: undefined }
  | { algorithm: 'sigv4a'; region: RegionSet; signingRegionSet?: undefined }
  | { signingRegionSet: RegionSet; algorithm?: 'sigv4a'; region?: string };

export interface SyncRequest {
  method?: string;
  url: string | URL;
  headers?: HeadersInput;
  body?: string | Uint8Array | ArrayBuffer | ArrayBufferView;
}

export interface SyncSigningOptions extends Credentials, SigningSettings {
  service: string;
  /** The signing time; the clock when omitted. */
  signingDate?: SigningDate;
  /** The body's hex SHA-256, computed by the caller (large bodies). */
  payloadHash?: string;
  /** Sign the body as UNSIGNED-PAYLOAD (S3). */
  unsignedPayload?: boolean;
}

/** signSync's options: credentials, service, region (or SigV4a's region set) and settings. */
export type SyncOptions = SyncSigningOptions & RegionOptions;

/**
 * The headers to set: x-amz-date, x-amz-security-token, x-amz-content-sha256, authorization;
 * x-amz-region-set with SigV4a.
 */
export function signSync(request: SyncRequest, options: SyncOptions): Record<string, string>;
/** The presigned URL, valid for `expiresIn` seconds (default 3600, at most 604800). */
export function presignSync(request: SyncRequest, options: SyncOptions & { expiresIn?: number }): string;
/** Signs and returns the canonical request and string to sign too. */
export function explainSync(
  request: SyncRequest,
  options: SyncOptions & { presign?: boolean; expiresIn?: number },
): { canonicalRequest: string; stringToSign: string; headers?: Record<string, string>; url?: string };

/** What `verify` checks a request against, besides its signature. */
export interface VerifyOptions {
  /** The secret of each access key id (own properties), or a lookup (undefined: unknown). */
  credentials: Record<string, string> | ((accessKeyId: string) => string | undefined);
  /** The time now; the clock when omitted. */
  now?: SigningDate;
  /** How far the request's time may be from now, in seconds (default 900). */
  maxSkew?: number;
  /** The region the credential scope must name; any when omitted. */
  region?: string;
  /** The service the credential scope must name; any when omitted. */
  service?: string;
  /** The body's hex SHA-256 instead of the body. */
  payloadHash?: string;
}

/** A request that verified: who signed it, for which scope. */
export interface Verified {
  valid: true;
  accessKeyId: string;
  region: string;
  service: string;
  /** When it was signed (X-Amz-Date). */
  time: Date;
  /** The session token it carries, for the caller to check. */
  sessionToken?: string;
  /** Whether the signature covers the body given (false for UNSIGNED-PAYLOAD). */
  payloadVerified: boolean;
}

/** A refused request: a stable code and the reason in words, never a secret. */
export interface Refused {
  valid: false;
  code:
    | 'not_signed' | 'malformed' | 'unsupported_algorithm' | 'unknown_access_key' | 'scope_date_mismatch'
    | 'wrong_region' | 'wrong_service' | 'host_not_signed' | 'date_not_signed' | 'signed_header_missing'
    | 'content_sha256_mismatch' | 'outside_skew' | 'not_yet_valid' | 'expired' | 'expires_out_of_range'
    | 'invalid' | 'signature_mismatch' | 'host_mismatch' | 'token_not_signed' | 'unsupported_payload';
  reason: string;
  /** The access key id the request claims, when the verifier read it. */
  accessKeyId?: string;
}

/** Checks a header-signed request or a presigned URL as a service does. */
export function verify(request: SyncRequest, options: VerifyOptions): Verified | Refused;

export interface AwsClientOptions extends Credentials {
  service?: string;
  region?: string;
  /** 'sigv4a' signs SigV4a (aws4fetch has no SigV4a): for `signingRegionSet`, else the region, else '*'. */
  algorithm?: Algorithm;
  /** The SigV4a region set; implies SigV4a. */
  signingRegionSet?: RegionSet;
  /** Retries of 5xx and 429 answers (default 10). */
  retries?: number;
  /** The first backoff in ms, doubled each retry, with jitter (default 50). */
  initRetryMs?: number;
}

export interface AwsRequestInit extends RequestInit {
  aws?: Partial<Credentials> & SigningSettings & {
    service?: string;
    region?: string;
    /** As AwsClientOptions.algorithm, for this request. */
    algorithm?: Algorithm;
    /** As AwsClientOptions.signingRegionSet, for this request. */
    signingRegionSet?: RegionSet;
    /** Presign: the signature goes into the URL. */
    signQuery?: boolean;
    /** X-Amz-Expires for signQuery (default 86400). */
    expiresIn?: number;
    /** aws4fetch's YYYYMMDDTHHMMSSZ signing time. */
    datetime?: string;
    signingDate?: SigningDate;
    /**
     * The length in bytes of a ReadableStream body (else its content-length header): with it, a
     * stream to a service with S3's rules is sent as signed aws-chunked, chunk by chunk.
     */
    contentLength?: number;
    /** The aws-chunked chunk size in bytes (default 65536, at least 8192). */
    chunkSize?: number;
    /** A trailing checksum of the aws-chunked body, signed (x-amz-checksum-crc32c and the like). */
    checksum?: 'crc32' | 'crc32c' | 'sha1' | 'sha256';
  };
}

/** aws4fetch's client: signs fetch requests; service and region inferred from AWS hostnames. */
export class AwsClient {
  constructor(options: AwsClientOptions);
  sign(input: string | URL | Request, init?: AwsRequestInit): Promise<Request>;
  fetch(input: string | URL | Request, init?: AwsRequestInit): Promise<Response>;
}

/** The request shape of @smithy/protocol-http's HttpRequest. */
export interface HttpRequest {
  method: string;
  protocol?: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

type Provider<T> = T | (() => T | Promise<T>);

export interface SignatureV4Init {
  credentials: Provider<Credentials>;
  region: Provider<string>;
  service: string;
  /** Accepted for compatibility; hashing is native (large bodies) or in the wasm. */
  sha256?: unknown;
  /** false for S3: the path as sent, not normalized. */
  uriEscapePath?: boolean;
  /** Add x-amz-content-sha256 (default true). */
  applyChecksum?: boolean;
}

export interface SigningArguments {
  signingDate?: SigningDate;
  signingRegion?: string;
  signingService?: string;
  unsignableHeaders?: Set<string>;
}

/** @smithy/signature-v4's signer: pass it as `signer` to AWS SDK for JavaScript v3 clients. */
export class SignatureV4 {
  constructor(init: SignatureV4Init);
  sign<T extends HttpRequest>(request: T, options?: SigningArguments): Promise<T>;
  presign<T extends HttpRequest>(
    request: T,
    options?: SigningArguments & { expiresIn?: number; unhoistableHeaders?: Set<string>; hoistableHeaders?: Set<string> },
  ): Promise<T>;
}

export interface SignatureV4aInit extends Omit<SignatureV4Init, 'region'> {
  /** The region set (`['us-east-1', 'us-west-2']`, `'*'`, or names joined with commas). */
  region: Provider<RegionSet>;
}

export interface SigV4aSigningArguments extends SigningArguments {
  /** The region set, over `signingRegion` (which the AWS SDK's SigV4a signer passes joined with commas). */
  signingRegionSet?: readonly string[];
}

/**
 * @smithy/signature-v4a's signer (SigV4a, for multi-region endpoints such as S3 Multi-Region
 * Access Points), which presigns too. Register it for the AWS SDK's multi-region signer with
 * `signatureV4aContainer.SignatureV4a = SignatureV4a` (from @smithy/signature-v4).
 */
export class SignatureV4a extends SignatureV4 {
  constructor(init: SignatureV4aInit);
  sign<T extends HttpRequest>(request: T, options?: SigV4aSigningArguments): Promise<T>;
  presign<T extends HttpRequest>(
    request: T,
    options?: SigV4aSigningArguments & { expiresIn?: number; unhoistableHeaders?: Set<string>; hoistableHeaders?: Set<string> },
  ): Promise<T>;
}
