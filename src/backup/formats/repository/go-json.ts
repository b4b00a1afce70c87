// The parts of Go's encoding/json (Go 1.19, restic 0.14's compiler) that decide the exact bytes of restic's documents,
// and a lossless reader for them.
import { decodeRune } from "./go-quote.js";

const HEX = "0123456789abcdef";

/**
 * A JSON string as Go's json.Marshal writes it (HTML-safe): `<`, `>`, `&` become \u003c \u003e \u0026; U+2028/U+2029
 * are escaped; control characters other than \n \r \t become \u00XX (Go 1.22+ writes \b and \f, 1.19 does not); DEL
 * stays raw; invalid UTF-8 (in a byte string) becomes \ufffd. A JS string is taken as its UTF-8 bytes (a lone
 * surrogate is invalid there and becomes U+FFFD).
 */
export function goJsonString(value: string | Uint8Array): string {
  if (typeof value === "string") {
    if (!NEEDS_ESCAPE.test(value)) return `"${value}"`;
    return `"${value.replace(ESCAPED, escapeChar)}"`;
  }
  const b = value;
  let out = '"';
  let start = 0;
  let i = 0;
  const flush = () => {
    if (start < i) out += Buffer.from(b.buffer, b.byteOffset + start, i - start).toString("utf8");
  };
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c && c !== 0x3c && c !== 0x3e && c !== 0x26) {
        i++;
        continue;
      }
      flush();
      if (c === 0x22 || c === 0x5c) out += `\\${String.fromCharCode(c)}`;
      else if (c === 0x0a) out += "\\n";
      else if (c === 0x0d) out += "\\r";
      else if (c === 0x09) out += "\\t";
      else out += `\\u00${HEX[c >> 4]}${HEX[c & 0xf]}`;
      i++;
      start = i;
      continue;
    }
    const [r, width] = decodeRune(b, i);
    if (width === 1) {
      flush();
      out += "\\ufffd";
      i++;
      start = i;
      continue;
    }
    if (r === 0x2028 || r === 0x2029) {
      flush();
      out += `\\u202${HEX[r & 0xf]}`;
      i += width;
      start = i;
      continue;
    }
    i += width;
  }
  flush();
  return `${out}"`;
}

// In a JS string (valid UTF-8 once encoded, except lone surrogates, which encode as U+FFFD) only these need care.
const NEEDS_ESCAPE = /[\x00-\x1f"\\<>&\u2028\u2029\ud800-\udfff]/;
const ESCAPED = /[\x00-\x1f"\\<>&\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeChar(ch: string): string {
  const c = ch.charCodeAt(0);
  if (c === 0x22 || c === 0x5c) return `\\${ch}`;
  if (c === 0x0a) return "\\n";
  if (c === 0x0d) return "\\r";
  if (c === 0x09) return "\\t";
  if (c === 0x2028 || c === 0x2029) return `\\u202${HEX[c & 0xf]}`;
  if (c >= 0xd800 && c <= 0xdfff) return "\ufffd"; // a lone surrogate: its UTF-8 form is U+FFFD itself
  return `\\u00${HEX[c >> 4]}${HEX[c & 0xf]}`;
}

// Numbers of 16+ digits may exceed 2^53; \uD800-\uDFFF escapes may be lone surrogates. Without either, plain JSON.parse.
const BIG_NUMBER = /[:[,]\s*-?\d{16,}/;
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * JSON.parse that keeps integers beyond 2^53 exact (as bigint; Node's reviver sees each number's source text) and
 * turns lone surrogates from \uD8xx escapes into U+FFFD, as Go's decoder does.
 */
export function parseGoJson(text: string): unknown {
  if (!BIG_NUMBER.test(text) && !SURROGATE_ESCAPE.test(text)) return JSON.parse(text);
  return JSON.parse(text, function (this: unknown, _key: string, value: unknown, context?: { source?: string }) {
    if (typeof value === "number" && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)) return BigInt(context.source);
    if (typeof value === "string") return toWellFormed(value);
    return value;
  } as (key: string, value: unknown) => unknown);
}

/** String.prototype.toWellFormed (ES2024; the project's TypeScript lib is ES2023). */
function toWellFormed(s: string): string {
  return (s as unknown as { toWellFormed(): string }).toWellFormed();
}

/** A JSON number for a uint64 held as bigint or number. */
export function goUint(v: bigint | number): string {
  return typeof v === "bigint" ? v.toString() : String(v);
}
