// Acceptance of the OpenClaw plugin surface in the REAL host (issue 4): install (link + copy of the packed
// package), inspect/doctor, the CLI through `openclaw workspace-sync`, the gateway service, session hooks, a slash
// command, notifyOnInbox and a config error. Loopback only; every state dir is a throwaway.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Gateway, HOST_DIR, HostWorld, linkableCheckout, packPlugin, parseJsonOut, PLUGIN_ID, run } from "./host.js";

const PROBE_DIR = path.join(HOST_DIR, "probe");
/** An install, a gateway start or a dozen `openclaw` runs: minutes on a busy 2-core machine (a hang still fails). */
const INSTALL_TEST_MS = 600_000;
let tgz: string;
let packDir: string;

beforeAll(async () => {
  packDir = new HostWorld("pack").root;
  tgz = await packPlugin(packDir);
});
afterAll(() => rmSync(packDir, { recursive: true, force: true }));

function mailboxConfig(remote: string, extra: Record<string, unknown> = {}) {
  return { sync: { provider: "local", local: { path: remote }, remotePath: "share", mode: "mailbox", ...extra } };
}

async function expectLoaded(w: HostWorld) {
  const r = await w.ok(["plugins", "inspect", PLUGIN_ID, "--runtime", "--json"]);
  const info = parseJsonOut(r.stdout);
  expect(info.plugin.status).toBe("loaded");
  expect(info.plugin.enabled).toBe(true);
  expect(info.diagnostics).toEqual([]);
  expect(info.cliCommands).toEqual(["workspace-sync"]);
  expect(info.services).toEqual(["workspace-sync"]);
  expect(info.typedHooks.map((h: { name: string }) => h.name).sort()).toEqual(["session_end", "session_start"]);
  expect([...info.commands].sort()).toEqual(["backup-now", "sync-now", "sync-status"]);
  return info;
}

