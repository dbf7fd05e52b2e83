// Real verifiers on 127.0.0.1: an AWS SDK for JavaScript v3 client (STS) with our SignatureV4 as
// its signer, and AwsClient.fetch PUT/GET, against moto with signature checking on and s3s-fs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { AwsClient, SignatureV4 } from '../src/index.js';
import { startMoto, startS3sFs } from './servers.mjs';

const region = 'us-east-1';
let moto;
let keys;

/** The text of an XML element in `xml`. */
function element(xml, name) {
  const match = xml.match(new RegExp(`<${name}>([^<]*)</${name}>`));
  assert.ok(match, `no <${name}> in ${xml}`);
  return match[1];
}

// moto, and a user with an allow-all policy and its access key: the three set-up calls moto takes
// without checking signatures (signed anyway, with made-up keys).
before(async () => {
  moto = await startMoto(3);
  const bootstrap = new AwsClient({ accessKeyId: 'bootstrap', secretAccessKey: 'bootstrap', service: 'iam', region, retries: 0 });
  const iam = async (form) => {
    const res = await bootstrap.fetch(`${moto.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${form}&Version=2010-05-08` });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    return text;
  };
  await iam('Action=CreateUser&UserName=js');
  const key = await iam('Action=CreateAccessKey&UserName=js');
  const policy = encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }));
  await iam(`Action=PutUserPolicy&UserName=js&PolicyName=all&PolicyDocument=${policy}`);
  keys = { accessKeyId: element(key, 'AccessKeyId'), secretAccessKey: element(key, 'SecretAccessKey') };
});

after(() => moto?.stop());

function sts(credentials) {
  return new STSClient({
    endpoint: moto.url,
    region,
    credentials,
    maxAttempts: 1,
    signer: new SignatureV4({ credentials, region, service: 'sts' }),
  });
}

test('an AWS SDK v3 STS client signed by our SignatureV4: moto accepts GetCallerIdentity', async () => {
  const identity = await sts(keys).send(new GetCallerIdentityCommand({}));
  assert.equal(identity.Arn, 'arn:aws:iam::123456789012:user/js');
});

test('an AWS SDK v3 STS client with a wrong secret: moto rejects the signature', async () => {
  const wrong = { ...keys, secretAccessKey: `${keys.secretAccessKey}x` };
  await assert.rejects(sts(wrong).send(new GetCallerIdentityCommand({})), (e) => {
    assert.equal(e.name, 'SignatureDoesNotMatch', e.message);
    return true;
  });
});

test('AwsClient.fetch PUT and GET S3 objects on moto; a tampered request is refused', async () => {
  const s3 = new AwsClient({ ...keys, service: 's3', region, retries: 0 });
  const bucket = `${moto.url}/js-bucket`;
  assert.equal((await s3.fetch(bucket, { method: 'PUT' })).status, 200);
  // Keys moto can verify (see crates/cli/tests/e2e_servers.rs: it rebuilds URLs from decoded paths).
  for (const key of ['plain.txt', 'a%20b.txt', 'at@home', 'dir/sub/file']) {
    const put = await s3.fetch(`${bucket}/${key}`, { method: 'PUT', body: `body of ${key}` });
    assert.equal(put.status, 200, `PUT ${key}: ${await put.text()}`);
    const get = await s3.fetch(`${bucket}/${key}`);
    assert.equal(await get.text(), `body of ${key}`);
  }
  // Signed for one key, sent for another (moto does not check bodies against x-amz-content-sha256).
  const signed = await s3.sign(`${bucket}/plain.txt`, { method: 'PUT', body: 'signed' });
  const res = await fetch(`${bucket}/other.txt`, { method: 'PUT', headers: signed.headers, body: 'signed' });
  assert.equal(res.status, 403);
  assert.match(await res.text(), /SignatureDoesNotMatch/);
});

test('AwsClient against s3s-fs: escaped and non-ASCII keys, presigned GETs (AwsClient, SignatureV4 as the S3 presigner calls it), a wrong key refused', async () => {
  const credentials = { accessKeyId: 'AKIDJS', secretAccessKey: 's3s-fs/secret+key' };
  const server = await startS3sFs(credentials.accessKeyId, credentials.secretAccessKey);
  try {
    const s3 = new AwsClient({ ...credentials, service: 's3', region, retries: 0 });
    assert.equal((await s3.fetch(`${server.url}/bucket`, { method: 'PUT' })).status, 200);
    const object = `${server.url}/bucket/caf%C3%A9%20%2B%20tea%40home%25.txt`;
    const put = await s3.fetch(object, { method: 'PUT', body: 'tea' });
    assert.equal(put.status, 200, await put.text());
    assert.equal(await (await s3.fetch(object)).text(), 'tea');
    const presigned = await s3.sign(object, { aws: { signQuery: true, expiresIn: 300 } });
    assert.equal(await (await fetch(presigned.url)).text(), 'tea');
    // Our SignatureV4 presigning as @aws-sdk/s3-request-presigner calls it: the request carries
    // X-Amz-Content-Sha256: UNSIGNED-PAYLOAD, which moves into the query; the URL as the SDK
    // formats it (RFC 3986 escapes).
    const signer = new SignatureV4({ credentials, region, service: 's3', uriEscapePath: false });
    const { hostname, port, pathname } = new URL(object);
    const request = { method: 'GET', protocol: 'http:', hostname, port: Number(port), path: pathname, query: {},
      headers: { host: `${hostname}:${port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } };
    const signed = await signer.presign(request, { expiresIn: 300 });
    const rfc3986 = (text) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const query = Object.entries(signed.query).map(([name, value]) => `${rfc3986(name)}=${rfc3986(value)}`).join('&');
    assert.match(query, /x-amz-content-sha256=UNSIGNED-PAYLOAD/i);
    const sdkPresigned = await fetch(`http://${hostname}:${port}${pathname}?${query}`);
    assert.equal(await sdkPresigned.text(), 'tea');
    const wrong = new AwsClient({ ...credentials, secretAccessKey: 'wrong', service: 's3', region, retries: 0 });
    assert.equal((await wrong.fetch(object)).status, 403);
  } finally {
    server.stop();
  }
});
