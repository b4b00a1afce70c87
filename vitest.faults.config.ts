import { defineConfig } from "vitest/config";

// The fault suite (`npm run test:faults`): kill -9, servers going down, a full disk, concurrent runs, hostile
// configs and remote content, secrets scans. Real CLI, real rclone, loopback servers. Kept apart from `npm test`
// because it is slower and some cases need root (a small tmpfs for disk-full); see docs/reliability.md.
export default defineConfig({
  test: {
    include: ["test/faults/**/*.faults.ts"],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    globalSetup: ["test/support/temp-root.ts"],
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
