// The wasm reaches the engine without a fetch: Node reads the file (which every other test signs
// with); the base64 module that browsers, Deno and Bun get holds the same bytes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import wasmForNode from '#wasm';
import wasmBase64 from '../dist/sigv4_js_wasm.js';

const file = readFileSync(new URL('../dist/sigv4_js_bg.wasm', import.meta.url));

test('Node gets the wasm file through #wasm', () => {
  assert.ok(wasmForNode instanceof Uint8Array);
  assert.ok(Buffer.from(wasmForNode).equals(file));
});

test('the embedded base64 is the same wasm', () => {
  assert.ok(Buffer.from(wasmBase64, 'base64').equals(file));
});
