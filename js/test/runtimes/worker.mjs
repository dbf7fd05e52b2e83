// A Cloudflare Worker for workerd: answers every request with the suite's results, signed by the
// package with the wasm imported as a WebAssembly.Module (the "workerd" condition of #wasm).

import cases from 'suite.json';
import { signSync, presignSync, explainSync, checkSuite } from './entry.mjs';

export default {
  async fetch() {
    return Response.json(checkSuite(cases, { signSync, presignSync, explainSync }));
  },
};
