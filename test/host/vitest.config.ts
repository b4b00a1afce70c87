// The host suite: real OpenClaw (pinned in ./package.json), installed on demand by ./setup.sh. Not part of the
// main `vitest run` (its files end in .host-test.ts). Run with `bash test/host/run.sh` (`npm test` in test/host).
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: import.meta.dirname,
  test: {
    include: ["e2e/**/*.host-test.ts"],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    fileParallelism: false,
    pool: "forks",
    poolOptions: { forks: { singleFork: true } },
  },
});
