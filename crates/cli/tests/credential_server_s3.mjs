// The AWS SDK for JavaScript v3 as an application would use it: S3 and STS clients given no
// credentials, so that the default chain (@aws-sdk/credential-provider-node) finds them; the
// endpoint (AWS_ENDPOINT_URL), the region and where the chain looks all come from the environment.
// Lists the bucket, reads the object, asks STS who it is, and prints one line:
//   KEYS BODY ARN ACCESS-KEY-PREFIX FEATURES
// (FEATURES: the credential source the SDK recorded, `-` for none). Run by
// crates/cli/tests/credential_server_clients.rs against moto and `sigv4 credential-server`; the
// SDK is js/'s pinned devDependency (make js-deps), resolved from js/package.json.

import { createRequire } from 'node:module';

const require = createRequire(new URL('../../../js/package.json', import.meta.url));
const { S3Client, ListObjectsV2Command, GetObjectCommand } = require('@aws-sdk/client-s3');
const { STSClient, GetCallerIdentityCommand } = require('@aws-sdk/client-sts');

// moto answers path-style requests (127.0.0.1 has no bucket subdomains); one attempt, so that a
// failure shows at once.
const s3 = new S3Client({ forcePathStyle: true, maxAttempts: 1 });
const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'bucket' }));
const keys = listed.Contents.map((o) => o.Key);
const object = await s3.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'greeting.txt' }));
const body = await object.Body.transformToString();
const identity = await new STSClient({ maxAttempts: 1 }).send(new GetCallerIdentityCommand({}));
const credentials = await s3.config.credentials();
const features = Object.keys(credentials.$source ?? {}).join(',') || '-';
console.log(JSON.stringify(keys), body, identity.Arn, credentials.accessKeyId.slice(0, 4), features);
