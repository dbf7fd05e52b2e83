// Deno and Bun run this file: the suite (path in the first argument) through the package as
// each runtime resolves it (package.json "imports" #wasm), results printed as JSON.

import { readFileSync } from 'node:fs';
import process from 'node:process';
import { signSync, presignSync, explainSync } from '../../src/index.js';
import { checkSuite } from '../check-suite.mjs';

const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
console.log(JSON.stringify(checkSuite(cases, { signSync, presignSync, explainSync })));
