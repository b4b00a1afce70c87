// Quick-start demo: a sample workspace synced (mailbox mode) to a local-folder remote, no cloud account.
// Everything lives under ./.demo so it is easy to inspect and to throw away.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

// The demo needs rclone. On a fresh Debian/Ubuntu machine as root, install it from the distribution;
// anywhere else, say how.
function ensureRclone() {
  const has = spawnSync("rclone", ["version"], { stdio: "ignore" }).status === 0;
  if (has) return;
  const apt = spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status === 0;
  if (apt && process.getuid?.() === 0) {
    console.log("rclone not found: installing it with apt-get …");
    const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
    const install = spawnSync("apt-get", ["install", "-y", "-qq", "rclone"], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if (update.status === 0 && install.status === 0) return;
  }
  console.error("rclone is required: install it with `sudo apt-get install -y rclone` (Debian/Ubuntu) or `brew install rclone` (macOS).");
  process.exit(2);
}
ensureRclone();

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const demo = path.join(repo, ".demo");
const stateDir = path.join(demo, "state");
const workspace = path.join(stateDir, "workspace");
const remoteDir = path.join(demo, "remote");
rmSync(demo, { recursive: true, force: true });
mkdirSync(path.join(workspace, "notes"), { recursive: true });
mkdirSync(remoteDir, { recursive: true });
writeFileSync(path.join(workspace, "MEMORY.md"), "# Memory\n- the demo agent remembers this\n");
writeFileSync(path.join(workspace, "notes", "today.md"), "Synced by openclaw-workspace-sync.\n");
writeFileSync(path.join(workspace, ".env.local"), "SECRET=never-synced\n");
const config = {
  plugins: {
    entries: {
      "openclaw-workspace-sync": {
        enabled: true,
        config: { sync: { provider: "local", local: { path: remoteDir }, mode: "mailbox", remotePath: "openclaw-share" } },
      },
    },
  },
};
writeFileSync(path.join(stateDir, "openclaw.json"), JSON.stringify(config, null, 2));

const env = { ...process.env, OPENCLAW_STATE_DIR: stateDir };
const cli = (...args) => {
  console.log(`\n$ workspace-sync ${args.join(" ")}`);
  execFileSync(process.execPath, [path.join(repo, "bin", "workspace-sync.js"), ...args], { env, stdio: "inherit" });
};
cli("sync");
// Send a file to the agent the way a user would: drop it in the cloud _outbox.
writeFileSync(path.join(remoteDir, "openclaw-share", "_outbox", "hello-agent.txt"), "a file for the agent\n");
cli("sync");
cli("status");
const list = (dir) => readdirSync(dir, { recursive: true }).sort().join(", ");
console.log(`\nremote folder (${path.join(remoteDir, "openclaw-share")}): ${list(path.join(remoteDir, "openclaw-share"))}`);
console.log(`workspace _inbox: ${list(path.join(workspace, "_inbox"))}`);
console.log("\nDemo done: the workspace was pushed (without .env files) and the outbox file arrived in _inbox.");
