// The archive format's listing against a real folder through rclone: what counts as a snapshot, leftover, damaged or
// not ours (foreign files, the older plugin's snapshots), IDs, and manifests fetched once.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findRclone } from "../../../rclone/binary.js";
import { resolveRemote, writeRemoteSections } from "../../../rclone/remotes.js";
import { Folder } from "../folder.js";
import { listArchive, manifestId } from "./listing.js";
import { type Manifest, MANIFEST_FORMAT, serializeManifest } from "./manifest.js";

let dir: string;
let repo: string;
let folder: Folder;
let cacheFile: string;
const listRepository = () => {
  folder.refresh();
  return listArchive(folder, cacheFile);
};

const manifest = (snapshot: string, size: number, created: string): Manifest =>
  ({
    format: MANIFEST_FORMAT,
    version: 1,
    snapshot,
    created,
    finished: created,
    host: "h",
    agent: "a",
    product: { name: "p", version: "0" },
    roots: {},
    items: [],
    missingItems: [],
    missing: [],
    databases: [],
    files: 0,
    dirs: 0,
    symlinks: 0,
    bytes: 0,
    stored: { size, sha256: "0".repeat(64) },
    compression: "zstd",
    encryption: { scheme: "none" },
    fingerprint: "",
    warnings: [],
  }) as Manifest;

async function put(name: string, content: string | Buffer) {
  await writeFile(path.join(repo, name), content);
}

const A = "backup-20260102T000000Z-aaaaaaaa.tar.zst.age";
const B = "backup-20260103T000000Z-bbbbbbbb.tar.zst.age";

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "ws-repo-"));
  repo = path.join(dir, "repo");
  await mkdir(repo);
  const bin = await findRclone(undefined, process.env.PATH);
  const remote = resolveRemote({ provider: "local", remoteName: "r", local: { path: repo } }, "", path.join(dir, "rclone.conf"));
  await writeRemoteSections(remote);
  folder = new Folder({ bin, remote, env: process.env });
  cacheFile = path.join(dir, "cache.json");
  await put(A, "aaaa");
  await put(`${A}.manifest.json`, serializeManifest(manifest(A, 4, "2026-01-02T00:00:00.000Z")));
  await put(B, "bbbb");
  await put(`${B}.manifest.json`, serializeManifest(manifest(B, 4, "2026-01-03T00:00:00.000Z")));
  await put("backup-20260104T000000Z-cccccccc.tar.zst.age", "no manifest: a killed run");
  await put("backup-20260104T000000Z-dddddddd.tar.zst.age", "dd");
  await put("backup-20260104T000000Z-dddddddd.tar.zst.age.manifest.json", '{"format":"openclaw-workspace-s'); // cut short
  await put("backup-20260105T000000Z-eeeeeeee.tar.zst.age.partial", "partial");
  await put("backup-20260106T000000Z-ffffffff.tar.zst.age", "ffff-truncated");
  await put("backup-20260106T000000Z-ffffffff.tar.zst.age.manifest.json", serializeManifest(manifest("backup-20260106T000000Z-ffffffff.tar.zst.age", 99, "2026-01-06T00:00:00.000Z")));
  await put("backup-20250101T000000Z.tar.gz.enc", "legacy");
  await put("backup-family-photos.zip", "photos");
  await put("backup-family-photos.tar.gz", "photos too");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("archive listing", () => {
  it("sorts objects into snapshots, leftovers and damaged; foreign files and legacy snapshots are not there at all", async () => {
    const l = await listRepository();
    expect(l.snapshots.map((s) => s.name)).toEqual([B, A]);
    expect(l.snapshots[1]!.id).toBe(manifestId(serializeManifest(manifest(A, 4, "2026-01-02T00:00:00.000Z"))));
    expect(l.leftovers.every((x) => x.modTime.getTime() > Date.now() - 3_600_000)).toBe(true); // from the listing, not the name
    expect(l.leftovers.map((s) => `${s.object} (${s.reason})`).sort()).toEqual([
      "backup-20260104T000000Z-cccccccc.tar.zst.age (no manifest)",
      "backup-20260104T000000Z-dddddddd.tar.zst.age (invalid manifest)",
      "backup-20260104T000000Z-dddddddd.tar.zst.age.manifest.json (invalid manifest)",
      "backup-20260105T000000Z-eeeeeeee.tar.zst.age.partial (partial upload)",
    ]);
    expect(l.damaged).toEqual([expect.objectContaining({ name: "backup-20260106T000000Z-ffffffff.tar.zst.age", problem: expect.stringMatching(/14 bytes, the manifest says 99/) })]);
    const all = JSON.stringify(l, (_k, v: unknown) => (v instanceof Set ? [] : v));
    expect(all).not.toContain("family");
    expect(all).not.toContain("backup-20250101T000000Z.tar.gz.enc");
  });

  it("fetches each manifest once and forgets deleted snapshots", async () => {
    const cache = JSON.parse(await readFile(cacheFile, "utf8")) as Record<string, Record<string, unknown>>;
    expect(Object.keys(Object.values(cache)[0]!).sort()).toEqual([A, B, "backup-20260106T000000Z-ffffffff.tar.zst.age"].sort());
    // A cached manifest is used as is, even if the remote copy became unreadable (manifests are immutable).
    await put(`${A}.manifest.json`, "garbage");
    expect((await listRepository()).snapshots.map((s) => s.name)).toEqual([B, A]);
    await folder.delete(`${A}.manifest.json`);
    await folder.delete(A);
    expect((await listRepository()).snapshots.map((s) => s.name)).toEqual([B]);
    const after = JSON.parse(await readFile(cacheFile, "utf8")) as Record<string, Record<string, unknown>>;
    expect(Object.keys(Object.values(after)[0]!)).not.toContain(A);
  });
});
