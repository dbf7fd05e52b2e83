// The TypeScript types (index.d.ts, hand-written) checked by the TypeScript compiler: the uses in
// test/types/usage.ts compile in strict mode, with an AWS SDK v3 client taking our SignatureV4 as
// its signer, and the misuses marked there are refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));

test('index.d.ts type-checks the documented uses and fits the AWS SDK signer type', async () => {
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  const run = promisify(execFile)(tsc, ['-p', join(root, 'test', 'types', 'tsconfig.json')], { cwd: root });
  const { stdout, stderr } = await run.catch((failed) => failed);
  assert.equal(stdout + stderr, '');
});
