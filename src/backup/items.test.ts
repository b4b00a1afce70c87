import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { archivePathFor, resolveItems } from "./items.js";

let root: string;
let layout: { stateDir: string; workspaceDir: string; configFile: string; env: NodeJS.ProcessEnv };

async function touch(rel: string, text = "x") {
  const p = path.join(root, rel);
  await mkdir(path.dirname(p), { recursive: true });
  await writeFile(p, text);
}

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "ws-items-"));
  layout = { stateDir: path.join(root, "state"), workspaceDir: path.join(root, "state", "workspace"), configFile: path.join(root, "state", "openclaw.json"), env: {} };
  // The 2026.9 layout: shared state DB, per-agent DBs, legacy session files, credentials, workspace memory.
  for (const rel of [
    "state/openclaw.json",
    "state/.env",
    "state/state/openclaw.sqlite",
    "state/agents/main/agent/openclaw-agent.sqlite",
    "state/agents/work/agent/openclaw-agent.sqlite",
    "state/agents/main/sessions/old.jsonl",
    "state/credentials/whatsapp/default/creds.json",
    "state/extensions/p/index.js",
    "state/canvas/documents/cv_1/index.html",
    "state/workspace/MEMORY.md",
    "state/workspace/memory/2026-01-01.md",
  ])
    await touch(rel);
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe("item map", () => {
  it("maps every item to the host's locations, mirrored under workspace/ and state/", async () => {
    const r = await resolveItems(["cron", "sessions", "credentials", "env", "pages", "extensions", "config"], layout);
    const got = r.sources.map((s) => `${s.item} ${s.archivePath} ${s.type}`);
    expect(got).toEqual([
      "cron state/state/openclaw.sqlite file",
      "sessions state/agents/main/agent/openclaw-agent.sqlite file",
      "sessions state/agents/work/agent/openclaw-agent.sqlite file",
      "sessions state/agents/main/sessions dir",
      "credentials state/credentials dir",
      "env state/.env file",
      "pages state/canvas/documents dir",
      "extensions state/extensions dir",
      "config state/openclaw.json file",
    ]);
    expect(r.sources.find((s) => s.item === "extensions")!.exclude).toEqual(["node_modules/**"]);
    expect(r.missing.map((m) => path.relative(root, m.livePath))).toEqual(["state/cron", "state/agents/work/sessions"]);
    expect(r.missingItems).toEqual([]);
    expect(r.secretItems.sort()).toEqual(["config", "credentials", "cron", "env", "sessions"]);
  });

  it("archives overlapping items once: memory inside the workspace, sessions inside agents", async () => {
    const r = await resolveItems(["workspace", "memory", "agents", "sessions", "transcripts"], layout);
    expect(r.sources.map((s) => s.archivePath)).toEqual(["workspace", "state/agents"]);
    expect(r.missingItems).toEqual([]);
    expect(r.secretItems).toContain("agents");
  });

  it("reports items that are not there at all", async () => {
    const r = await resolveItems(["skills", "hooks", "transcripts"], layout);
    expect(r.missingItems).toEqual(["skills", "hooks"]);
  });

  it("follows a workspace that is itself a symlink, and puts outside locations under external/", async () => {
    const real = path.join(root, "elsewhere");
    await mkdir(real);
    await writeFile(path.join(real, "a.md"), "a");
    const ws = path.join(root, "ws-link");
    await symlink(real, ws);
    const r = await resolveItems(["workspace"], { ...layout, workspaceDir: ws });
    expect(r.sources[0]).toMatchObject({ archivePath: "workspace", root: real, livePath: ws });
    expect(archivePathFor("/etc/openclaw/openclaw.json", "config", layout)).toBe("external/config/openclaw.json");
  });

  it("honours OPENCLAW_OAUTH_DIR for credentials", async () => {
    await touch("oauth/token.json");
    const r = await resolveItems(["credentials"], { ...layout, env: { OPENCLAW_OAUTH_DIR: path.join(root, "oauth") } });
    expect(r.sources.map((s) => s.archivePath)).toEqual(["external/credentials/oauth"]);
  });
});

describe("the state dir seen from the workspace item", () => {
  it("inside the workspace: the workspace item skips it, the state's own items still hold their files", async () => {
    const nested = { ...layout, workspaceDir: root, stateDir: path.join(root, "state"), configFile: path.join(root, "state", "openclaw.json") };
    const r = await resolveItems(["workspace", "config", "agents"], nested);
    const ws = r.sources.find((s) => s.item === "workspace")!;
    expect(ws.exclude).toContain("/state/**");
    expect(ws.secret).toBe(false);
    expect(r.sources.map((s) => s.item).sort()).toEqual(["agents", "config", "workspace"]);
    expect(r.secretItems.sort()).toEqual(["agents", "config"]);
  });

  it("the workspace is the state dir: the workspace item holds credentials (the plaintext rule sees it)", async () => {
    const same = { ...layout, workspaceDir: layout.stateDir };
    const r = await resolveItems(["workspace"], same);
    expect(r.secretItems).toEqual(["workspace"]);
  });
});
