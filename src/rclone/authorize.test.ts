import { describe, expect, it } from "vitest";
import { authorizeEnv, clientEnv, parseAuthorizeOutput } from "./authorize.js";

const TOKEN = { access_token: "A", token_type: "bearer", refresh_token: "R", expiry: "2030-01-01T00:00:00Z" };
const JSON_TOKEN = JSON.stringify(TOKEN);

describe("reading the token rclone authorize printed (or a person pasted)", () => {
  it("takes the block between rclone's markers", () => {
    const out = `NOTICE: Got code\nPaste the following into your remote machine --->\n${JSON_TOKEN}\n<---End paste\n`;
    expect(parseAuthorizeOutput(out)).toEqual({ token: JSON_TOKEN, extra: {} });
  });

  it("takes the bare token JSON, also pretty-printed or among other lines, compacted to one line", () => {
    expect(parseAuthorizeOutput(`  ${JSON_TOKEN}  `)?.token).toBe(JSON_TOKEN);
    expect(parseAuthorizeOutput(JSON.stringify(TOKEN, null, 2))?.token).toBe(JSON_TOKEN);
    expect(parseAuthorizeOutput(`here it is:\n${JSON.stringify(TOKEN, null, 2)}\nthanks`)?.token).toBe(JSON_TOKEN);
  });

  it("takes the base64 config blob newer rclone prints when given one, with its other options", () => {
    const blob = Buffer.from(JSON.stringify({ token: JSON_TOKEN, root_folder_id: "appDataFolder" })).toString("base64url");
    expect(parseAuthorizeOutput(`Paste the following into your remote machine --->\n${blob}\n<---End paste`)).toEqual({
      token: JSON_TOKEN,
      extra: { root_folder_id: "appDataFolder" },
    });
  });

  it("rejects anything that is not a token", () => {
    for (const junk of ["", "hello", '{"foo":1}', "[1,2]", "Paste the following into your remote machine --->\n\n<---End paste", "bm90IGpzb24="]) {
      expect(parseAuthorizeOutput(junk), junk).toBeUndefined();
    }
  });
});

describe("rclone authorize's environment", () => {
  it("carries own app credentials as RCLONE_<BACKEND>_CLIENT_*, drops other RCLONE_ settings", () => {
    expect(authorizeEnv({ PATH: "/bin", RCLONE_CONFIG: "/elsewhere", RCLONE_DRIVE_SCOPE: "drive.file" })).toEqual({ PATH: "/bin" });
    expect(clientEnv("drive", { id: "cid", secret: "cs" })).toEqual({ RCLONE_DRIVE_CLIENT_ID: "cid", RCLONE_DRIVE_CLIENT_SECRET: "cs" });
    expect(clientEnv("dropbox", {})).toEqual({});
  });
});
