// Every case of the AWS signing test suite, header and query, through the public API in Node
// (test/check-suite.mjs compares the outputs; test/runtimes.test.mjs runs it elsewhere).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signSync, presignSync, explainSync } from '../src/index.js';
import { suiteCases } from './suite.mjs';
import { checkSuite } from './check-suite.mjs';

const results = checkSuite(suiteCases, { signSync, presignSync, explainSync });

for (const { name, failures } of results) {
  test(name, () => assert.deepEqual(failures, []));
}

test('the suite has 38 cases with header and query variants, and the memory-growth check', () => {
  assert.equal(results.length, 77);
});