describe("installed in the real host", () => {
  it("link install: inspect --runtime loaded with CLI, service and hooks; doctor clean; the CLI works through openclaw", async () => {
    const w = new HostWorld("link");
    try {
      await w.ok(["setup", "--baseline"]);
      const checkout = await linkableCheckout(tgz, path.join(w.root, "checkout"));
      const t0 = Date.now();
      await w.ok(["plugins", "install", "-l", "--force", "--accept-capabilities", checkout]);
      console.log(`link install: ${Date.now() - t0} ms`);

      const info = await expectLoaded(w);
      expect(info.plugin.source).toBe(path.join(checkout, "dist", "index.js"));

      const doctor = await w.openclaw(["plugins", "doctor"]);
      expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
      expect(doctor.stdout).toMatch(/checks passed/);
      expect(doctor.stdout + doctor.stderr).not.toMatch(new RegExp(`${PLUGIN_ID}[^\\n]*(error|not found|failed)`, "i"));

      const help = await w.ok(["workspace-sync", "--help"]);
      for (const cmd of ["status", "sync", "list"]) expect(help.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, "m"));

      // mailbox sync against a local-folder remote, through the host
      const remote = path.join(w.root, "remote");
      mkdirSync(remote);
      w.setPluginConfig(mailboxConfig(remote));
      writeFileSync(path.join(w.workspace, "notes.md"), "# notes\n");

      // before the first sync, status says so and exits 1 (monitoring sees it), with the same facts in --json
      const status = await w.openclaw(["workspace-sync", "status", "--json"]);
      expect(status.code, status.stderr).toBe(1);
      const s = JSON.parse(status.stdout); // the whole of stdout is the JSON document
      expect(s.configFile).toBe(w.configFile);
      expect(s.stateDir).toBe(w.stateDir);
      expect(s.workspaceDir).toBe(w.workspace);
      expect(s.problems).toEqual([]);
      expect(s.sync).toMatchObject({ configured: true, mode: "mailbox", reachable: true });
      expect(s.needsAttention).toEqual([expect.stringMatching(/^no sync has run yet/)]);

      const sync1 = await w.ok(["workspace-sync", "sync"]);
      expect(sync1.stdout).toMatch(/push: copy \d+ file\(s\)/);
      expect(existsSync(path.join(remote, "share", "notes.md"))).toBe(true);
      expect(existsSync(path.join(remote, "share", "_outbox"))).toBe(true);

      writeFileSync(path.join(remote, "share", "_outbox", "from-user.txt"), "hi agent\n");
      const sync2 = await w.ok(["workspace-sync", "sync", "--json"]);
      expect(JSON.parse(sync2.stdout).arrived).toEqual(["from-user.txt"]);
      expect(readdirSync(path.join(w.workspace, "_inbox"))).toEqual(["from-user.txt"]);
      expect(existsSync(path.join(remote, "share", "_outbox", "from-user.txt"))).toBe(false);

      // the same conventions as the standalone bin: -q silent on success, status 0 when all is well
      const quiet = await w.openclaw(["workspace-sync", "sync", "-q"]);
      expect(quiet.code, quiet.stderr).toBe(0);
      expect(quiet.stdout).not.toMatch(/push:|inbox:/);
      expect((await w.openclaw(["workspace-sync", "status"])).code).toBe(0);

      // exit codes map like the standalone bin: 2 = bad usage / invalid config
      const pull = await w.openclaw(["workspace-sync", "sync", "--direction", "pull"]);
      expect(pull.code).toBe(2);
      expect(pull.stderr).toMatch(/--yes/);
      const badFlag = await w.openclaw(["workspace-sync", "sync", "--direction", "sideways"]);
      expect(badFlag.code).toBe(2);
      expect(badFlag.stderr).toMatch(/argument 'sideways' is invalid/);
      expect(badFlag.stderr).toContain("see 'openclaw workspace-sync sync --help'");

      // a config error: a clear message naming the key; the plugin stays loaded
      w.setPluginConfig({ sync: { provider: "local", local: { path: remote } } });
      const bad = await w.openclaw(["workspace-sync", "status"]);
      expect(bad.code).toBe(2); // the report is printed, and scripts still see the invalid config
      expect(bad.stdout).toMatch(/problem:\s+sync\.mode: /);
      expect(bad.stdout).toMatch(/stays idle/);
      const badSync = await w.openclaw(["workspace-sync", "sync"]);
      expect(badSync.code).toBe(2);
      expect(badSync.stderr).toMatch(/sync\.mode/);
    } finally {
      rmSync(w.root, { recursive: true, force: true });
    }
  }, INSTALL_TEST_MS);

  it("the packed tarball installed the way a user installs a local archive: loaded, doctor clean, CLI and bin work", async () => {
    const w = new HostWorld("copy");
    try {
      await w.ok(["setup", "--baseline"]);
      const t0 = Date.now();
      // a local archive is not a ClawHub source: --force confirms that; --accept-capabilities answers the prompt
      await w.ok(["plugins", "install", "--force", "--accept-capabilities", tgz]);
      console.log(`copy install: ${Date.now() - t0} ms`);
      const info = await expectLoaded(w);
      const installed = path.join(w.stateDir, "extensions", PLUGIN_ID);
      expect(info.plugin.rootDir).toBe(installed);
      const doctor = await w.openclaw(["plugins", "doctor"]);
      expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
      expect(doctor.stdout).toMatch(/checks passed/);
      expect(doctor.stdout + doctor.stderr).not.toMatch(new RegExp(`${PLUGIN_ID}[^\\n]*(error|not found|failed)`, "i"));

      const remote = path.join(w.root, "remote");
      mkdirSync(remote);
      w.setPluginConfig(mailboxConfig(remote));
      await w.ok(["workspace-sync", "sync"]);
      expect(readdirSync(path.join(remote, "share"))).toContain("AGENTS.md");
      const status = await w.ok(["workspace-sync", "status", "--json"]);
      expect(JSON.parse(status.stdout)).toMatchObject({ sync: { mode: "mailbox", reachable: true }, needsAttention: [], exitCode: 0 });

      // the installed package's own bin (what `npm install -g` users run) works from the installed copy
      const version = await run(process.execPath, [path.join(installed, "bin", "workspace-sync.js"), "--version"], { env: w.env });
      expect(version.code, version.stderr).toBe(0);
      expect(version.stdout).toMatch(/^workspace-sync \d+\.\d+\.\d+\nnode v2\d\./);
    } finally {
      rmSync(w.root, { recursive: true, force: true });
    }
  }, INSTALL_TEST_MS);
});

