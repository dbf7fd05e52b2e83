// SignatureV4a: the API of @smithy/signature-v4a (SigV4a, AWS4-ECDSA-P256-SHA256), so it can be
// the SigV4a signer of AWS SDK for JavaScript v3 clients (S3 Multi-Region Access Points); the
// signing is the wasm core's, with the P-256 key derived once per credentials and kept.
//
// The region is a region set: `signingRegionSet` (an array) in the sign options, else
// `signingRegion` or the constructor's region (an array, or names joined with commas: the SDK's
// multi-region signer passes "us-east-1,us-west-2" or "*"). Unlike smithy's, it presigns too
// (X-Amz-Region-Set in the query).

import { SignatureV4, V4A } from './signature-v4.js';

export class SignatureV4a extends SignatureV4 {
  static [V4A] = true;
}
