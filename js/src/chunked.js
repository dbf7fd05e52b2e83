// S3's aws-chunked uploads from a ReadableStream: the body re-chunked to the chunk size and framed
// as it streams, never held whole. Each chunk is signed by the wasm core's chunk signer (the
// string to sign and the key are the core's, see crates/js/src/chunked.rs); this file only moves
// bytes and writes the frame text around them:
//
//   {hex size};chunk-signature={signature}\r\n{data}\r\n   (each chunk)
//   0;chunk-signature={signature}\r\n\r\n                  (the final, empty chunk)
//
// Where node:crypto is there (Node, Deno, Bun) the chunk's SHA-256 is computed natively as its
// pieces come and the core signs the digest: the data never enters the wasm's memory
// (js/bench/stream.mjs: node:crypto hashes a 64 KiB chunk several times faster than the wasm).
// Elsewhere the chunk's bytes go to the wasm, which hashes and signs them. With a trailing
// checksum (aws.checksum) the core's encoder takes every chunk's bytes (it computes the
// checksum) and returns the frame header lines and the trailer.

import { SigV4Error, coreError, typeError } from './errors.js';

/** The chunk size unless aws.chunkSize says otherwise: 64 KiB, as the AWS SDKs send. */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;

/** node:crypto without importing it (see hash.js); undefined in browsers and Workers. */
const nodeCrypto = globalThis.process?.getBuiltinModule?.('node:crypto');

const encoder = new TextEncoder();
const CRLF = Uint8Array.of(13, 10);
const EMPTY = new Uint8Array(0);

/** A stream piece as bytes, or a SigV4Error. */
function bytesOf(piece) {
  if (piece instanceof Uint8Array) return piece;
  if (ArrayBuffer.isView(piece)) return new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength);
  if (piece instanceof ArrayBuffer) return new Uint8Array(piece);
  throw typeError('body', 'a ReadableStream of Uint8Array (or other ArrayBuffer view) chunks');
}

/** The pieces of a chunk as one array (the piece itself when there is one). */
function joined(pieces, length) {
  if (pieces.length === 1) return pieces[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

function lengthMismatch(declared, given) {
  return new SigV4Error('length_mismatch', 'decoded_content_length', given > declared
    ? `decoded_content_length: the body is longer than the ${declared} bytes declared (at least ${given})`
    : `decoded_content_length: the body ended after ${given} of the ${declared} bytes declared`);
}

/**
 * `body` (a ReadableStream of bytes, `decodedLength` of them) as its aws-chunked encoding, in
 * chunks of `chunkSize`, signed by `chunks` (the wasm's chunk signer from Engine.signChunked,
 * freed when the stream ends); `trailer`: the upload has a trailing checksum.
 */
export function chunkedStream(body, chunks, decodedLength, chunkSize, trailer) {
  let pieces = [];
  let pending = 0;
  let given = 0;
  let hash = !trailer && nodeCrypto ? nodeCrypto.createHash('sha256') : undefined;

  // The CRLF that ends a chunk's data goes out with the next header line: a piece less for the
  // stream to carry per chunk (64 KiB chunks: ~10% more throughput, js/bench/stream.mjs).
  let crlf = '';
  const header = (size, signature) => {
    const line = `${crlf}${size.toString(16)};chunk-signature=${signature}\r\n`;
    crlf = '\r\n';
    return encoder.encode(line);
  };

  const fail = (error) => {
    chunks.free();
    throw error;
  };

  /** The pending chunk's frame, signed by its digest or its bytes. */
  const frame = (controller) => {
    let signature;
    if (hash) {
      signature = chunks.sign_digest(hash.digest());
      hash = nodeCrypto.createHash('sha256');
    } else {
      signature = chunks.sign(joined(pieces, pending));
    }
    controller.enqueue(header(pending, signature));
    for (const piece of pieces) controller.enqueue(piece);
    pieces = [];
    pending = 0;
  };

  /** The trailer form: the core frames the full chunk it is given. */
  const push = (controller) => {
    const data = joined(pieces, pending);
    const line = chunks.push(data);
    if (line === undefined) fail(coreError(chunks.error()));
    controller.enqueue(encoder.encode(line));
    controller.enqueue(data);
    controller.enqueue(CRLF);
    pieces = [];
    pending = 0;
  };

  return body.pipeThrough(new TransformStream({
    transform(piece, controller) {
      let data = bytesOf(piece);
      given += data.length;
      if (given > decodedLength) fail(lengthMismatch(decodedLength, given));
      while (data.length > 0) {
        const take = Math.min(chunkSize - pending, data.length);
        const part = take === data.length ? data : data.subarray(0, take);
        pieces.push(part);
        hash?.update(part);
        pending += take;
        data = data.subarray(take);
        if (pending === chunkSize) (trailer ? push : frame)(controller);
      }
    },
    flush(controller) {
      if (given !== decodedLength) fail(lengthMismatch(decodedLength, given));
      if (trailer) {
        const data = pending > 0 ? joined(pieces, pending) : undefined;
        if (data !== undefined && chunks.push(data) === undefined) fail(coreError(chunks.error()));
        const end = chunks.finish();
        if (end === undefined) fail(coreError(chunks.error()));
        if (data === undefined) {
          controller.enqueue(encoder.encode(end));
        } else {
          // The last chunk's header line, its data, then the final chunk and the trailer.
          const cut = end.indexOf('\r\n') + 2;
          controller.enqueue(encoder.encode(end.slice(0, cut)));
          controller.enqueue(data);
          controller.enqueue(CRLF);
          controller.enqueue(encoder.encode(end.slice(cut)));
        }
      } else {
        if (pending > 0) frame(controller);
        controller.enqueue(encoder.encode(`${crlf}0;chunk-signature=${chunks.sign(EMPTY)}\r\n\r\n`));
      }
      chunks.free();
    },
  }));
}
