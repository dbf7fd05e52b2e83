// sigv4-wasm: AWS Signature Version 4 from one Rust core compiled to WebAssembly.

export { SigV4Error } from './errors.js';
export { signSync, presignSync, explainSync } from './sign-sync.js';
export { AwsClient } from './aws-client.js';
export { SignatureV4 } from './signature-v4.js';
export { SignatureV4a } from './signature-v4a.js';
export { verify } from './verify.js';
