// openclaw.json is JSON5 for the host (comments, unquoted keys, trailing commas), so it is read with the
// same well-kept parser family here. Syntax errors keep line and column but never quote the offending
// text: an unquoted value could be a token.
import JSON5 from "json5";

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

export function parseJson5(text: string): unknown {
  try {
    return JSON5.parse(text);
  } catch (err) {
    const e = err as { lineNumber?: number; columnNumber?: number; message?: string };
    const what = /end of input/.test(e.message ?? "") ? "unexpected end of input" : "invalid JSON5 syntax";
    throw new Json5SyntaxError(what, e.lineNumber ?? 0, e.columnNumber ?? 0);
  }
}
