// Provider coverage: every rclone option the product writes for a provider block exists for that backend in the
// installed rclone (`rclone config providers` prints every backend's options as JSON), and every S3 `provider` value
// the wizard's presets or the endpoint guess use is one rclone knows.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { RemoteSpec } from "../config/types.js";
import { S3_PRESETS } from "../setup/catalog.js";
import { resolveRemote } from "./remotes.js";

const RCLONE = process.env.TEST_RCLONE_BIN ?? (existsSync("/usr/bin/rclone") ? "/usr/bin/rclone" : "rclone");

interface Backend {
  Name: string;
  Options: { Name: string; Examples?: { Value: string }[] | null }[];
}

function providers(): Backend[] {
  // rclone 1.60 prints JSON without a flag; newer releases accept --json too and print the same.
  const out = execFileSync(RCLONE, ["config", "providers", "--config", "/dev/null"], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" } });
  return JSON.parse(out) as Backend[];
}

/** Every block with every key set, so every option the mapping can write is written. */
const FULL: RemoteSpec[] = [
  { provider: "dropbox", remoteName: "r", dropbox: { appFolder: true, appKey: "k", appSecret: "s", token: "{}" } },
  { provider: "gdrive", remoteName: "r", gdrive: { token: "{}", teamDrive: "t", rootFolderId: "f", clientId: "c", clientSecret: "s" } },
  { provider: "onedrive", remoteName: "r", onedrive: { token: "{}", driveId: "d", driveType: "business", clientId: "c", clientSecret: "s" } },
  {
    provider: "s3",
    remoteName: "r",
    s3: { provider: "Other", endpoint: "http://127.0.0.1:9000", bucket: "b", region: "us-east-1", accessKeyId: "a", secretAccessKey: "s" },
  },
  { provider: "local", remoteName: "r", local: { path: "/mnt/nas" } },
  { provider: "custom", remoteName: "r", custom: { rcloneType: "sftp", rcloneOptions: { host: "h", user: "u", pass: "p", key_file: "/k" } } },
  { provider: "s3", remoteName: "r", s3: { bucket: "b" }, crypt: { password: "p", password2: "q" } },
];

describe("provider blocks map to options the installed rclone documents", () => {
  const backends = new Map(providers().map((b) => [b.Name, b]));

  it.each(FULL.map((spec) => [spec.crypt ? `${spec.provider}+crypt` : spec.provider, spec] as const))("%s", (_name, spec) => {
    const remote = resolveRemote(spec, "folder", "/dev/null", { withCrypt: true });
    const unknown: string[] = [];
    for (const [section, options] of Object.entries(remote.sections)) {
      const backend = backends.get(options.type ?? "");
      expect(backend, `rclone has no backend "${options.type}" (section ${section})`).toBeDefined();
      const names = new Set(backend!.Options.map((o) => o.Name));
      for (const key of Object.keys(options)) if (key !== "type" && !names.has(key)) unknown.push(`${options.type}.${key}`);
    }
    expect(unknown).toEqual([]);
  });

  it("every S3 provider value (wizard presets and the endpoint guess) is one of rclone's", () => {
    const s3 = backends.get("s3")!;
    const known = new Set((s3.Options.find((o) => o.Name === "provider")?.Examples ?? []).map((e) => e.Value));
    const used = new Set([...Object.values(S3_PRESETS).map((p) => p.rcloneProvider), "AWS", "Cloudflare", "Other"]);
    expect([...used].filter((p) => !known.has(p))).toEqual([]);
    for (const endpoint of ["https://acc.r2.cloudflarestorage.com", "https://s3.eu-west-1.amazonaws.com", "https://s3.us-west-004.backblazeb2.com", undefined]) {
      const section = resolveRemote({ provider: "s3", remoteName: "r", s3: { bucket: "b", ...(endpoint ? { endpoint } : {}) } }, "", "/dev/null").sections.r!;
      expect(known.has(section.provider!), `${endpoint} → ${section.provider}`).toBe(true);
    }
  });

  it("the OAuth backends the sign-in uses accept client_id / client_secret / token (what authorize and the env pass)", () => {
    for (const type of ["dropbox", "drive", "onedrive"]) {
      const names = new Set(backends.get(type)!.Options.map((o) => o.Name));
      for (const key of ["client_id", "client_secret", "token"]) expect(names.has(key), `${type}.${key}`).toBe(true);
    }
    const onedrive = new Set(backends.get("onedrive")!.Options.map((o) => o.Name));
    expect(onedrive.has("drive_id") && onedrive.has("drive_type")).toBe(true);
  });
});
