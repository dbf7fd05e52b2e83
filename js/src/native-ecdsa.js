// SigV4a's ECDSA P-256 through the platform's own, where the runtime lends node:crypto
// synchronously (process.getBuiltinModule) and it is faster: Node 20.16+ and Bun, whose OpenSSL
// and BoringSSL sign in ~30 us what the wasm's portable p256 signs in ~180 us. Not Deno: its
// node:crypto signs P-256 4-7x slower than the wasm does. The wasm (crates/js, `PlatformEcdsa`)
// imports the two functions below; the core still canonicalizes and checks that what comes back
// is a well-formed DER signature. Elsewhere (Deno, browsers, workerd) the wasm signs itself.
//
// The key: the core gives it with an id that changes whenever it derives another, and it is
// imported once per id into a KeyObject kept in this module's scope only (no object of the
// package's API holds it, so neither util.inspect nor JSON.stringify can show it). Its PKCS #8
// encoding is zeroed once OpenSSL has its copy; nothing secret reaches an error or a log. The
// last KeyObject stays here until another key is imported (the engine has no forget_key), and
// the scalar passes through node:crypto's functions as the process has them: code that patches
// node:crypto sees the key, as it sees the credentials themselves.

import { nodeCrypto } from './hash.js';

/** Whether the runtime lends a node:crypto that signs faster than the wasm. */
const lent = typeof nodeCrypto?.createPrivateKey === 'function' && typeof nodeCrypto?.sign === 'function' && globalThis.Deno === undefined;
/** Whether signing goes through node:crypto (tests may turn it off; a failure does). */
let enabled = lent;
/** The id of the key imported (see `EcdsaKeyRef::id` in sigv4-core) and its KeyObject. */
let keyId = -1;
let keyObject;
/** Signatures made through node:crypto and keys imported: a diagnostic, nothing secret. */
const counts = { signatures: 0, imports: 0 };

/** Whether the engine asks the wasm to sign SigV4a through this module. */
export function nativeEcdsaEnabled() {
  return enabled;
}

/**
 * Turns the native path off (the wasm's p256 signs, as in a browser) or on again if the runtime
 * lends node:crypto; for tests and benchmarks. Forgets the imported key either way.
 */
export function setNativeEcdsa(on) {
  enabled = Boolean(on) && lent;
  keyId = -1;
  keyObject = undefined;
  return enabled;
}

/** How many signatures node:crypto made and how many keys it imported, in this process. */
export function nativeEcdsaCounts() {
  return { ...counts };
}

// ASN.1 DER of a PKCS #8 P-256 private key with its public key (RFC 5915 inside RFC 5208), 138
// bytes: the scalar at 36, the uncompressed point at 73.
const PKCS8_HEAD = [
  0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
  0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x6d, 0x30, 0x6b, 0x02, 0x01, 0x01,
  0x04, 0x20,
];
const PKCS8_POINT = [0xa1, 0x44, 0x03, 0x42, 0x00];

/**
 * Imports the key `id` from its private scalar (32 bytes) and public key (65, SEC1
 * uncompressed), both views of the wasm's memory that the wasm zeroes or drops after the call.
 * False if the runtime cannot: the native path is turned off and the wasm signs.
 */
export function ecdsaImport(id, scalar, publicKey) {
  if (!enabled) return false;
  const der = new Uint8Array(138);
  der.set(PKCS8_HEAD, 0);
  der.set(scalar, 36);
  der.set(PKCS8_POINT, 68);
  der.set(publicKey, 73);
  try {
    keyObject = nodeCrypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    keyId = id;
    counts.imports++;
    return true;
  } catch {
    // Said nowhere: the message might quote the key.
    setNativeEcdsa(false);
    return false;
  } finally {
    der.fill(0);
  }
}

/**
 * The DER ECDSA signature of SHA-256(`bytes`) (a view of the wasm's memory) with the key `id`, or
 * undefined if that key is not the one imported (the wasm imports it and asks again) or the
 * runtime failed (the wasm signs).
 */
export function ecdsaSign(id, bytes) {
  if (id !== keyId || !enabled) return undefined;
  try {
    const der = nodeCrypto.sign('sha256', bytes, { key: keyObject, dsaEncoding: 'der' });
    // A SEQUENCE of its own length holding two INTEGERs: a runtime that ignored dsaEncoding
    // (r || s, whose first bytes pass the length check once in 65,536) turns the path off
    // rather than failing every signature at the core's check.
    const rLength = der[3];
    if (der[0] !== 0x30 || der[1] !== der.length - 2 || der[2] !== 0x02 || der[4 + rLength] !== 0x02 || der[5 + rLength] !== der.length - 6 - rLength) throw new Error('not DER');
    counts.signatures++;
    return der;
  } catch {
    setNativeEcdsa(false);
    return undefined;
  }
}
