// npm run size: minified + gzipped bytes of what an application ships for signing with the
// signSync/presignSync entry: the wasm binary plus the JS (Node and workerd load the binary), and
// the bundle with the wasm embedded as base64 (browsers, Deno, Bun). Budget of issue #4: 12 KB.

import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const BUDGET = 12 * 1024;
const root = fileURLToPath(new URL('..', import.meta.url));
const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;

async function bundle(contents, external = []) {
  const out = await build({
    external,
    stdin: { contents, resolveDir: root, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    write: false,
  });
  return out.outputFiles[0].contents;
}

const ENTRY = "export { signSync, presignSync } from './src/sign-sync.js';";
const js = await bundle(ENTRY, ['#wasm']);
const embedded = await bundle(ENTRY);
const everything = await bundle("export * from './src/index.js';", ['#wasm']);
const wasm = readFileSync(`${root}/dist/sigv4_js_bg.wasm`);
const report = (name, raw, zipped) => console.log(`${name.padEnd(50)} ${String(raw).padStart(7)} B raw ${String(zipped).padStart(6)} B gzipped`);
report('wasm binary', wasm.length, gz(wasm));
report('JS of the entry (glue, engine, signSync)', js.length, gz(js));
report('JS of the whole package (AwsClient, SignatureV4)', everything.length, gz(everything));
report('entry bundle with the wasm as base64', embedded.length, gz(embedded));
const total = gz(wasm) + gz(js);
console.log(`wasm + JS of the entry: ${total} B gzipped; budget ${BUDGET} B: ${total <= BUDGET ? 'within' : `over by ${total - BUDGET} B`}`);
