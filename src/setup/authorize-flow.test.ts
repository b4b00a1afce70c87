// Token storage for real (files on disk): only the remote's section changes, and the token survives the product's
// later section rewrites until the section becomes another backend.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { RemoteSpec } from "../config/types.js";
import { parseConf } from "../rclone/conf-file.js";
import { resolveRemote, writeRemoteSections } from "../rclone/remotes.js";
import { discoverOnedriveDrive, headlessGuidance, storeToken, tokenTarget } from "./authorize-flow.js";

const TOKEN = '{"access_token":"A1","refresh_token":"R1"}';

async function conf(text = ""): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), "authflow-")), "rclone.conf");
  if (text) await writeFile(file, text, { mode: 0o600 });
  return file;
}

const read = async (file: string) => parseConf(await readFile(file, "utf8"));

describe("storing a token", () => {
  it("writes the section with the token and leaves other sections alone; later rewrites keep it", async () => {
    const file = await conf("[theirs]\ntype = dropbox\ntoken = THEIRS\n\n[cloud]\ntype = dropbox\nold = gone\n");
    const spec: RemoteSpec = { provider: "dropbox", remoteName: "cloud", dropbox: { appKey: "k", appSecret: "s" } };
    const remote = resolveRemote(spec, "", file);
    await storeToken(tokenTarget("sync", spec, remote)!, { token: TOKEN, extra: {} });
    expect((await read(file)).get("cloud")).toEqual({ type: "dropbox", client_id: "k", client_secret: "s", token: TOKEN });
    expect((await read(file)).get("theirs")).toEqual({ type: "dropbox", token: "THEIRS" });

    await writeRemoteSections(remote);
    expect((await read(file)).get("cloud")?.token).toBe(TOKEN);
    // rclone refreshed it in the file: still kept.
    await writeFile(file, (await readFile(file, "utf8")).replace(TOKEN, '{"access_token":"A2"}'));
    await writeRemoteSections(remote);
    expect((await read(file)).get("cloud")?.token).toBe('{"access_token":"A2"}');
    // The remote became another backend: the old token does not follow it.
    const s3: RemoteSpec = { provider: "s3", remoteName: "cloud", s3: { bucket: "b" } };
    await writeRemoteSections(resolveRemote(s3, "", file));
    expect((await read(file)).get("cloud")?.token).toBeUndefined();
  });

  it("a token in the config wins only until authorize stores a newer one", async () => {
    const file = await conf();
    const spec: RemoteSpec = { provider: "gdrive", remoteName: "cloud", gdrive: { token: '{"access_token":"CONFIG"}' } };
    const remote = resolveRemote(spec, "", file);
    await writeRemoteSections(remote);
    expect((await read(file)).get("cloud")?.token).toBe('{"access_token":"CONFIG"}');
    await storeToken(tokenTarget("sync", spec, remote)!, { token: TOKEN, extra: {} });
    await writeRemoteSections(remote);
    expect((await read(file)).get("cloud")?.token).toBe(TOKEN);
  });

  it("OneDrive: stores the drive found at sign-in, and keeps it on later rewrites", async () => {
    const file = await conf();
    const spec: RemoteSpec = { provider: "onedrive", remoteName: "od", onedrive: { driveType: "personal" } };
    const remote = resolveRemote(spec, "", file);
    await storeToken(tokenTarget("sync", spec, remote)!, { token: TOKEN, extra: {} }, { driveId: "abc!1", driveType: "personal" });
    await writeRemoteSections(remote);
    expect((await read(file)).get("od")).toEqual({ type: "onedrive", drive_type: "personal", token: TOKEN, drive_id: "abc!1" });
  });

  it("looks the OneDrive drive up with the access token (Graph /me/drive), and gives up quietly", async () => {
    const calls: { url: string; auth: string | null }[] = [];
    const fake = (async (url: string, init?: RequestInit) => {
      calls.push({ url, auth: new Headers(init?.headers).get("authorization") });
      return new Response(JSON.stringify({ id: "b!xyz", driveType: "documentLibrary" }), { status: 200 });
    }) as typeof fetch;
    expect(await discoverOnedriveDrive(TOKEN, fake)).toEqual({ driveId: "b!xyz", driveType: "sharepoint" });
    expect(calls).toEqual([{ url: "https://graph.microsoft.com/v1.0/me/drive", auth: "Bearer A1" }]);
    const failing = (async () => new Response("no", { status: 401 })) as unknown as typeof fetch;
    expect(await discoverOnedriveDrive(TOKEN, failing)).toBeUndefined();
    expect(await discoverOnedriveDrive("not json", fake)).toBeUndefined();
  });

  it("headless guidance names the command and never the secret", () => {
    const text = headlessGuidance("dropbox", { id: "my-key", secret: "my-secret" });
    expect(text).toContain('rclone authorize "dropbox"');
    expect(text).toContain("RCLONE_DROPBOX_CLIENT_SECRET");
    expect(text).not.toContain("my-secret");
    expect(headlessGuidance("gdrive", {})).toContain('rclone authorize "drive"');
  });
});
