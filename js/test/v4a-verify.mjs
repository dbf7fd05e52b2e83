// node:crypto's ECDSA check of a SigV4a signature, for the Node tests: `signatureHex` is the hex
// of the ASN.1 DER signature SigV4a sends, `publicKeyHex` an uncompressed P-256 point.

import { createPublicKey, verify } from 'node:crypto';

const keys = new Map();

/** The KeyObject of an uncompressed P-256 point (04 || X || Y) in hex. */
export function publicKeyObject(publicKeyHex) {
  let key = keys.get(publicKeyHex);
  if (key === undefined) {
    const point = Buffer.from(publicKeyHex, 'hex');
    if (point.length !== 65 || point[0] !== 4) throw new Error(`not an uncompressed P-256 point: ${publicKeyHex}`);
    const jwk = { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') };
    key = createPublicKey({ key: jwk, format: 'jwk' });
    keys.set(publicKeyHex, key);
  }
  return key;
}

/** Whether `signatureHex` is a valid SigV4a signature of `message` under `publicKeyHex`. */
export function nodeVerify(publicKeyHex, message, signatureHex) {
  return verify('sha256', Buffer.from(message, 'utf8'), { key: publicKeyObject(publicKeyHex), dsaEncoding: 'der' }, Buffer.from(signatureHex, 'hex'));
}
