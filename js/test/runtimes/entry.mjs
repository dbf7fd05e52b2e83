// The bundle that workerd and Chromium run (built by test/runtimes.test.mjs with esbuild, as an
// application's bundler would): the package's signing API and the suite checker; Chromium also
// searches the objects that hold credentials for the secrets (test/check-secrets.mjs).

export { signSync, presignSync, explainSync, AwsClient, SignatureV4, SignatureV4a } from '../../src/index.js';
export { Engine } from '../../src/engine.js';
export { checkSuite } from '../check-suite.mjs';
export { checkSuiteV4a } from '../check-suite-v4a.mjs';
export { checkSecrets } from '../check-secrets.mjs';
