// The bundle that workerd and Chromium run (built by test/runtimes.test.mjs with esbuild, as an
// application's bundler would): the package's signing API and the suite checker.

export { signSync, presignSync, explainSync } from '../../src/index.js';
export { checkSuite } from '../check-suite.mjs';
