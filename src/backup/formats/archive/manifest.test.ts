import { describe, expect, it } from "vitest";
import { type Manifest, MANIFEST_FORMAT, parseManifest, serializeManifest } from "./manifest.js";

const NAME = "backup-20260310T020000Z-0123abcd.tar.zst.age";
const sampleManifest = (over: Partial<Manifest> = {}): Manifest => ({
  format: MANIFEST_FORMAT,
  version: 1,
  snapshot: NAME,
  created: "2026-03-10T02:00:00.000Z",
  finished: "2026-03-10T02:00:05.000Z",
  host: "gw",
  agent: "main",
  product: { name: "openclaw-workspace-sync", version: "0.1.0" },
  roots: { workspace: "/w", state: "/s" },
  items: [{ item: "workspace", archivePath: "workspace", livePath: "/w", type: "dir" }],
  missingItems: [],
  missing: [],
  databases: [],
  files: 1,
  dirs: 1,
  symlinks: 0,
  bytes: 5,
  stored: { size: 100, sha256: "a".repeat(64) },
  compression: "zstd",
  encryption: { scheme: "age", recipientType: "scrypt" },
  fingerprint: "f",
  warnings: [],
  ...over,
});

describe("manifest", () => {
  it("round-trips as one line of JSON", () => {
    const text = serializeManifest(sampleManifest());
    expect(text.trim().split("\n")).toHaveLength(1);
    expect(parseManifest(text, NAME)).toEqual(sampleManifest());
  });

  it("rejects partial, foreign or mismatched manifests", () => {
    const text = serializeManifest(sampleManifest());
    expect(parseManifest(text.slice(0, text.length / 2), NAME)).toBeUndefined();
    expect(parseManifest(text, "backup-20260310T020000Z-ffffffff.tar.zst.age")).toBeUndefined();
    expect(parseManifest(JSON.stringify({ ...sampleManifest(), format: "other" }), NAME)).toBeUndefined();
    expect(parseManifest(JSON.stringify({ ...sampleManifest(), stored: { size: 1, sha256: "xyz" } }), NAME)).toBeUndefined();
    expect(parseManifest(JSON.stringify({ ...sampleManifest(), encryption: { scheme: "rot13" } }), NAME)).toBeUndefined();
  });

  it("never holds a secret: the encryption block names the scheme and public recipients only", () => {
    const m = sampleManifest({ encryption: { scheme: "age", recipientType: "x25519", recipients: ["age1xyz"] } });
    expect(Object.keys(m.encryption).sort()).toEqual(["recipientType", "recipients", "scheme"]);
  });
});
