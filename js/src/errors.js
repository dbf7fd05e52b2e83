// SigV4Error: every bad input becomes one, with a stable code and the field at fault, never a
// wasm trap. Messages for the core's errors are those of sigv4-core's Display, built here so the
// wasm needs no formatting code (crates/js/src/error_text.rs sends the parts).

export class SigV4Error extends Error {
  constructor(code, field, message) {
    super(message);
    this.name = 'SigV4Error';
    this.code = code;
    this.field = field;
  }
}

const FIELD = { header_name: (i) => `headers[${i}].name`, header_value: (i) => `headers[${i}].value` };

/** The SigV4Error for the core's error lines: code, field, index, byte, position, detail. */
export function coreError(text) {
  const [code, name, index, byte, position, detail] = text.split('\n');
  const field = FIELD[name] ? FIELD[name](index) : name;
  return new SigV4Error(code, field, coreMessage(code, field, byte, position, detail));
}

function coreMessage(code, field, byte, position, detail) {
  switch (code) {
    case 'empty':
      return `${field} must not be empty`;
    case 'invalid_byte':
      return `${field} contains a byte that is not allowed there (0x${Number(byte).toString(16).padStart(2, '0')} at offset ${position})`;
    case 'invalid_uri':
      return `uri is not valid: ${detail}`;
    case 'missing_host':
      return 'host is missing: give a Host header or an absolute uri (https://host/path)';
    case 'invalid_payload_hash':
      return 'payload_hash must be 64 hexadecimal digits (a SHA-256)';
    case 'expires_in_out_of_range':
      return `expires_in must be between 1 and 604800 seconds (7 days), got ${detail}`;
    case 'invalid_timestamp':
      return 'timestamp must be RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ) within the years 1970..=9999';
    case 'duplicate_host':
      return `${field}: a second Host header (a request has one host)`;
    case 'unknown_endpoint':
      return 'host is not an AWS endpoint whose service and region can be inferred: give the service and region';
    case 'chunk_size_too_small':
      return `chunk_size must be at least 8192 bytes (S3's minimum but for the last chunk), got ${detail}`;
    case 'chunk_size_too_large':
      return `chunk_size must be at most 67108864 bytes (a chunk is held in memory), got ${detail}`;
    case 'length_mismatch': {
      const [declared, given] = detail.split(' ').map(Number);
      return given > declared
        ? `decoded_content_length: the body is longer than the ${declared} bytes declared (at least ${given})`
        : `decoded_content_length: the body ended after ${given} of the ${declared} bytes declared`;
    }
    case 'unknown_checksum':
      return 'checksum: names no checksum S3 knows (x-amz-checksum-crc32, -crc32c, -sha1, -sha256)';
    case 'algorithm_mismatches_form':
      return 'algorithm: the streaming form is signed with another algorithm than the settings say';
    default:
      return `${field}: ${code}`;
  }
}

/** A JavaScript value of the wrong type. */
export function typeError(field, expected) {
  return new SigV4Error('invalid_type', field, `${field} must be ${expected}`);
}
