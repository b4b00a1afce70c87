import { describe, expect, it } from "vitest";
import { redactArgs, shellQuote } from "./redact-args.js";

describe("redactArgs", () => {
  it("keeps ordinary rclone arguments as they are", () => {
    const args = ["lsjson", "cloud:share/sub dir", "--fast-list", "--config", "/s/rclone.conf", "--ask-password=false"];
    expect(redactArgs(args)).toEqual(args);
  });

  it("masks configured secret values wherever they appear", () => {
    expect(redactArgs(["copy", "x", "--header", "Bearer s3cr3t-value"], ["s3cr3t-value"])).toEqual(["copy", "x", "--header", "Bearer ***"]);
  });

  it("masks values of credential options, with = or as the next argument", () => {
    expect(redactArgs(["--sftp-pass=abc", "--s3-secret-access-key", "XYZ", "--dropbox-token", "--fast-list"])).toEqual([
      "--sftp-pass=***",
      "--s3-secret-access-key",
      "***",
      "--dropbox-token",
      "--fast-list",
    ]);
  });

  it("masks credential keys inside connection strings", () => {
    expect(redactArgs([":sftp,host=h.example,user=u,pass=OBSCURED:path"])).toEqual([":sftp,host=h.example,user=u,pass=***:path"]);
    expect(redactArgs(["remote,token='{\"a\":1}':dir"])).toEqual(["remote,token=***:dir"]);
  });

  it("quotes for display only when needed", () => {
    expect(shellQuote("cloud:share")).toBe("cloud:share");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });
});
