import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRfc3339 } from "./go-time.js";
import { SnapshotDecodeError, decodeSnapshot, encodeSnapshot } from "./snapshot-doc.js";
import { type ResticRepo, initResticRepo } from "./testing/restic-oracle.js";

/** Go's json.Compact: whitespace outside strings removed, escapes untouched (restic prints snapshots indented). */
function compact(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (!/\s/.test(c)) out += c;
  }
  return out;
}

const TREE = "ab".repeat(32);

describe("snapshot document", () => {
  it("encodes in Go field order with omitempty, paths always, no trailing newline", () => {
    expect(encodeSnapshot({ time: parseRfc3339("2024-01-02T03:04:05.5+01:00"), tree: TREE, paths: null })).toBe(`{"time":"2024-01-02T03:04:05.5+01:00","tree":"${TREE}","paths":null}`);
    const full = encodeSnapshot({
      time: parseRfc3339("2024-01-02T03:04:05Z"),
      parent: "cd".repeat(32),
      tree: TREE,
      paths: ["/w<&>"],
      hostname: "h",
      username: "u",
      uid: 1000,
      gid: 1000,
      excludes: ["*.tmp"],
      tags: ["agent:main"],
      original: "ef".repeat(32),
      programVersion: "workspace-sync 0.1.0",
      summary: { backupStart: parseRfc3339("2024-01-02T03:04:00Z"), filesNew: 3, dataAdded: 2n ** 60n },
    });
    expect(full).toBe(
      `{"time":"2024-01-02T03:04:05Z","parent":"${"cd".repeat(32)}","tree":"${TREE}","paths":["/w\\u003c\\u0026\\u003e"],"hostname":"h","username":"u","uid":1000,"gid":1000,"excludes":["*.tmp"],"tags":["agent:main"],"original":"${"ef".repeat(32)}","program_version":"workspace-sync 0.1.0",` +
        `"summary":{"backup_start":"2024-01-02T03:04:00Z","backup_end":"0001-01-01T00:00:00Z","files_new":3,"files_changed":0,"files_unmodified":0,"dirs_new":0,"dirs_changed":0,"dirs_unmodified":0,"data_blobs":0,"tree_blobs":0,"data_added":1152921504606846976,"data_added_packed":0,"total_files_processed":0,"total_bytes_processed":0}}`,
    );
    expect(decodeSnapshot(full).summary?.dataAdded).toBe(2n ** 60n);
    expect(encodeSnapshot(decodeSnapshot(full))).toBe(full);
  });

  it("reads documents from other versions and writers tolerantly, and refuses one without a tree", () => {
    const s = decodeSnapshot(
      JSON.stringify({
        time: "2024-01-02T03:04:05.123Z",
        tree: TREE.toUpperCase(),
        paths: ["/a"],
        hostname: null,
        tags: null,
        summary: { files_new: 1, total_dirs_processed: 9, data_added: "oops", backup_end: "2024-01-02T03:05:00Z" },
        is_hot: true,
      }),
    );
    expect(s.tree).toBe(TREE);
    expect(s.hostname).toBeUndefined();
    expect(s.summary).toEqual({ filesNew: 1, backupEnd: parseRfc3339("2024-01-02T03:05:00Z") });
    expect(() => decodeSnapshot(`{"time":"2024-01-02T03:04:05Z","paths":[]}`)).toThrow(/no tree/);
    expect(() => decodeSnapshot(`{"time":"2024-01-02T03:04:05Z","tree":"abc"}`)).toThrow(SnapshotDecodeError);
    expect(() => decodeSnapshot("[]")).toThrow(/not a JSON object/);
  });
});

describe("snapshot documents restic 0.14 wrote", () => {
  let repo: ResticRepo;
  let ids: string[];
  beforeAll(async () => {
    repo = await initResticRepo();
    const data = path.join(repo.dir, "data");
    mkdirSync(data);
    writeFileSync(path.join(data, "f"), "x");
    const args = ["backup", "--json", "-q", "--host", "host <&>", "--tag", "agent:main,nightly", "--exclude", "*.tmp", data];
    await repo.run(args);
    writeFileSync(path.join(data, "g"), "y");
    await repo.run(args);
    ids = (JSON.parse(await repo.text(["snapshots", "--json"])) as Array<{ id: string; time: string }>).sort((a, b) => a.time.localeCompare(b.time)).map((s) => s.id);
  });
  afterAll(() => repo?.close());

  it("decodes them and encodes them back to the same bytes (compared compacted: restic prints them indented)", async () => {
    expect(ids).toHaveLength(2);
    for (const id of ids) {
      const text = compact(await repo.text(["cat", "snapshot", id]));
      const doc = decodeSnapshot(text);
      expect(encodeSnapshot(doc)).toBe(text);
      expect(doc.hostname).toBe("host <&>");
      expect(doc.tags).toEqual(["agent:main", "nightly"]);
      expect(doc.excludes).toEqual(["*.tmp"]);
    }
    const second = decodeSnapshot(compact(await repo.text(["cat", "snapshot", ids[1]!])));
    expect(second.parent).toBe(ids[0]);
  });
});
