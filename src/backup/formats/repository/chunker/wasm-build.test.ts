import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

describe("rabin-wasm.ts", () => {
  it("is exactly what rabin.wat builds to with the pinned wabt (reproducible, no hand-edited binary)", () => {
    const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "build-wasm.mjs");
    const res = spawnSync(process.execPath, [script, "--check"], { encoding: "utf8" });
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
  });
});
