// Request inputs (headers, bodies, URLs) checked and flattened for the engine.

import { typeError } from './errors.js';

const encoder = new TextEncoder();

/**
 * Headers as a flat array [name, value, ...] from a Headers, a Map, an array of pairs or a plain
 * object; a non-string name or value is a SigV4Error naming headers[i].
 */
export function flatHeaders(headers) {
  const flat = [];
  if (headers == null) return flat;
  const proto = Object.getPrototypeOf(headers);
  if (proto === Object.prototype || proto === null) {
    // A plain object, the common case: its own keys, without an array per entry.
    const names = Object.keys(headers);
    for (let i = 0; i < names.length; i++) {
      const value = headers[names[i]];
      if (typeof value !== 'string') throw typeError(`headers[${i}].value`, 'a string');
      flat.push(names[i], value);
    }
    return flat;
  }
  const entries =
    typeof headers.entries === 'function' && !Array.isArray(headers) ? headers.entries()
    : Array.isArray(headers) ? headers
    : typeof headers === 'object' ? Object.entries(headers)
    : null;
  if (entries === null) throw typeError('headers', 'a Headers, a Map, an array of [name, value] or an object');
  let i = 0;
  for (const entry of entries) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw typeError(`headers[${i}].name`, 'a string');
    if (typeof entry[1] !== 'string') throw typeError(`headers[${i}].value`, 'a string');
    flat.push(entry[0], entry[1]);
    i++;
  }
  return flat;
}

/** The URL as a string (a URL object, or a string checked by the core). */
export function urlText(url) {
  if (url instanceof URL) return url.href;
  if (typeof url !== 'string') throw typeError('uri', 'a string or a URL');
  return url;
}

/**
 * A body for the engine: a string (encoded as UTF-8 straight into the wasm's memory) or the
 * bytes of a typed array, a DataView or an ArrayBuffer.
 */
export function bodyData(body) {
  if (body == null) return '';
  if (typeof body === 'string') return body;
  return bodyBytes(body);
}

/** The bytes of a body given as a string, a typed array, a DataView or an ArrayBuffer. */
export function bodyBytes(body) {
  if (body == null) return new Uint8Array(0);
  if (typeof body === 'string') return encoder.encode(body);
  if (body instanceof Uint8Array) return body;
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw typeError('body', 'a string, a Uint8Array, an ArrayBuffer or a view (hash others yourself: payloadHash)');
}
