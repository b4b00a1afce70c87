// A small JSON5 reader for openclaw.json. OpenClaw parses its config as JSON5 and its docs show comments, unquoted
// keys and trailing commas, so a hand-edited file must read here exactly as the host reads it (no extra dependency).

export class Json5SyntaxError extends SyntaxError {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${message} at line ${line}, column ${column}`);
    this.name = "Json5SyntaxError";
  }
}

const ID_START = /[\p{ID_Start}$_]/u;
const ID_PART = /[\p{ID_Continue}$\u200c\u200d]/u;
// ES5 white space and line terminators (JSON5 spec §5).
const SPACE = /[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;
const MAX_DEPTH = 200;

class Reader {
  private pos = 0;
  constructor(private readonly text: string) {}

  parse(): unknown {
    this.skip();
    const value = this.value(0);
    this.skip();
    if (this.pos < this.text.length) this.fail(`unexpected ${this.describe()}`);
    return value;
  }

  private fail(message: string): never {
    const before = this.text.slice(0, this.pos);
    const line = before.split("\n").length;
    const column = this.pos - before.lastIndexOf("\n");
    throw new Json5SyntaxError(message, line, column);
  }

  // Only punctuation is quoted back: the text around a mistake may be an unquoted token or password.
  private describe(): string {
    const ch = this.text[this.pos];
    if (ch === undefined) return "end of file";
    return /[{}[\]:,'"/]/.test(ch) ? `character ${JSON.stringify(ch)}` : "character";
  }

  /** Skips white space and comments. */
  private skip(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const ch = t[this.pos]!;
      if (SPACE.test(ch)) {
        this.pos++;
      } else if (ch === "/" && t[this.pos + 1] === "/") {
        while (this.pos < t.length && !/[\n\r\u2028\u2029]/.test(t[this.pos]!)) this.pos++;
      } else if (ch === "/" && t[this.pos + 1] === "*") {
        const end = t.indexOf("*/", this.pos + 2);
        if (end < 0) this.fail("unterminated /* comment");
        this.pos = end + 2;
      } else {
        return;
      }
    }
  }

  private value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail("nesting too deep");
    const ch = this.text[this.pos];
    if (ch === "{") return this.object(depth);
    if (ch === "[") return this.array(depth);
    if (ch === '"' || ch === "'") return this.string();
    if (ch !== undefined && /[0-9+\-.]/.test(ch)) return this.number();
    const word = this.identifier();
    if (word === "true") return true;
    if (word === "false") return false;
    if (word === "null") return null;
    if (word === "Infinity") return Infinity;
    if (word === "NaN") return NaN;
    if (word) {
      this.pos -= word.length;
      this.fail("unexpected unquoted text (strings need quotes)");
    }
    this.fail(`unexpected ${this.describe()}`);
  }

  private object(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++; // {
    this.skip();
    while (this.text[this.pos] !== "}") {
      const ch = this.text[this.pos];
      const key = ch === '"' || ch === "'" ? this.string() : this.identifier();
      if (!key && ch !== '"' && ch !== "'") this.fail(`expected a key, found ${this.describe()}`);
      this.skip();
      if (this.text[this.pos] !== ":") this.fail(`expected ":" after key, found ${this.describe()}`);
      this.pos++;
      this.skip();
      // defineProperty: a "__proto__" key is data, never the object's prototype.
      Object.defineProperty(out, key, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
      this.skip();
      if (this.text[this.pos] === ",") {
        this.pos++;
        this.skip();
      } else if (this.text[this.pos] !== "}") {
        this.fail(`expected "," or "}", found ${this.describe()}`);
      }
    }
    this.pos++;
    return out;
  }

  private array(depth: number): unknown[] {
    const out: unknown[] = [];
    this.pos++; // [
    this.skip();
    while (this.text[this.pos] !== "]") {
      out.push(this.value(depth + 1));
      this.skip();
      if (this.text[this.pos] === ",") {
        this.pos++;
        this.skip();
      } else if (this.text[this.pos] !== "]") {
        this.fail(`expected "," or "]", found ${this.describe()}`);
      }
    }
    this.pos++;
    return out;
  }

  private identifier(): string {
    const t = this.text;
    const start = this.pos;
    if (this.pos < t.length && ID_START.test(t[this.pos]!)) {
      this.pos++;
      while (this.pos < t.length && ID_PART.test(t[this.pos]!)) this.pos++;
    }
    return t.slice(start, this.pos);
  }

  private string(): string {
    const t = this.text;
    const quote = t[this.pos]!;
    this.pos++;
    let out = "";
    for (;;) {
      const ch = t[this.pos];
      if (ch === undefined) this.fail("unterminated string");
      if (ch === quote) {
        this.pos++;
        return out;
      }
      if (ch === "\n" || ch === "\r") this.fail("line break inside a string (use \\n)");
      if (ch !== "\\") {
        out += ch;
        this.pos++;
        continue;
      }
      const esc = t[this.pos + 1];
      this.pos += 2;
      switch (esc) {
        case "b": out += "\b"; break;
        case "f": out += "\f"; break;
        case "n": out += "\n"; break;
        case "r": out += "\r"; break;
        case "t": out += "\t"; break;
        case "v": out += "\v"; break;
        case "0":
          if (/[0-9]/.test(t[this.pos] ?? "")) this.fail("octal escapes are not allowed");
          out += "\0";
          break;
        case "x": out += this.hex(2); break;
        case "u": out += this.hex(4); break;
        case "\r":
          if (t[this.pos] === "\n") this.pos++; // line continuation
          break;
        case "\n":
        case "\u2028":
        case "\u2029":
          break; // line continuation
        case undefined:
          this.fail("unterminated string");
        default:
          if (/[1-9]/.test(esc)) this.fail("octal escapes are not allowed");
          out += esc;
      }
    }
  }

  private hex(len: number): string {
    const digits = this.text.slice(this.pos, this.pos + len);
    if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(digits)) this.fail("bad escape sequence");
    this.pos += len;
    return String.fromCharCode(parseInt(digits, 16));
  }

  private number(): number {
    const t = this.text;
    const start = this.pos;
    let sign = 1;
    if (t[this.pos] === "+" || t[this.pos] === "-") {
      if (t[this.pos] === "-") sign = -1;
      this.pos++;
    }
    const word = this.identifier();
    if (word === "Infinity") return sign * Infinity;
    if (word === "NaN") return NaN;
    this.pos -= word.length;
    const rest = t.slice(this.pos);
    const m = /^(?:0[xX][0-9a-fA-F]+|(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)/.exec(rest);
    if (!m) {
      this.pos = start;
      this.fail("malformed number");
    }
    this.pos += m[0].length;
    if (this.pos < t.length && ID_PART.test(t[this.pos]!)) this.fail("malformed number");
    const body = m[0];
    return sign * (/^0[xX]/.test(body) ? parseInt(body.slice(2), 16) : Number(body));
  }
}

/** Parses JSON5 text (a superset of JSON). Throws Json5SyntaxError with the line and column. */
export function parseJson5(text: string): unknown {
  return new Reader(text).parse();
}
