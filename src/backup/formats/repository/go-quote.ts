// restic stores a node's `name` as Go's strconv.Quote(name) without the outer quotes and reads it back with
// strconv.Unquote (restic 0.14 internal/restic/node.go MarshalJSON/UnmarshalJSON). Both are reproduced here byte for
// byte as Go 1.19 (restic 0.14's compiler) does them, so trees encode to restic's exact bytes and IDs. Linux names
// are bytes, not text: names go in and come out as byte arrays.
import { GO119_PRINTABLE_DELTAS } from "./go-printable.js";

const LOWER_HEX = "0123456789abcdef";
const RUNE_ERROR = 0xfffd;

/** Sorted [start, end] pairs of Go 1.19's printable code points >= 0x80. */
const PRINTABLE: Uint32Array = (() => {
  const out = new Uint32Array(GO119_PRINTABLE_DELTAS.length);
  let prev = 0x7f;
  for (let i = 0; i < GO119_PRINTABLE_DELTAS.length; i += 2) {
    const start = prev + GO119_PRINTABLE_DELTAS[i]!;
    prev = start + GO119_PRINTABLE_DELTAS[i + 1]!;
    out[i] = start;
    out[i + 1] = prev;
  }
  return out;
})();

/** Go 1.19's strconv.IsPrint: letters, marks, numbers, punctuation, symbols (Unicode 13.0) and the ASCII space. */
export function isGoPrint(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  let lo = 0;
  let hi = PRINTABLE.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < PRINTABLE[2 * mid]!) hi = mid - 1;
    else if (cp > PRINTABLE[2 * mid + 1]!) lo = mid + 1;
    else return true;
  }
  return false;
}

/**
 * Go's utf8.DecodeRune: the code point at `i` and its byte width, or [RUNE_ERROR, 1] for an invalid or truncated
 * sequence (overlong forms, surrogates and values above U+10FFFF are invalid).
 */
export function decodeRune(b: Uint8Array, i: number): [number, number] {
  const c0 = b[i]!;
  if (c0 < 0x80) return [c0, 1];
  const n = b.length;
  if (c0 >= 0xc2 && c0 <= 0xdf) {
    const c1 = i + 1 < n ? b[i + 1]! : 0;
    if ((c1 & 0xc0) !== 0x80) return [RUNE_ERROR, 1];
    return [((c0 & 0x1f) << 6) | (c1 & 0x3f), 2];
  }
  if (c0 >= 0xe0 && c0 <= 0xef) {
    const c1 = i + 1 < n ? b[i + 1]! : 0;
    const lo = c0 === 0xe0 ? 0xa0 : 0x80;
    const hi = c0 === 0xed ? 0x9f : 0xbf;
    if (c1 < lo || c1 > hi) return [RUNE_ERROR, 1];
    const c2 = i + 2 < n ? b[i + 2]! : 0;
    if ((c2 & 0xc0) !== 0x80) return [RUNE_ERROR, 1];
    return [((c0 & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f), 3];
  }
  if (c0 >= 0xf0 && c0 <= 0xf4) {
    const c1 = i + 1 < n ? b[i + 1]! : 0;
    const lo = c0 === 0xf0 ? 0x90 : 0x80;
    const hi = c0 === 0xf4 ? 0x8f : 0xbf;
    if (c1 < lo || c1 > hi) return [RUNE_ERROR, 1];
    const c2 = i + 2 < n ? b[i + 2]! : 0;
    const c3 = i + 3 < n ? b[i + 3]! : 0;
    if ((c2 & 0xc0) !== 0x80 || (c3 & 0xc0) !== 0x80) return [RUNE_ERROR, 1];
    return [((c0 & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) | (c3 & 0x3f), 4];
  }
  return [RUNE_ERROR, 1];
}

function hex(v: number, digits: number): string {
  let s = "";
  for (let k = digits - 1; k >= 0; k--) s += LOWER_HEX[(v >>> (4 * k)) & 0xf];
  return s;
}

const ASCII_ESCAPES: Record<number, string> = { 0x07: "\\a", 0x08: "\\b", 0x0c: "\\f", 0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t", 0x0b: "\\v", 0x22: '\\"', 0x5c: "\\\\" };

function escapeRune(r: number): string {
  const simple = ASCII_ESCAPES[r];
  if (simple !== undefined) return simple;
  if (r < 0x20 || r === 0x7f) return `\\x${hex(r, 2)}`;
  if (r < 0x10000) return `\\u${hex(r, 4)}`;
  return `\\U${hex(r, 8)}`;
}

/** strconv.Quote(name) without its outer quotes (what restic puts in a node's `name` before JSON encoding). */
export function goQuote(name: Uint8Array | string): string {
  const b = typeof name === "string" ? Buffer.from(name, "utf8") : Buffer.from(name.buffer, name.byteOffset, name.length);
  let i = 0;
  // Most names are printable ASCII and come out unchanged.
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) break;
    i++;
  }
  if (i === b.length) return b.toString("latin1");
  let out = "";
  let start = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) {
        i++;
        continue;
      }
      out += b.toString("utf8", start, i) + escapeRune(c);
      start = ++i;
      continue;
    }
    const [r, width] = decodeRune(b, i);
    if (width === 1) {
      out += `${b.toString("utf8", start, i)}\\x${hex(c, 2)}`;
      start = ++i;
      continue;
    }
    if (isGoPrint(r)) {
      i += width;
      continue;
    }
    out += b.toString("utf8", start, i) + escapeRune(r);
    i += width;
    start = i;
  }
  return out + b.toString("utf8", start, i);
}

