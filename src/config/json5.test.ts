import { describe, expect, it } from "vitest";
import { Json5SyntaxError, parseJson5 } from "./json5.js";

describe("parseJson5", () => {
  it("reads plain JSON exactly like JSON.parse", () => {
    const text = JSON.stringify({ a: 1, b: [true, false, null, "x\ny\u00e9"], c: { d: -1.5e3, e: "" } });
    expect(parseJson5(text)).toEqual(JSON.parse(text));
  });

  it("accepts // and /* */ comments and trailing commas", () => {
    const text = `// OpenClaw config
    {
      /* the plugin */
      "plugins": {
        "entries": {
          "openclaw-workspace-sync": { "config": { "sync": { "provider": "local", }, }, }, // trailing
        },
      },
      "list": [1, 2, 3,],
    }`;
    expect(parseJson5(text)).toEqual({
      plugins: { entries: { "openclaw-workspace-sync": { config: { sync: { provider: "local" } } } } },
      list: [1, 2, 3],
    });
  });

  it("accepts unquoted keys, single quotes, hex, leading dots, + signs, Infinity and NaN as OpenClaw's docs use them", () => {
    const v = parseJson5(`{ env: { vars: { A: 'it\\'s' } }, $x_1: 0x1F, f: .5, g: +3, h: -Infinity, n: NaN, "q": "a\\
b" }`) as Record<string, unknown>;
    expect(v.env).toEqual({ vars: { A: "it's" } });
    expect(v.$x_1).toBe(31);
    expect(v.f).toBe(0.5);
    expect(v.g).toBe(3);
    expect(v.h).toBe(-Infinity);
    expect(Number.isNaN(v.n)).toBe(true);
    expect(v.q).toBe("ab");
  });

  it("keeps __proto__ as a plain key, never as the prototype", () => {
    const v = parseJson5('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.hasOwn(v, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("reports syntax errors with line and column, without quoting unquoted text", () => {
    try {
      parseJson5('{\n  "a": 1,\n  token: sk-live-SECRET\n}');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(Json5SyntaxError);
      const e = err as Json5SyntaxError;
      expect(e.line).toBe(3);
      expect(e.message).not.toContain("SECRET");
      expect(e.message).not.toContain("sk-live");
    }
    expect(() => parseJson5('{"a": 1')).toThrow(/line 1/);
    expect(() => parseJson5('{"a": 1} x')).toThrow(Json5SyntaxError);
    expect(() => parseJson5("/* open")).toThrow(/end of input/);
    expect(() => parseJson5('{"a": "x\ny"}')).toThrow(Json5SyntaxError);
    expect(() => parseJson5("[1,,2]")).toThrow(Json5SyntaxError);
  });
});
