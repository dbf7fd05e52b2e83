// The platform's native SHA-256 (crypto.subtle: Node, Deno, Bun, browsers, Workers) for bodies
// large enough that it beats the wasm's portable SHA-256 despite the async round trip.

/** Bodies at least this long are hashed natively, shorter ones in the wasm with the signature. */
export const NATIVE_HASH_MIN_BYTES = 16 * 1024;

export async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}
