// The platform's native SHA-256 for bodies large enough that it beats the wasm's portable one:
// crypto.subtle (Node, Deno, Bun, browsers, Workers) for the async APIs, and node:crypto for
// signSync where the runtime lends it synchronously (Node, Deno, Bun). The async round trip and
// the module lookup cost a few microseconds; hashing 16 KiB in the wasm costs tens of them.

/** Bodies at least this long are hashed natively, shorter ones in the wasm with the signature. */
const NATIVE_HASH_MIN_BYTES = 16 * 1024;

/** Whether `data` (a string or bytes) is long enough to be hashed natively. */
export function hashedNatively(data) {
  // A string's UTF-8 is at least as long as its UTF-16 length.
  return data.length >= NATIVE_HASH_MIN_BYTES;
}

export async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/**
 * node:crypto without importing it (browsers and bundles would fail on the import): Node 20.16+,
 * Deno and Bun lend built-in modules through process.getBuiltinModule. Undefined elsewhere.
 */
const nodeCrypto = globalThis.process?.getBuiltinModule?.('node:crypto');

/**
 * The hex SHA-256 of `data` (a string, hashed as UTF-8 as TextEncoder writes it, or bytes) with
 * node:crypto, synchronously; undefined where the runtime has none (the wasm hashes it then).
 */
export function sha256HexSync(data) {
  return nodeCrypto?.createHash('sha256').update(data).digest('hex');
}