describe("in the running gateway", () => {
  let w: HostWorld;
  let gw: Gateway | undefined;
  let remote: string;

  beforeAll(async () => {
    w = new HostWorld("gw", { OPENCLAW_WORKSPACE_SYNC_START_DELAY: "1" });
    await w.ok(["setup", "--baseline"]);
    const checkout = await linkableCheckout(tgz, path.join(w.root, "checkout"));
    await w.ok(["plugins", "install", "-l", "--force", "--accept-capabilities", checkout]);
    w.addLoadPath(PROBE_DIR, "ws-host-probe");
    // no recurring heartbeat: pending system events stay visible to the probe
    w.editConfig((cfg) => {
      cfg.agents.defaults.heartbeat = { every: "0m" };
    });
    remote = path.join(w.root, "remote");
    mkdirSync(remote);
  }, INSTALL_TEST_MS);
  afterAll(() => {
    gw?.kill();
    rmSync(w.root, { recursive: true, force: true });
  });

  /** Sends a chat message through the gateway and returns the first transcript text matching `re`. */
  async function slash(g: Gateway, message: string, re: RegExp): Promise<string> {
    const send = await g.call("chat.send", { sessionKey: "agent:main:main", message, idempotencyKey: `ws-${message}-${Date.now()}` });
    expect(send.code, send.stdout + send.stderr).toBe(0);
    for (let i = 0; i < 100; i++) {
      const hist = await g.callJson("chat.history", { sessionKey: "agent:main:main" });
      const m = JSON.stringify(hist.messages ?? []).match(re);
      if (m) return m[0];
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`no reply matching ${re} to ${message}`);
  }

  async function pendingEvents(g: Gateway): Promise<string[]> {
    const res = await g.callJson("wsprobe.systemEvents", { sessionKey: "agent:main:main", agentId: "main" });
    return (res.events as { text: string }[]).map((e) => e.text).filter((t) => t.startsWith("[workspace-sync]"));
  }

  it("service: first scheduled sync; sessions.reset queues the hooks' cycle; notifyOnInbox once; /sync-status via chat.send; clean SIGINT", async () => {
    w.setPluginConfig(mailboxConfig(remote, { interval: 300, onSessionStart: true, onSessionEnd: true, notifyOnInbox: true }));
    writeFileSync(path.join(w.workspace, "report-draft.md"), "draft\n");
    gw = new Gateway(w, 18_000 + Math.floor(Math.random() * 1000));
    gw.start();
    await gw.waitFor(/workspace-sync: service started for .*\(sync mailbox every 300s/, 240_000);
    await gw.waitFor(/workspace-sync: sync \(interval\) done/, 60_000);
    expect(existsSync(path.join(remote, "share", "report-draft.md"))).toBe(true);
    await gw.waitFor(/\[gateway\] ready/, 60_000);
    // the first drain was empty: no notification
    expect(await pendingEvents(gw)).toEqual([]);
    expect(gw.count(/workspace-sync: notified/)).toBe(0);

    // a user drops a file into the cloud outbox; a session reset fires session_end/session_start → one queued cycle
    writeFileSync(path.join(remote, "share", "_outbox", "invoice.pdf"), "%PDF\n");
    const mark = gw.log.length;
    const reset = await gw.call("sessions.reset", { key: "agent:main:main" });
    expect(reset.code, reset.stderr).toBe(0);
    const done = await gw.waitFor(/workspace-sync: sync \(session_(start|end)[^)]*\) done/, 60_000, mark);
    expect(done).toMatch(/received 1 file\(s\): invoice\.pdf/);
    expect(readdirSync(path.join(w.workspace, "_inbox"))).toContain("invoice.pdf");
    await gw.waitFor(/workspace-sync: notified agent:main:main of 1 new file\(s\)/, 10_000, mark);
    const events = await pendingEvents(gw);
    expect(events).toEqual(["[workspace-sync] New files in _inbox: invoice.pdf"]);

    // a slash command answered by the plugin without an LLM turn (no model is configured in this host):
    // /sync-now runs one more cycle — an empty drain — and replies with its outcome; no second event
    const mark2 = gw.log.length;
    const reply = await slash(gw, "/sync-now", /workspace-sync: sync (done|FAILED)[^"]*/);
    expect(reply).toMatch(/sync done — push: .*inbox: nothing new/);
    await gw.waitFor(/workspace-sync: sync \(command\) done.*inbox: nothing new/, 10_000, mark2);
    expect(gw.count(/workspace-sync: notified/)).toBe(1);
    expect((await pendingEvents(gw)).length).toBeLessThanOrEqual(1);

    const status = await slash(gw, "/sync-status", /sync:\s+mailbox[^"]*/);
    expect(status).toMatch(/mailbox/);

    // a shell sees who runs the next sync: the service's heartbeat
    const fromShell = JSON.parse((await w.ok(["workspace-sync", "status", "--json"])).stdout);
    expect(fromShell.scheduler.service.alive).toBe(true);
    expect(fromShell.sync.nextRunBy).toBe("gateway service");
    expect(Date.parse(fromShell.sync.nextRun)).toBeGreaterThan(Date.now());

    // clean shutdown on SIGINT: the service stops, nothing left running or locked
    const exit = await gw.stop("SIGINT");
    expect(exit.code === 0 || exit.signal === "SIGINT", `exit ${JSON.stringify(exit)}`).toBe(true);
    expect(gw.log).toMatch(/completed cleanly/);
    expect(gw.log).not.toMatch(/plugin service stop failed/);
    expect(gw.log).not.toMatch(/workspace-sync: .*(failed|error)/i);
    const locks = path.join(w.stateDir, "workspace-sync", "locks");
    expect(existsSync(locks) ? readdirSync(locks).filter((f) => f.endsWith(".lock")) : []).toEqual([]);
    gw = undefined;
    // stopped: nothing runs the interval any more, and status does not pretend otherwise
    const after = JSON.parse((await w.openclaw(["workspace-sync", "status", "--json"])).stdout);
    expect(after.scheduler.service.alive).toBe(false);
    expect(after.sync.nextRun).toBeUndefined();
  }, INSTALL_TEST_MS);

  it("a config error (missing mode): clear message in the gateway log, plugin loaded, service idle", async () => {
    if (gw) {
      gw.kill();
      await gw.exit;
    }
    rmSync(path.join(remote, "share"), { recursive: true, force: true });
    w.setPluginConfig({ sync: { provider: "local", local: { path: remote }, remotePath: "share", interval: 60 } });
    gw = new Gateway(w, 19_000 + Math.floor(Math.random() * 1000));
    gw.start();
    const line = await gw.waitFor(/workspace-sync: the plugin config .* problem/, 240_000);
    expect(gw.log).toMatch(/- sync\.mode: /);
    expect(line).toMatch(/stay idle/);
    await gw.waitFor(/\[gateway\] ready/, 60_000);
    // still loaded and answering: the slash command explains the problem
    const explained = await slash(gw, "/sync-now", /workspace-sync is idle: the plugin config has problems[^"]*/);
    expect(explained).toMatch(/sync\.mode/);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(gw.count(/workspace-sync: sync \(/)).toBe(0);
    expect(existsSync(path.join(remote, "share"))).toBe(false);
    const exit = await gw.stop("SIGINT");
    expect(exit.code === 0 || exit.signal === "SIGINT").toBe(true);
    gw = undefined;
  }, INSTALL_TEST_MS);
});
