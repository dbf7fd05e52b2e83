// A Cloudflare Worker for workerd: answers every request with the suite's results (/v4a: the v4a
// suite's, signatures checked with WebCrypto), signed by the
// package with the wasm imported as a WebAssembly.Module (the "workerd" condition of #wasm).

import cases from 'suite.json';
import v4aCases from 'suite-v4a.json';
import { signSync, presignSync, explainSync, checkSuite, checkSuiteV4a } from './entry.mjs';

export default {
  async fetch(request) {
    const api = { signSync, presignSync, explainSync };
    if (new URL(request.url).pathname === '/v4a') return Response.json(await checkSuiteV4a(v4aCases, api));
    return Response.json(checkSuite(cases, api));
  },
};
