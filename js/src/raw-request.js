// request.txt of a signing case, parsed like sigv4_case::RawRequest::parse (crates/case/src/case.rs):
// a request line, headers (continuation lines kept as obsolete line folding), an empty line, the body.

const decoder = new TextDecoder('utf-8', { fatal: true });

function find(bytes, needle) {
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** { method, target, headers: [[name, value]], body: Uint8Array } from the file's bytes. */
export function parseRequest(bytes) {
  let head = bytes;
  let body = new Uint8Array(0);
  let i = find(bytes, [10, 10]);
  let sep = 2;
  if (i < 0) {
    i = find(bytes, [13, 10, 13, 10]);
    sep = 4;
  }
  if (i >= 0) {
    head = bytes.subarray(0, i);
    body = bytes.subarray(i + sep);
  }
  let text;
  try {
    text = decoder.decode(head);
  } catch (e) {
    throw new Error(`request.txt: the head is not UTF-8: ${e.message}`);
  }
  // Rust's str::lines: split on \n, strip one trailing \r per line, no final empty line.
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (text.endsWith('\n')) lines.pop();
  const requestLine = lines.shift() ?? '';
  const space = requestLine.indexOf(' ');
  if (space < 0) throw new Error(`request.txt: bad request line ${JSON.stringify(requestLine)}`);
  const method = requestLine.slice(0, space);
  const rest = requestLine.slice(space + 1);
  const last = rest.lastIndexOf(' ');
  const target = last >= 0 && rest.slice(last + 1).startsWith('HTTP/') ? rest.slice(0, last) : rest;
  const headers = [];
  for (const line of lines) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      const header = headers.at(-1);
      if (!header) throw new Error(`request.txt: continuation line before any header: ${JSON.stringify(line)}`);
      header[1] += '\n' + line;
    } else if (line !== '') {
      const colon = line.indexOf(':');
      if (colon < 0) throw new Error(`request.txt: header line without ':': ${JSON.stringify(line)}`);
      headers.push([line.slice(0, colon), line.slice(colon + 1)]);
    }
  }
  return { method, target, headers, body };
}

/** The absolute URI https://{Host}{target} (the target as written if already absolute). */
export function requestUri({ target, headers }) {
  if (!target.startsWith('/')) return target;
  const host = headers.find(([name]) => name.toLowerCase() === 'host');
  return host ? `https://${host[1].trim()}${target}` : target;
}
