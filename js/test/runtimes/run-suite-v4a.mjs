// Deno and Bun run this file: the v4a suite (SigV4a; the cases' JSON path in the first argument,
// written by test/runtimes.test.mjs from test/suite-v4a.mjs) through the package as each runtime
// resolves it, the signatures checked with WebCrypto, results printed as JSON.

import { readFileSync } from 'node:fs';
import process from 'node:process';
import { signSync, presignSync, explainSync } from '../../src/index.js';
import { checkSuiteV4a } from '../check-suite-v4a.mjs';

const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
console.log(JSON.stringify(await checkSuiteV4a(cases, { signSync, presignSync, explainSync })));
