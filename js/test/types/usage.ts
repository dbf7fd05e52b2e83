// Compiled by `tsc --noEmit` (test/types.test.mjs): the README's uses of every API type-check
// against index.d.ts, our SignatureV4 is accepted as the `signer` of an AWS SDK v3 client (the
// SDK's own types), and misuses are refused (each `@ts-expect-error` must meet an error).

import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { signatureV4aContainer } from '@smithy/signature-v4';
import { AwsClient, SignatureV4, SignatureV4a, SigV4Error, explainSync, presignSync, signSync, verify } from 'sigv4-wasm';
import type { HttpRequest, SyncOptions } from 'sigv4-wasm';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' };

export async function awsClient(): Promise<string> {
  const aws = new AwsClient({ ...credentials, retries: 3, initRetryMs: 20 });
  const res: Response = await aws.fetch('https://dynamodb.eu-west-1.amazonaws.com/', {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: '{}',
  });
  const signed: Request = await aws.sign(new URL('https://bucket.s3.us-east-1.amazonaws.com/key'), { aws: { signQuery: true, expiresIn: 600 } });
  // A stream uploaded as signed aws-chunked.
  const stream = new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  await aws.sign('https://bucket.s3.us-east-1.amazonaws.com/key', { method: 'PUT', body: stream, aws: { contentLength: 0, chunkSize: 65536, checksum: 'crc32c' } });
  // @ts-expect-error: checksum names one S3 knows
  await aws.sign('https://bucket.s3.us-east-1.amazonaws.com/key', { method: 'PUT', body: stream, aws: { contentLength: 0, checksum: 'md5' } });
  // @ts-expect-error: retries is a number
  new AwsClient({ ...credentials, retries: 'many' });
  return `${res.status} ${signed.url}`;
}

export async function sdkSigner(): Promise<string | undefined> {
  const sts = new STSClient({
    region: 'us-east-1',
    credentials,
    signer: new SignatureV4({ credentials, region: 'us-east-1', service: 'sts' }),
  });
  const perScheme = new STSClient({
    region: 'us-east-1',
    signer: async (authScheme) => new SignatureV4({ credentials: async () => credentials, region: 'us-east-1', service: authScheme?.signingName ?? 'sts' }),
  });
  perScheme.destroy();
  return (await sts.send(new GetCallerIdentityCommand({}))).Arn;
}

export async function smithyShape(request: HttpRequest): Promise<HttpRequest> {
  const signer = new SignatureV4({ credentials, region: () => 'us-east-1', service: 's3', uriEscapePath: false });
  const signed = await signer.sign(request, { signingDate: new Date(), signingRegion: 'us-west-2' });
  // @ts-expect-error: service is required
  new SignatureV4({ credentials, region: 'us-east-1' });
  return signer.presign(signed, { expiresIn: 900, unhoistableHeaders: new Set(['x-amz-meta-a']) });
}

export function sync(): string {
  const options: SyncOptions = { ...credentials, region: 'us-east-1', service: 's3', signingDate: new Date() };
  const headers: Record<string, string> = signSync({ method: 'GET', url: 'https://bucket.s3.us-east-1.amazonaws.com/key?versionId=2' }, options);
  const url: string = presignSync({ url: new URL('https://bucket.s3.us-east-1.amazonaws.com/key') }, { ...options, expiresIn: 3600 });
  const explained = explainSync({ url, body: new Uint8Array(4) }, { ...options, presign: true, payloadHash: 'e3b0' });
  // @ts-expect-error: the options are required
  signSync({ url });
  // @ts-expect-error: a body is text or bytes
  signSync({ url, body: 42 }, options);
  try {
    signSync({ url: 'no scheme' }, options);
  } catch (e) {
    if (e instanceof SigV4Error) return `${e.code} ${e.field}`;
  }
  return headers.authorization + explained.canonicalRequest;
}

export function verified(): string {
  const request = { method: 'GET', url: 'https://example.amazonaws.com/', headers: { authorization: 'AWS4-HMAC-SHA256 ...' } };
  const result = verify(request, { credentials: { AKIDEXAMPLE: 'secret' }, now: new Date(), maxSkew: 300, service: 'execute-api' });
  verify(request, { credentials: (id: string) => (id === 'AKIDEXAMPLE' ? 'secret' : undefined) });
  // @ts-expect-error: the secrets are required
  verify(request, {});
  return result.valid ? `${result.accessKeyId} ${result.time.toISOString()}` : `${result.code}: ${result.reason}`;
}

export async function sigv4a(request: HttpRequest): Promise<string> {
  const base = { ...credentials, service: 's3' };
  const headers: Record<string, string> = signSync({ url: 'https://b.mrap.accesspoint.s3-global.amazonaws.com/k' }, { ...base, signingRegionSet: ['*'] });
  presignSync({ url: 'https://h/' }, { ...base, algorithm: 'sigv4a', region: 'us-east-1,us-west-2', expiresIn: 60 });
  signSync({ url: 'https://h/' }, { ...base, algorithm: 'sigv4a', region: ['us-east-1', 'us-west-2'] });
  // @ts-expect-error: a region set is SigV4a's
  signSync({ url: 'https://h/' }, { ...base, algorithm: 'sigv4', signingRegionSet: ['*'] });
  // @ts-expect-error: SigV4 takes one region
  signSync({ url: 'https://h/' }, { ...base, region: ['us-east-1'] });
  // @ts-expect-error: no such algorithm
  signSync({ url: 'https://h/' }, { ...base, region: 'us-east-1', algorithm: 'sigv4b' });
  const client = new AwsClient({ ...credentials, service: 's3', algorithm: 'sigv4a' });
  await client.sign('https://b.mrap.accesspoint.s3-global.amazonaws.com/k', { aws: { signingRegionSet: ['us-east-1'], signQuery: true } });
  const signer = new SignatureV4a({ credentials, region: ['us-east-1', 'us-west-2'], service: 's3', uriEscapePath: false });
  const signed = await signer.sign(request, { signingRegionSet: ['*'], signingDate: new Date() });
  await signer.presign(signed, { signingRegion: 'us-east-1,us-west-2', expiresIn: 900 });
  // The AWS SDK's multi-region signer takes it as its SigV4a signer.
  signatureV4aContainer.SignatureV4a = SignatureV4a;
  return headers['x-amz-region-set'];
}
