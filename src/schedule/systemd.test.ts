import { describe, expect, it } from "vitest";
import { execQuote, nextFromListTimers, systemdUnits } from "./systemd.js";

describe("systemd user units", () => {
  it("one oneshot service and one timer per job, run `interval` after the previous run ended", () => {
    const units = systemdUnits("abcd1234", [{ job: "sync", intervalS: 300, argv: ["/opt/node", "/opt/ws.js", "sync", "-q"], path: "/usr/bin:/bin" }], "state dir /s");
    expect(units.map((u) => u.name)).toEqual(["workspace-sync-abcd1234-sync.service", "workspace-sync-abcd1234-sync.timer"]);
    expect(units[0]!.text).toContain("ExecStart=/opt/node /opt/ws.js sync -q\n");
    expect(units[0]!.text).toContain("Type=oneshot");
    expect(units[1]!.text).toMatch(/^OnUnitInactiveSec=300s$/m);
    expect(units[1]!.text).toMatch(/^Unit=workspace-sync-abcd1234-sync\.service$/m);
  });

  it("quotes ExecStart arguments the way systemd reads them", () => {
    expect(execQuote("/a/b")).toBe("/a/b");
    expect(execQuote("/my dir/x")).toBe('"/my dir/x"');
    expect(execQuote('say "hi"')).toBe('"say \\"hi\\""');
    expect(execQuote("50%")).toBe('"50%%"');
  });

  it("reads the next elapse from list-timers JSON", () => {
    const json = JSON.stringify([{ unit: "x.timer", next: 1773108000000000, left: 5 }, { unit: "y.timer", next: null }]);
    expect(nextFromListTimers(json, "x.timer")).toEqual(new Date(1773108000000));
    expect(nextFromListTimers(json, "y.timer")).toBeUndefined();
    expect(nextFromListTimers("not json", "x.timer")).toBeUndefined();
  });
});
