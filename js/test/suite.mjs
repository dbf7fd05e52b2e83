// The AWS signing test suite (v4) as exported by `export-suite` (crates/case/src/bin): the suite
// stays in the aws-sigv4 package; `make js` writes this view of it to target/aws-suite-v4.json.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const suitePath = process.env.SIGV4_SUITE_JSON ?? fileURLToPath(new URL('../../target/aws-suite-v4.json', import.meta.url));

export const suiteCases = JSON.parse(readFileSync(suitePath, 'utf8'));
