import { describe, expect, it } from "vitest";
import { includedPaths } from "../../items.js";
import { pathsOf } from "./index.js";
import type { Manifest } from "./manifest.js";

const layout = { stateDir: "/s", workspaceDir: "/w", configFile: "/s/openclaw.json", env: {} };

describe("archive snapshot groups", () => {
  it("derives the paths of a manifest written before paths were recorded exactly as a new snapshot records them", () => {
    const old = {
      roots: { workspace: "/w", state: "/s" },
      items: [
        { item: "workspace", archivePath: "workspace", livePath: "/w", type: "dir" },
        { item: "config", archivePath: "state/openclaw.json", livePath: "/s/openclaw.json", type: "file" },
        { item: "cron", archivePath: "state/state/openclaw.sqlite", livePath: "/s/state/openclaw.sqlite", type: "file" },
      ],
      missing: [{ item: "memory", livePath: "/w/memory" }],
      missingItems: ["credentials"],
    } as unknown as Manifest;
    expect(pathsOf(old)).toEqual(includedPaths(["workspace", "config", "cron", "memory", "credentials"], layout));
    expect(pathsOf(old)).toEqual(["/s", "/s/credentials", "/s/openclaw.json", "/w"]);
  });

  it("uses recorded paths as they are, and item locations for manifests without roots", () => {
    expect(pathsOf({ paths: ["/b", "/a"] } as unknown as Manifest)).toEqual(["/a", "/b"]);
    expect(pathsOf({ roots: {}, items: [{ item: "workspace", livePath: "/x/ws" }], missing: [] } as unknown as Manifest)).toEqual(["/x/ws"]);
  });
});