export class GoUnquoteError extends Error {
  constructor(readonly quoted: string) {
    super(`invalid Go-quoted name ${JSON.stringify(quoted)} (strconv.Unquote: invalid syntax)`);
    this.name = "GoUnquoteError";
  }
}

const SIMPLE_ESCAPES: Record<number, number> = { 0x61: 7, 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9, 0x76: 11, 0x5c: 0x5c, 0x22: 0x22 };

function unhex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * strconv.Unquote(`"` + quoted + `"`) as restic reads a node's `name`: the name's bytes. Throws GoUnquoteError where
 * Go fails (restic then fails to load the tree).
 */
export function goUnquote(quoted: string): Uint8Array {
  const s = Buffer.from(quoted, "utf8");
  const fail = () => new GoUnquoteError(quoted);
  // Go's fast path: no backslash and no newline means the text is the name (an unescaped quote ends the string early).
  if (!s.includes(0x5c) && !s.includes(0x0a)) {
    if (s.includes(0x22)) throw fail();
    return new Uint8Array(s.buffer, s.byteOffset, s.length);
  }
  const out: number[] = [];
  const appendRune = (r: number) => {
    if (r < 0x800) out.push(0xc0 | (r >> 6), 0x80 | (r & 0x3f));
    else if (r < 0x10000) out.push(0xe0 | (r >> 12), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f));
    else out.push(0xf0 | (r >> 18), 0x80 | ((r >> 12) & 0x3f), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f));
  };
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c === 0x22 || c === 0x0a) throw fail();
    if (c >= 0x80) {
      const [r, w] = decodeRune(s, i);
      appendRune(r);
      i += w;
      continue;
    }
    if (c !== 0x5c) {
      out.push(c);
      i++;
      continue;
    }
    if (i + 1 >= s.length) throw fail();
    const e = s[i + 1]!;
    i += 2;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out.push(simple);
    } else if (e === 0x78 || e === 0x75 || e === 0x55) {
      const n = e === 0x78 ? 2 : e === 0x75 ? 4 : 8;
      if (i + n > s.length) throw fail();
      let v = 0;
      for (let k = 0; k < n; k++) {
        const x = unhex(s[i + k]!);
        if (x < 0) throw fail();
        v = v * 16 + x;
      }
      i += n;
      if (e === 0x78) out.push(v);
      else if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw fail();
      else if (v < 0x80) out.push(v);
      else appendRune(v);
    } else if (e >= 0x30 && e <= 0x37) {
      if (i + 2 > s.length) throw fail();
      let v = e - 0x30;
      for (let k = 0; k < 2; k++) {
        const x = s[i + k]! - 0x30;
        if (x < 0 || x > 7) throw fail();
        v = (v << 3) | x;
      }
      i += 2;
      if (v > 255) throw fail();
      out.push(v);
    } else {
      throw fail(); // includes \' inside a double-quoted string
    }
  }
  return Uint8Array.from(out);
}
