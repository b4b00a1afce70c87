import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GoUnquoteError, decodeRune, goQuote, goUnquote, isGoPrint } from "./go-quote.js";
import { type ResticRepo, initResticRepo } from "./testing/restic-oracle.js";
import { treeFromFs } from "./testing/fs-tree.js";
import { decodeTree, encodeTree, treeId } from "./tree.js";

const b = (...bytes: number[]) => Uint8Array.from(bytes);
const utf8 = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));

describe("goQuote (strconv.Quote without the quotes, Go 1.19)", () => {
  it.each([
    ["plain name.txt", "plain name.txt"],
    ['say "hi"', 'say \\"hi\\"'],
    ["back\\slash", "back\\\\slash"],
    ["line\nbreak\ttab\rret", "line\\nbreak\\ttab\\rret"],
    ["\x07\x08\x0c\x0b", "\\a\\b\\f\\v"],
    ["\x01\x1f\x7f", "\\x01\\x1f\\x7f"],
    ["caf\u00e9 \u65e5\u672c", "caf\u00e9 \u65e5\u672c"],
    ["nbsp\u00a0", "nbsp\\u00a0"],
    ["soft\u00adhyphen", "soft\\u00adhyphen"],
    ["zero\u200bwidth", "zero\\u200bwidth"],
    ["line\u2028sep", "line\\u2028sep"],
    ["emoji \u{1f600}", "emoji \u{1f600}"],
    ["private \u{e000}", "private \\ue000"],
    ["tag \u{e0041}", "tag \\U000e0041"],
    ["new in Unicode 15 \u{1fae8}", "new in Unicode 15 \\U0001fae8"],
    ["replacement \ufffd", "replacement \ufffd"],
    ["<&>", "<&>"],
  ])("%j", (name, quoted) => {
    expect(goQuote(utf8(name))).toBe(quoted);
    expect(Buffer.from(goUnquote(quoted)).toString("utf8")).toBe(name);
  });

  it("writes invalid UTF-8 bytes as \\x escapes and reads them back as the same bytes", () => {
    for (const [bytes, quoted] of [
      [b(0xff), "\\xff"],
      [b(0x61, 0xc3, 0x28), "a\\xc3("],
      [b(0xed, 0xa0, 0x80), "\\xed\\xa0\\x80"], // an encoded surrogate is invalid in Go
      [b(0xc0, 0xaf), "\\xc0\\xaf"], // overlong
      [b(0xf4, 0x90, 0x80, 0x80), "\\xf4\\x90\\x80\\x80"], // above U+10FFFF
      [b(0xe6, 0x97), "\\xe6\\x97"], // truncated
    ] as Array<[Uint8Array, string]>) {
      expect(goQuote(bytes)).toBe(quoted);
      expect(goUnquote(quoted)).toEqual(bytes);
    }
  });

  it("decodes runes with Go's rules", () => {
    expect(decodeRune(utf8("\u{10ffff}"), 0)).toEqual([0x10ffff, 4]);
    expect(decodeRune(b(0xe0, 0x80, 0x80), 0)).toEqual([0xfffd, 1]);
    expect(decodeRune(b(0xef, 0xbf, 0xbd), 0)).toEqual([0xfffd, 3]);
  });

  it("has Go 1.19's printable set (Unicode 13.0), not Node's newer one", () => {
    expect(isGoPrint(0x20)).toBe(true);
    expect(isGoPrint(0x7e)).toBe(true);
    expect(isGoPrint(0x7f)).toBe(false);
    expect(isGoPrint(0xa0)).toBe(false);
    expect(isGoPrint(0xa1)).toBe(true);
    expect(isGoPrint(0x3000)).toBe(false); // ideographic space: a space, not graphic-printable
    expect(isGoPrint(0x1f600)).toBe(true);
    expect(isGoPrint(0x1fae8)).toBe(false); // assigned in Unicode 15.0
    expect(/\p{So}/u.test("\u{1fae8}")).toBe(true); // ...which Node's tables already know
  });
});

describe("goUnquote (strconv.Unquote as restic reads a name)", () => {
  it("accepts every escape Go accepts", () => {
    expect(Buffer.from(goUnquote("\\101\\x42\\u0043\\U00000044\\\\\\\"")).toString("latin1")).toBe('ABCD\\"');
    expect(goUnquote("\\u00e9")).toEqual(utf8("\u00e9"));
    expect(goUnquote("\\xe9")).toEqual(b(0xe9)); // \x is a raw byte, \u a code point
    expect(goUnquote("raw\ttab")).toEqual(utf8("raw\ttab")); // raw control characters are fine
    expect(goUnquote("\\377")).toEqual(b(0xff));
  });

  it.each(['a"b', "\\q", "\\'", "\\x4", "\\x4g", "\\ud800", "\\U00110000", "raw\nnewline", "\\", "\\400", "\\18"])("rejects %j like Go", (quoted) => {
    expect(() => goUnquote(quoted)).toThrow(GoUnquoteError);
  });
});

