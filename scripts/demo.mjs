// `npm run demo`: the whole story on a local-folder remote, no cloud account needed — sync, a file sent to the
// agent, an encrypted backup in the format new setups get (a restic repository), an incremental second one, the
// snapshot list, a verify and a restore into a fresh folder. Only the CLI is used, exactly as a person would type it.
// Everything lives under ./.demo, easy to inspect and to throw away.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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
// DEMO_DIR: somewhere else than ./.demo (the demo's test runs it in a temporary folder).
const demo = path.resolve(process.env.DEMO_DIR ?? path.join(repo, ".demo"));
const stateDir = path.join(demo, "state");
const workspace = path.join(stateDir, "workspace");
const remoteDir = path.join(demo, "remote");
const share = path.join(remoteDir, "openclaw-share");
const restored = path.join(demo, "restored");

rmSync(demo, { recursive: true, force: true });
mkdirSync(path.join(workspace, "notes"), { recursive: true });
mkdirSync(path.join(workspace, "memory"), { recursive: true });
mkdirSync(remoteDir, { recursive: true });
writeFileSync(path.join(workspace, "MEMORY.md"), "# Memory\n- the demo agent remembers this\n");
writeFileSync(path.join(workspace, "memory", "today.md"), "Met the user; set up backups.\n");
writeFileSync(path.join(workspace, "notes", "today.md"), "Synced by openclaw-workspace-sync.\n");
writeFileSync(path.join(workspace, ".env.local"), "SECRET=never-synced\n");
// The backup passphrase lives in <stateDir>/.env (0600), never in openclaw.json: the config holds a placeholder.
const passphrase = randomBytes(18).toString("base64url");
writeFileSync(path.join(stateDir, ".env"), `BACKUP_PASSPHRASE=${passphrase}\n`, { mode: 0o600 });
const config = {
  plugins: {
    entries: {
      "openclaw-workspace-sync": {
        enabled: true,
        config: {
          sync: { provider: "local", local: { path: remoteDir }, mode: "mailbox", remotePath: "openclaw-share", interval: 0 },
          backup: {
            enabled: true,
            provider: "local",
            local: { path: remoteDir },
            prefix: "openclaw-backups",
            format: "repository", // what `workspace-sync setup` writes for a new setup
            encrypt: true,
            passphrase: "${BACKUP_PASSPHRASE}",
          },
        },
      },
    },
  },
};
writeFileSync(path.join(stateDir, "openclaw.json"), JSON.stringify(config, null, 2));

const env = { ...process.env, OPENCLAW_STATE_DIR: stateDir };
let step = 0;
const explain = (title, ...lines) => {
  console.log(`\n\x1b[1m${++step}. ${title}\x1b[0m`);
  for (const l of lines) console.log(`   ${l}`);
};
const cli = (...args) => {
  console.log(`\n$ workspace-sync ${args.join(" ")}`);
  const r = spawnSync(process.execPath, [path.join(repo, "bin", "workspace-sync.js"), ...args], { env, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`\nthe demo stopped: \`workspace-sync ${args.join(" ")}\` exited ${r.status}`);
    process.exit(r.status ?? 1);
  }
};
const list = (dir) => readdirSync(dir, { recursive: true }).sort().join(", ");

console.log("openclaw-workspace-sync demo: everything below runs the real CLI against a folder that stands in for the cloud.");
console.log(`  workspace: ${workspace}\n  "cloud":   ${remoteDir}\n  config:    ${path.join(stateDir, "openclaw.json")}`);

explain(
  "Sync the workspace (mailbox mode)",
  "The workspace is pushed to the cloud folder; .env* files are never synced. The cloud gets an _outbox/ folder:",
  "whatever you drop there is delivered into the workspace's _inbox/ on the next sync.",
);
cli("sync");
console.log(`\ncloud folder now holds: ${list(share)}`);

explain("Send a file to the agent", "A person drops hello-agent.txt into the cloud _outbox/; the next sync moves it into _inbox/ (never overwriting).");
writeFileSync(path.join(share, "_outbox", "hello-agent.txt"), "a file for the agent\n");
cli("sync");
console.log(`\nworkspace _inbox/: ${list(path.join(workspace, "_inbox"))}`);

explain(
  "Take an encrypted backup",
  "Into a restic repository (format 2) in the backup folder: files cut into content-defined chunks, each stored once,",
  "compressed and encrypted with the passphrase from <stateDir>/.env. Without the passphrase nothing in it is readable:",
  "in real use keep a copy outside the machine.",
);
cli("backup", "now");

explain("Change a file and back up again", "Unchanged files are not even read again; only the new chunks are added.");
writeFileSync(path.join(workspace, "memory", "today.md"), "Met the user; set up backups.\nThe second backup added only this.\n");
cli("backup", "now");

explain("List the snapshots", "Only complete snapshots are listed: a killed run never leaves one that restore would pick.");
cli("backup", "list");

explain(
  "Verify the newest snapshot",
  "With --read-data every piece of data it uses is read back and checked (hash, authentication, decompression),",
  "without writing files; plain `verify` checks the structure only (index, packs, trees) and reads no file data.",
);
cli("backup", "verify", "--read-data");

explain("Restore into a fresh folder", `Never over the live workspace: into ${restored}/, then compared with the live files.`);
cli("backup", "restore", "--to", restored);
console.log(`\nrestored files: ${list(restored)}`);

// restic itself opens the same repository (when it is installed): no lock-in, a second tool for the worst day.
if (spawnSync("restic", ["version"], { stdio: "ignore" }).status === 0) {
  explain("Open it with restic", "The repository is restic's own format: restic lists, checks and restores it without this tool.");
  const repository = path.join(remoteDir, "openclaw-backups");
  console.log(`\n$ RESTIC_PASSWORD=… restic -r ${repository} snapshots`);
  // The password goes in restic's environment, never on its command line.
  const r = spawnSync("restic", ["-r", repository, "--no-cache", "snapshots"], { env: { ...process.env, RESTIC_PASSWORD: passphrase }, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`\nthe demo stopped: restic exited ${r.status}`);
    process.exit(r.status ?? 1);
  }
}

explain("Status", "What a person or a monitoring job checks: exit 0 means nothing needs attention.");
cli("status");

explain(
  "Run it on a schedule without the gateway",
  "In the gateway the plugin's service runs the intervals. Standalone, `schedule install` sets up a systemd user timer or",
  "a crontab block for them; --print shows what it would install and changes nothing.",
);
cli("schedule", "install", "--using", "cron", "--print");

console.log(`\nDemo done. Look around in ${demo} (remote/, state/, restored/); \`rm -rf ${demo}\` removes it all.`);