describe("names of every code point, against restic 0.14", () => {
  let repo: ResticRepo;
  let dir: string;
  let tree: string;
  let names: Buffer[];
  beforeAll(async () => {
    repo = await initResticRepo();
    dir = path.join(repo.dir, "names");
    mkdirSync(dir);
    names = [];
    let batch: number[] = [];
    const flush = () => {
      if (batch.length === 0) return;
      const name = Buffer.from(`${String(names.length).padStart(6, "0")}_${String.fromCodePoint(...batch)}`, "utf8");
      names.push(name);
      writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), name]), "");
      batch = [];
    };
    for (let cp = 0x01; cp <= 0x10ffff; cp++) {
      if ((cp >= 0xd800 && cp <= 0xdfff) || cp === 0x2f) continue;
      batch.push(cp);
      if (batch.length === 55) flush();
    }
    flush();
    // Invalid UTF-8 and hostile bytes as well.
    for (const raw of [b(0xff, 0xfe), b(0x2e, 0xc3), b(0xed, 0xa0, 0x80, 0x41), b(0x80), b(0x5c, 0x22, 0x0a)]) {
      const name = Buffer.concat([Buffer.from("zz_"), raw]);
      names.push(name);
      writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), name]), "");
    }
    tree = (await repo.backup(dir)).tree;
  }, 120_000);
  afterAll(() => repo?.close());

  it("decodes restic's tree to the exact name bytes and re-encodes it to the same bytes and ID", async () => {
    const { bytes } = await repo.tree(tree);
    const nodes = decodeTree(bytes);
    expect(nodes.map((n) => Buffer.from(n.name))).toEqual([...names].sort(Buffer.compare));
    const again = encodeTree(nodes);
    expect(again.equals(bytes)).toBe(true);
    expect(treeId(again)).toBe(tree);

    // Regenerating the printable table: UPDATE_GO_PRINTABLE=1 npx vitest run go-quote.test.ts
    if (process.env.UPDATE_GO_PRINTABLE === "1") writePrintableTable(bytes.toString("utf8"));
  });

  it("builds the same tree from the file system (fs-node + quoting over all of Unicode)", async () => {
    const ours = await treeFromFs(dir, await repo.polynomial());
    expect(ours.root).toBe(tree);
  });
});

/** Rewrites go-printable.ts from restic's tree of the all-code-points directory. */
function writePrintableTable(treeJson: string): void {
  const printable: number[] = [];
  for (const node of (JSON.parse(treeJson) as { nodes: Array<{ name: string }> }).nodes) {
    if (node.name.startsWith("zz_")) continue;
    const body = node.name.slice(node.name.indexOf("_") + 1);
    for (let i = 0; i < body.length; ) {
      if (body[i] === "\\") {
        i += body[i + 1] === "u" ? 6 : body[i + 1] === "U" ? 10 : body[i + 1] === "x" ? 4 : 2;
        continue;
      }
      const cp = body.codePointAt(i)!;
      if (cp >= 0x80) printable.push(cp);
      i += cp > 0xffff ? 2 : 1;
    }
  }
  printable.sort((x, y) => x - y);
  const deltas: number[] = [];
  let prev = 0x7f;
  for (let i = 0; i < printable.length; ) {
    let j = i;
    while (j + 1 < printable.length && printable[j + 1] === printable[j]! + 1) j++;
    deltas.push(printable[i]! - prev, printable[j]! - printable[i]!);
    prev = printable[j]!;
    i = j + 1;
  }
  const lines: string[] = [];
  for (let i = 0; i < deltas.length; i += 24) lines.push(`  ${deltas.slice(i, i + 24).join(", ")},`);
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), "go-printable.ts");
  writeFileSync(
    file,
    `// GENERATED by go-quote.test.ts (UPDATE_GO_PRINTABLE=1) from the names restic 0.14 (Go 1.19) writes. Do not edit.
//
// Go's strconv.IsPrint for code points >= 0x80 as restic 0.14's compiler (Go 1.19, Unicode 13.0.0) has it: letters,
// marks, numbers, punctuation and symbols. Node's own Unicode tables are newer (characters added since 13.0 count as
// printable there, but Go 1.19 escapes them), so the set is taken from restic itself: the test backs up one file
// name per 55 code points, 0x01..0x10FFFF, and records which ones restic writes unescaped. Encoded as pairs
// (gap from the previous range's end, length - 1).
export const GO119_PRINTABLE_DELTAS: readonly number[] = [
${lines.join("\n")}
];
`,
  );
}
